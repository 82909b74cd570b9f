"""Hostile pages: nothing active survives into any field the API serves.

Every page of tests/fixtures/hostile is fetched through the GraphQL schema; each HTML
field is parsed and must hold no active tag, no event handler and no script URL. Search
snippets must be text with <mark> only. An ordinary page must come through intact.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import strawberry

from contentapi.content.index import ContentIndex
from contentapi.schema import Context, build_schema

HOSTILE = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"
PAGES = sorted(path.stem for path in HOSTILE.glob("*.md"))

# Tags that run code, load other documents, restyle the page or submit data.
FORBIDDEN_TAGS = frozenset(
    {
        "script",
        "iframe",
        "object",
        "embed",
        "style",
        "link",
        "meta",
        "form",
        "base",
        "svg",
        "math",
        # and their relatives
        "frame",
        "frameset",
        "applet",
        "portal",
        "param",
        "template",
        "noscript",
        "input",
        "button",
        "select",
        "textarea",
        "isindex",
        "xmp",
        "noembed",
        "source",
        "video",
        "audio",
    }
)
FORBIDDEN_ATTRIBUTES = frozenset({"style", "srcdoc", "formaction", "action", "srcset"})
URL_ATTRIBUTES = frozenset(
    {"href", "src", "cite", "action", "formaction", "xlink:href", "background", "poster", "data"}
)
UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")
# What browsers (and clients that trim) ignore in a URL before they read its scheme.
_URL_IGNORED = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff]+")

# A word planted in each hostile page's body (or summary), to find it by search.
PLANTED = {
    "amp-carousel-script": "quetzalcoatlite",
    "base-href": "dugongish",
    "comments": "capybarine",
    "control-characters": "caracal",
    "data-urls": "narwhalish",
    "event-handlers": "xylophonist",
    "forms": "pangolinish",
    "frames-and-plugins": "wombatish",
    "front-matter-script": "binturong",
    "indications-script": "iguanodont",
    "javascript-urls": "marmoset",
    "ordinary": "kinkajou",
    "script-tags": "zanzibarite",
    "style-link-meta": "ocelotine",
    "svg-math": "axolotlish",
    "unclosed-tags": "tapirlike",
    "unquoted-onerror": "gharialic",
    "whitespace-urls": "okapiform",
}
# Words of the hostile markup itself: their snippets sit right beside it.
HOSTILE_WORDS = ("alert", "script", "onerror", "javascript", "img", "src", "okapi", "peel")

TREATMENT = """
query ($slug: String!) {
  treatment(slug: $slug) {
    slug title summary excerpt text html
    excerptLong: excerpt(length: 100000)
    sections { html text heading { title anchor } }
    tableOfContents { title anchor }
    indications { name slug }
    category { name }
  }
}
"""
SEARCH = """
query ($query: String!) {
  search(query: $query, first: 100) { snippet treatment { slug } }
}
"""


class _Collector(HTMLParser):
    """Every start tag with its attributes (values already unescaped by the parser)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def parse_tags(fragment: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    collector = _Collector()
    collector.feed(fragment)
    collector.close()
    return collector.tags


def active_content(fragment: str) -> list[str]:
    """What in an HTML fragment could run code or load a document; empty when safe."""
    found = []
    for tag, attrs in parse_tags(fragment):
        if tag in FORBIDDEN_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name in FORBIDDEN_ATTRIBUTES:
                found.append(f"<{tag} {name}>")
            probe = _URL_IGNORED.sub("", value or "").lower()
            if name in URL_ATTRIBUTES and probe.startswith(UNSAFE_SCHEMES):
                found.append(f"<{tag} {name}={value!r}>")
    return found


def run(index: ContentIndex, document: str, **variables: Any) -> dict[str, Any]:
    result = _schema().execute_sync(
        document, variable_values=variables, context_value=Context(index)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return dict(result.data)


@cache
def _schema() -> strawberry.Schema:
    return build_schema()


@pytest.fixture(scope="module")
def index() -> ContentIndex:
    return ContentIndex.from_directory(HOSTILE)


@pytest.fixture(scope="module")
def pages(index: ContentIndex) -> dict[str, dict[str, Any]]:
    return {slug: run(index, TREATMENT, slug=slug)["treatment"] for slug in PAGES}


# --------------------------------------------------------------------------- the checker


@pytest.mark.parametrize(
    "fragment",
    [
        "<script>alert(1)</script>",
        "<p><img src=x onerror=alert(1)></p>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href=" JAVASCRIPT:alert(1)">x</a>',
        '<img src="&nbsp;data:image/png;base64,AA">',
        "<svg><circle/></svg>",
        '<p style="color:red">x</p>',
        '<a href="vbscript:x">x</a>',
    ],
)
def test_the_checker_sees_active_content(fragment: str) -> None:
    assert active_content(fragment)


def test_the_checker_passes_safe_html() -> None:
    safe = (
        '<p><a href="https://example.com/" rel="noopener noreferrer">a</a> '
        '<img src="/img/a.png" alt="onerror=alert(1)"> <code>&lt;script&gt;</code></p>'
    )
    assert active_content(safe) == []


# --------------------------------------------------------------------------- the corpus


def test_every_hostile_page_loads(index: ContentIndex) -> None:
    assert index.errors == ()
    assert sorted(t.slug for t in index.public.treatments) == PAGES
    assert set(PLANTED) == set(PAGES)


@pytest.mark.parametrize("slug", PAGES)
def test_html_fields_hold_no_active_content(pages: dict[str, dict[str, Any]], slug: str) -> None:
    page = pages[slug]
    assert active_content(page["html"]) == []
    for section in page["sections"]:
        assert active_content(section["html"]) == [], section["heading"]


@pytest.mark.parametrize("slug", PAGES)
def test_text_fields_are_strings(pages: dict[str, dict[str, Any]], slug: str) -> None:
    # Plain text is served as JSON strings and shown by clients as text, so markup
    # written as text (a front matter title with <script> in it) may stay.
    page = pages[slug]
    for field in ("title", "excerpt", "excerptLong", "text"):
        assert isinstance(page[field], str)
    assert page["summary"] is None or isinstance(page["summary"], str)
    assert all(isinstance(s["text"], str) for s in page["sections"])


@pytest.mark.parametrize("slug", sorted(set(PAGES) - {"ordinary", "front-matter-script"}))
def test_script_source_is_not_text(pages: dict[str, dict[str, Any]], slug: str) -> None:
    """Code inside <script> or <style> is not part of a page's text (or its search words)."""
    page = pages[slug]
    assert "document.cookie" not in page["text"]
    assert "alert('inside" not in page["text"]
    assert "background: url" not in page["text"]


def test_script_source_is_not_an_indication(pages: dict[str, dict[str, Any]]) -> None:
    names = {i["name"] for i in pages["indications-script"]["indications"]}
    # From the body's "Helps with:" list: script code is not part of a name.
    assert {"Acne", "Eczema", "Psoriasis", "Scars"} <= names
    assert not any("alert('item')" in name for name in names)


def test_front_matter_markup_stays_text(pages: dict[str, dict[str, Any]]) -> None:
    page = pages["front-matter-script"]
    assert page["title"] == "<script>alert('title')</script> Okapi Peel"
    assert page["summary"].startswith("<img src=x onerror=")
    assert active_content(page["html"]) == []
    assert "Binturong body text." in page["text"]


def check_snippet(snippet: str, words: list[str]) -> None:
    """Escaped text, the matched words (or words they begin) in <mark>…</mark> pairs."""
    assert "<mark>" in snippet, snippet
    assert "<" not in re.sub(r"</?mark>", "", snippet), snippet
    assert active_content(snippet) == []
    assert re.fullmatch(r"[^<]*(?:<mark>[^<]*</mark>[^<]*)*", snippet), snippet
    for marked in re.findall(r"<mark>([^<]*)</mark>", snippet):
        assert marked.lower().startswith(tuple(words)), (marked, snippet)


@pytest.mark.parametrize(
    "word", sorted({*PLANTED.values(), *HOSTILE_WORDS} - {PLANTED["control-characters"]})
)
def test_search_snippets_are_text_with_marks(index: ContentIndex, word: str) -> None:
    hits = run(index, SEARCH, query=word)["search"]
    assert hits, f"nothing found for {word!r}"
    for hit in hits:
        check_snippet(hit["snippet"], [word])


def test_markup_written_as_text_is_escaped_in_snippets(index: ContentIndex) -> None:
    hits = run(index, SEARCH, query="onerror")["search"]
    assert any("&lt;img src=x <mark>onerror</mark>=" in hit["snippet"] for hit in hits)


def test_planted_words_find_their_pages(index: ContentIndex) -> None:
    for slug, word in PLANTED.items():
        hits = run(index, SEARCH, query=word)["search"]
        assert slug in {hit["treatment"]["slug"] for hit in hits}, word


def test_title_markup_is_escaped_in_snippets(index: ContentIndex) -> None:
    hits = run(index, SEARCH, query="okapi peel")["search"]
    snippets = [h["snippet"] for h in hits if h["treatment"]["slug"] == "front-matter-script"]
    assert snippets == [
        "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; <mark>Okapi</mark> <mark>Peel</mark>"
    ]


# --------------------------------------------------------------------------- specific tricks


def test_sources_led_by_unicode_space_lose_their_scheme(pages: dict[str, dict[str, Any]]) -> None:
    """`&nbsp;javascript:` passes nh3 as a relative URL; trimmed, it would be a script."""
    page = pages["whitespace-urls"]
    sources = [dict(attrs).get("src") for tag, attrs in parse_tags(page["html"]) if tag == "img"]
    assert sources
    for src in sources:
        probe = _URL_IGNORED.sub("", src or "").lower()
        assert not probe.startswith(UNSAFE_SCHEMES), src


def test_an_attribute_ending_in_src_does_not_confuse_image_sources(
    pages: dict[str, dict[str, Any]],
) -> None:
    images = [dict(a) for t, a in parse_tags(pages["whitespace-urls"]["html"]) if t == "img"]
    assert {"alt": "a src=", "src": "/quote-trick.png"} in images


def test_carousels_and_amp_tags_are_gone(pages: dict[str, dict[str, Any]]) -> None:
    html = pages["amp-carousel-script"]["html"]
    assert "amp-" not in html
    assert "Quetzalcoatlite body text after the carousel." in pages["amp-carousel-script"]["text"]


# --------------------------------------------------------------------------- ordinary page


def test_an_ordinary_page_survives(pages: dict[str, dict[str, Any]]) -> None:
    page = pages["ordinary"]
    html = page["html"]
    tags = parse_tags(html)
    names = {tag for tag, _ in tags}
    assert {"table", "thead", "tbody", "tr", "th", "td"} <= names
    assert {"pre", "code", "em", "strong", "blockquote", "ul", "ol", "li", "h1", "h2"} <= names
    assert '<code class="language-html">&lt;script&gt;alert("this is shown as text")' in html
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html
    hrefs = [dict(attrs).get("href") for tag, attrs in tags if tag == "a"]
    assert "https://example.com/safe" in hrefs
    assert "mailto:clinic@example.com" in hrefs
    assert '<a href="https://example.com/safe"' in html
    assert '<img alt="A picture" src="/img/pages/picture.jpg" title="A title">' in html
    assert '<td align="right">60</td>' in html or "<td>60</td>" in html
    assert "<li>nested</li>" in html
    assert active_content(html) == []
    # Code shown as text is text: the page's text has it, literally.
    assert '<script>alert("this is shown as text")</script>' in page["text"]
    assert [h["title"] for h in page["tableOfContents"]] == [
        "Ordinary Page",
        "A table",
        "Some code",
        "Lists",
    ]
    assert page["summary"] == "An ordinary page about the kinkajou treatment."


# --------------------------------------------------------------------------- known gaps


def test_image_sources_have_no_active_schemes(index: ContentIndex) -> None:
    query = "{ images(first: 100) { nodes { src url } } }"
    nodes = run(index, query)["images"]["nodes"]
    bad = [
        node["src"]
        for node in nodes
        if _URL_IGNORED.sub("", node["src"]).lower().startswith(UNSAFE_SCHEMES)
    ]
    assert bad == []


def test_control_characters_in_front_matter_are_not_marks(index: ContentIndex) -> None:
    for query in ("caracal", "caracal control"):
        hits = run(index, SEARCH, query=query)["search"]
        assert hits
        for hit in hits:
            check_snippet(hit["snippet"], query.split())
