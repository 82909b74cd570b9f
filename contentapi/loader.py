"""Pages on disk: find them under a content root and parse each one into a Treatment."""

from __future__ import annotations

import hashlib
import math
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from contentapi import metadata
from contentapi.errors import PageError
from contentapi.markup import Renderer
from contentapi.model import ContentError, Mention, Treatment, pack_body, pack_images

# Bump when parsing changes what a page yields: it keys the warm-start cache.
LOADER_VERSION = "8"
PAGE_SUFFIXES = (".md", ".markdown")


def slugify(text: str) -> str:
    """Lower-case, accents folded, runs of other characters collapsed to '-'."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(char for char in folded if not unicodedata.combining(char)).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug or re.sub(r"[\W_]+", "-", text.lower()).strip("-")


def find_pages(root: Path) -> Iterator[Path | ContentError]:
    """Every page file under root in path order, or an error for a link leading outside it.

    Path order compares the parts of the path relative to root one by one, so
    `a/z.md` comes before `b.md` whichever folder it is in.
    """
    root = root.resolve()
    found: list[tuple[tuple[str, ...], Path | ContentError]] = []
    for directory, folders, files in os.walk(root):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        here = Path(directory)
        for name in list(folders):
            if (here / name).is_symlink():
                folders.remove(name)
                problem = _link_problem(here / name, root)
                if problem is not None:
                    found.append((_parts(here / name, root), problem))
        for name in files:
            path = here / name
            if name.startswith(".") or not name.lower().endswith(PAGE_SUFFIXES):
                continue
            problem = _link_problem(path, root) if path.is_symlink() else None
            if problem is None and path.exists() and not path.is_file():
                # A named pipe or device would block or never end when read.
                problem = ContentError(relative(path, root), None, "is not a regular file")
            found.append((_parts(path, root), problem or path))
    found.sort(key=lambda item: item[0])
    for _, item in found:
        yield item


def relative(path: Path, root: Path) -> str:
    """The path as shown to users: relative to the content root, with '/'."""
    for base in (root.resolve(), root.absolute()):
        try:
            return path.absolute().relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def load_page(path: Path, root: Path, renderer: Renderer | None = None) -> Treatment | ContentError:
    """Parse one file; any problem becomes a ContentError of that file alone."""
    shown = relative(path, root)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ContentError(shown, None, f"cannot be read: {exc.strerror or exc}")
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


def _parts(path: Path, root: Path) -> tuple[str, ...]:
    return path.relative_to(root).parts


def _link_problem(path: Path, root: Path) -> ContentError | None:
    """An error for a symlink that leads outside root or nowhere it can follow, else None."""
    try:
        target = os.readlink(path)
        inside = path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
        return ContentError(relative(path, root), None, "is a symlink that cannot be followed")
    if inside:
        return None
    return ContentError(
        relative(path, root),
        None,
        f"is a symlink to {target!r}, outside the content root: refused",
    )
