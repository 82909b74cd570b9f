"""Translations: each page's locale under the configured locales, the groups of pages
that translate each other, and the one page of a group a request's locale chain picks.

A page's locale: the one its file names (front matter lang / language / locale, else a
file-name suffix, see page.py), else the first folder named by a configured locale
(de/x.md, treatments/de/x.md), else the default locale. Pages are translations of each
other when they share front matter translationKey (Hugo), else their path without the
locale part (x.de.md and de/x.md are x.md).
"""

from __future__ import annotations

import functools
import json
import threading
import tomllib
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from contentapi.content.contentmodel import find_model
from contentapi.content.index import _merge_categories as merge_categories
from contentapi.content.index import _merge_indications as merge_indications
from contentapi.content.locales import Locales, file_locale
from contentapi.content.model import Category, ContentError, Indication, Treatment


@dataclass(frozen=True, slots=True)
class Merged:
    """Indications and categories of one locale chain's pages, by slug and by name."""

    indications: dict[str, Indication]
    categories: dict[str, Category]

    @property
    def indications_by_name(self) -> list[Indication]:
        """The indications by name (ignoring case), then slug, as lists show them."""
        return sorted(self.indications.values(), key=lambda i: (i.name.casefold(), i.slug))

    @property
    def categories_by_name(self) -> list[Category]:
        """The categories by name (ignoring case), then slug."""
        return sorted(self.categories.values(), key=lambda c: (c.name.casefold(), c.slug))


# Distinct locale chains whose picks are kept per view (requests use a handful).
_CHAINS_KEPT = 64


class Translations:
    """The locales and translation groups of one view's pages."""

    def __init__(self, treatments: Sequence[Treatment], locales: Locales) -> None:
        self.locales = locales
        rank = {tag: position for position, tag in enumerate(locales.tags)}
        self.locale: dict[str, str | None] = {}
        self.group: dict[str, str] = {}
        members: dict[str, dict[str, Treatment]] = {}
        # Pages no locale list can show, each with why (see warnings).
        self.unlisted: list[tuple[Treatment, str]] = []
        for treatment in treatments:
            locale = locale_of(treatment, locales)
            self.locale[treatment.uri] = locale
            key = group_key(treatment, locales)
            self.group[treatment.uri] = key
            # One page per locale in a group: the first by path.
            first = members.setdefault(key, {}).setdefault(locale or "", treatment)
            if first is not treatment:
                self.unlisted.append(
                    (treatment, f"is a second {locale} translation of {first.path}")
                )
            elif locales.tags and locale not in locales.tags:
                self.unlisted.append(
                    (
                        treatment,
                        f"has the locale {locale!r}, which is not one of the configured"
                        f" locales {', '.join(locales.tags)}",
                    )
                )
        # Each group's pages, in the configured order of their locales, then by tag.
        self.members: dict[str, tuple[Treatment, ...]] = {
            key: tuple(
                page
                for _, page in sorted(
                    by_locale.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])
                )
            )
            for key, by_locale in members.items()
        }
        self._chosen: dict[tuple[str, ...], frozenset[str]] = {}
        self._treatments = tuple(treatments)
        self._merged: dict[tuple[str, ...], Merged] = {}
        self._listed: dict[tuple[str, ...], list[Treatment]] = {}
        self._lock = threading.Lock()

    def warnings(self) -> list[ContentError]:
        """Pages served by uri that lists and search in a locale leave out: a second page
        of one locale in a translation group, and a locale the site is not configured
        with (`contentapi check` reports them as warnings)."""
        return [
            ContentError(page.path, None, f"{why}: lists and search in a locale leave it out")
            for page, why in self.unlisted
        ]

    def translations(self, treatment: Treatment) -> tuple[Treatment, ...]:
        """Every page of the treatment's group, itself included, in locale order."""
        key = self.group.get(treatment.uri)
        return self.members.get(key, ()) if key is not None else ()

    def pick(self, treatment: Treatment, chain: Sequence[str]) -> Treatment | None:
        """The page of the treatment's group in the first locale of `chain` it has, or
        None when it has none of them."""
        by_locale = {self.locale[page.uri]: page for page in self.translations(treatment)}
        for locale in chain:
            found = by_locale.get(locale)
            if found is not None:
                return found
        return None

    def chosen(self, chain: Sequence[str]) -> frozenset[str]:
        """The uris of the pages `chain` picks, one per group that has a page in one of
        its locales (kept for the few chains requests use)."""
        key = tuple(chain)
        found = self._chosen.get(key)
        if found is None:
            found = frozenset(
                picked.uri
                for pages in self.members.values()
                if (picked := self.pick(pages[0], key)) is not None
            )
            with self._lock:
                if len(self._chosen) >= _CHAINS_KEPT:
                    self._chosen.clear()
                self._chosen[key] = found
        return found

    def merged(self, chain: Sequence[str]) -> Merged:
        """The indications and categories of the pages `chain` picks, by slug: each named
        as the first of those pages spells it (a German list's are German), listing only
        those pages."""
        key = tuple(chain)
        found = self._merged.get(key)
        if found is None:
            chosen = self.chosen(key)
            picked = [t for t in self._treatments if t.uri in chosen]
            found = Merged(merge_indications(picked), merge_categories(picked))
            with self._lock:
                if len(self._merged) >= _CHAINS_KEPT:
                    self._merged.clear()
                self._merged[key] = found
        return found

    def listed(self, chain: Sequence[str], ordered: Sequence[Treatment]) -> list[Treatment]:
        """in_chain of a view's whole list in its default order (`ordered`, the same each
        time for a view), kept per chain: an unfiltered list in a locale is a slice."""
        key = tuple(chain)
        found = self._listed.get(key)
        if found is None:
            found = self.in_chain(ordered, key)
            with self._lock:
                if len(self._listed) >= _CHAINS_KEPT:
                    self._listed.clear()
                self._listed[key] = found
        return found

    def in_chain(self, treatments: Iterable[Treatment], chain: Sequence[str]) -> list[Treatment]:
        """The pages that are their group's pick for `chain`, in their order: a list or a
        search in a locale shows each group once, by the page in the best locale it has,
        where that page meets the list's filters or matches the search."""
        chosen = self.chosen(chain)
        return [treatment for treatment in treatments if treatment.uri in chosen]


def locale_of(treatment: Treatment, locales: Locales) -> str | None:
    """A page's locale: its file's (as the configured locale it stands for), else its
    configured first folder's, else the default."""
    if treatment.locale is not None:
        return locales.match(treatment.locale)
    return locales.folder_locale(treatment.path) or locales.default


def group_key(treatment: Treatment, locales: Locales) -> str:
    """What a page's translations share: front matter translationKey, else its path
    without the folder naming its locale and without a locale suffix."""
    if treatment.translation_key:
        return "key:" + treatment.translation_key
    parts = treatment.path.split("/")
    position = locales.folder_position(treatment.path)
    if position is not None:
        del parts[position]
    folder, slash, name = "/".join(parts).rpartition("/")
    stem, dot, extension = name.rpartition(".")
    if dot:
        stem = file_locale(stem)[0]
        name = f"{stem}.{extension}"
    return "path:" + folder + slash + name


_kept: weakref.WeakKeyDictionary[object, dict[Locales, Translations]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@functools.lru_cache(maxsize=16)
def site_locales(tags: tuple[str, ...], root: Path, model: str = "") -> Locales:
    """The site's locales: CONTENTAPI_LOCALES (`tags`) when set, else the `i18n` block of
    the site's Decap CMS config.yml (found as the content model finds it: `model`, else
    admin/config.yml and its other places), its default_locale first; else a Hugo
    configuration's languages (hugo_locales); else none. LocaleError naming the file for
    a tag that is not BCP 47."""
    if tags:
        return Locales(tags)
    path = find_model(root, model or None)
    if path is None or not path.is_file():
        return hugo_locales(root)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return Locales()  # the content model reports what is wrong with the file
    i18n = config.get("i18n") if isinstance(config, dict) else None
    if not isinstance(i18n, dict) or not isinstance(i18n.get("locales"), list):
        return hugo_locales(root)
    listed = [str(tag) for tag in i18n["locales"]]
    default = i18n.get("default_locale")
    if default is not None and str(default) in listed:
        listed.remove(str(default))
        listed.insert(0, str(default))
    return Locales.parse(listed, f"{path}: i18n locales")


# Hugo's site configuration, in the content folder's parent (sites keep content/ beside
# it) or the folder itself; config.* is Hugo's older name.
_HUGO_CONFIGS = (
    "hugo.toml",
    "hugo.yaml",
    "hugo.yml",
    "hugo.json",
    "config.toml",
    "config.yaml",
    "config.yml",
    "config.json",
)


class _NoBoolLoader(yaml.SafeLoader):
    """YAML as Hugo reads it (1.2): `no` is Norwegian, not false, as PyYAML's 1.1 has it."""


_NoBoolLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _weight(item: tuple[object, object], default: str) -> tuple[bool, float, str]:
    """Hugo's order of languages: the default first, then by weight, then by key."""
    key, value = str(item[0]), item[1]
    given = value.get("weight", 0) if isinstance(value, dict) else 0
    number = float(given) if isinstance(given, int | float) else 0.0
    return (key.lower() != default, number, key)


def hugo_locales(root: Path) -> Locales:
    """The languages of a Hugo site's configuration (its `languages` table, by weight,
    defaultContentLanguage first, as Hugo orders them), or none when there is no Hugo
    configuration with more than one language. LocaleError naming the file for a
    language key that is not a BCP 47 tag."""
    for folder in (root.parent, root):
        for name in _HUGO_CONFIGS:
            path = folder / name
            if not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
                config = (
                    tomllib.loads(text)
                    if name.endswith(".toml")
                    else json.loads(text)
                    if name.endswith(".json")
                    else yaml.load(text, Loader=_NoBoolLoader)
                )
            except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
                continue
            if not isinstance(config, dict):
                continue
            languages = config.get("languages")
            if not isinstance(languages, dict) or len(languages) < 2:
                continue
            default = str(config.get("defaultContentLanguage", "en")).lower()
            ordered = [
                str(key)
                for key, _ in sorted(languages.items(), key=lambda item: _weight(item, default))
            ]
            return Locales.parse(ordered, f"{path}: languages")
    return Locales()


def translations_of(
    view: object, treatments: Sequence[Treatment], locales: Locales
) -> Translations:
    """The Translations of a view (any object its pages live as long as), built once per
    set of locales."""
    with _lock:
        by_locales = _kept.setdefault(view, {})
        found = by_locales.get(locales)
        if found is None:
            found = by_locales[locales] = Translations(treatments, locales)
        return found
