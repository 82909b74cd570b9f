"""The warm-start cache: parsed pages kept on disk, keyed by the loader's version, the
page's path and its exact bytes, so a restart parses only what changed.

Rows are JSON and raw bytes, decoded strictly (pickle could run code planted in the
file); a damaged, unreadable or unwritable cache is logged and the load goes on without
it, never fatal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from contentapi.content.body import StoredBody, is_packed_body
from contentapi.content.images import ImageMeta
from contentapi.content.model import ContentError, Mention, Treatment
from contentapi.content.version import LOADER_VERSION

Page = Treatment | ContentError
log = logging.getLogger("contentapi")


def cache_key(shown: str, data: bytes) -> str:
    """Names a parse: the loader's version, the page's path and its exact bytes."""
    return hashlib.sha256(f"{LOADER_VERSION}\0{shown}\0".encode() + data).hexdigest()


# The layout of the cache's rows, kept as the database's user_version. A database of
# another version is emptied and refilled, never read: 0 was pickle, which could run any
# code planted in the file; 2 added uri and cover_position; 3 the mdast tree in the body
# and link_targets; 4 the images table (each picture file's metadata, see images.py).
# 5 the mdast tree packed with a splice table (mdast.resolved_json). 6 a page's locale,
# translation key and redirect_from paths.
CACHE_FORMAT = 6
_CACHE_FILE = "pages.sqlite"
# A damaged file is moved here (replacing the one before), not deleted: it may tell why.
_DAMAGED_SUFFIX = ".damaged"
# SQLite's words for a file that is not, or no longer, a sound database of ours.
_DAMAGED_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
_DAMAGED_WORDS = ("malformed", "not a database", "no such table", "no such column")
_TREATMENT, _ERROR = "treatment", "error"


class BadEntry(ValueError):
    """A cache row that is not a page of this format: a miss."""


class PageCache:
    """Parsed pages on disk (pages.sqlite in `folder`), keyed by path, content hash and
    loader version; rows hold JSON and blobs, never code.

    Never a reason not to start: any failure (a corrupt or truncated file, a full disk, a
    read-only folder) is logged once with the file and the error, and the load goes on
    without the cache. A file that is not a sound database is moved aside and started
    afresh, so the next start is warm again.
    """

    def __init__(self, folder: Path) -> None:
        self.file = folder / _CACHE_FILE
        self._db: sqlite3.Connection | None = None
        # The file opened: another worker may have replaced it already when both find it
        # damaged, and the fresh one must not be moved aside in turn.
        self._inode: int | None = None
        # Whether a hit or a write went to a file later found damaged and replaced: those
        # pages are not in the fresh file (see write_again).
        self.lost_entries = False
        self._replaced = False
        self._used = False
        # Errors read or written, with their keys: no digest tells which bytes they were
        # found in (a few small objects; pages are found again by their digest).
        self._errors: list[tuple[str, ContentError]] = []
        self._bad_entries = 0
        self._first_bad_entry = ""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = self._connect()
        except (OSError, sqlite3.Error) as exc:
            self._fail("opening it", exc)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.file, timeout=30)
        self._inode = _inode(self.file)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # Pages are written as they load: a small cache of SQLite's own leaves few
            # holes among theirs (past it, SQLite writes its pages ahead to the log).
            db.execute("PRAGMA cache_size = -256")
            if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_FORMAT:
                self._start_format(db)
        except BaseException:
            db.close()
            raise
        return db

    def _start_format(self, db: sqlite3.Connection) -> None:
        # IMMEDIATE: of several workers starting at once, one lays the table out.
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != CACHE_FORMAT:
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                log.warning(
                    "page cache %s holds format version %s, this version reads %s:"
                    " starting it afresh (pages are parsed again once)",
                    self.file,
                    version,
                    CACHE_FORMAT,
                )
            db.execute("DROP TABLE IF EXISTS pages")
            db.execute("DROP TABLE IF EXISTS images")
            db.execute(
                "CREATE TABLE pages (key TEXT PRIMARY KEY, meta BLOB NOT NULL, body BLOB,"
                " images BLOB)"
            )
            db.execute("CREATE TABLE images (key TEXT PRIMARY KEY, meta BLOB NOT NULL)")
            db.execute(f"PRAGMA user_version = {CACHE_FORMAT}")
        db.commit()

    def get(self, shown: str, path: Path) -> Page | None:
        """The page parsed before from exactly the bytes the file holds now, or None."""
        if self._db is None:
            return None
        try:
            key = cache_key(shown, path.read_bytes())
        except OSError:
            return None  # the parse reports it
        try:
            row = self._db.execute(
                "SELECT meta, body, images FROM pages WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.Error as exc:
            self._fail("reading it", exc)
            return None
        if row is None:
            return None
        try:
            page = decode_page(*row)
        except BadEntry as exc:
            self._bad_entries += 1
            self._first_bad_entry = self._first_bad_entry or f"{shown}: {exc}"
            return None
        if page.path != shown:
            self._bad_entries += 1
            self._first_bad_entry = self._first_bad_entry or f"{shown}: holds {page.path!r}"
            return None
        self._used = True
        if isinstance(page, ContentError):
            self._errors.append((key, page))
        return page

    def put(self, key: str, page: Page) -> None:
        """Write a parsed page (in one transaction, committed by commit)."""
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?)", (key, *encode_page(page))
            )
        # OSError: a body read back from disk; JSONEncodeError: a value orjson refuses.
        except (OSError, sqlite3.Error, orjson.JSONEncodeError) as exc:
            self._fail("writing to it", exc)
            return
        self._used = True
        if isinstance(page, ContentError):
            self._errors.append((key, page))

    def get_image(self, key: str) -> ImageMeta | None:
        """A picture file's metadata stored under `key` (see images.meta_key), or None."""
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT meta FROM images WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._fail("reading it", exc)
            return None
        if row is None:
            return None
        try:
            return decode_image_meta(row[0])
        except BadEntry as exc:
            self._bad_entries += 1
            self._first_bad_entry = self._first_bad_entry or f"image {key!r}: {exc}"
            return None

    def put_image(self, key: str, meta: ImageMeta) -> None:
        """Write a picture file's metadata (committed by commit)."""
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO images VALUES (?, ?)", (key, orjson.dumps(list(meta)))
            )
        except (sqlite3.Error, orjson.JSONEncodeError) as exc:
            self._fail("writing to it", exc)

    def write_again(self, root: Path, pages: Sequence[Page | None]) -> None:
        """Write again what went with a damaged file replaced during the load, so the next
        start is warm: the errors read from it, and each page whose file still holds the
        bytes it was parsed from."""
        errors, self._errors = self._errors, []
        for key, error in errors:
            self.put(key, error)
        for page in pages:
            if not isinstance(page, Treatment):
                continue
            try:
                data = (root / page.path).read_bytes()
            except OSError:
                continue
            if hashlib.sha256(data).hexdigest() == page.digest:
                self.put(cache_key(page.path, data), page)
        self.commit()

    def commit(self) -> None:
        """Make what was written durable (and report entries that were not pages)."""
        if self._bad_entries:
            log.warning(
                "page cache %s: %d of its entries were not pages of this version (the first:"
                " %s); their files were parsed again",
                self.file,
                self._bad_entries,
                self._first_bad_entry,
            )
            self._bad_entries = 0
        if self._db is None:
            return
        try:
            self._db.commit()
        except sqlite3.Error as exc:
            self._fail("committing to it", exc)

    def close(self) -> None:
        """Commit what was written and close the database."""
        self.commit()
        db, self._db = self._db, None
        if db is not None:
            try:
                db.close()
            except sqlite3.Error as exc:
                log.warning("page cache %s: closing it failed: %s", self.file, exc)

    def _fail(self, step: str, exc: BaseException) -> None:
        """Stop using the database after `exc`; a damaged file is replaced by a fresh one."""
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()  # what was not committed is dropped
        if not _is_damaged(exc) or self._replaced:
            log.warning(
                "page cache %s: %s failed: %s; loading without the cache", self.file, step, exc
            )
            return
        self._replaced = True
        aside = self.file.with_name(self.file.name + _DAMAGED_SUFFIX)
        log.warning(
            "page cache %s is damaged (%s failed: %s): moved to %s, starting a fresh one",
            self.file,
            step,
            exc,
            aside,
        )
        try:
            if self._inode is None or _inode(self.file) == self._inode:
                os.replace(self.file, aside)
                # A log or journal beside it belongs to the damaged file, not a new one.
                for companion in ("-wal", "-shm", "-journal"):
                    Path(f"{self.file}{companion}").unlink(missing_ok=True)
            self._db = self._connect()
        except (OSError, sqlite3.Error) as again:
            log.warning(
                "page cache %s: starting a fresh one failed: %s; loading without the cache",
                self.file,
                again,
            )
            return
        self.lost_entries = self._used


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _is_damaged(exc: BaseException) -> bool:
    """Whether `exc` says the file is not a sound database of ours (not a full disk, a
    lock or a permission, which a fresh file would not mend)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _DAMAGED_CODES:
        return True
    message = str(exc).lower()
    return any(words in message for words in _DAMAGED_WORDS)


def encode_page(page: Page) -> tuple[bytes, bytes | None, bytes | None]:
    """A page as a cache row after its key: its fields as JSON, its body and images as
    they are (bytes in JSON would cost a base64 pass both ways)."""
    if isinstance(page, ContentError):
        return orjson.dumps((_ERROR, page.path, page.line, page.message)), None, None
    category = page.category
    meta = orjson.dumps(
        (
            _TREATMENT,
            page.slug,
            page.title,
            page.path,
            page.uri,
            page.summary,
            (category.name, category.slug) if category is not None else None,
            page.image_count,
            [(mention.name, mention.slug) for mention in page.indications],
            page.word_count,
            page.reading_time_minutes,
            page.date,
            page.updated_at,
            page.draft,
            page.order,
            page.digest,
            page.cover_position,
            page.link_targets,
            page.locale,
            page.translation_key,
            page.redirect_from,
        )
    )
    return meta, page.packed_body, page.images_packed


def decode_page(
    meta: object, body: object, images: object, mentions: dict[str, Mention] | None = None
) -> Page:
    """The page a cache row holds; raises BadEntry for anything of another shape or type.

    Checked field by field with `type(...) is` (a bool is not an int here, as JSON keeps
    them apart): whatever the row holds, what comes out is a page as the loader makes it.
    `body` may be a StoredBody, read when asked for (a built index file's: indexfile.py);
    `mentions` shares one object per distinct indication or category across the pages
    decoded with it (as load.PageKeeper does).
    """
    if type(meta) is not bytes:
        raise BadEntry(f"its fields are {type(meta).__name__}, not a JSON blob")
    try:
        fields = orjson.loads(meta)
    except orjson.JSONDecodeError as exc:
        raise BadEntry(f"its fields are not JSON: {exc}") from None
    if type(fields) is not list or not fields:
        raise BadEntry("its fields are not a list")
    if fields[0] == _ERROR:
        return _decode_error(fields)
    if fields[0] != _TREATMENT:
        raise BadEntry(f"it is of an unknown kind {fields[0]!r}")
    if len(fields) != 21:
        raise BadEntry(f"it has {len(fields)} fields, not 21")
    (
        _,
        slug,
        title,
        path,
        uri,
        summary,
        category,
        image_count,
        indications,
        word_count,
        reading_time_minutes,
        date,
        updated_at,
        draft,
        order,
        digest,
        cover_position,
        link_targets,
        locale,
        translation_key,
        redirect_from,
    ) = fields
    if not (
        type(slug) is str
        and type(title) is str
        and type(path) is str
        and type(uri) is str
        and uri.startswith("/")
        and uri.endswith("/")
        and type(digest) is str
        and (summary is None or type(summary) is str)
        and type(image_count) is int
        and type(word_count) is int
        and type(reading_time_minutes) is int
        and type(draft) is bool
        and (order is None or type(order) is int)
        and type(indications) is list
        and type(cover_position) is int
        and type(link_targets) is list
        and all(type(target) is str for target in link_targets)
        and (locale is None or type(locale) is str)
        and (translation_key is None or type(translation_key) is str)
        and type(redirect_from) is list
        and all(type(path) is str for path in redirect_from)
    ):
        raise BadEntry("a field has the wrong type")
    if type(body) is not StoredBody and (type(body) is not bytes or not is_packed_body(body)):
        raise BadEntry("its body is not a packed body")
    if type(images) is not bytes:
        raise BadEntry("its images are not a blob")
    try:
        rows = orjson.loads(images)
    except orjson.JSONDecodeError as exc:
        raise BadEntry(f"its images are not JSON: {exc}") from None
    if type(rows) is not list or len(rows) != image_count or not all(map(_is_image, rows)):
        raise BadEntry("its images are not a list of image_count images")
    if not 0 <= cover_position < max(image_count, 1):
        raise BadEntry(f"its cover position {cover_position} is not one of its images")
    return Treatment(
        slug=slug,
        title=title,
        path=path,
        uri=uri,
        body=body,
        summary=summary,
        category=None if category is None else _mention(category, mentions),
        images_packed=images,
        image_count=image_count,
        indications=tuple([_mention(pair, mentions) for pair in indications]),
        word_count=word_count,
        reading_time_minutes=reading_time_minutes,
        date=None if date is None else _date(date),
        updated_at=None if updated_at is None else _datetime(updated_at),
        draft=draft,
        order=order,
        digest=digest,
        cover_position=cover_position,
        link_targets=tuple(link_targets),
        locale=locale,
        translation_key=translation_key,
        redirect_from=tuple(redirect_from),
    )


def _decode_error(fields: list[Any]) -> ContentError:
    if len(fields) != 4:
        raise BadEntry(f"it has {len(fields)} fields, not 4")
    _, path, line, message = fields
    if type(path) is not str or type(message) is not str or not (line is None or type(line) is int):
        raise BadEntry("a field has the wrong type")
    return ContentError(path, line, message)


def _mention(pair: object, shared: dict[str, Mention] | None = None) -> Mention:
    if type(pair) is list and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is str:
        if shared is None:
            return Mention(pair[0], pair[1])
        key = f"{pair[0]}\0{pair[1]}"
        found = shared.get(key)
        if found is None:
            found = shared[key] = Mention(pair[0], pair[1])
        return found
    raise BadEntry(f"{pair!r} is not a [name, slug] pair")


def _is_image(row: object) -> bool:
    """Whether `row` is an image as pack_images packs it: src, alt, title, width, height."""
    return (
        type(row) is list
        and len(row) == 5
        and type(row[0]) is str
        and (row[1] is None or type(row[1]) is str)
        and (row[2] is None or type(row[2]) is str)
        and (row[3] is None or type(row[3]) is int)
        and (row[4] is None or type(row[4]) is int)
    )


def decode_image_meta(blob: object) -> ImageMeta:
    """The metadata an images row holds, checked field by field; raises BadEntry."""
    if type(blob) is not bytes:
        raise BadEntry("its metadata is not a JSON blob")
    try:
        fields = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        raise BadEntry(f"its metadata is not JSON: {exc}") from None
    if type(fields) is not list or len(fields) != len(ImageMeta._fields):
        raise BadEntry("its metadata is not a list of image fields")
    width, height, content_type, byte_size, version, hash_, placeholder, color = fields
    if not (
        (width is None or type(width) is int)
        and (height is None or type(height) is int)
        and type(content_type) is str
        and type(byte_size) is int
        and type(version) is str
        and all(v is None or type(v) is str for v in (hash_, placeholder, color))
    ):
        raise BadEntry("an image field has the wrong type")
    return ImageMeta(width, height, content_type, byte_size, version, hash_, placeholder, color)


def _date(value: object) -> dt.date:
    try:
        if type(value) is str and len(value) == 10:
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise BadEntry(f"date {value!r} is not a date such as 2024-05-31")


def _datetime(value: object) -> dt.datetime:
    try:
        if type(value) is str:
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment
    except ValueError:
        pass
    raise BadEntry(f"updated_at {value!r} is not a date-time with a time zone")
