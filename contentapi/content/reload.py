"""Live reload: re-parse only changed files, keep last good pages, swap the index whole."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import awatch

from contentapi.content.dialect import AUTO
from contentapi.content.index import ContentIndex
from contentapi.content.load import Page, load_all
from contentapi.content.model import ContentError, Treatment
from contentapi.content.paths import PAGE_SUFFIXES, examine, find_pages, is_bundle_head, relative
from contentapi.content.store import ContentStore
from contentapi.settings import Settings

if TYPE_CHECKING:
    from contentapi.content.markup import Renderer

log = logging.getLogger("contentapi.content.reload")


class LiveIndex:
    """The pages of a folder by path, updated file by file."""

    def __init__(
        self,
        root: Path,
        pages: Iterable[Page],
        ignore: Sequence[str] = (),
        markdown: str = AUTO,
        index: ContentIndex | None = None,
    ) -> None:
        """`index` is the one served of these pages, if made already: the next is made
        from it, by the work of the pages changed since (ContentIndex.from_pages)."""
        self.root = root
        self.ignore = tuple(ignore)  # CONTENTAPI_IGNORE's patterns, as the load had them
        self.markdown = markdown  # CONTENTAPI_MARKDOWN, as the load had it
        self.pages: dict[str, Page] = {page.path: page for page in pages}
        self.last_good: dict[str, Treatment] = {
            path: page for path, page in self.pages.items() if isinstance(page, Treatment)
        }
        # Pages that are symlinks, by the page file they lead to: a watcher reports an edit
        # of that file only, and the link must be read again with it.
        self.links: dict[str, str] = {}
        resolved = root.resolve()
        for path, page in self.pages.items():
            if isinstance(page, Treatment):
                self._note_link(path, resolved / path)
        # The parsers are imported once a LiveIndex is made (--watch), not with this module,
        # which every server imports (contentapi/content/version.py).
        from contentapi.content.markup import Renderer

        self._renderer: Renderer = Renderer(markdown)
        self._previous = index
        # A file that is not a page changed (a picture): the next index reads every picture.
        self._others_changed = False
        # The paths in order, kept while none is added or removed.
        self._order: list[str] | None = None
        # Pages edited in place since the last index (a page before and after), by path,
        # unless something else changed too: the next index replaces just those.
        self._edits: dict[str, Treatment] | None = {}

    @classmethod
    def load(
        cls,
        root: Path,
        workers: int = 1,
        cache_dir: Path | None = None,
        ignore: Sequence[str] = (),
        markdown: str = AUTO,
    ) -> LiveIndex:
        """Load the whole folder once."""
        pages = load_all(root, workers, cache_dir, ignore, markdown)
        return cls(root, pages, ignore, markdown)

    def update(self, changed: Iterable[Path]) -> None:
        """Re-read the given files as a full load would (see loader.examine), and the links
        inside the folder that lead to them; gone ones are dropped. Folders are not walked:
        the watcher loads the whole folder again for those.
        """
        changed = list(changed)
        if any(not path.name.lower().endswith(PAGE_SUFFIXES) for path in changed):
            self._others_changed = True
        before = len(self.pages)
        heads = [path.parent for path in changed if is_bundle_head(path)]
        if heads:
            changed += self._pages_under(heads)
        done = {self._update_file(path) for path in changed}
        followers = [link for link, target in self.links.items() if target in done]
        resolved = self.root.resolve()
        for link in followers:
            if link not in done:
                self._update_file(resolved / link)
        if len(self.pages) != before or not done <= self.pages.keys():
            self._order = None

    def _pages_under(self, folders: list[Path]) -> list[Path]:
        """The pages served or listed by a full load under the folders: a bundle head's
        front matter decides whether its whole folder is a headless bundle."""
        prefixes = tuple(
            relative(folder, self.root) + "/"
            for folder in folders
            if folder.resolve() != self.root.resolve()  # the root is never headless
        )
        if not prefixes:
            return []
        listed = {
            item.path if isinstance(item, ContentError) else relative(item, self.root)
            for item in find_pages(self.root, self.ignore)
        }
        resolved = self.root.resolve()
        return [
            resolved / shown
            for shown in sorted(listed | set(self.pages))
            if shown.startswith(prefixes)
        ]

    def _update_file(self, path: Path) -> str:
        """Read one file again; the path as shown to users."""
        item = examine(path, self.root, self.ignore)
        if item is None or (isinstance(item, Path) and not os.path.lexists(item)):
            return self._drop(relative(path, self.root))
        if isinstance(item, ContentError):
            self._drop(item.path)
            self.pages[item.path] = item
            return item.path
        from contentapi.content.page import parse_page, read_page

        shown = relative(item, self.root)
        data = read_page(item, shown)
        page = (
            data
            if isinstance(data, ContentError)
            else parse_page(data, shown, self._renderer, self.root)
        )
        if self._edits is not None:
            if isinstance(page, Treatment) and isinstance(self.pages.get(shown), Treatment):
                self._edits[shown] = page
            else:
                self._edits = None
        self.pages[shown] = page
        if isinstance(page, Treatment):
            self.last_good[shown] = page
        self._note_link(shown, item)
        return shown

    def _drop(self, shown: str) -> str:
        self._edits = None
        self.pages.pop(shown, None)
        self.last_good.pop(shown, None)
        self.links.pop(shown, None)
        return shown

    def _note_link(self, shown: str, path: Path) -> None:
        if path.is_symlink():
            self.links[shown] = relative(path.resolve(), self.root)
        else:
            self.links.pop(shown, None)

    def index(self) -> ContentIndex:
        """A new index: a page broken since it last loaded is served as it was, error reported."""
        edits, self._edits = self._edits, {}
        if edits and self._previous is not None and not self._others_changed:
            # Files edited in place, nothing else: replace those pages and no more.
            replaced = self._previous.replaced(edits)
            if replaced is not None:
                self._previous = replaced
                return replaced
        served: list[Page] = []
        errors: list[ContentError] = []
        if self._order is None or len(self._order) != len(self.pages):
            self._order = sorted(self.pages)
        for path in self._order:
            page = self.pages[path]
            if isinstance(page, ContentError) and path in self.last_good:
                errors.append(
                    ContentError(
                        page.path, page.line, page.message + " (serving its last good version)"
                    )
                )
                served.append(self.last_good[path])
            else:
                served.append(page)
        previous = None if self._others_changed else self._previous
        index = ContentIndex.from_pages(self.root, served, previous=previous)
        index = index.with_errors(errors) if errors else index
        self._previous, self._others_changed = index, False
        return index


class Watcher:
    """Watches the content folder and swaps in a new index after each burst of changes."""

    def __init__(self, settings: Settings, store: ContentStore, live: LiveIndex) -> None:
        self.root = settings.content_dir
        self.store = store
        self.live = live
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rebuilds = 0

    async def start(self) -> None:
        """Start watching in the background."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop watching and wait for the watcher to end."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        root = self.root.resolve()
        async for changes in awatch(
            root, stop_event=self._stop, debounce=800, step=100, recursive=True
        ):
            paths = {Path(path) for _, path in changes}
            try:
                index = await asyncio.to_thread(self._rebuild, paths)
            except Exception:  # noqa: BLE001 - a failed rebuild keeps the current index
                log.exception("reloading content failed; still serving the previous version")
                continue
            old = self.store.current.public.version
            self.store.swap(index)
            self.rebuilds += 1
            for error in index.errors:
                log.warning("content error: %s", error)
            log.info(
                "content reloaded: %d files changed, version %s -> %s",
                len(paths),
                old,
                index.public.version,
            )

    def _rebuild(self, paths: set[Path]) -> ContentIndex:
        # A folder added, moved or removed: walk everything again, keeping last good pages.
        if any(
            p.is_dir() or (not p.exists() and not p.name.endswith(PAGE_SUFFIXES)) for p in paths
        ):
            fresh = LiveIndex.load(self.root, ignore=self.live.ignore, markdown=self.live.markdown)
            fresh.last_good = {
                path: page
                for path, page in {**self.live.last_good, **fresh.last_good}.items()
                if path in fresh.pages
            }
            self.live = fresh
        else:
            self.live.update(paths)
        return self.live.index()
