"""Pages on disk: find them under a content root and parse each one into a Treatment."""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePath

from slugify import slugify as python_slugify

from contentapi import metadata
from contentapi.errors import PageError
from contentapi.markup import Renderer
from contentapi.model import ContentError, Mention, Treatment, pack_body, pack_images

# Bump when parsing changes what a page yields: it keys the warm-start cache.
LOADER_VERSION = "10"
PAGE_SUFFIXES = (".md", ".markdown")


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


def find_pages(root: Path) -> Iterator[Path | ContentError]:
    """Every page file under root in path order, or an error for a link leading outside it.

    Path order compares the parts of the path relative to root one by one, so
    `a/z.md` comes before `b.md` whichever folder it is in. What each entry of a
    folder is, is decided by one function (_entry) that live reload asks too.
    """
    root = root.resolve()
    found: list[tuple[tuple[str, ...], Path | ContentError]] = []
    for directory, folders, files in os.walk(root):
        here = Path(directory)
        entries = [(name, True) for name in folders] + [(name, False) for name in files]
        # Linked folders are never walked into: their pages would be read twice or
        # from outside the root.
        folders[:] = sorted(
            name for name in folders if not _is_hidden(name) and not (here / name).is_symlink()
        )
        for name, is_folder in entries:
            item = _entry(here / name, root, is_folder)
            if item is not None:
                found.append((_parts(here / name, root), item))
    found.sort(key=lambda item: item[0])
    for _, item in found:
        yield item


def examine(path: Path, root: Path) -> Path | ContentError | None:
    """What a full load (find_pages) makes of one path: the page file to read, the error
    that refuses it, or None when the load would not list it at all (another suffix, a
    hidden name, inside a hidden or linked folder, outside root, a folder).

    Live reload asks this of each changed file, so it serves what a full load would.
    """
    root = root.resolve()
    below = _below(path, root)
    if below is None or not below.parts:
        return None
    here = root
    for name in below.parts[:-1]:
        here = here / name
        if _is_hidden(name) or here.is_symlink() or not here.is_dir():
            return None
    path = here / below.name
    # os.walk counts an entry as a folder when it is one or links to one.
    return _entry(path, root, is_folder=path.is_dir())


def read_page(path: Path, shown: str) -> bytes | ContentError:
    """A page file's bytes, or the error that names it by `shown` when it cannot be read."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        return ContentError(shown, None, f"cannot be read: {exc.strerror or exc}")


def relative(path: Path, root: Path) -> str:
    """The path as shown to users: relative to the content root, with '/'."""
    below = _below(path, root)
    return (below or path).as_posix()


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


def _parts(path: Path, root: Path) -> tuple[str, ...]:
    return path.relative_to(root).parts


def _below(path: Path, root: Path) -> PurePath | None:
    """The path relative to root (as resolved or as given), or None when it is not under it."""
    for base in (root.resolve(), root.absolute()):
        try:
            return path.absolute().relative_to(base)
        except ValueError:
            continue
    return None


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _entry(path: Path, root: Path, is_folder: bool) -> Path | ContentError | None:
    """One entry of a folder under root, as a load lists it: a page file, an error, or
    None (a folder, walked into or skipped, or a file that is no page)."""
    if _is_hidden(path.name):
        return None
    if is_folder:
        return _link_problem(path, root) if path.is_symlink() else None
    if not path.name.lower().endswith(PAGE_SUFFIXES):
        return None
    problem = _link_problem(path, root) if path.is_symlink() else None
    if problem is None and path.exists() and not path.is_file():
        # A named pipe or device would block or never end when read.
        problem = ContentError(relative(path, root), None, "is not a regular file")
    return problem or path


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
