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

    def search(self, query: str, limit: int | None = None) -> list[Hit]:
        """Treatments matching every word of the query, best first (ties by slug)."""
        match = terms(query)
        if match is None:
            return []
        sql = (
            "SELECT slug, bm25(pages, 0, ?, ?, ?) AS rank, "
            "snippet(pages, -1, ?, ?, '…', 16) FROM pages WHERE pages MATCH ? "
            "ORDER BY rank, slug"
        )
        params: list[object] = [*_WEIGHTS, _OPEN, _CLOSE, match]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [Hit(slug, -rank, _mark(snippet)) for slug, rank, snippet in rows]


def _mark(snippet: str) -> str:
    escaped = html.escape(snippet.replace("\n", " "), quote=True)
    return escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _plain(text: str) -> str:
    # The snippet markers must not occur in the text, or they would become <mark> tags.
    return text.replace(_OPEN, " ").replace(_CLOSE, " ")
