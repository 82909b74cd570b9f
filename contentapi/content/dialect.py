"""Which Markdown a content folder is written in: CommonMark (Hugo's Goldmark, remark in
Gatsby and Astro, pulldown-cmark in Zola, Markdig in DocFX) or kramdown (Jekyll, and the
seed).

They differ in places a page shows (a list right after a paragraph line is a list in
CommonMark, text in kramdown), so each folder is rendered as its generator renders it,
told by the generator's configuration file in the folder or just above it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from contentapi.errors import SettingsError

AUTO, COMMONMARK, KRAMDOWN = "auto", "commonmark", "kramdown"
DIALECTS = (AUTO, COMMONMARK, KRAMDOWN)
# The setting's variable (its row is in contentapi/settings.py), named in errors.
MARKDOWN_VARIABLE = "CONTENTAPI_MARKDOWN"

# Configuration files that name their generator by their name alone.
_JEKYLL_FILES = ("_config.yml", "_config.yaml", "_config.toml")
# DocFX (Microsoft's documentation sites) renders with Markdig, a CommonMark parser.
_COMMONMARK_FILES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "docfx.json")
_COMMONMARK_PREFIXES = ("astro.config.", "gatsby-config.")
# config.toml / config.yaml is Zola's (base_url) or Hugo's (baseURL, languageCode, ...)
# but other tools' too: only these keys make it a generator's.
_SITE_CONFIG_FILES = ("config.toml", "config.yaml", "config.yml", "config.json")
_SITE_CONFIG_KEYS = re.compile(
    r"""^\s*["']?(base_url|baseURL|languageCode|defaultContentLanguage|theme|"""
    r"""compile_sass|\[markup\]|\[params\]|markup|params)["']?\s*[=:]?""",
    re.M | re.I,
)
# Jekyll's markdown: setting naming a CommonMark converter.
_JEKYLL_COMMONMARK = re.compile(r"""^markdown\s*[:=]\s*["']?commonmark""", re.M | re.I)
# The most of a config file read to find its keys.
_CONFIG_BYTES = 64 * 1024


def forced_dialect(value: str) -> str:
    """The dialect the setting forces (AUTO: none), as CONTENTAPI_MARKDOWN writes it."""
    dialect = value.strip().lower() or AUTO
    if dialect not in DIALECTS:
        raise SettingsError(
            f"{MARKDOWN_VARIABLE}={value!r} is not a Markdown dialect: use auto, commonmark"
            " or kramdown"
        )
    return dialect


def content_dialect(markdown: str, root: Path | None) -> str:
    """The dialect bodies of the content folder `root` are rendered in: the one the
    setting `markdown` forces, else the site's (kramdown for no folder)."""
    forced = forced_dialect(markdown)
    if forced != AUTO:
        return forced
    return KRAMDOWN if root is None else site_dialect(root)


def site_dialect(root: Path) -> str:
    """The dialect of the content folder `root`, from the generator configuration found
    in it, else in the folder above it (sites keep content/ beside their configuration),
    else, for Astro's src/content/, two folders above it; kramdown when none names one.
    """
    folders = [root, root.parent]
    if root.name == "content" and root.parent.name == "src":
        folders.append(root.parent.parent)
    for folder in folders:
        found = _folder_dialect(folder)
        if found is not None:
            return found
    return KRAMDOWN


def _folder_dialect(folder: Path) -> str | None:
    """The dialect a generator's configuration file in `folder` names, or None."""
    try:
        names = set(os.listdir(folder))
    except OSError:
        return None
    for name in _JEKYLL_FILES:
        if name in names:
            # jekyll-commonmark (GitHub Pages' CommonMarkGhPages too) replaces kramdown.
            return COMMONMARK if _config_matches(folder / name, _JEKYLL_COMMONMARK) else KRAMDOWN
    if any(name in names for name in _COMMONMARK_FILES):
        return COMMONMARK
    if any(name.startswith(_COMMONMARK_PREFIXES) for name in names):
        return COMMONMARK
    for name in _SITE_CONFIG_FILES:
        if name in names and _config_matches(folder / name, _SITE_CONFIG_KEYS):
            return COMMONMARK
    return None


def _config_matches(config: Path, keys: re.Pattern[str]) -> bool:
    """Whether the start of a configuration file holds one of `keys`."""
    try:
        with config.open("rb") as file:  # a folder of that name: IsADirectoryError
            text = file.read(_CONFIG_BYTES).decode("utf-8", "replace")
    except OSError:
        return False
    return keys.search(text) is not None
