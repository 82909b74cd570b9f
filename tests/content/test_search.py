"""Full-text search: prefixes, diacritics, snippets, drafts, and hostile queries."""

from __future__ import annotations

import logging
import random
import re
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contentapi.bounded import ENTRY_OVERHEAD
from contentapi.content import search
from contentapi.content.body import pack_body
from contentapi.content.index import ContentIndex, ContentView
from contentapi.content.model import Treatment
from contentapi.content.search import SearchIndex, create_fts, terms


@pytest.fixture(scope="module")
def catalog(fixtures_dir: Path) -> ContentIndex:
    return ContentIndex.from_directory(fixtures_dir / "catalog")


def found(view: ContentView, query: str) -> list[str]:
    return [view.by_uri[hit.uri].slug for hit in view.search(query)]


@pytest.mark.parametrize(
    "query", ["meso", "Meso", "MESOTHERAPY", "mesotherapy", "homeopathic meso"]
)
def test_prefix_finds_the_seed(seed_index: ContentIndex, query: str) -> None:
    assert found(seed_index.public, query) == ["mesotherapy"]


def test_words_that_are_not_there(seed_index: ContentIndex) -> None:
    assert found(seed_index.public, "acupuncture") == []
    assert found(seed_index.public, "meso acupuncture") == []  # every word must match


@pytest.mark.parametrize("query", ["creme", "Crème", "CREME", "brulee", "brûlée", "crem"])
def test_diacritics_are_folded(catalog: ContentIndex, query: str) -> None:
    assert found(catalog.public, query) == ["creme"]


def test_title_match_ranks_first(catalog: ContentIndex) -> None:
    hits = catalog.public.search("delta")
    assert hits[0].uri == "/delta/"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_limit(catalog: ContentIndex) -> None:
    assert len(catalog.public.search("a", limit=1)) == 1
    assert sorted(found(catalog.public, "gent")) == ["alpha", "delta"]
    assert len(catalog.public.search("gent", limit=1)) == 1


def test_snippet_marks_the_match(seed_index: ContentIndex) -> None:
    (hit,) = seed_index.public.search("meso")
    assert "<mark>" in hit.snippet
    assert "</mark>" in hit.snippet
    assert "<mark>mesotherapy</mark>" in hit.snippet.lower()


def test_snippet_escapes_html(catalog: ContentIndex) -> None:
    (hit,) = catalog.public.search("quotes")
    assert hit.uri == "/alpha/"
    assert "<mark>quotes</mark>" in hit.snippet
    assert "5 &lt; 6 &amp; &quot;<mark>quotes</mark>&quot;" in hit.snippet
    bare = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare
    assert "script" not in hit.snippet  # the sanitiser already removed it from the text


def test_drafts_are_searched_only_in_preview(catalog: ContentIndex) -> None:
    assert found(catalog.public, "secret") == []
    assert found(catalog.preview, "secret") == ["hidden-draft"]


HOSTILE = [
    "",
    "   ",
    '"',
    '""',
    "'",
    "AND",
    "OR",
    "NOT",
    "NOT meso",
    "meso AND",
    "*",
    "meso*",
    "NEAR(",
    "NEAR(meso mesotherapy, 2)",
    "((",
    "))",
    "title:meso",
    "{title}: meso",
    "^meso",
    "-meso",
    "+",
    "\\",
    "%",
    "_",
    "\x00",
    "\x02meso\x03",
    "\u0301",
    "\ufeff",
    "中文",
    "🙂",
    "a" * 10_000,
    "meso " * 2_000,
    "x" * 10_240,
    "'; DROP TABLE pages; --",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(
    seed_index: ContentIndex, catalog: ContentIndex, query: str
) -> None:
    for view in (seed_index.public, catalog.public, catalog.preview):
        hits = view.search(query)
        assert isinstance(hits, list)
        assert all(isinstance(hit.snippet, str) for hit in hits)


def test_hostile_words_are_plain_words(seed_index: ContentIndex) -> None:
    # Operators are searched for as words: "NOT" matches the seed's "not chemical".
    assert found(seed_index.public, "NOT meso") == ["mesotherapy"]
    assert found(seed_index.public, "(AND meso") == ["mesotherapy"]
    assert found(seed_index.public, "NEAR(meso") == []  # "near" is not in the page
    assert found(seed_index.public, "title:meso") == []  # "title" is not in the page


def test_terms() -> None:
    assert terms("") is None
    assert terms('(( * "') is None
    assert terms("meso") == '"meso"*'
    assert terms('Hair "loss') == '"Hair" "loss"*'
    words = terms("w " * 100)
    assert words is not None and words.count('"w"') == 16


def test_empty_index_searches() -> None:
    assert SearchIndex([]).search("anything") == []


def test_without_a_writable_database_the_index_is_kept_in_memory(
    catalog: ContentIndex, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    treatments = catalog.public.treatments
    unwritable = str(tmp_path / "no-such-folder" / "search.sqlite")
    with caplog.at_level(logging.WARNING, logger="contentapi"):
        fallback = SearchIndex(treatments, database=unwritable)
    assert "keeping the search index in memory: unable to open database file" in caplog.text
    usual = SearchIndex(treatments)
    for query in ("skin", "peel", "acne scar", "nothing-like-this"):
        assert fallback.search(query) == usual.search(query)
    assert fallback.search("skin")


# Frequent words: their best rows kept (in a built file, or on first search) must give
# exactly what FTS5 ranks. Words overlap as prefixes ("ski", "skin", "skins"), and pages
# repeat words, so ranks tie.
CROWD_WORDS = ("ski", "skin", "skins", "peel", "acne", "laser", "light", "lift", "tone", "zebra")
QUERIES = (
    *(word[:cut] for word in CROWD_WORDS for cut in range(1, len(word) + 1)),
    "SKIN",
    "Skins",
    "skin tone",
    "peel ski",
    "nothing",
    "lase_r",
    "skïn",
)
LIMITS = (0, 1, 3, 10, 100)


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> list[Treatment]:
    root = tmp_path_factory.mktemp("crowd")
    rng = random.Random(7)
    for number in range(90):
        title = " ".join(rng.choices(CROWD_WORDS, k=2)).title()
        body = " ".join(rng.choices(CROWD_WORDS, k=rng.randint(2, 30)))
        # Two pages per title: equal text ranks equal, ties go by slug.
        (root / f"page-{number // 2:02}-{number % 2}.md").write_text(
            f"---\ntitle: {title}\n---\n\n{body}\n", encoding="utf-8"
        )
    pages = list(ContentIndex.from_directory(root).preview.treatments)
    # Row ids in no order of slugs: ties are put in slug order, not by row.
    rng.shuffle(pages)
    return pages


def _exact(index: SearchIndex) -> None:
    """Every query at every limit is the best of all FTS5 ranks (limit None asks FTS5)."""
    for query in QUERIES:
        every = index.search(query, None)
        for limit in LIMITS:
            assert index.search(query, limit) == every[:limit], (query, limit)


@pytest.fixture
def ranked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The words whose best rows are ranked to be kept, in order, as it happens."""
    words: list[str] = []
    best_rows = search._best_rows

    def counted(db: sqlite3.Connection, table: str, word: str, *rest: Any) -> Any:
        words.append(word)
        return best_rows(db, table, word, *rest)

    monkeypatch.setattr(search, "_best_rows", counted)
    return words


def test_a_live_index_keeps_a_frequent_words_rows_once(
    crowd: list[Treatment], ranked: list[str]
) -> None:
    index = SearchIndex(crowd, frequent=5)
    _exact(index)
    # Ranked once each, the words a query's prefix names alone ("ski" names three).
    assert sorted(ranked) == ["acne", "laser", "lift", "light", "peel", "skins", "tone", "zebra"]
    assert [hit.uri for hit in index.search("zebr", 3)] == [
        hit.uri for hit in SearchIndex(crowd, frequent=10**9).search("zebr", 3)
    ]
    # An edit moves every rank: the edited index ranks again.
    edited = replace(crowd[0], title="Zebra Zebra Zebra", summary="zebra zebra zebra")
    changed = index.updated([0], [(crowd[0], edited)], [edited, *crowd[1:]])
    assert changed is not None
    ranked.clear()
    _exact(changed)
    assert "zebra" in ranked
    assert changed.search("zebra", 1)[0].uri == crowd[0].uri


@pytest.mark.parametrize("kept", [3, 256])
def test_a_stored_index_reads_its_kept_rows(
    crowd: list[Treatment], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    monkeypatch.setattr(search, "TOP_ROWS", kept)
    file = tmp_path / "search.sqlite"
    with sqlite3.connect(file) as db:
        create_fts(db, list(enumerate(crowd)), frequent=5)
        words = dict(db.execute("SELECT word, pages FROM search_top").fetchall())
        listed = {word for (word,) in db.execute("SELECT word FROM search_words")}
    db.close()
    holding = {
        word: sum(
            word in re.findall(r"\w+", f"{t.title} {t.summary} {t.text}".lower()) for t in crowd
        )
        for word in CROWD_WORDS
    }
    assert listed == set(CROWD_WORDS)
    assert words == {word: count for word, count in holding.items() if count >= 5}
    opened = sqlite3.connect(f"file:{file}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    # A view leaving out every third page: past the kept rows FTS5 is asked.
    rows: list[Treatment | None] = [t if n % 3 else None for n, t in enumerate(crowd)]
    stored = SearchIndex.stored(opened, rows)
    _exact(stored)
    assert all(hit.uri in {t.uri for t in rows if t} for hit in stored.search("skin", 100))


def test_a_stored_index_serves_the_rows_it_keeps(crowd: list[Treatment], tmp_path: Path) -> None:
    file = tmp_path / "search.sqlite"
    with sqlite3.connect(file) as db:
        create_fts(db, list(enumerate(crowd)), frequent=5)
        rowids, ranks = db.execute(
            "SELECT rowids, ranks FROM search_top WHERE word = 'zebra'"
        ).fetchone()
        # Kept rows in reverse: what a search of the word returns comes from them.
        db.execute(
            "UPDATE search_top SET rowids = ?, ranks = ? WHERE word = 'zebra'",
            (orjson.dumps(orjson.loads(rowids)[::-1]), orjson.dumps(orjson.loads(ranks)[::-1])),
        )
    db.close()
    opened = sqlite3.connect(f"file:{file}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    stored = SearchIndex.stored(opened, crowd)
    best = stored.search("zebra", None)
    assert [hit.uri for hit in stored.search("zebr", 3)] == [hit.uri for hit in best[::-1][:3]]
    assert stored.search("zebra tone", 3) == stored.search("zebra tone", None)[:3]


def test_ties_past_the_margin_are_put_in_slug_order(tmp_path: Path) -> None:
    # 130 pages the same but for their names: every rank ties, far past the margin of 50.
    for number in range(130):
        (tmp_path / f"same-{number:03}.md").write_text(
            "---\ntitle: Same\n---\n\nThe same words.\n", encoding="utf-8"
        )
    pages = list(ContentIndex.from_directory(tmp_path).preview.treatments)
    random.Random(3).shuffle(pages)
    slugs = sorted(t.slug for t in pages)
    for frequent in (5, 10**9):
        index = SearchIndex(pages, frequent=frequent)
        for query in ("same", "same words", "word"):
            hits = index.search(query, 10)
            assert [index_slug(pages, hit.uri) for hit in hits] == slugs[:10], (query, frequent)
            assert len({hit.score for hit in hits}) == 1


def index_slug(pages: list[Treatment], uri: str) -> str:
    return next(t.slug for t in pages if t.uri == uri)


# Snippets: the text around the first match, matched words marked, everything escaped.
def _snippet_token_by_token(text: str, words: list[str]) -> str:
    """The snippet as it was made before runs were escaped whole: each token and each gap
    escaped on its own (the oracle for the faster one)."""
    import html

    tokens = list(re.finditer(r"[^\W_]+", text))
    exact, prefix = set(words), words[-1]

    def matches(token: re.Match[str]) -> bool:
        folded = token.group().lower()
        return folded in exact or folded.startswith(prefix)

    first = next((i for i, token in enumerate(tokens) if matches(token)), None)
    if first is None:
        return ""
    more = len(tokens) > first + 16
    tokens = tokens[: first + 16]
    start = max(0, min(first - 2, len(tokens) - 16))
    end = min(len(tokens), start + 16)
    more = more or end < len(tokens)
    pieces = ["…"] if start > 0 else []
    cursor = tokens[start].start() if start > 0 else 0
    for token in tokens[start:end]:
        pieces.append(html.escape(text[cursor : token.start()]))
        escaped = html.escape(token.group())
        pieces.append(f"<mark>{escaped}</mark>" if matches(token) else escaped)
        cursor = token.end()
    pieces.append("…" if more else html.escape(text[cursor:]))
    return " ".join("".join(pieces).split())


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["skin", "Skins", "peel", "a", "b&c", "<i>", '"q"', "'", "x_y"]),
            st.text(alphabet="ab <>&\"' \n\t_-.", max_size=6),
        ),
        max_size=60,
    ),
    st.sampled_from([["skin"], ["peel", "sk"], ["b"], ["q"], ["zzz"]]),
)
def test_a_snippet_is_the_text_escaped_around_the_match(parts: list[str], words: list[str]) -> None:
    text = " ".join(parts)
    body = pack_body(html="", text=text, markdown="", toc=(), sections=(), front_matter={})
    page = Treatment(slug="p", title="", path="p.md", uri="/p/", body=body, summary=None)
    assert search.snippet(page, words) == _snippet_token_by_token(text, words)


def test_a_live_index_keeps_the_rows_of_a_word_in_live_frequent_pages(
    tmp_path: Path, ranked: list[str]
) -> None:
    for number in range(search.LIVE_FREQUENT):
        common = "skin " * (number % 7 + 1)
        rare = "peel" if number < search.LIVE_FREQUENT - 1 else ""
        (tmp_path / f"page-{number:03}.md").write_text(
            f"---\ntitle: Page {number}\n---\n\n{common} {rare} tone\n", encoding="utf-8"
        )
    pages = list(ContentIndex.from_directory(tmp_path).public.treatments)
    index = SearchIndex(pages)
    every = SearchIndex(pages, frequent=10**9)
    for query in ("skin", "skin", "peel", "tone"):
        assert index.search(query, 10) == every.search(query, 10), query
    # "skin" and "tone" are in LIVE_FREQUENT pages: ranked once each; "peel" in one fewer.
    assert ranked == ["skin", "tone"]


def test_the_rows_a_live_index_keeps_are_bounded(
    crowd: list[Treatment], ranked: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Room for either word's rows, not both's (as many rows as pages hold the word).
    costs = [
        len(word)
        + ENTRY_OVERHEAD
        + search.KEPT_ROW_BYTES
        * sum(
            bool(re.search(rf"\b{word}\b", f"{page.title} {page.text}".lower())) for page in crowd
        )
        for word in ("peel", "zebra")
    ]
    assert sum(costs) > max(costs) > 0
    monkeypatch.setattr(search, "KEPT_BYTES", max(costs))
    index = SearchIndex(crowd, frequent=5)
    for query in ("peel", "zebra", "peel", "peel", "zebra"):
        assert index.search(query, 3) == SearchIndex(crowd, frequent=10**9).search(query, 3)
    assert ranked == ["peel", "zebra", "peel", "zebra"]


def test_a_stored_index_keeps_the_rows_of_words_its_file_has_not(
    crowd: list[Treatment], tmp_path: Path, ranked: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "search.sqlite"
    with sqlite3.connect(file) as db:
        create_fts(db, list(enumerate(crowd)), frequent=10**9)
        assert db.execute("SELECT count(*) FROM search_top").fetchone() == (0,)
    db.close()
    monkeypatch.setattr(search, "LIVE_FREQUENT", 5)
    opened = sqlite3.connect(f"file:{file}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    rows: list[Treatment | None] = [t if n % 3 else None for n, t in enumerate(crowd)]
    stored = SearchIndex.stored(opened, rows)
    _exact(stored)
    assert sorted(ranked) == ["acne", "laser", "lift", "light", "peel", "skins", "tone", "zebra"]
