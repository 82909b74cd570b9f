"""Loading a whole folder: in path order, on several processes, reusing a warm-start cache."""

from __future__ import annotations

import hashlib
import logging
import pickle
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from contentapi.loader import LOADER_VERSION, find_pages, parse_page, relative
from contentapi.markup import Renderer
from contentapi.model import ContentError, Mention, Treatment

Page = Treatment | ContentError
log = logging.getLogger("contentapi")
# Below this many pages a process pool costs more to start than it saves.
_POOL_THRESHOLD = 200
_WRITE_BATCH = 500


def load_all(root: Path, workers: int = 1, cache_dir: Path | None = None) -> list[Page]:
    """Every page under root, parsed, in path order; the same result for any `workers`.

    Files are read where they are parsed, one at a time, so a folder's bytes are never
    all in memory at once.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"content folder {str(root)!r} does not exist or is not a folder")
    found = list(find_pages(root))
    pages: list[Page | None] = [None] * len(found)
    cache = _open_cache(cache_dir)
    mentions: dict[Mention, Mention] = {}
    todo: list[tuple[int, str, Path]] = []
    for position, item in enumerate(found):
        if isinstance(item, ContentError):
            pages[position] = item
            continue
        shown = relative(item, root)
        cached = cache.get(shown, item) if cache else None
        if cached is not None:
            pages[position] = share_mentions(cached, mentions)
        else:
            todo.append((position, shown, item))
    parsed = _parse_many([(shown, path) for _, shown, path in todo], workers)
    for (position, _, _), (key, page) in zip(todo, parsed, strict=True):
        pages[position] = share_mentions(page, mentions)
        if cache and key is not None:
            cache.put(key, page)
    if cache:
        try:
            cache.close()
        except sqlite3.Error as exc:
            log.warning("could not write the page cache: %s", exc)
    return [page for page in pages if page is not None]


def share_mentions(page: Page, shared: dict[Mention, Mention]) -> Page:
    """The page with the indications and category already in `shared` replaced by those
    objects: a folder names the same few hundred thousands of times.

    Done as each page is made, so the copies are dropped at once; dropped later, they leave
    holes all over the heap that the process never gives back.
    """
    if not isinstance(page, Treatment):
        return page
    indications = tuple(shared.setdefault(mention, mention) for mention in page.indications)
    category = page.category and shared.setdefault(page.category, page.category)
    if category is page.category and all(
        mine is kept for mine, kept in zip(page.indications, indications, strict=True)
    ):
        return page
    return replace(page, indications=indications, category=category)


def _open_cache(cache_dir: Path | None) -> PageCache | None:
    if cache_dir is None:
        return None
    try:
        return PageCache(cache_dir)
    except (OSError, sqlite3.Error) as exc:
        log.warning("not using the page cache in %s: %s", cache_dir, exc)
        return None


# A parsed page and its cache key (None when the file could not be read).
Parsed = tuple[str | None, Page]


def _parse_many(todo: Sequence[tuple[str, Path]], workers: int) -> list[Parsed]:
    if workers <= 1 or len(todo) < _POOL_THRESHOLD:
        return _parse_chunk(todo)
    size = max(1, len(todo) // (workers * 4))
    chunks = [todo[start : start + size] for start in range(0, len(todo), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [parsed for chunk in pool.map(_parse_chunk, chunks) for parsed in chunk]


def _parse_chunk(chunk: Sequence[tuple[str, Path]]) -> list[Parsed]:
    renderer = Renderer()
    # Shared within a chunk too, which pickling keeps, so few copies reach the parent.
    mentions: dict[Mention, Mention] = {}
    parsed: list[Parsed] = []
    for shown, path in chunk:
        try:
            data = path.read_bytes()
        except OSError as exc:
            error = ContentError(shown, None, f"cannot be read: {exc.strerror or exc}")
            parsed.append((None, error))
            continue
        page = share_mentions(parse_page(data, shown, renderer), mentions)
        parsed.append((cache_key(shown, data), page))
    return parsed


def cache_key(shown: str, data: bytes) -> str:
    """Names a parse: the loader's version, the page's path and its exact bytes."""
    return hashlib.sha256(f"{LOADER_VERSION}\0{shown}\0".encode() + data).hexdigest()


class PageCache:
    """Parsed pages on disk, keyed by path, content hash and loader version."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(folder / "pages.sqlite", timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, page BLOB)")
        self._pending: list[tuple[str, bytes]] = []

    def get(self, shown: str, path: Path) -> Page | None:
        """The page parsed before from exactly the bytes the file holds now, or None."""
        try:
            key = cache_key(shown, path.read_bytes())
        except OSError:
            return None
        row = self._db.execute("SELECT page FROM pages WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            page = pickle.loads(row[0])  # noqa: S301 - our own cache folder
        except Exception:  # noqa: BLE001 - a stale or torn entry is a miss
            return None
        return page if isinstance(page, Treatment | ContentError) else None

    def put(self, key: str, page: Page) -> None:
        """Remember a parsed page (written in batches, and on close)."""
        self._pending.append((key, pickle.dumps(page)))
        if len(self._pending) >= _WRITE_BATCH:
            self._write()

    def close(self) -> None:
        """Write what was remembered and close the database."""
        self._write()
        self._db.close()

    def _write(self) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?)", self._pending)
        self._pending = []
