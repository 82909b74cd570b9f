"""One page file: read it and parse it into a Treatment (or a ContentError naming its line)."""

from __future__ import annotations

import functools
import hashlib
import math
import re
from pathlib import Path

from slugify import slugify as python_slugify

from contentapi.content import frontmatter as metadata
from contentapi.content.body import pack_body, pack_images
from contentapi.content.markup import Renderer
from contentapi.content.model import ContentError, Mention, Treatment
from contentapi.content.paths import relative
from contentapi.errors import PageError

# Bump when parsing changes what a page yields: it keys the warm-start cache.
LOADER_VERSION = "10"


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
    return parse_page(data, shown, renderer or Renderer())


def parse_page(data: bytes, path: str, renderer: Renderer) -> Treatment | ContentError:
    """Parse a page's bytes; `path` is how the page is named in errors and in `path`."""
    try:
        return _parse(data, path, renderer)
    except PageError as exc:
        return ContentError(path, exc.line, exc.message)
    except RecursionError:
        return ContentError(path, None, "is nested too deeply to be parsed")
    except Exception as exc:  # noqa: BLE001 - one broken page must never stop the others
        return ContentError(path, None, f"could not be parsed: {type(exc).__name__}: {exc}")


def _parse(data: bytes, path: str, renderer: Renderer) -> Treatment:
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PageError("is empty: a page needs front matter or a body with a title")
    front_text, body, _ = metadata.split(text)
    front = metadata.parse(front_text)
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    slug = slugify(front.slug) if front.slug else slugify(stem)
    if not slug:
        raise PageError(f"has no usable slug: {front.slug or stem!r} has no letters or digits")
    rendered = renderer.render(body, slug)
    title = front.title or rendered.first_heading
    if not title:
        raise PageError("has no title: set 'title' in the front matter or start with '# Title'")
    words = len(rendered.text.split())
    mentions: dict[str, Mention] = {}
    for name in (*rendered.indications, *front.indications):
        mention = Mention(name, slugify(name))
        if mention.slug:
            mentions.setdefault(mention.slug, mention)
    category = Mention(front.category, slugify(front.category)) if front.category else None
    return Treatment(
        slug=slug,
        title=title,
        path=path,
        body=pack_body(
            rendered.html,
            rendered.text,
            body.lstrip("\n"),
            rendered.toc,
            rendered.sections,
            front.raw,
        ),
        summary=front.description or rendered.first_paragraph,
        category=category if category and category.slug else None,
        images_packed=pack_images(rendered.images),
        image_count=len(rendered.images),
        indications=tuple(mentions.values()),
        word_count=words,
        reading_time_minutes=max(1, math.ceil(words / 200)),
        date=front.date,
        updated_at=front.updated,
        draft=front.draft,
        order=front.order,
        digest=hashlib.sha256(data).hexdigest(),
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PageError(
            f"is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start}",
            line=line,
        ) from None
