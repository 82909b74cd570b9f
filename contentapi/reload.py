"""Live reload: re-parse only changed files, keep last good pages, swap the index whole."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from watchfiles import awatch

from contentapi.build import Page, load_all
from contentapi.index import ContentIndex
from contentapi.loader import PAGE_SUFFIXES, find_pages, parse_page, relative
from contentapi.markup import Renderer
from contentapi.model import ContentError, Treatment
from contentapi.settings import Settings
from contentapi.store import ContentStore

log = logging.getLogger("contentapi.reload")


class LiveIndex:
    """The pages of a folder by path, updated file by file."""

    def __init__(self, root: Path, pages: Iterable[Page]) -> None:
        self.root = root
        self.pages: dict[str, Page] = {page.path: page for page in pages}
        self.last_good: dict[str, Treatment] = {
            path: page for path, page in self.pages.items() if isinstance(page, Treatment)
        }
        self._renderer = Renderer()

    @classmethod
    def load(cls, root: Path, workers: int = 1, cache_dir: Path | None = None) -> LiveIndex:
        """Load the whole folder once."""
        return cls(root, load_all(root, workers=workers, cache_dir=cache_dir))

    def update(self, changed: Iterable[Path]) -> None:
        """Re-read the given files (gone ones are dropped); links leading outside are refused."""
        for path in changed:
            shown = relative(path, self.root)
            if not path.name.lower().endswith(PAGE_SUFFIXES) or shown.startswith("/"):
                continue
            if any(part.startswith(".") for part in Path(shown).parts):
                continue
            if not path.is_file():
                self.pages.pop(shown, None)
                self.last_good.pop(shown, None)
                continue
            refused = [
                item
                for item in find_pages(path.parent)
                if isinstance(item, ContentError) and item.path == path.name
            ]
            if refused:
                self.pages[shown] = ContentError(shown, None, refused[0].message)
                self.last_good.pop(shown, None)
                continue
            try:
                data = path.read_bytes()
            except OSError as exc:
                self.pages[shown] = ContentError(shown, None, f"cannot be read: {exc}")
                continue
            page = parse_page(data, shown, self._renderer)
            self.pages[shown] = page
            if isinstance(page, Treatment):
                self.last_good[shown] = page

    def index(self) -> ContentIndex:
        """A new index: a page broken since it last loaded is served as it was, error reported."""
        served: list[Page] = []
        errors: list[ContentError] = []
        for path in sorted(self.pages):
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
        index = ContentIndex.from_pages(self.root, served)
        return index.with_errors(errors) if errors else index


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
            fresh = LiveIndex.load(self.root)
            fresh.last_good = {
                path: page
                for path, page in {**self.live.last_good, **fresh.last_good}.items()
                if path in fresh.pages
            }
            self.live = fresh
        else:
            self.live.update(paths)
        return self.live.index()
