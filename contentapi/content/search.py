"""Full-text search over treatments: SQLite FTS5, BM25 with title weighted first.

The FTS5 table is contentless (it keeps the index, not a second copy of every page's
text), so the snippets around the matches are cut here, from the pages themselves, with
the same folding of case and accents as the index.

FTS5 ranks every row a query matches before it keeps the best (bm25 reads each row's
column sizes): measured on synthetic pages, a one-word query matching 49,125 of 50,000
pages took 40.7 ms with LIMIT 60, against 0.83 ms at 1,000 pages, so a common word cost
ever more as pages were added. A word in at least FREQUENT pages therefore has its best
rows ranked once, in FTS5's own order and scores, and kept (TOP_ROWS of them): in a built
index file as tables beside the FTS5 table, made when it is built (create_fts); in a live
index (and for a built file's words in fewer than FREQUENT pages) on the first search of
that word, for words in LIVE_FREQUENT pages or more: only the words searched are ranked,
so more of them are kept than a build may write.
A one-word query whose prefix names exactly one word of the index reads that word's
rows; any other query asks FTS5 as before.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
import sqlite3
import threading
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import orjson

from contentapi.bounded import BoundedCache
from contentapi.content.model import Treatment

log = logging.getLogger("contentapi")
# Weights of the columns (title, summary, text) in BM25: a title match counts most.
_WEIGHTS = (10.0, 4.0, 1.0)
_MAX_WORDS = 16
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_TIE_MARGIN = 50
_SNIPPET_TOKENS = 16
# A word in this many pages or more has its best rows kept (see the module's docstring):
# ranking fewer rows than this costs FTS5 under a millisecond (0.83 us a row).
FREQUENT = 1000
# The same for a live index, where only the words searched are ranked and kept: reading a
# word's count costs about 100 us, as much as FTS5 ranking 120 rows; "skin" in 923 of 940
# pages took 1.44 ms ranked, 0.15 ms from kept rows.
LIVE_FREQUENT = 128
# What a live index's kept rows may take (a word's rows take 4 KB): 1,000 words.
KEPT_BYTES = 4 * 1024 * 1024
# What one kept row costs: its row id and its rank (8 bytes each in their arrays).
KEPT_ROW_BYTES = 16
# How many of a frequent word's best rows are kept: the largest page of hits (100), the
# tie margin, and room for rows a view leaves out (past them, FTS5 is asked).
TOP_ROWS = 256


@dataclass(frozen=True, slots=True)
class Hit:
    """One treatment matching a query (by uri), with a higher score for a better match."""

    uri: str
    score: float
    snippet: str


def terms(query: str) -> str | None:
    """User text as an FTS5 query of plain words (the last one a prefix), or None if no words."""
    words = _words(query)
    if not words:
        return None
    quoted = ['"' + word.replace('"', "") + '"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _words(query: str) -> list[str]:
    return _WORD.findall(query[:4096])[:_MAX_WORDS]


# The FTS5 table, the same in a temporary database and in a built index file (indexfile.py).
FTS_TABLE = "search"


def create_fts(
    db: sqlite3.Connection,
    rows: Sequence[tuple[int, Treatment]],
    table: str = FTS_TABLE,
    frequent: int | None = None,
) -> None:
    """Make an FTS5 table in `db` and index the treatments, each under its row id (not
    committed); with `frequent`, also the tables of its words (`{table}_words`, every
    word the index holds) and of the best rows of each word in that many pages or more
    (`{table}_top`), which a built index file keeps."""
    db.execute(
        f"CREATE VIRTUAL TABLE {table} USING fts5("
        "title, summary, text, content = '', "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.executemany(
        f"INSERT INTO {table} (rowid, title, summary, text) VALUES (?, ?, ?, ?)",
        ((rowid, t.title, t.summary or "", t.text) for rowid, t in rows),
    )
    if frequent is None:
        return
    by_row: dict[int, Treatment] = dict(rows)
    db.execute(f"CREATE TABLE {table}_words (word TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute(
        f"CREATE TABLE {table}_top (word TEXT PRIMARY KEY, pages INTEGER NOT NULL,"
        " rowids BLOB NOT NULL, ranks BLOB NOT NULL) WITHOUT ROWID"
    )
    vocabulary = _vocabulary(db, table)
    words = db.execute(f"SELECT term, doc FROM {vocabulary} WHERE doc > 0").fetchall()
    db.executemany(f"INSERT INTO {table}_words VALUES (?)", ((word,) for word, _ in words))
    for word, pages in words:
        if pages >= frequent and _plain(word):
            top = _best_rows(db, table, word, pages, by_row.get)
            db.execute(
                f"INSERT INTO {table}_top VALUES (?, ?, ?, ?)",
                (word, pages, orjson.dumps(list(top.rowids)), orjson.dumps(list(top.ranks))),
            )
    db.execute(f"DROP TABLE {vocabulary}")


def _vocabulary(db: sqlite3.Connection, table: str) -> str:
    """The name of an fts5vocab table over `table` (in `temp`, so that a read-only
    database can have one), made if it is not there."""
    name = f"{table}_vocabulary"
    db.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{name} USING fts5vocab(main, {table}, row)"
    )
    return f"temp.{name}"


@dataclass(frozen=True, slots=True)
class _Top:
    """The best rows of one word, best first (rank, then slug, then uri), with their
    ranks, and how many pages hold the word (more than the rows when cut at TOP_ROWS)."""

    pages: int
    rowids: Sequence[int]
    ranks: Sequence[float]


def best(
    db: sqlite3.Connection,
    table: str,
    match: str,
    count: int | None,
    treatment: Callable[[int], Treatment | None],
    lock: threading.Lock | None = None,
    extra: int = 0,
) -> list[tuple[float, int, Treatment]]:
    """The `count` best rows FTS5 matches (every one when None) whose treatment is not
    None, as (rank, row id, treatment): by rank, ties by slug, then uri.

    Sorting by rank alone is twice as fast in SQLite as by (rank, slug), so SQLite keeps
    the best by rank and ties are ordered here: rows are fetched past the count (a margin,
    and `extra` for rows left out) until the last one fetched ranks below the count's,
    so that no row left unfetched could tie into it.
    """
    sql = (
        f"SELECT rowid, bm25({table}, ?, ?, ?) AS rank FROM {table} "
        f"WHERE {table} MATCH ? ORDER BY rank"
    )
    if count is not None and count <= 0:
        return []
    fetch = None if count is None else count + _TIE_MARGIN + extra
    while True:
        with lock if lock is not None else contextlib.nullcontext():
            if fetch is None:
                rows = db.execute(sql, [*_WEIGHTS, match]).fetchall()
            else:
                rows = db.execute(f"{sql} LIMIT ?", [*_WEIGHTS, match, fetch]).fetchall()
        kept = [(rank, rowid, t) for rowid, rank in rows if (t := treatment(rowid)) is not None]
        if (
            fetch is None
            or count is None
            or len(rows) < fetch
            or (len(kept) >= count and kept[count - 1][0] < rows[-1][1])
        ):
            break
        fetch *= 4
    kept.sort(key=lambda hit: (hit[0], hit[2].slug, hit[2].uri))
    return kept if count is None else kept[:count]


def _best_rows(
    db: sqlite3.Connection,
    table: str,
    word: str,
    pages: int,
    treatment: Callable[[int], Treatment | None],
) -> _Top:
    """The best TOP_ROWS rows holding `word`, in search's order."""
    rows = best(db, table, f'"{word}"', TOP_ROWS, treatment)
    return _Top(pages, array("q", [r[1] for r in rows]), array("d", [r[0] for r in rows]))


def _kept_rows_cache() -> BoundedCache[_Top]:
    # A word's rows are at most TOP_ROWS: any one of them may be kept.
    return BoundedCache[_Top](KEPT_BYTES, max_entry_bytes=KEPT_BYTES)


def _plain(word: str) -> bool:
    """Whether a word is one FTS5's tokenizer keeps whole and folds by lowercasing alone
    (ASCII letters and digits), as the kept rows are looked up."""
    return word.isascii() and word.isalnum()


def _indexed(database: str, treatments: Sequence[Treatment]) -> sqlite3.Connection:
    db = sqlite3.connect(database, check_same_thread=False)
    try:
        # A bigger cache of SQLite's own measured no faster, only bigger.
        db.execute("PRAGMA cache_size = -128")
        create_fts(db, list(enumerate(treatments)))
        db.commit()
    except sqlite3.Error:
        db.close()
        raise
    return db


class SearchIndex:
    """A contentless FTS5 index of the given treatments, in a temporary database."""

    def __init__(
        self, treatments: Iterable[Treatment], database: str = "", frequent: int = LIVE_FREQUENT
    ) -> None:
        """Index the treatments in `database` ("" is a temporary one: past its page cache it
        lives in a file, which the OS caches), or in memory if that cannot be written; a
        word in `frequent` pages or more has its best rows kept once searched."""
        pages = list(treatments)
        self._treatments: list[Treatment | None] = list(pages)
        # Rows of the table that are not this index's treatments (see stored).
        self._hidden = 0
        self._table = FTS_TABLE
        # Its own temporary database, changed in place by updated (not a built file's).
        self._writable = True
        self._lock = threading.Lock()
        self._frequent = frequent
        # A frequent word's best rows, ranked on its first search (see _kept_rows).
        self._kept = _kept_rows_cache()
        try:
            self._db = _indexed(database, pages)
        except sqlite3.OperationalError as exc:
            log.warning("keeping the search index in memory: %s", exc)
            self._db = _indexed(":memory:", pages)
        self._vocabulary = _vocabulary(self._db, self._table)

    @classmethod
    def stored(
        cls, db: sqlite3.Connection, rows: Sequence[Treatment | None], table: str = FTS_TABLE
    ) -> SearchIndex:
        """The FTS5 table already in `db` (a built index file, opened read-only), whose row
        i is `rows[i]`; a row that is None is never a hit."""
        index = cls.__new__(cls)
        index._treatments = list(rows)
        index._hidden = sum(row is None for row in index._treatments)
        index._table = table
        index._writable = False
        index._lock = threading.Lock()
        # Its words in FREQUENT pages have their rows in the file (create_fts); those in
        # LIVE_FREQUENT pages are ranked and kept as a live index keeps them. The word
        # counts' table is made now, before any worker is forked from this process.
        index._frequent = LIVE_FREQUENT
        index._kept = _kept_rows_cache()
        index._vocabulary = _vocabulary(db, table)
        index._db = db
        return index

    def updated(
        self,
        rows: Sequence[int],
        pairs: Sequence[tuple[Treatment, Treatment]],
        treatments: Sequence[Treatment],
    ) -> SearchIndex | None:
        """The index of `treatments`, where row `rows[i]` changed from `pairs[i][0]` to
        `pairs[i][1]` and the rest is as before, made by changing those rows in place; None
        for a built file's index, which is never written (the view then builds its own
        when first searched).

        The table is shared with this index, whose searches then match the new text: a
        request in flight on the old view may find a page by its edited text.
        """
        if not self._writable:
            return None
        table = self._table
        with self._lock:
            for rowid, (old, new) in zip(rows, pairs, strict=True):
                # A contentless table forgets a row given the values it was indexed with.
                self._db.execute(
                    f"INSERT INTO {table} ({table}, rowid, title, summary, text)"
                    " VALUES ('delete', ?, ?, ?, ?)",
                    (rowid, old.title, old.summary or "", old.text),
                )
                self._db.execute(
                    f"INSERT INTO {table} (rowid, title, summary, text) VALUES (?, ?, ?, ?)",
                    (rowid, new.title, new.summary or "", new.text),
                )
            self._db.commit()
        index = SearchIndex.__new__(SearchIndex)
        index._treatments = list(treatments)
        index._hidden = 0
        index._table = table
        index._writable = True
        index._lock = self._lock
        index._frequent = self._frequent
        # Every rank moves with the pages (bm25 weighs a word by how many hold it).
        index._kept = _kept_rows_cache()
        index._vocabulary = self._vocabulary
        index._db = self._db
        return index

    def search(self, query: str, limit: int | None = None, snippets: bool = True) -> list[Hit]:
        """Treatments matching every word of the query, best first (ties by slug, then uri).

        Snippets are made for the hits returned only, and not at all when `snippets` is
        false: then each hit's snippet is empty.
        """
        match = terms(query)
        if match is None:
            return []
        found = self._from_kept(query, limit) if limit is not None else None
        if found is None:
            found = self._ranked(match, limit)
        words = [_fold(word) for word in _words(query)] if snippets else []
        return [Hit(t.uri, -rank, snippet(t, words) if snippets else "") for rank, t in found]

    def _ranked(self, match: str, limit: int | None) -> list[tuple[float, Treatment]]:
        treatments = self._treatments
        rows = best(
            self._db, self._table, match, limit, treatments.__getitem__, self._lock, self._hidden
        )
        return [(rank, treatment) for rank, _, treatment in rows]

    def _from_kept(self, query: str, limit: int) -> list[tuple[float, Treatment]] | None:
        """The hits of a one-word query from the kept rows of the one word its prefix names,
        or None when FTS5 must rank them (another query, a word in fewer pages, or more
        rows left out by this view than were kept)."""
        words = _words(query)
        if len(words) != 1 or not _plain(words[0]):
            return None
        top = self._kept_rows(words[0].lower())
        if top is None:
            return None
        treatments = self._treatments
        found: list[tuple[float, Treatment]] = []
        if limit <= 0:
            return found
        for rowid, rank in zip(top.rowids, top.ranks, strict=True):
            treatment = treatments[rowid] if rowid < len(treatments) else None
            if treatment is not None:
                found.append((rank, treatment))
                if len(found) == limit:
                    return found
        return found if len(top.rowids) == top.pages else None

    def _kept_rows(self, prefix: str) -> _Top | None:
        """The kept rows of the only word starting with `prefix`, if it is frequent."""
        # Every word starting with an ASCII prefix sorts before this one (UTF-8 order).
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        table = self._table
        with self._lock:
            if not self._writable:
                words = self._db.execute(
                    f"SELECT word FROM {table}_words WHERE word >= ? AND word < ? LIMIT 2",
                    (prefix, after),
                ).fetchall()
                if len(words) != 1:
                    return None
                row = self._db.execute(
                    f"SELECT pages, rowids, ranks FROM {table}_top WHERE word = ?", words[0]
                ).fetchone()
                if row is not None:
                    return _Top(row[0], orjson.loads(row[1]), orjson.loads(row[2]))
            counted = self._db.execute(
                f"SELECT term, doc FROM {self._vocabulary} WHERE term >= ? AND term < ? AND doc > 0"
                " LIMIT 2",
                (prefix, after),
            ).fetchall()
            if len(counted) != 1 or counted[0][1] < self._frequent:
                return None
            word, pages = counted[0]
            key = word.encode()
            top = self._kept.get(key)
            if top is None:
                treatments = self._treatments
                top = _best_rows(self._db, table, word, pages, lambda row: treatments[row])
                self._kept.put(key, top, KEPT_ROW_BYTES * len(top.rowids))
            return top


def query_words(query: str) -> list[str]:
    """A query's words as snippet takes them (folded: case and accents off)."""
    return [_fold(word) for word in _words(query)]


def snippet(treatment: Treatment, words: Sequence[str]) -> str:
    """HTML-escaped text around the first match in the text (else the summary, else the
    title), matched words in <mark>; the last word matches as a prefix, as in the search."""
    if not words:
        return ""
    exact, prefix = set(words), words[-1]

    def matches(token: re.Match[str]) -> bool:
        folded = _fold(token.group())
        return folded in exact or folded.startswith(prefix)

    for field in (treatment.text, treatment.summary or "", treatment.title):
        tokens: list[re.Match[str]] = []
        first: int | None = None
        more = False
        for index, token in enumerate(_TOKEN.finditer(field)):
            if first is not None and index >= first + _SNIPPET_TOKENS:
                more = True
                break
            tokens.append(token)
            if first is None and matches(token):
                first = index
        if first is not None:
            return _window(field, tokens, first, more, matches)
    return ""


def _window(
    field: str,
    tokens: list[re.Match[str]],
    first: int,
    more: bool,
    matches: Callable[[re.Match[str]], bool],
) -> str:
    start = max(0, min(first - 2, len(tokens) - _SNIPPET_TOKENS))
    end = min(len(tokens), start + _SNIPPET_TOKENS)
    more = more or end < len(tokens)
    pieces = ["…"] if start > 0 else []
    # html.escape works character by character, so the runs between marked words are
    # escaped whole (three calls a snippet, not two a word: ten snippets of "skin" 570 -> 369 us).
    cursor = tokens[start].start() if start > 0 else 0
    for token in tokens[start:end]:
        if matches(token):
            pieces.append(html.escape(field[cursor : token.start()]))
            pieces.append(f"<mark>{html.escape(token.group())}</mark>")
            cursor = token.end()
    if more:
        pieces.append(html.escape(field[cursor : tokens[end - 1].end()]))
        pieces.append("…")
    else:
        pieces.append(html.escape(field[cursor:]))
    return " ".join("".join(pieces).split())


def _fold(word: str) -> str:
    """Case and accents folded, as the index's unicode61 tokenizer does."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
