"""One page file: read it and parse it into a Treatment (or a ContentError naming its line)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from slugify import slugify as python_slugify

from contentapi.content import frontmatter as metadata
from contentapi.content.body import pack_body, pack_images
from contentapi.content.fragments import resolve_src
from contentapi.content.locales import file_locale
from contentapi.content.markup import Renderer
from contentapi.content.mdast import rich_text
from contentapi.content.model import ContentError, Image, Mention, Treatment
from contentapi.content.paths import relative
from contentapi.errors import PageError


@functools.lru_cache(maxsize=4096)  # a folder names the same indications again and again
def slugify(text: str) -> str:
    """Lower-case ASCII letters and digits, every run of other characters one '-'.

    Letters are transliterated by python-slugify (é -> e, Æ -> ae, ß -> ss, Ж -> zh), not
    dropped. Its own extras are off, as the contract collapses every character that is not
    a letter or digit: entities are text ("&amp;" -> "amp"), and a comma between digits
    separates them ("1,000" -> "1-000", where python-slugify would give "1000").
    """
    slug = python_slugify(
        text, entities=False, decimal=False, hexadecimal=False, replacements=[[",", "-"]]
    )
    # A script it has no spelling for keeps its own letters rather than no slug at all.
    return slug or re.sub(r"[\W_]+", "-", text.lower()).strip("-")


def read_page(path: Path, shown: str) -> bytes | ContentError:
    """A page file's bytes, or the error that names it by `shown` when it cannot be read."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        return ContentError(shown, None, f"cannot be read: {exc.strerror or exc}")


def load_page(path: Path, root: Path, renderer: Renderer | None = None) -> Treatment | ContentError:
    """Parse one file; any problem becomes a ContentError of that file alone."""
    shown = relative(path, root)
    data = read_page(path, shown)
    if isinstance(data, ContentError):
        return data
    return parse_page(data, shown, renderer or Renderer(), root)


def parse_page(
    data: bytes, path: str, renderer: Renderer, root: Path | None = None
) -> Treatment | ContentError:
    """Parse a page's bytes; `path` is how the page is named in errors and in `path`.

    `root`, the content folder, tells whether a front matter image lies beside the page
    (without it, front matter images are read against the content root).
    """
    try:
        return _parse(data, path, renderer, root)
    except PageError as exc:
        return ContentError(path, exc.line, exc.message)
    except RecursionError:
        return ContentError(path, None, "is nested too deeply to be parsed")
    except Exception as exc:  # noqa: BLE001 - one broken page must never stop the others
        return ContentError(path, None, f"could not be parsed: {type(exc).__name__}: {exc}")


def _parse(data: bytes, path: str, renderer: Renderer, root: Path | None) -> Treatment:
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PageError("is empty: a page needs front matter or a body with a title")
    split = metadata.split(text)
    body = split.body
    front = metadata.parse(split.front, split.format)
    identity = page_identity(path, front.slug, front.raw)
    rendered = renderer.render(body, identity.uri, path, root)
    title = front.title or rendered.first_heading
    if not title:
        raise PageError("has no title: set 'title' in the front matter or start with '# Title'")
    words = len(rendered.text.split())
    mentions: dict[str, Mention] = {}
    for name in (*rendered.indications, *front.indications, *front_matter_benefits(front.raw)):
        mention = Mention(name, slugify(name))
        if mention.slug:
            mentions.setdefault(mention.slug, mention)
    category = page_category(front.raw, path)
    images, cover_position = _with_cover(
        rendered.images, front_matter_cover(front.raw, path, root), identity.uri
    )
    tree = rich_text(rendered.html, images, path, identity.uri)
    return Treatment(
        slug=identity.slug,
        title=title,
        path=path,
        uri=identity.uri,
        body=pack_body(
            rendered.html,
            rendered.text,
            body.lstrip("\n"),
            rendered.toc,
            rendered.sections,
            front.raw,
            tree.packed,
        ),
        summary=front.description or rendered.first_paragraph,
        category=category,
        images_packed=pack_images(images),
        image_count=len(images),
        cover_position=cover_position,
        indications=tuple(mentions.values()),
        word_count=words,
        reading_time_minutes=max(1, math.ceil(words / 200)),
        date=front.date or identity.date,
        updated_at=front.updated,
        # Jekyll publishes a `_drafts/` page only when asked to, as a draft.
        draft=front.draft or "_drafts" in path.split("/")[:-1],
        order=front.order,
        digest=hashlib.sha256(data).hexdigest(),
        link_targets=tree.link_targets,
        locale=front.locale or identity.locale,
        translation_key=front.translation_key,
        redirect_from=redirect_paths(front.redirect_from, identity.uri),
    )


def redirect_paths(written: tuple[str, ...], uri: str) -> tuple[str, ...]:
    """Old paths of a page as site paths, each once: a full URL gives its path, a path
    without a leading / is one beside the page's (Hugo's relative aliases), no segment is
    '.' or '..'; a trailing / is kept as written (Jekyll's `/old.html` has none)."""
    base = uri.rstrip("/").rpartition("/")[0]
    paths: dict[str, None] = {}
    for value in written:
        path = urlsplit(value).path if "://" in value else value.split("#")[0].split("?")[0]
        path = path.replace("\\", "/")
        if not path.startswith("/"):
            path = f"{base}/{path}"
        segments = [s for s in path.split("/") if s not in ("", ".", "..")]
        normal = "/" + "/".join(segments)
        if path.endswith("/") and segments:
            normal += "/"
        if normal != uri:
            paths[normal] = None
    return tuple(paths)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PageError(
            f"is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start}",
            line=line,
        ) from None


# Identity: where a page lives on its site (the contract's 'Real sites' rules).

# Site paths given in front matter: Jekyll's permalink, Hugo's url, Zola's path.
_URI_KEYS = ("permalink", "url", "path")
# A bundle's page stands for its folder: x/index.md is x, x/_index.md the section x.
_BUNDLE_STEMS = frozenset({"index", "_index"})
_JEKYLL_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(.+)")


@dataclass(frozen=True, slots=True)
class Identity:
    """Where a page is served: its unique uri, its slug (the uri's last segment) and the
    date its file name gives (a Jekyll post's YYYY-MM-DD- prefix), if any."""

    slug: str
    uri: str
    date: dt.date | None
    # The locale a file-name suffix names (x.de.md), normalised; the uri then starts
    # with it (/de/x/) unless front matter gives one.
    locale: str | None = None


def page_identity(path: str, front_slug: str | None, front: dict[str, Any]) -> Identity:
    """The slug and uri of the page at `path` (with / between folders) under the content
    folder.

    slug: front matter slug, else a bundle's folder name (x/index.md, x/_index.md), else
    the file name without a Jekyll date prefix. uri: front matter permalink, url or path,
    else / + the folders + / + slug + /, each segment slugged; _index.md at the top is
    the site root /. An index.md at the top is an ordinary page (/index/), as before.
    """
    *folders, name = path.split("/")
    stem, locale = file_locale(name.rsplit(".", 1)[0])
    date = None
    root_section = not folders and stem.lower() == "_index"
    if folders and stem.lower() in _BUNDLE_STEMS:
        written = folders.pop()
    elif root_section:
        written = ""
    else:
        written, date = _without_date_prefix(stem)
    if front_slug:
        slug = slugify(front_slug)
    elif written:
        slug = slugify(written)
    else:
        slug = slugify(stem)  # the root section: its slug is "index"
    if not slug:
        raise PageError(
            f"has no usable slug: {front_slug or written or stem!r} has no letters or digits"
        )
    given = _front_matter_uri(front, _placeholders(path, slug, date, front))
    if given is not None:
        uri = given
    elif root_section:
        uri = f"/{locale.lower()}/" if locale is not None else "/"
    else:
        # A folder whose name has no letters or digits adds no segment.
        segments = [segment for segment in map(slugify, folders) if segment]
        if locale is not None:
            segments.insert(0, locale.lower())
        uri = "/" + "".join(f"{segment}/" for segment in (*segments, slug))
    return Identity(slug, uri, date, locale)


def _without_date_prefix(stem: str) -> tuple[str, dt.date | None]:
    """A file name without a Jekyll YYYY-MM-DD- prefix, and the date it gave; a prefix
    that is no real date (2024-13-45-) is part of the name."""
    match = _JEKYLL_DATE.fullmatch(stem)
    if match is None:
        return stem, None
    year, month, day, rest = match.groups()
    try:
        return rest, dt.date(int(year), int(month), int(day))
    except ValueError:
        return stem, None


# Jekyll's permalink placeholders; any other word after a colon is kept as written.
_PLACEHOLDER = re.compile(
    r":(title|slug|name|basename|path|output_ext|collection|categories"
    r"|year|short_year|month|i_month|day|i_day)(?![a-z_])"
)


def _placeholders(
    path: str, slug: str, date: dt.date | None, front: dict[str, Any]
) -> dict[str, str]:
    """What Jekyll's permalink placeholders stand for on this page (those it has)."""
    *folders, name = path.split("/")
    values = {key: slug for key in ("title", "slug", "name", "basename")}
    values["path"] = "/".join([*folders, name.rsplit(".", 1)[0]])
    values["output_ext"] = ""
    collection = _collection(path)
    if collection:
        values["collection"] = collection
    listed = _categories(front.get("categories"))
    values["categories"] = "/".join(filter(None, map(slugify, listed)))
    try:
        date = metadata.to_date(front.get("date")) or date
    except ValueError:
        pass  # front matter parsing has reported it
    if date is not None:
        values.update(
            year=f"{date.year:04d}",
            short_year=f"{date.year % 100:02d}",
            month=f"{date.month:02d}",
            i_month=str(date.month),
            day=f"{date.day:02d}",
            i_day=str(date.day),
        )
    return values


def _front_matter_uri(front: dict[str, Any], placeholders: dict[str, str]) -> str | None:
    """The site path front matter gives, normalised to start and end with / (a full URL
    gives its path; no segment is '.' or '..'), or None when none is given. In a
    permalink, Jekyll's placeholders (:title, :year, :categories, ...) are filled in; one
    with no value for this page (:year without a date) is left out."""
    for key in _URI_KEYS:
        value = front.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise PageError(f"'{key}' must be a site path such as /about/, not {value!r}")
        written = value.strip()
        if not written:
            continue
        if "://" in written:
            written = urlsplit(written).path
        if key == "permalink":
            written = _PLACEHOLDER.sub(lambda found: placeholders.get(found[1], ""), written)
        segments = [s for s in written.replace("\\", "/").split("/") if s not in ("", ".", "..")]
        return "/" + "".join(f"{segment}/" for segment in segments)
    return None


# Category: front matter category, else the first of categories, else the collection
# folder, else a layout that is not one of the generators' own template names.
_TEMPLATE_LAYOUTS = frozenset({"default", "page", "post", "single", "list", "home"})
# Jekyll folders starting with _ that are not collections of pages.
_NOT_COLLECTIONS = frozenset({"_drafts"})
_CATEGORY_SEPARATORS = re.compile(r"[,\s]+")


def page_category(front: dict[str, Any], path: str) -> Mention | None:
    """The page's category (None when nothing names one with letters or digits)."""
    for name in (
        _text(front.get("category")),
        next(iter(_categories(front.get("categories"))), None),
        _collection(path),
        _layout(front.get("layout")),
    ):
        if name and slugify(name):
            return Mention(name, slugify(name))
    return None


def _text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None


def _categories(value: object) -> list[str]:
    """The names of a categories list, or of a space or comma separated string (Jekyll)."""
    if isinstance(value, str):
        return [name for name in _CATEGORY_SEPARATORS.split(value) if name]
    if isinstance(value, list):
        return [text for text in map(_text, value) if text]
    return []


def _collection(path: str) -> str | None:
    """The collection a page's folders name: a Jekyll _name/ folder, or Astro's
    src/content/name/."""
    folders = path.split("/")[:-1]
    for position, folder in enumerate(folders):
        if folder.startswith("_") and len(folder) > 1 and folder not in _NOT_COLLECTIONS:
            return folder[1:]
        if folder == "src" and folders[position + 1 : position + 2] == ["content"]:
            return folders[position + 2] if position + 2 < len(folders) else None
    return None


def _layout(value: object) -> str | None:
    layout = _text(value)
    return layout if layout and layout.lower() not in _TEMPLATE_LAYOUTS else None


def front_matter_benefits(front: dict[str, Any]) -> list[str]:
    """Names in a front matter benefits list: strings, or objects' first string value
    under a key containing name or title."""
    value = front.get("benefits")
    if not isinstance(value, list):
        return []
    names = []
    for item in value:
        if isinstance(item, dict):
            item = next(
                (
                    text
                    for key, text in item.items()
                    if isinstance(text, str) and ("name" in key.lower() or "title" in key.lower())
                ),
                None,
            )
        name = _text(item)
        if name:
            names.append(name)
    return names


# Where themes keep a page's picture, in the order they are looked at.
_COVER_KEYS = ("image", "featured_image", "featuredimage", "cover", "thumbnail")
_ALT_KEYS = ("alt", "image_alt", "imageAlt")
# An object naming an image keeps its address under one of these.
_IMAGE_SRC_KEYS = ("src", "url", "image")


@dataclass(frozen=True, slots=True)
class FrontMatterImage:
    """The picture front matter names, its src resolved."""

    src: str
    alt: str | None


def front_matter_cover(
    front: dict[str, Any], path: str, root: Path | None
) -> FrontMatterImage | None:
    """The front matter image (image, featured_image, featuredimage, cover, thumbnail,
    hero.image, heroImage: a string, or an object with src or url), with its alt; None if
    none."""
    hero = front.get("hero")
    values = [front.get(key) for key in _COVER_KEYS]
    values.append(hero.get("image") if isinstance(hero, dict) else None)
    # Astro's blog template names it heroImage.
    values.append(front.get("heroImage"))
    for value in values:
        found = _image_of(value)
        if found is not None:
            src, alt = found
            alt = alt or next((t for t in map(_text, map(front.get, _ALT_KEYS)) if t), None)
            return FrontMatterImage(resolve_front_matter_src(src, path, root), alt)
    return None


def _image_of(value: object) -> tuple[str, str | None] | None:
    """(src, alt) of a front matter image value, or None if it names no image."""
    if isinstance(value, list):
        return next((found for found in map(_image_of, value) if found), None)
    if isinstance(value, dict):
        src = next((t for t in map(_text, map(value.get, _IMAGE_SRC_KEYS)) if t), None)
        alt = next((t for t in map(_text, map(value.get, _ALT_KEYS)) if t), None)
        return (src, alt) if src else None
    src = value.strip() if isinstance(value, str) else None
    return (src, None) if src else None


def resolve_front_matter_src(src: str, path: str, root: Path | None) -> str:
    """A front matter image's src: a URL with a scheme as it is; a relative path against
    the page's folder when that file is there under `root`, else against the content
    root; with a leading / and never a '..'."""
    folder = path.rpartition("/")[0]
    beside = resolve_src(src, folder)
    if root is not None and folder and beside.startswith("/") and not beside.startswith("//"):
        if (root / beside[1:]).is_file():
            return beside
    return resolve_src(src, "")


def _with_cover(
    images: tuple[Image, ...], cover: FrontMatterImage | None, uri: str
) -> tuple[tuple[Image, ...], int]:
    """The page's images with the front matter image first (unless the body shows that
    picture too), and the cover's position among them."""
    if cover is None:
        return images, 0
    for position, image in enumerate(images):
        if image.src == cover.src:
            return images, position
    return (Image(uri, 0, cover.src, cover.alt), *images), 0
