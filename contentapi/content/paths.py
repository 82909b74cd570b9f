"""Which files under a content root are pages: the one path filter that the full load and
live reload both use (hidden files and folders, what a site generator never publishes and
the CONTENTAPI_IGNORE patterns skipped silently; links that leave the root or cannot be
followed reported; only regular files read)."""

from __future__ import annotations

import functools
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from pathspec import GitIgnoreSpec

from contentapi.content.model import ContentError

PAGE_SUFFIXES = (".md", ".markdown")
# A repository's own documents, not the site's pages (README.md, license.markdown, ...),
# unless front matter makes one a page (hugoDocs' about/license.md and security.md are).
NOT_PAGE_NAMES = frozenset(
    {"readme", "license", "changelog", "contributing", "code_of_conduct", "security"}
)
# Jekyll's templates, partials, data, styles and built site; Hugo's includes; npm's packages.
NOT_PAGE_FOLDERS = frozenset(
    {"_layouts", "_includes", "_data", "_sass", "_site", "includes", "node_modules"}
)
# The page that stands for its folder (Hugo's leaf and branch bundles); only these are
# read while walking, to tell whether their folder is a headless bundle.
BUNDLE_HEADS = ("index.md", "_index.md", "index.markdown", "_index.markdown")
# Larger heads are read only in part: a headless bundle says so in its front matter.
_HEAD_BYTES = 65536


@dataclass(frozen=True, slots=True)
class _Bundle:
    """What a folder's head (its first file in BUNDLE_HEADS) publishes, as Hugo does."""

    head: str | None = None
    head_hidden: bool = False  # the head itself is not a page
    rest_hidden: bool = False  # nothing else in the folder, at any depth, is a page


_OPEN = _Bundle()


def find_pages(root: Path, ignore: Sequence[str] = ()) -> Iterator[Path | ContentError]:
    """Every page file under root in path order, or an error for a link leading outside it.

    Path order compares the parts of the path relative to root one by one, so
    `a/z.md` comes before `b.md` whichever folder it is in. What each entry of a
    folder is, is decided by one function (_entry) that live reload asks too; `ignore`
    holds gitignore-style patterns of paths that are not pages.
    """
    root = root.resolve()
    rules = _rules(tuple(ignore))
    found: list[tuple[tuple[str, ...], Path | ContentError]] = []
    for directory, folders, files in os.walk(root):
        here = Path(directory)
        bundle = _bundle(here, root, files)
        if bundle.rest_hidden:
            folders[:] = []
            files = [bundle.head] if bundle.head and not bundle.head_hidden else []
        elif bundle.head_hidden:
            files = [name for name in files if name != bundle.head]
        entries = [(name, True) for name in folders] + [(name, False) for name in files]
        # Linked folders are never walked into: their pages would be read twice or
        # from outside the root.
        folders[:] = sorted(
            name
            for name in folders
            if not (here / name).is_symlink() and not _skipped_folder(here / name, root, rules)
        )
        for name, is_folder in entries:
            item = _entry(here / name, root, is_folder, rules)
            if item is not None:
                found.append((_parts(here / name, root), item))
    found.sort(key=lambda item: item[0])
    for _, item in found:
        yield item


def examine(path: Path, root: Path, ignore: Sequence[str] = ()) -> Path | ContentError | None:
    """What a full load (find_pages) makes of one path: the page file to read, the error
    that refuses it, or None when the load would not list it at all (another suffix, a
    skipped name, inside a skipped, headless or linked folder, outside root, a folder).

    Live reload asks this of each changed file, so it serves what a full load would.
    """
    root = root.resolve()
    rules = _rules(tuple(ignore))
    below = _below(path, root)
    if below is None or not below.parts:
        return None
    here = root
    for depth, name in enumerate(below.parts[:-1], start=2):
        here = here / name
        if here.is_symlink() or not here.is_dir() or _skipped_folder(here, root, rules):
            return None
        bundle = _bundle(here, root)
        if depth < len(below.parts):  # a folder above the path's own
            if bundle.rest_hidden:
                return None
        elif below.name == bundle.head:
            if bundle.head_hidden:
                return None
        elif bundle.rest_hidden:
            return None
    path = here / below.name
    # os.walk counts an entry as a folder when it is one or links to one.
    return _entry(path, root, is_folder=path.is_dir(), rules=rules)


def is_bundle_head(path: Path) -> bool:
    """Whether the file decides, by its front matter, if its folder is a headless bundle."""
    return path.name in BUNDLE_HEADS


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


@functools.lru_cache(maxsize=8)
def _rules(ignore: tuple[str, ...]) -> GitIgnoreSpec | None:
    return GitIgnoreSpec.from_lines(ignore) if ignore else None


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _ignored(path: Path, root: Path, rules: GitIgnoreSpec | None, is_folder: bool) -> bool:
    if rules is None:
        return False
    shown = path.relative_to(root).as_posix()
    # A trailing '/' lets patterns meant for folders only (`drafts/`) match the folder.
    return rules.match_file(shown + "/" if is_folder else shown)


def _skipped_folder(path: Path, root: Path, rules: GitIgnoreSpec | None) -> bool:
    """Whether a folder (by its name or an ignore pattern) holds no pages at any depth."""
    return (
        _is_hidden(path.name)
        or path.name in NOT_PAGE_FOLDERS
        or _ignored(path, root, rules, is_folder=True)
    )


def _bundle(folder: Path, root: Path, files: Collection[str] | None = None) -> _Bundle:
    """What the folder's head says is published (the content root's says nothing): Hugo's
    build options, read from the front matter of the first file of BUNDLE_HEADS there.

    - `headless: true`: neither the head nor anything else in the folder is a page.
    - `build` / `_build` with `render: never`: the head is not a page; in a leaf bundle
      (`index.md`) nothing else is either, in a section (`_index.md`) the rest still is.
    - `cascade` (untargeted) with `build.render: never`: nothing under the head is a page,
      nor the head unless its own `build` names `render` (hugoDocs' glossary is `always`).

    `files`, the folder's file names when the caller has listed them, saves the look-ups.
    """
    if folder == root:
        return _OPEN
    for name in BUNDLE_HEADS:
        if files is not None and name not in files:
            continue
        head = folder / name
        # A head that is a link leaving the root, or no regular file, is never read.
        if not head.is_file() or (head.is_symlink() and _link_problem(head, root) is not None):
            continue
        front = _head_front(head)
        if front.get("headless") is True:
            return _Bundle(name, head_hidden=True, rest_hidden=True)
        own = _render(front)
        cascade = front.get("cascade")
        entries = cascade if isinstance(cascade, list) else [cascade]
        cascaded = any(
            isinstance(entry, dict)
            and not ({"target", "_target"} & entry.keys())
            and _render(entry) == "never"
            for entry in entries
        )
        leaf = not name.startswith("_")
        return _Bundle(
            name,
            head_hidden=own == "never" or (cascaded and own is None),
            rest_hidden=cascaded or (leaf and own == "never"),
        )
    return _OPEN


def _head_front(head: Path) -> dict[str, Any]:
    """A head's front matter, unchecked; {} when it has none that speaks of publishing."""
    try:
        with open(head, "rb") as file:
            data = file.read(_HEAD_BYTES)
    except OSError:
        return {}  # the page's own load reports it
    if b"headless" not in data and b"render" not in data:
        return {}  # most heads: no front matter worth parsing
    text = data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    from contentapi.content import frontmatter  # with its YAML parser, only when needed

    return frontmatter.peek(text)


def _render(front: dict[Any, Any]) -> str | None:
    """`render` of `build` / `_build` (Hugo's names, new and old): never, always, link, or
    None when not given; Hugo's older `render: false` / `true` mean never / always."""
    for key in ("build", "_build"):
        build = front.get(key)
        if isinstance(build, dict) and "render" in build:
            render = build["render"]
            if isinstance(render, bool):
                return "always" if render else "never"
            return str(render).lower()
    return None


def _repository_document(path: Path) -> bool:
    """README.md, LICENSE.md and the like without front matter: the repository's own
    documents. Never read when it is a link or no regular file."""
    if path.name.rsplit(".", 1)[0].lower() not in NOT_PAGE_NAMES:
        return False
    if path.is_symlink() or not path.is_file():
        return True
    try:
        with open(path, "rb") as file:
            start = file.read(64)
    except OSError:
        return True
    from contentapi.content import frontmatter  # with its YAML parser, only when needed

    return frontmatter.detect(start.decode("utf-8-sig", errors="replace")) is None


def _entry(
    path: Path, root: Path, is_folder: bool, rules: GitIgnoreSpec | None = None
) -> Path | ContentError | None:
    """One entry of a folder under root, as a load lists it: a page file, an error, or
    None (a folder, walked into or skipped, or a file that is no page)."""
    if is_folder:
        if _skipped_folder(path, root, rules):
            return None
        return _link_problem(path, root) if path.is_symlink() else None
    if _is_hidden(path.name) or not path.name.lower().endswith(PAGE_SUFFIXES):
        return None
    if _ignored(path, root, rules, is_folder=False) or _repository_document(path):
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
