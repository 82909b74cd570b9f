"""Loading a whole folder: in path order, on several processes, reusing a warm-start cache."""

from __future__ import annotations

import hashlib
import logging
import pickle
import sqlite3
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from contentapi.bodies import BodyFile
from contentapi.loader import LOADER_VERSION, find_pages, parse_page, relative
from contentapi.markup import Renderer
from contentapi.model import ContentError, Mention, Treatment

Page = Treatment | ContentError
log = logging.getLogger("contentapi")
# Below this many pages a process pool costs more to start than it saves.
_POOL_THRESHOLD = 200
# Pages a pool's process sends back at once: the parent drops each batch's bodies as it
# stores them, and small batches leave small holes in its memory.
_CHUNK_PAGES = 100


def load_all(root: Path, workers: int = 1, cache_dir: Path | None = None) -> list[Page]:
    """Every page under root, parsed, in path order; the same result for any `workers`.

    Files are read where they are parsed, one at a time, so a folder's bytes are never
    all in memory at once.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"content folder {str(root)!r} does not exist or is not a folder")
    pages: list[Page | None] = []
    cache = _open_cache(cache_dir)
    keeper = PageKeeper(_body_file())
    # Paths as strings: 10,000 Path objects would take 5 MB until the load ends.
    todo: list[tuple[str, str]] = []
    positions: list[int] = []
    for item in find_pages(root):
        if isinstance(item, ContentError):
            pages.append(item)
            continue
        shown = relative(item, root)
        cached = cache.get(shown, item) if cache else None
        if cached is None:
            positions.append(len(pages))
            todo.append((shown, str(item)))
        pages.append(keeper.keep(cached) if cached is not None else None)
    parsed = _parse_many(todo, workers, keeper)
    for position, (key, page) in zip(positions, parsed, strict=True):
        pages[position] = page
        if cache and key is not None:
            cache.put(key, page)
    if cache:
        try:
            cache.close()
        except sqlite3.Error as exc:
            log.warning("could not write the page cache: %s", exc)
    return [page for page in pages if page is not None]


class PageKeeper:
    """Makes pages cheap to keep as each is loaded: one object per distinct indication or
    category (a folder names the same few hundred thousands of times) and, given a
    BodyFile, the bodies on disk.

    Done page by page, so the copies are dropped at once; dropped later, they would leave
    holes all over the heap that the process never gives back.
    """

    def __init__(self, bodies: BodyFile | None = None) -> None:
        self.mentions: dict[Mention, Mention] = {}
        self.bodies = bodies

    def keep(self, page: Page) -> Page:
        """The page with shared mentions and its body stored, or as it is if nothing changes."""
        if not isinstance(page, Treatment):
            return page
        shared = self.mentions
        indications = tuple(shared.setdefault(mention, mention) for mention in page.indications)
        category = page.category and shared.setdefault(page.category, page.category)
        body = page.body
        if self.bodies is not None and isinstance(body, bytes):
            try:
                body = self.bodies.keep(body)
            except OSError as exc:
                log.warning("keeping page bodies in memory: cannot write them to disk: %s", exc)
                self.bodies = None
        if (
            body is page.body
            and category is page.category
            and all(mine is kept for mine, kept in zip(page.indications, indications, strict=True))
        ):
            return page
        return replace(page, indications=indications, category=category, body=body)


def _body_file() -> BodyFile | None:
    try:
        return BodyFile()
    except OSError as exc:
        log.warning("keeping page bodies in memory: no temporary file: %s", exc)
        return None


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


def _parse_many(
    todo: Sequence[tuple[str, str]], workers: int, keeper: PageKeeper
) -> Iterator[Parsed]:
    """Parsed pages in the order of `todo`, each kept by `keeper` as soon as it arrives."""
    if workers <= 1 or len(todo) < _POOL_THRESHOLD:
        yield from _parse_chunk(todo, keeper)
        return
    size = max(1, min(_CHUNK_PAGES, len(todo) // (workers * 4)))
    chunks = [todo[start : start + size] for start in range(0, len(todo), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk in pool.map(_parse_chunk, chunks):
            for key, page in chunk:
                yield key, keeper.keep(page)


def _parse_chunk(
    chunk: Sequence[tuple[str, str]], keeper: PageKeeper | None = None
) -> list[Parsed]:
    renderer = Renderer()
    # In a pool's process, mentions are shared within the chunk, which pickling keeps.
    keeper = keeper or PageKeeper()
    parsed: list[Parsed] = []
    for shown, path in chunk:
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError as exc:
            error = ContentError(shown, None, f"cannot be read: {exc.strerror or exc}")
            parsed.append((None, error))
            continue
        page = keeper.keep(parse_page(data, shown, renderer))
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
        # Pages are written as they load: a small cache of SQLite's own leaves few holes
        # among theirs (past it, SQLite writes its pages ahead to the log).
        self._db.execute("PRAGMA cache_size = -256")
        self._db.execute("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, page BLOB)")

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
        """Write a parsed page (in one transaction, committed on close)."""
        self._db.execute("INSERT OR REPLACE INTO pages VALUES (?, ?)", (key, pickle.dumps(page)))

    def close(self) -> None:
        """Commit what was written and close the database."""
        try:
            self._db.commit()
        finally:
            self._db.close()
