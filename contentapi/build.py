"""Loading a whole folder: in path order, on several processes, reusing a warm-start cache."""

from __future__ import annotations

import hashlib
import logging
import pickle
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from contentapi.loader import LOADER_VERSION, find_pages, parse_page, relative
from contentapi.markup import Renderer
from contentapi.model import ContentError, Treatment

Page = Treatment | ContentError
log = logging.getLogger("contentapi")
# Below this many pages a process pool costs more to start than it saves.
_POOL_THRESHOLD = 200


def load_all(root: Path, workers: int = 1, cache_dir: Path | None = None) -> list[Page]:
    """Every page under root, parsed, in path order; the same result for any `workers`."""
    if not root.is_dir():
        raise FileNotFoundError(f"content folder {str(root)!r} does not exist or is not a folder")
    found = list(find_pages(root))
    files: list[tuple[int, str, bytes]] = []
    pages: list[Page | None] = [None] * len(found)
    for position, item in enumerate(found):
        if isinstance(item, ContentError):
            pages[position] = item
            continue
        shown = relative(item, root)
        try:
            files.append((position, shown, item.read_bytes()))
        except OSError as exc:
            pages[position] = ContentError(shown, None, f"cannot be read: {exc.strerror or exc}")
    cache = None
    if cache_dir is not None:
        try:
            cache = PageCache(cache_dir)
        except (OSError, sqlite3.Error) as exc:
            log.warning("not using the page cache in %s: %s", cache_dir, exc)
    todo = []
    for position, shown, data in files:
        cached = cache.get(shown, data) if cache else None
        if cached is not None:
            pages[position] = cached
        else:
            todo.append((position, shown, data))
    for (position, shown, data), page in zip(todo, _parse_many(todo, workers), strict=True):
        pages[position] = page
        if cache:
            cache.put(shown, data, page)
    if cache:
        try:
            cache.close()
        except sqlite3.Error as exc:
            log.warning("could not write the page cache: %s", exc)
    return [page for page in pages if page is not None]


def _parse_many(todo: Sequence[tuple[int, str, bytes]], workers: int) -> list[Page]:
    if workers <= 1 or len(todo) < _POOL_THRESHOLD:
        return _parse_chunk([(shown, data) for _, shown, data in todo])
    size = max(1, len(todo) // (workers * 4))
    chunks = [
        [(shown, data) for _, shown, data in todo[start : start + size]]
        for start in range(0, len(todo), size)
    ]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [page for chunk in pool.map(_parse_chunk, chunks) for page in chunk]


def _parse_chunk(chunk: Sequence[tuple[str, bytes]]) -> list[Page]:
    renderer = Renderer()
    return [parse_page(data, shown, renderer) for shown, data in chunk]


class PageCache:
    """Parsed pages on disk, keyed by path, content hash and loader version."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(folder / "pages.sqlite", timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, page BLOB)")
        self._pending: list[tuple[str, bytes]] = []

    @staticmethod
    def _key(shown: str, data: bytes) -> str:
        return hashlib.sha256(f"{LOADER_VERSION}\0{shown}\0".encode() + data).hexdigest()

    def get(self, shown: str, data: bytes) -> Page | None:
        """The page parsed from exactly these bytes at this path before, or None."""
        row = self._db.execute(
            "SELECT page FROM pages WHERE key = ?", (self._key(shown, data),)
        ).fetchone()
        if row is None:
            return None
        try:
            page = pickle.loads(row[0])  # noqa: S301 - our own cache folder
        except Exception:  # noqa: BLE001 - a stale or torn entry is a miss
            return None
        return page if isinstance(page, Treatment | ContentError) else None

    def put(self, shown: str, data: bytes, page: Page) -> None:
        """Remember a parsed page (written on close)."""
        self._pending.append((self._key(shown, data), pickle.dumps(page)))

    def close(self) -> None:
        """Write what was remembered and close the database."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?)", self._pending)
        self._db.close()
