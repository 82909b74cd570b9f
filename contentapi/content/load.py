"""Loading a whole folder: in path order, on several processes, reusing the warm-start
cache (cache.py)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from contentapi.content.body import BodyFile
from contentapi.content.cache import PageCache, cache_key
from contentapi.content.collector import collection_paused
from contentapi.content.dialect import AUTO, KRAMDOWN, content_dialect
from contentapi.content.images import read_all
from contentapi.content.model import ContentError, Mention, Treatment
from contentapi.content.paths import find_pages, relative

Page = Treatment | ContentError
log = logging.getLogger("contentapi")
# Below this many pages a process pool costs more to start than it saves.
_POOL_THRESHOLD = 200
# Pages a pool's process sends back at once: the parent drops each batch's bodies as it
# stores them, and small batches leave small holes in its memory.
_CHUNK_PAGES = 100


def load_all(
    root: Path,
    workers: int = 1,
    cache_dir: Path | None = None,
    ignore: Sequence[str] = (),
    markdown: str = AUTO,
) -> list[Page]:
    """Every page under root, parsed, in path order; the same result for any `workers`.

    Files are read where they are parsed, one at a time, so a folder's bytes are never
    all in memory at once. The page cache in `cache_dir` only saves time: whatever it
    holds or fails to do, the pages are those of a load without it (see PageCache).
    `ignore` holds gitignore-style patterns of paths that are not pages (see find_pages);
    `markdown` forces a dialect (CONTENTAPI_MARKDOWN: auto, commonmark or kramdown).
    """
    if not root.is_dir():
        raise FileNotFoundError(f"content folder {str(root)!r} does not exist or is not a folder")
    pages: list[Page | None] = []
    cache = PageCache(cache_folder(cache_dir, root, markdown)) if cache_dir is not None else None
    keeper = PageKeeper(_body_file())
    # Paths as strings: 10,000 Path objects would take 5 MB until the load ends.
    todo: list[tuple[str, str]] = []
    positions: list[int] = []
    for item in find_pages(root, ignore):
        if isinstance(item, ContentError):
            pages.append(item)
            continue
        shown = relative(item, root)
        cached = cache.get(shown, item) if cache is not None else None
        if cached is None:
            positions.append(len(pages))
            todo.append((shown, str(item)))
        pages.append(keeper.keep(cached) if cached is not None else None)
    with collection_paused():
        parsed = _parse_many(todo, workers, keeper, root, markdown)
        for position, (key, page) in zip(positions, parsed, strict=True):
            pages[position] = page
            if cache is not None and key is not None:
                cache.put(key, page)
    if cache is not None:
        # The pictures' metadata, while the cache is open (its images table).
        read_all(root, (page for page in pages if isinstance(page, Treatment)), cache)
        cache.commit()
        if cache.lost_entries:
            cache.write_again(root, pages)
        cache.close()
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


def cache_folder(cache_dir: Path, root: Path, markdown: str = AUTO) -> Path:
    """Where the page cache of `root` lives: pages rendered as CommonMark in a folder of
    their own, since the cache keys on a page's bytes and the same bytes render otherwise
    in the other dialect (kramdown sites keep the folder they always had)."""
    dialect = content_dialect(markdown, root)
    return cache_dir if dialect == KRAMDOWN else cache_dir / dialect


def _body_file() -> BodyFile | None:
    try:
        return BodyFile()
    except OSError as exc:
        log.warning("keeping page bodies in memory: no temporary file: %s", exc)
        return None


# A parsed page and its cache key (None when the file could not be read).
Parsed = tuple[str | None, Page]


def _parse_many(
    todo: Sequence[tuple[str, str]], workers: int, keeper: PageKeeper, root: Path, markdown: str
) -> Iterator[Parsed]:
    """Parsed pages in the order of `todo`, each kept by `keeper` as soon as it arrives."""
    if workers <= 1 or len(todo) < _POOL_THRESHOLD:
        yield from _parse_chunk(todo, keeper, root, markdown)
        return
    size = max(1, min(_CHUNK_PAGES, len(todo) // (workers * 4)))
    chunks = [todo[start : start + size] for start in range(0, len(todo), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk in pool.map(
            functools.partial(_parse_chunk, root=root, markdown=markdown), chunks
        ):
            for key, page in chunk:
                yield key, keeper.keep(page)


def _parse_chunk(
    chunk: Sequence[tuple[str, str]],
    keeper: PageKeeper | None = None,
    root: Path | None = None,
    markdown: str = AUTO,
) -> list[Parsed]:
    # Imported here, not with this module: a server of a built index parses no page
    # (the parsers' memory: contentapi/content/version.py).
    from contentapi.content.markup import Renderer
    from contentapi.content.page import parse_page

    renderer = Renderer(markdown)
    # In a pool's process, mentions are shared within the chunk, which pickling keeps.
    keeper = keeper or PageKeeper()
    parsed: list[Parsed] = []
    # Paused in a pool's process too (load_all pauses its own).
    with collection_paused():
        for shown, path in chunk:
            try:
                with open(path, "rb") as file:
                    data = file.read()
            except OSError as exc:
                error = ContentError(shown, None, f"cannot be read: {exc.strerror or exc}")
                parsed.append((None, error))
                continue
            page = keeper.keep(parse_page(data, shown, renderer, root))
            parsed.append((cache_key(shown, data), page))
    return parsed
