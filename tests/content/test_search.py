"""Full-text search: prefixes, diacritics, snippets, drafts, and hostile queries."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from contentapi.content.index import ContentIndex, ContentView
from contentapi.content.search import SearchIndex, terms


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
