"""Full-text search over treatments: SQLite FTS5, BM25 with title weighted first.

The FTS5 table is contentless (it keeps the index, not a second copy of every page's
text), so the snippets around the matches are cut here, from the pages themselves, with
the same folding of case and accents as the index.
"""

from __future__ import annotations

import html
import logging
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from contentapi.content.model import Treatment

log = logging.getLogger("contentapi")
# Weights of the columns (title, summary, text) in BM25: a title match counts most.
_WEIGHTS = (10.0, 4.0, 1.0)
_MAX_WORDS = 16
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_TIE_MARGIN = 50
_SNIPPET_TOKENS = 16


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
    db: sqlite3.Connection, rows: Iterable[tuple[int, Treatment]], table: str = FTS_TABLE
) -> None:
    """Make an FTS5 table in `db` and index the treatments, each under its row id (not
    committed)."""
    db.execute(
        f"CREATE VIRTUAL TABLE {table} USING fts5("
        "title, summary, text, content = '', "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.executemany(
        f"INSERT INTO {table} (rowid, title, summary, text) VALUES (?, ?, ?, ?)",
        ((rowid, t.title, t.summary or "", t.text) for rowid, t in rows),
    )


def _indexed(database: str, treatments: Sequence[Treatment]) -> sqlite3.Connection:
    db = sqlite3.connect(database, check_same_thread=False)
    try:
        # A bigger cache of SQLite's own measured no faster, only bigger.
        db.execute("PRAGMA cache_size = -128")
        create_fts(db, enumerate(treatments))
        db.commit()
    except sqlite3.Error:
        db.close()
        raise
    return db


class SearchIndex:
    """A contentless FTS5 index of the given treatments, in a temporary database."""

    def __init__(self, treatments: Iterable[Treatment], database: str = "") -> None:
        """Index the treatments in `database` ("" is a temporary one: past its page cache it
        lives in a file, which the OS caches), or in memory if that cannot be written."""
        pages = list(treatments)
        self._treatments: list[Treatment | None] = list(pages)
        # Rows of the table that are not this index's treatments (see stored).
        self._hidden = 0
        self._table = FTS_TABLE
        # Its own temporary database, changed in place by updated (not a built file's).
        self._writable = True
        self._lock = threading.Lock()
        try:
            self._db = _indexed(database, pages)
        except sqlite3.OperationalError as exc:
            log.warning("keeping the search index in memory: %s", exc)
            self._db = _indexed(":memory:", pages)

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
        # Sorting by rank alone is twice as fast in SQLite as by (rank, slug); ties are put
        # in slug order here, among a margin of extra rows fetched past the limit.
        sql = (
            f"SELECT rowid, bm25({self._table}, ?, ?, ?) AS rank FROM {self._table} "
            f"WHERE {self._table} MATCH ? ORDER BY rank"
        )
        params: list[object] = [*_WEIGHTS, match]
        if limit is not None:
            sql += " LIMIT ?"
            # Rows left out below must not leave fewer than the limit.
            params.append(limit + _TIE_MARGIN + self._hidden)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        treatments = self._treatments
        found = sorted(
            ((rank, t) for rowid, rank in rows if (t := treatments[rowid]) is not None),
            key=lambda hit: (hit[0], hit[1].slug, hit[1].uri),
        )
        if limit is not None:
            found = found[:limit]
        words = [_fold(word) for word in _words(query)] if snippets else []
        return [Hit(t.uri, -rank, snippet(t, words) if snippets else "") for rank, t in found]


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
    cursor = tokens[start].start() if start > 0 else 0
    for token in tokens[start:end]:
        pieces.append(html.escape(field[cursor : token.start()]))
        text = html.escape(token.group())
        pieces.append(f"<mark>{text}</mark>" if matches(token) else text)
        cursor = token.end()
    pieces.append("…" if more else html.escape(field[cursor:]))
    return " ".join("".join(pieces).split())


def _fold(word: str) -> str:
    """Case and accents folded, as the index's unicode61 tokenizer does."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
