"""A built index: the whole loaded content folder in one SQLite file (`contentapi build`),
served read-only by any number of workers and replicas (`serve --index`, or the cache
folder's own index.sqlite) without parsing a page.

Opened with `mode=ro&immutable=1`, the file is never written or locked while served, so
workers share it through the OS page cache. Opening reads each document's fields (what
lists, filters, lookups and relations need); bodies are read by row when a request asks
for one, and the search index is the file's own FTS5 table, so the first search after a
start costs what any other does.

The layout (INDEX_FORMAT, kept as the database's user_version and in `meta`):

- `meta(key, value)`: `format`, `loader` (LOADER_VERSION, the page row format and this
  layout, see loader_version), `content_version` (see content_version), `markdown` (the
  setting) and `dialect` (what it resolved to), `ignore` (the patterns, JSON), `pages`,
  `built_at`, `contentapi` (the package version).
- `sources(path, kind, size, mtime_ns, sha256)`: every file the index was made from:
  `page` files as the loader found them, `skipped` Markdown files that are no page (front
  matter or a bundle head may make them one), `image` files the pages show, `missing`
  pictures (by src) and `unlisted` paths (errors of the walk, such as a link leading
  outside the folder). An index is fresh when these are what the folder holds now: each
  Markdown file's size and time as recorded (one stat each), else each file's hash.
- `documents(id, path, meta, body_length, images, public, preview)`: every page the load
  made, in path order; `meta` and `images` as the warm-start cache writes them
  (cache.encode_page), so whatever fields a page holds are kept; `public` and `preview`
  say which view serves it (a page whose uri an earlier one took is in neither).
- `bodies(id, body)`: each document's packed body (body.pack_body).
- `images(src, meta)`: each local picture's metadata (images.ImageMeta, as a JSON list).
- `problems(id, kind, path, line, message)`: the index's errors (`error`, and `page` for
  those the load itself made, which live reload keeps) and the pictures' `warning`s, in
  the order they are reported.
- `relations(kind, name, slug, document)`: each document's indications and category, the
  rows every filter reads (`indication` and `category`), for tools reading the file.
- `search`: the FTS5 table (search.create_fts) over the documents the preview view
  serves, row id the document's id; `search_public` the same over the public view's,
  when drafts make them differ (so each view's scores are those of its own pages).
- `search_words(word)`: every word the FTS5 table `search` holds (as its tokenizer folds
  them), and `search_top(word, pages, rowids, ranks)`: for each ASCII word in
  search.FREQUENT pages or more, how many, and its best rows (at most search.TOP_ROWS,
  JSON lists of row ids and of FTS5's bm25 ranks, in the order search returns them); the
  same for `search_public` as `search_public_words` and `search_public_top`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
import posixpath
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

import orjson

from contentapi import __version__
from contentapi.content.body import KeptBodies, StoredBody
from contentapi.content.cache import (
    CACHE_FORMAT,
    BadEntry,
    decode_image_meta,
    decode_page,
    encode_page,
)
from contentapi.content.collector import collection_paused
from contentapi.content.dialect import AUTO, content_dialect
from contentapi.content.images import ImageCatalog, ImageProblem, file_of, is_remote
from contentapi.content.index import ContentIndex, ContentView
from contentapi.content.load import cache_folder, load_all
from contentapi.content.model import ContentError, Mention, Treatment
from contentapi.content.paths import NOT_PAGE_FOLDERS, PAGE_SUFFIXES, find_pages, relative
from contentapi.content.search import FREQUENT, SearchIndex, create_fts
from contentapi.content.version import LOADER_VERSION

Page = Treatment | ContentError
log = logging.getLogger("contentapi")

INDEX_FORMAT = 2
# The index a server keeps in its cache folder (beside the page cache, see load.py).
INDEX_FILE = "index.sqlite"
_PAGE, _IMAGE, _MISSING, _UNLISTED = "page", "image", "missing", "unlisted"
# A Markdown file that is no page (a README, a headless bundle's, an ignored one): front
# matter or a bundle head may make it one, so it is a source too.
_SKIPPED = "skipped"
_HASH_CHUNK = 1 << 20
# The public view's search table, when drafts make it differ from the preview's.
_PUBLIC_FTS = "search_public"


def loader_version() -> str:
    """What decides how pages are read and stored: the loader's version, the page row
    format and this file's layout. A file built under another is refused."""
    return f"{LOADER_VERSION}/{CACHE_FORMAT}/{INDEX_FORMAT}"


class IndexRefused(Exception):
    """A built index that cannot be served for this folder by this version: the message
    says why, quoting the file's values and this server's."""


class Source(NamedTuple):
    """One file an index was built from, as it was then (a row of `sources`)."""

    path: str
    kind: str
    size: int
    mtime_ns: int
    sha256: str


def _sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _source(path: Path | str, shown: str, kind: str, known: dict[str, Source] | None) -> Source:
    """The source as the file is now: its hash taken from `known` when its size and
    modification time are what they were (as git's index does), else read."""
    try:
        stat = os.stat(path)
    except OSError:
        return Source(shown, kind, -1, -1, "")
    before = known.get(shown) if known is not None else None
    if (
        before is not None
        and before.kind == kind
        and before.size == stat.st_size
        and before.mtime_ns == stat.st_mtime_ns
    ):
        return before
    try:
        sha = _sha256(path)
    except OSError:
        sha = ""
    return Source(shown, kind, stat.st_size, stat.st_mtime_ns, sha)


def page_sources(
    root: Path, ignore: Sequence[str], known: dict[str, Source] | None = None
) -> list[Source]:
    """The page files under `root` as the loader finds them (and the walk's errors)."""
    found: list[Source] = []
    # find_pages yields paths under the resolved root: cut it off (relative resolves the
    # root again for each, a third of the time of a check at 10,000 pages).
    prefix = f"{root.resolve()}{os.sep}"
    for item in find_pages(root, ignore):
        if isinstance(item, ContentError):
            found.append(Source(item.path, _UNLISTED, -1, -1, ""))
            continue
        name = str(item)
        shown = (
            name[len(prefix) :].replace(os.sep, "/")
            if name.startswith(prefix)
            else relative(item, root)
        )
        found.append(_source(name, shown, _PAGE, known))
    return found


def _markdown_files(root: Path) -> Iterator[tuple[os.DirEntry[str], str]]:
    """Every Markdown file under root where a page could be (not in a hidden folder or one
    of NOT_PAGE_FOLDERS, as find_pages): its directory entry and its path as shown."""
    base = str(root.resolve())
    cut = len(base) + 1
    for entry in _markdown_entries(base):
        yield entry, entry.path[cut:].replace(os.sep, "/")


def _markdown_entries(folder: str) -> Iterator[os.DirEntry[str]]:
    """The Markdown files _markdown_files lists, as os.walk would find them (top down,
    links to folders not followed, unreadable folders passed over), as directory entries.

    Walked with os.scandir rather than os.walk, whose joined paths and lists were a third
    of a fresh index's check at 50,000 pages (0.39 s against 0.25 with entry.path).
    """
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return
    folders = []
    for entry in entries:
        try:
            is_folder = entry.is_dir()
        except OSError:
            is_folder = False
        name = entry.name
        if is_folder:
            if not name.startswith(".") and name not in NOT_PAGE_FOLDERS:
                folders.append(entry)
        elif name.lower().endswith(PAGE_SUFFIXES):
            yield entry
    for entry in folders:
        try:
            is_link = entry.is_symlink()
        except OSError:
            is_link = False  # as os.walk's islink
        if not is_link:
            yield from _markdown_entries(entry.path)


def _skipped_sources(
    root: Path, pages: Sequence[Source], known: dict[str, Source] | None = None
) -> list[Source]:
    """The Markdown files under root that `pages` (page_sources) does not list."""
    listed = {source.path for source in pages}
    return [
        _source(entry.path, shown, _SKIPPED, known)
        for entry, shown in _markdown_files(root)
        if shown not in listed
    ]


# The fresh check's rows, joined by SQLite: a string each, split in Python at C speed,
# where a Python object made per row and field was 0.27 s of the check at 50,000 pages
# (150,000 rows). A path never holds a NUL.
_RECORDED_FILES = (
    "SELECT group_concat(path || char(0) || size || ' ' || mtime_ns, char(0)) FROM sources"
    " WHERE kind = ?"
)
_MISSING_SRCS = f"SELECT group_concat(path, char(0)) FROM sources WHERE kind = '{_MISSING}'"
# What makes missing pictures' srcs (NUL-joined) read otherwise than as their own paths
# from the root (see _picture_place): a character other than these, an empty segment or
# src, a segment starting with a dot, a slash at the end. Looked for one by one: a single
# pattern of them all took 0.2 s over 100,000 srcs.
_NOT_PLAIN_CHARACTER = re.compile(r"[^A-Za-z0-9_.\-/\0]")
_NOT_PLAIN_PARTS = ("//", "/.", "\0.", "/\0", "\0\0")


def _plain(joined: str) -> bool:
    return not (
        _NOT_PLAIN_CHARACTER.search(joined)
        or any(part in joined for part in _NOT_PLAIN_PARTS)
        or joined.startswith((".", "\0"))
        or joined.endswith(("/", "\0"))
    )


# Sources the fresh check cannot judge by size and time: unlisted paths, links.
_OTHER_KINDS = (
    "SELECT 1 FROM sources WHERE kind NOT IN"
    f" ('{_PAGE}', '{_SKIPPED}', '{_IMAGE}', '{_MISSING}') LIMIT 1"
)


def _size_and_time(stat: os.stat_result) -> str:
    """A file's size and modification time as _RECORDED_FILES joins them."""
    return f"{stat.st_size} {stat.st_mtime_ns}"


def _recorded(db: sqlite3.Connection, kind: str) -> dict[str, str]:
    """The `kind` files of `sources`: each path's size and time (see _size_and_time)."""
    (joined,) = db.execute(_RECORDED_FILES, (kind,)).fetchone()
    parts = joined.split("\0") if joined else []
    return dict(zip(parts[0::2], parts[1::2], strict=True))


def _unchanged(db: sqlite3.Connection, root: Path) -> bool:
    """Whether every file the index was made from is as `sources` recorded it: each
    Markdown file under root one of them, of the size and time it had (one stat each,
    instead of the loader's walk), each picture too, and each missing one still missing.
    False means: check the slow way (see _problem), not that anything changed."""
    if db.execute(_OTHER_KINDS).fetchone():
        return False  # what they lead to decides
    for path, recorded in _recorded(db, _IMAGE).items():
        try:
            stat = os.stat(os.path.join(root, path))
        except OSError:
            return False
        if _size_and_time(stat) != recorded:
            return False
    if not _still_missing(db, root):
        return False
    pages = _recorded(db, _PAGE) | _recorded(db, _SKIPPED)
    seen = 0
    for entry, shown in _markdown_files(root):
        was = pages.get(shown)
        if was is None:
            return False
        try:
            stat = entry.stat()
        except OSError:
            return False
        if _size_and_time(stat) != was:
            return False
        seen += 1
    return seen == len(pages)


def _still_missing(db: sqlite3.Connection, root: Path) -> bool:
    """Whether no missing picture's file is in its folder now (a look at each folder's
    names; a name there is left to the slow check, which follows links)."""
    (joined,) = db.execute(_MISSING_SRCS).fetchone()
    if joined is None:
        return True
    if _plain(joined):
        # Plain srcs (most) are their own paths: urlsplit, unquote and normpath for each
        # were 0.36 s of a fresh check at 50,000 pages (100,000 missing pictures).
        wanted = set(joined.replace("\0/", "\0").lstrip("/").split("\0"))
    else:
        places = [_picture_place(src) for src in joined.split("\0")]
        if any(not name for _, name in places):
            return False
        wanted = {f"{folder}/{name}" if folder else name for folder, name in places}
    for folder in {within.rpartition("/")[0] for within in wanted}:
        try:
            names = os.listdir(os.path.join(root, folder))
        except OSError:
            continue  # no such folder: each stays missing
        prefix = f"{folder}/" if folder else ""
        if not wanted.isdisjoint([prefix + name for name in names]):
            return False
    return True


def _picture_place(src: str) -> tuple[str, str]:
    """The folder (from the root) and the name of the file a local picture's src names,
    as file_of reads it before following links; the name is "" for a src naming none."""
    within = posixpath.normpath(unquote(urlsplit(src).path)).strip("/")
    folder, _, name = within.rpartition("/")
    return folder, name if within else ""


def _picture_source(root: Path, src: str, known: dict[str, Source] | None) -> Source:
    try:
        path = file_of(root, src)
    except ImageProblem:
        return Source(src, _MISSING, -1, -1, "")
    return _source(path, os.path.relpath(path, os.path.realpath(root)), _IMAGE, known)


def content_version(sources: Iterable[Source]) -> str:
    """Names the content: every source's path, kind and hash (not its time)."""
    digest = hashlib.sha256()
    for source in sorted(sources, key=lambda s: (s.kind, s.path)):
        digest.update(f"{source.kind}\0{source.path}\0{source.sha256}\0".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Built:
    """What build wrote."""

    file: Path
    pages: int
    # The index's errors, then the pictures' warnings (each marked so), as check lists them.
    problems: tuple[str, ...]
    errors: int
    warnings: int
    content_version: str
    seconds: float
    bytes: int


def build(
    root: Path,
    out: Path,
    workers: int = 1,
    cache_dir: Path | None = None,
    ignore: Sequence[str] = (),
    markdown: str = AUTO,
) -> Built:
    """Load `root` (as a server would, with the page cache in `cache_dir` if given) and
    write its index to `out`, replacing it whole (readers of the old file keep it)."""
    start = time.perf_counter()
    if not root.is_dir():
        raise FileNotFoundError(f"content folder {str(root)!r} does not exist or is not a folder")
    # Taken before loading: a file edited meanwhile then makes the index stale, not wrong.
    sources = page_sources(root, ignore)
    sources += _skipped_sources(root, sources)
    pages = load_all(root, workers, cache_dir, ignore, markdown)
    index = ContentIndex.from_pages(root, pages)
    write(out, root, pages, index, sources, ignore, markdown)
    return Built(
        out,
        len(index.preview_pages),
        (
            *map(str, index.errors),
            *(f"{warning} (warning)" for warning in index.images.warnings),
        ),
        len(index.errors),
        len(index.images.warnings),
        _meta_value(out, "content_version"),
        time.perf_counter() - start,
        out.stat().st_size,
    )


def _meta_value(file: Path, key: str) -> str:
    with _connect(file) as db:
        return str(db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])


_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE sources (path TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (kind, path))",
    "CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT NOT NULL, meta BLOB NOT NULL,"
    " body_length INTEGER NOT NULL, images BLOB, public INTEGER NOT NULL,"
    " preview INTEGER NOT NULL)",
    "CREATE TABLE bodies (id INTEGER PRIMARY KEY, body BLOB NOT NULL)",
    "CREATE TABLE images (src TEXT PRIMARY KEY, meta BLOB NOT NULL)",
    "CREATE TABLE problems (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL,"
    " line INTEGER, message TEXT NOT NULL)",
    "CREATE TABLE relations (kind TEXT NOT NULL, name TEXT NOT NULL, slug TEXT NOT NULL,"
    " document INTEGER NOT NULL)",
)


def write(
    out: Path,
    root: Path,
    pages: Sequence[Page],
    index: ContentIndex,
    sources: Sequence[Source],
    ignore: Sequence[str] = (),
    markdown: str = AUTO,
) -> None:
    """Write `index` (made from `pages`, in path order, found as `sources` say) to `out`:
    a temporary file beside it, then renamed over it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(temporary)
        try:
            _fill(db, root, pages, index, sources, ignore, markdown)
            db.commit()
        finally:
            db.close()
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _fill(
    db: sqlite3.Connection,
    root: Path,
    pages: Sequence[Page],
    index: ContentIndex,
    sources: Sequence[Source],
    ignore: Sequence[str],
    markdown: str,
) -> None:
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    for statement in _SCHEMA:
        db.execute(statement)
    documents = [page for page in pages if isinstance(page, Treatment)]
    public = {id(t) for t in index.public.treatments}
    preview = {id(t) for t in index.preview_pages}
    for number, page in enumerate(documents):
        meta, body, images = encode_page(page)
        assert body is not None  # a treatment's is always packed
        db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
            (number, page.path, meta, len(body), images, id(page) in public, id(page) in preview),
        )
        db.execute("INSERT INTO bodies VALUES (?, ?)", (number, body))
        if page.category is not None:
            db.execute(
                "INSERT INTO relations VALUES ('category', ?, ?, ?)",
                (page.category.name, page.category.slug, number),
            )
        db.executemany(
            "INSERT INTO relations VALUES ('indication', ?, ?, ?)",
            ((mention.name, mention.slug, number) for mention in page.indications),
        )
    # A table per view where they differ, so each view's scores are those of its pages.
    create_fts(
        db,
        [(n, page) for n, page in enumerate(documents) if id(page) in preview],
        frequent=FREQUENT,
    )
    if public != preview:
        create_fts(
            db,
            [(n, page) for n, page in enumerate(documents) if id(page) in public],
            _PUBLIC_FTS,
            FREQUENT,
        )
    from_load = {id(page) for page in pages if isinstance(page, ContentError)}
    problems = [
        ("page" if id(error) in from_load else "error", error) for error in index.errors
    ] + [("warning", warning) for warning in index.images.warnings]
    db.executemany(
        "INSERT INTO problems (kind, path, line, message) VALUES (?, ?, ?, ?)",
        ((kind, e.path, e.line, e.message) for kind, e in problems),
    )
    db.executemany(
        "INSERT INTO images VALUES (?, ?)",
        ((src, orjson.dumps(list(meta))) for src, meta in index.images.by_src.items()),
    )
    every = [*sources, *_picture_sources(root, documents)]
    db.executemany(
        "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?)",
        ((s.path, s.kind, s.size, s.mtime_ns, s.sha256) for s in every),
    )
    meta_rows = {
        "format": str(INDEX_FORMAT),
        "loader": loader_version(),
        "content_version": content_version(every),
        "markdown": markdown,
        "dialect": content_dialect(markdown, root),
        "ignore": orjson.dumps(list(ignore)).decode(),
        "pages": str(len(index.preview_pages)),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "contentapi": __version__,
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta_rows.items())
    db.execute(f"PRAGMA user_version = {INDEX_FORMAT}")


def _picture_sources(
    root: Path, documents: Iterable[Treatment], known: dict[str, Source] | None = None
) -> Iterator[Source]:
    seen: set[str] = set()
    for page in documents:
        for image in page.images:
            if image.src not in seen and not is_remote(image.src):
                seen.add(image.src)
                yield _picture_source(root, image.src, known)


def _connect(file: Path) -> sqlite3.Connection:
    """The file opened read-only and immutable: SQLite takes no lock and reads no journal
    (the file is replaced whole, never written in place)."""
    uri = f"file:{quote(str(file.resolve()))}?mode=ro&immutable=1"
    db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    db.execute("PRAGMA cache_size = -256")
    return db


class _Bodies(KeptBodies):
    """Reads documents' bodies from the file (a BodySource: the offset is the row id)."""

    def __init__(self, db: sqlite3.Connection, file: Path) -> None:
        super().__init__()
        self._db = db
        self._file = file
        self._lock = threading.Lock()

    def _read(self, offset: int, length: int) -> bytes:
        with self._lock:
            row = self._db.execute("SELECT body FROM bodies WHERE id = ?", (offset,)).fetchone()
        if row is None or type(row[0]) is not bytes or len(row[0]) != length:
            raise OSError(f"{self._file}: the body of document {offset} is missing or damaged")
        body: bytes = row[0]
        return body


class _Warnings:
    """The pictures' warnings of a built index, read when first asked for: a server never
    reads them (only `check`, a test or the first edit under --watch), and at 10,000
    generated pages naming 20,183 missing pictures they held 5.6 MB of every worker
    (tracemalloc). Through a connection opened with the file's others, so what is read is
    the file that was opened, even after a rebuild replaces it."""

    def __init__(self, db: sqlite3.Connection, file: Path) -> None:
        self._db = db
        self._file = file

    def __call__(self) -> tuple[ContentError, ...]:
        try:
            rows = self._db.execute(
                "SELECT path, line, message FROM problems WHERE kind = 'warning' ORDER BY id"
            ).fetchall()
        except sqlite3.Error as exc:
            raise OSError(f"{self._file}: the pictures' warnings cannot be read: {exc}") from exc
        return tuple(ContentError(path, line, message) for path, line, message in rows)


@dataclass(frozen=True, slots=True)
class Opened:
    """A built index opened: the index to serve and every page the load made (for live
    reload, which keeps pages by path)."""

    index: ContentIndex
    pages: list[Page]
    content_version: str
    seconds: float


def check(file: Path, root: Path, ignore: Sequence[str] = (), markdown: str = AUTO) -> str | None:
    """Why `file` cannot be served for `root` with these settings (None if it can): its
    format, loader version, settings or content differ, quoted both ways."""
    try:
        with _connect(file) as db:
            return _problem(db, file, root, ignore, markdown)
    except sqlite3.Error as exc:
        return f"index file {file} cannot be read: {exc}"


def _problem(
    db: sqlite3.Connection, file: Path, root: Path, ignore: Sequence[str], markdown: str
) -> str | None:
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        return f"index file {file} is not a built index ({exc})"
    if meta.get("format") != str(INDEX_FORMAT) or meta.get("loader") != loader_version():
        return (
            f"index file {file} was built by loader version {meta.get('loader')!r}"
            f" (contentapi {meta.get('contentapi')}); this server's is {loader_version()!r}"
            f" (contentapi {__version__}): build it again with `contentapi build`"
        )
    patterns = orjson.dumps(list(ignore)).decode()
    if meta.get("ignore") != patterns:
        return (
            f"index file {file} was built with ignore patterns {meta.get('ignore')},"
            f" this server has {patterns}: build it again with the same CONTENTAPI_IGNORE"
        )
    dialect = content_dialect(markdown, root)
    if meta.get("dialect") != dialect:
        return (
            f"index file {file} renders Markdown as {meta.get('dialect')!r}, this server"
            f" as {dialect!r} (CONTENTAPI_MARKDOWN={markdown}): build it again"
        )
    # Every file as it was (by size and time): the version is the file's.
    if _unchanged(db, root):
        return None
    rows = list(
        map(Source._make, db.execute("SELECT path, kind, size, mtime_ns, sha256 FROM sources"))
    )
    by_page = {s.path: s for s in rows if s.kind == _PAGE}
    now = page_sources(root, ignore, by_page)
    now += _skipped_sources(root, now, {s.path: s for s in rows if s.kind == _SKIPPED})
    by_picture = {s.path: s for s in rows if s.kind == _IMAGE}
    listings: dict[str, frozenset[str]] = {}
    for source in rows:
        if source.kind == _IMAGE:
            now.append(_source(os.path.join(root, source.path), source.path, _IMAGE, by_picture))
        elif source.kind == _MISSING:
            # Most stay missing: a look at their folder's names first (file_of resolves
            # links, 15 us a picture).
            folder, name = _picture_place(source.path)
            if folder not in listings:
                try:
                    listings[folder] = frozenset(os.listdir(os.path.join(root, folder)))
                except OSError:
                    listings[folder] = frozenset()
            if name and name not in listings[folder]:
                now.append(source)
            else:
                now.append(_picture_source(root, source.path, None))
        elif source.kind == _UNLISTED:
            pass  # page_sources lists these again
    version = content_version(now)
    if version == meta.get("content_version"):
        return None
    known = {(s.kind, s.path): s.sha256 for s in rows}
    current = {(s.kind, s.path): s.sha256 for s in now}
    changed = sorted(
        f"{kind} {path}"
        for kind, path in known.keys() | current.keys()
        if known.get((kind, path)) != current.get((kind, path))
    )
    first = f" (first difference: {changed[0]}, {len(changed)} in all)" if changed else ""
    return (
        f"index file {file} was built for content version {meta.get('content_version')},"
        f" the content folder {root} is content version {version}{first}:"
        " build it again with `contentapi build`"
    )


def open_index(
    file: Path,
    root: Path,
    ignore: Sequence[str] = (),
    markdown: str = AUTO,
    checked: bool = False,
) -> Opened:
    """Open a built index for serving `root`; raises IndexRefused when it cannot be served
    (see check; `checked` when the caller checked it already)."""
    start = time.perf_counter()
    try:
        db = _connect(file)
    except sqlite3.Error as exc:
        raise IndexRefused(f"index file {file} cannot be opened: {exc}") from None
    # Every source listed and page decoded stays alive, and each automatic collection of
    # the oldest generation would visit them all again (see collector.py): in process,
    # 10,000 pages opened in 0.36 s without those collections against 0.87 with them,
    # 50,000 in 1.50-1.62 s against 1.80-2.40.
    try:
        with collection_paused():
            problem = None if checked else _problem(db, file, root, ignore, markdown)
            if problem is not None:
                raise IndexRefused(problem)
            opened = _read(db, file, root)
    except sqlite3.Error as exc:
        raise IndexRefused(f"index file {file} cannot be read: {exc}") from None
    finally:
        db.close()
    return Opened(opened[0], opened[1], opened[2], time.perf_counter() - start)


def _read(db: sqlite3.Connection, file: Path, root: Path) -> tuple[ContentIndex, list[Page], str]:
    # Bodies and each view's search through a connection of their own: one lock each.
    bodies = _Bodies(_connect(file), file)
    documents: list[Treatment] = []
    mentions: dict[str, Mention] = {}
    public: list[Treatment | None] = []
    preview: list[Treatment | None] = []
    rows = db.execute(
        "SELECT id, path, meta, body_length, images, public, preview FROM documents ORDER BY id"
    )
    for number, path, meta, length, images, in_public, in_preview in rows:
        if number != len(documents):
            raise IndexRefused(f"index file {file}: document {number} is out of order")
        try:
            page = decode_page(meta, StoredBody(bodies, number, length), images, mentions)
        except BadEntry as exc:
            raise IndexRefused(f"index file {file}: document {number} ({path}): {exc}") from None
        if not isinstance(page, Treatment):
            raise IndexRefused(f"index file {file}: document {number} ({path}) is not a page")
        documents.append(page)
        public.append(page if in_public else None)
        preview.append(page if in_preview else None)
    errors: list[ContentError] = []
    load_errors: list[ContentError] = []
    for kind, path, line, message in db.execute(
        "SELECT kind, path, line, message FROM problems WHERE kind != 'warning' ORDER BY id"
    ):
        problem = ContentError(path, line, message)
        errors.append(problem)
        if kind == "page":
            load_errors.append(problem)
    by_src = {}
    for src, meta in db.execute("SELECT src, meta FROM images"):
        try:
            by_src[src] = decode_image_meta(meta)
        except BadEntry as exc:
            raise IndexRefused(f"index file {file}: picture {src!r}: {exc}") from None
    version = str(db.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchone()[0])
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    searches = [
        SearchIndex.stored(_connect(file), public, _PUBLIC_FTS)
        if _PUBLIC_FTS in tables
        else SearchIndex.stored(_connect(file), public),
        SearchIndex.stored(_connect(file), preview),
    ]
    index = ContentIndex(
        root,
        ContentView([t for t in public if t is not None], searches[0]),
        [t for t in preview if t is not None],
        tuple(errors),
        ImageCatalog(by_src, None, read_warnings=_Warnings(_connect(file), file)),
        searches[1],
    )
    pages: list[Page] = [*documents, *load_errors]
    pages.sort(key=lambda page: page.path)
    return index, pages, version


# Set by `serve` for its workers once it has checked the index file: the file's identity
# (see checked_mark), so a worker opens that same file without walking the folder again.
CHECKED_ENV = "_CONTENTAPI_INDEX_CHECKED"


def checked_mark(file: Path) -> str:
    """What names one version of a file: its device, inode, size and modification time."""
    stat = file.stat()
    return f"{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"


def cache_index_file(cache_dir: Path, root: Path, markdown: str = AUTO) -> Path:
    """The index a server keeps in its cache folder, beside its page cache."""
    return cache_folder(cache_dir, root, markdown) / INDEX_FILE


def load_for_serving(
    root: Path,
    workers: int = 1,
    cache_dir: Path | None = None,
    ignore: Sequence[str] = (),
    markdown: str = AUTO,
    index_file: Path | None = None,
) -> tuple[ContentIndex, list[Page]]:
    """The index to serve and every page the load made (for live reload).

    From `index_file` if given (raises IndexRefused if it is not for this folder, this
    version and these settings, unless CHECKED_ENV says `serve` checked it); else from
    the cache folder's own index when it is fresh; else loaded (through the page cache),
    the cache folder's index then written again in the background for the next start
    (by one process at a time).
    """
    if index_file is not None:
        try:
            checked = os.environ.get(CHECKED_ENV) == checked_mark(index_file)
        except OSError as exc:
            raise IndexRefused(f"index file {index_file} cannot be opened: {exc}") from None
        opened = open_index(index_file, root, ignore, markdown, checked)
        log.info(
            "serving %d pages from index file %s (content version %s), opened in %.2f s",
            len(opened.index.preview_pages),
            index_file,
            opened.content_version,
            opened.seconds,
        )
        return opened.index, opened.pages
    own = cache_index_file(cache_dir, root, markdown) if cache_dir is not None else None
    if own is not None and own.exists():
        try:
            opened = open_index(own, root, ignore, markdown)
        except IndexRefused as refused:
            log.info("%s; loading the content folder and building it again", refused)
        else:
            log.info(
                "serving %d pages from the cache folder's index %s, opened in %.2f s",
                len(opened.index.preview_pages),
                own,
                opened.seconds,
            )
            return opened.index, opened.pages
    sources = page_sources(root, ignore) if own is not None else []
    sources += _skipped_sources(root, sources) if own is not None else []
    pages = load_all(root, workers, cache_dir, ignore, markdown)
    index = ContentIndex.from_pages(root, pages)
    if own is not None:
        threading.Thread(
            target=_write_own,
            args=(own, root, pages, index, sources, tuple(ignore), markdown),
            name="contentapi-index-writer",
            daemon=True,
        ).start()
    return index, pages


def _write_own(
    own: Path,
    root: Path,
    pages: Sequence[Page],
    index: ContentIndex,
    sources: Sequence[Source],
    ignore: Sequence[str],
    markdown: str,
) -> None:
    """Write the cache folder's index unless another process is writing it (a lock held
    on a file beside it, which the system drops if that process dies)."""
    start = time.perf_counter()
    try:
        own.parent.mkdir(parents=True, exist_ok=True)
        with open(own.with_name(own.name + ".lock"), "wb") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another worker writes it
            # What a process stopped while writing left behind (the lock says none writes).
            for stale in own.parent.glob(f".{own.name}.*.tmp"):
                stale.unlink(missing_ok=True)
            write(own, root, pages, index, sources, ignore, markdown)
    except (OSError, sqlite3.Error) as exc:
        log.warning("cannot write the cache folder's index %s: %s", own, exc)
        return
    log.info("wrote the cache folder's index %s in %.2f s", own, time.perf_counter() - start)
