"""Full-text search over treatments: SQLite FTS5 in memory, BM25 with title weighted first."""

from __future__ import annotations

import html
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from contentapi.model import Treatment

# Weights of the columns (title, summary, text) in BM25: a title match counts most.
_WEIGHTS = (10.0, 4.0, 1.0)
_MAX_WORDS = 16
_WORD = re.compile(r"\w+", re.UNICODE)
_OPEN, _CLOSE = "\x02", "\x03"
_TIE_MARGIN = 50


@dataclass(frozen=True, slots=True)
class Hit:
    """One treatment matching a query, with a higher score for a better match."""

    slug: str
    score: float
    snippet: str


def terms(query: str) -> str | None:
    """User text as an FTS5 query of plain words (the last one a prefix), or None if no words."""
    words = _WORD.findall(query[:4096])[:_MAX_WORDS]
    if not words:
        return None
    quoted = ['"' + word.replace('"', "") + '"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


class SearchIndex:
    """An in-memory FTS5 table of the given treatments."""

    def __init__(self, treatments: Iterable[Treatment]) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE pages USING fts5("
            "slug UNINDEXED, title, summary, text, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        self._db.executemany(
            "INSERT INTO pages (slug, title, summary, text) VALUES (?, ?, ?, ?)",
            (
                (t.slug, _plain(t.title), _plain(t.summary or ""), _plain(t.text))
                for t in treatments
            ),
        )
        self._db.commit()

    def search(self, query: str, limit: int | None = None, snippets: bool = True) -> list[Hit]:
        """Treatments matching every word of the query, best first (ties by slug).

        Snippets (costly) are made for the hits returned only, and not at all when
        `snippets` is false: then each hit's snippet is empty.
        """
        match = terms(query)
        if match is None:
            return []
        # Sorting by rank alone is twice as fast in SQLite as by (rank, slug); ties are put
        # in slug order here, among a margin of extra rows fetched past the limit.
        sql = (
            "SELECT rowid, slug, bm25(pages, 0, ?, ?, ?) AS rank FROM pages "
            "WHERE pages MATCH ? ORDER BY rank"
        )
        params: list[object] = [*_WEIGHTS, match]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit + _TIE_MARGIN)
        with self._lock:
            rows = sorted(self._db.execute(sql, params), key=lambda row: (row[2], row[1]))
            rows = rows[:limit] if limit is not None else rows
            marked: dict[int, str] = {}
            if snippets and rows:
                found = self._db.execute(
                    "SELECT rowid, snippet(pages, -1, ?, ?, '…', 16) FROM pages "
                    f"WHERE pages MATCH ? AND rowid IN ({','.join('?' * len(rows))})",
                    [_OPEN, _CLOSE, match, *(row[0] for row in rows)],
                )
                marked = {rowid: _mark(snippet) for rowid, snippet in found}
        return [Hit(slug, -rank, marked.get(rowid, "")) for rowid, slug, rank in rows]


def _mark(snippet: str) -> str:
    escaped = html.escape(snippet.replace("\n", " "), quote=True)
    return escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _plain(text: str) -> str:
    # The snippet markers must not occur in the text, or they would become <mark> tags.
    return text.replace(_OPEN, " ").replace(_CLOSE, " ")
