"""Which files under a content root are pages: the one path filter that the full load and
live reload both use (hidden files and folders skipped, links that leave the root or
cannot be followed reported, only regular files read)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePath

from contentapi.content.model import ContentError

PAGE_SUFFIXES = (".md", ".markdown")


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


def relative(path: Path, root: Path) -> str:
    """The path as shown to users: relative to the content root, with '/'."""
    below = _below(path, root)
    return (below or path).as_posix()


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
