"""Page bodies: images, safe HTML, plain text, headings, indications and summaries."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contentapi.content.index import ContentIndex
from contentapi.content.markup import Renderer, normalise_src, sanitize
from contentapi.content.model import ContentError, Heading, Image, Treatment

Parse = Callable[..., Treatment | ContentError]


def page(parse: Parse, body: str, front: str = "title: T\n") -> Treatment:
    result = parse(f"---\n{front}---\n{body}", "t.md")
    assert isinstance(result, Treatment), result
    return result


# --------------------------------------------------------------------------- images


def test_images_in_document_order(fixtures_dir: Path) -> None:
    index = ContentIndex.from_directory(fixtures_dir / "pages")
    images = index.public.by_slug["images"].images
    assert images == (
        Image("/images/", 0, "/img/x.png", "First alt", "First title", None, None),
        Image(
            "/images/",
            1,
            "https://cdn.example.com/a/b.png?w=1&h=2",
            "second alt",
            "Second",
            640,
            480,
        ),
        Image("/images/", 2, "/relative/third.jpg", "third", None, 120, 90),
        Image("/images/", 3, "/already/absolute.gif", None, None, None, None),
        Image("/images/", 4, "/pics/fourth.webp", None, None, None, None),
    )


def test_image_html_uses_the_same_sources(fixtures_dir: Path) -> None:
    index = ContentIndex.from_directory(fixtures_dir / "pages")
    html = index.public.by_slug["images"].html
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert sources == [
        "/img/x.png",
        "https://cdn.example.com/a/b.png?w=1&amp;h=2",
        "/relative/third.jpg",
        "/already/absolute.gif",
        "/pics/fourth.webp",
    ]
    assert "amp-" not in html
    assert '&lt;img src="/inside/a/fence.png"&gt;' in html  # code stays code


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("\\img\\pages\\a.jpg", "/img/pages/a.jpg"),
        ("img\\x.png", "/img/x.png"),
        ("img/x.png", "/img/x.png"),
        ("./img/x.png", "/img/x.png"),
        ("/img/x.png", "/img/x.png"),
        ("  /padded.png ", "/padded.png"),
        ("https://example.com/a\\b.png", "https://example.com/a/b.png"),
        ("http://example.com/x.png", "http://example.com/x.png"),
        ("data:image/png;base64,AAAA", "data:image/png;base64,AAAA"),
        ("//cdn.example.com/x.png", "//cdn.example.com/x.png"),
    ],
)
def test_normalise_src(src: str, expected: str) -> None:
    assert normalise_src(src) == expected


def test_tag_attributes_in_any_order_over_lines(parse: Parse) -> None:
    treatment = page(
        parse,
        "Text.\n\n<amp-img\n  alt='single quoted'\n  height=\"20\"\n  src=pics/bare.png\n"
        '  width="10"\n  title="T &amp; U"></amp-img>\n\n<IMG SRC="/upper.png" WIDTH=5 />\n',
    )
    assert treatment.images == (
        Image("/t/", 0, "/pics/bare.png", "single quoted", "T & U", 10, 20),
        Image("/t/", 1, "/upper.png", None, None, 5, None),
    )


def test_markdown_image_forms(parse: Parse) -> None:
    treatment = page(
        parse,
        "![a](one.png) ![b]( <two.png> 'Two' ) ![](three.png \"\")\n\n"
        "`code` and ~~~ not a fence\n\n~~~\n![fenced](no.png)\n~~~\n",
    )
    assert [(i.src, i.alt, i.title) for i in treatment.images] == [
        ("/one.png", "a", None),
        ("/two.png", "b", "Two"),
        ("/three.png", None, None),
    ]


def test_images_without_src_are_skipped_and_positions_stay_dense(parse: Parse) -> None:
    treatment = page(parse, '<img alt="no source">\n\n<img src="">\n\n![x](a.png)\n')
    assert treatment.images == (Image("/t/", 0, "/a.png", "x", None, None, None),)


def test_non_leading_carousel_becomes_plain_images(parse: Parse) -> None:
    treatment = page(
        parse,
        'Intro paragraph.\n\n<amp-carousel layout="fixed">\n'
        '<amp-img src="\\a.jpg" width="1" height="2" alt="A"></amp-img>\n'
        "</amp-carousel>\n",
    )
    assert [i.src for i in treatment.images] == ["/a.jpg"]
    assert "amp-" not in treatment.html
    assert '<img src="/a.jpg" alt="A" width="1" height="2">' in treatment.html
    assert treatment.summary == "Intro paragraph."


def test_leading_carousel_is_not_in_html(parse: Parse) -> None:
    treatment = page(
        parse,
        '\n<amp-carousel>\n<amp-img src="a.jpg"></amp-img>\n<amp-img src="b.jpg"></amp-img>\n'
        "</amp-carousel>\n\nText.\n",
    )
    assert [i.src for i in treatment.images] == ["/a.jpg", "/b.jpg"]
    assert treatment.html == "<p>Text.</p>"


@pytest.mark.parametrize(
    "code",
    [
        pytest.param('Text.\n\n    <img src="code.png">\n    ![x](code.png)\n', id="indented"),
        pytest.param("Text.\n\n\t![x](code.png)\n", id="indented-by-a-tab"),
        pytest.param("Use `![x](code.png)` here.\n", id="code-span"),
        pytest.param('Use `<img src="code.png">` here.\n', id="code-span-tag"),
        pytest.param("Use `` `![x](code.png)` `` here.\n", id="double-backticks"),
        pytest.param('Use `<amp-img src="code.png"></amp-img>` here.\n', id="code-span-amp"),
        pytest.param("````\n```\n![x](code.png)\n```\n````\n", id="long-fence"),
        pytest.param("~~~md\n![x](code.png)\n~~~\n", id="tilde-fence"),
        pytest.param("- item\n\n        ![x](code.png)\n", id="code-in-a-list-item"),
        pytest.param("> quote\n>\n>     ![x](code.png)\n", id="code-in-a-quote"),
        pytest.param("A note[^1].\n\n[^1]: See `![x](code.png)`.\n", id="code-in-a-footnote"),
    ],
)
def test_images_written_in_code_are_not_images(parse: Parse, code: str) -> None:
    treatment = page(parse, f"![before](a.png)\n\n{code}\n![after](b.png)\n")
    assert treatment.images == (
        Image("/t/", 0, "/a.png", "before", None, None, None),
        Image("/t/", 1, "/b.png", "after", None, None, None),
    )
    assert "code.png" in treatment.html  # shown as code, not dropped


@pytest.mark.parametrize(
    ("body", "src"),
    [
        # Four spaces inside a list item continue the item: a paragraph, not code.
        pytest.param("- item\n\n    ![x](listed.png)\n", "/listed.png", id="list-paragraph"),
        # A lazy continuation line of a paragraph is not code however far it is indented.
        pytest.param("Para\n    ![x](lazy.png)\n", "/lazy.png", id="lazy-line"),
        # Raw HTML is passed through: an indented tag in a <div> is shown as a picture.
        pytest.param('<div>\n\n    <img src="div.png">\n\n</div>\n', "/div.png", id="html"),
        pytest.param('<code><img src="raw.png"></code>\n', "/raw.png", id="raw-code-tag"),
        # An escaped backtick opens no code span.
        pytest.param("\\`![x](escaped.png)\\`\n", "/escaped.png", id="escaped-backtick"),
        pytest.param("# Heading ![x](heading.png)\n", "/heading.png", id="heading"),
        pytest.param("A note[^1].\n\n[^1]: ![x](note.png)\n", "/note.png", id="footnote"),
    ],
)
def test_images_beside_code_like_text_are_images(parse: Parse, body: str, src: str) -> None:
    assert [image.src for image in page(parse, body).images] == [src]


def test_finding_images_leaves_html_text_and_headings_as_they_were(parse: Parse) -> None:
    treatment = page(
        parse,
        "# Title ![logo](logo.png)\n\nSee `![x](code.png)` and \\![not](an-image.png).\n\n"
        "[TOC]\n\n## Part ![icon](icon.png)\n\n- Suitable for:\n\n"
        '<a title="![t](t.png)" href="/x">link</a>\n',
    )
    assert [image.src for image in treatment.images] == [
        "/logo.png",
        "/an-image.png",
        "/icon.png",
        "/t.png",
    ]
    assert treatment.toc == (
        Heading(1, "Title", "title"),
        Heading(2, "Part", "part"),
    )
    assert treatment.html == (
        '<h1 id="title">Title <img alt="logo" src="/logo.png"></h1>\n'
        "<p>See <code>![x](code.png)</code> and "
        '!<a href="an-image.png" rel="noopener noreferrer">not</a>.</p>\n'
        '<div>\n<ul>\n<li><a href="#title" rel="noopener noreferrer">Title</a><ul>\n'
        '<li><a href="#part" rel="noopener noreferrer">Part</a></li>\n</ul>\n</li>\n</ul>\n'
        '</div>\n<h2 id="part">Part <img alt="icon" src="/icon.png"></h2>\n'
        "<ul>\n<li>Suitable for:</li>\n</ul>\n"
        # Python-Markdown renders the image inside the attribute: what matters is that
        # finding images changes nothing.
        '<p><a title="&lt;img alt=" rel="noopener noreferrer">" href="/x"&gt;link</a></p>'
    )


# What finding images must never change: pieces of Markdown that give images, code and
# the contexts around them (escapes, tabs, links, footnotes, a table of contents, HTML).
MARKDOWN_PIECES = [
    "![a](x.png)",
    '<img src="y.png">',
    "<IMG SRC=z.png>",
    "`",
    "``",
    "\n",
    "\n\n",
    "    ",
    "\t",
    "- ",
    "> ",
    "# ",
    "```\n",
    "~~~\n",
    "\\",
    "<div>",
    "</div>",
    "<code>",
    "</code>",
    "text ",
    "*",
    "_",
    "[^1]",
    "[^1]: ",
    "[TOC]",
    "[l](",
    ")",
    "<",
    "|",
    "1. ",
    "&amp;",
]


def markdown_alone(body: str) -> str:
    """The html of a body without amp- tags, as Markdown renders it with nothing of ours."""
    rendered = markdown.markdown(
        body, extensions=["extra", "toc", "sane_lists"], output_format="html"
    )
    return sanitize(rendered)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(MARKDOWN_PIECES), max_size=30))
def test_finding_images_changes_nothing_markdown_renders(pieces: list[str]) -> None:
    body = "".join(pieces)
    assert Renderer().render(body, "t").html == markdown_alone(body)


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("\\![a](x.png)", '<p>!<a href="x.png" rel="noopener noreferrer">a</a></p>'),
        ("\\\\![a](x.png)", '<p>\\<img alt="a" src="/x.png"></p>'),
        ("[l](<img src=y.png>)", '<p><a href="img src=y.png" rel="noopener noreferrer">l</a></p>'),
        (
            "[l](\n<img src=y.png>)",
            '<p><a href="img src=y.png" rel="noopener noreferrer">l</a></p>',
        ),
        # Markdown reads `<!` inside raw HTML as a declaration, up to the end of the block.
        ("a\n\n<div>\n<![a](x.png)\n</div>\n\n# H\n", "<p>a</p>\n<div>\n\n\n# H</div>"),
    ],
)
def test_images_next_to_escapes_links_and_declarations(parse: Parse, body: str, html: str) -> None:
    treatment = page(parse, body + "\n")
    assert (treatment.html, len(treatment.images)) == (html, 1)
    assert html == markdown_alone(body)


def test_a_tab_after_an_image_keeps_its_tab_stop(parse: Parse) -> None:
    treatment = page(parse, "Text.\n\n    code ![x](a.png)\tafter\n\n![y](b.png)\tafter\n")
    assert [image.src for image in treatment.images] == ["/b.png"]
    # Tab stops every 4 columns, counted on the line as written.
    assert treatment.html == (
        "<p>Text.</p>\n<pre><code>code ![x](a.png)    after\n</code></pre>\n"
        '<p><img alt="y" src="/b.png"> after</p>'
    )


# --------------------------------------------------------------------------- html


@pytest.mark.parametrize(
    ("body", "forbidden"),
    [
        ("<script>alert(1)</script>\n\nText.", "<script"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ("[x](javascript:alert(1))", "javascript:"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<object data="x.swf"></object>', "<object"),
        ("<style>body{display:none}</style>\n\nText.", "<style"),
        ('<p style="color:red" onclick="x()">Hi</p>', "onclick"),
        ('<div onmouseover="x()">Hi</div>', "onmouseover"),
    ],
)
def test_html_is_sanitised(parse: Parse, body: str, forbidden: str) -> None:
    treatment = page(parse, body + "\n")
    assert forbidden not in treatment.html.lower()


def test_headings_get_id_anchors(parse: Parse) -> None:
    treatment = page(
        parse, "## First Part\n\nText.\n\n### Second & Last!\n\nMore.\n\n## First Part\n"
    )
    assert treatment.toc == (
        Heading(2, "First Part", "first-part"),
        Heading(3, "Second & Last!", "second-last"),
        Heading(2, "First Part", "first-part_1"),
    )
    assert '<h2 id="first-part">First Part</h2>' in treatment.html
    assert '<h3 id="second-last">Second &amp; Last!</h3>' in treatment.html
    assert '<h2 id="first-part_1">First Part</h2>' in treatment.html
    assert [s.text for s in treatment.sections] == ["Text.", "More.", ""]


# --------------------------------------------------------------------------- text, counts, summary


def test_text_has_no_tags_and_decodes_entities(parse: Parse) -> None:
    treatment = page(parse, "Fish &amp; chips, 5 &lt; 6, *em* and `a<b`.\n\n- one\n- two\n")
    assert treatment.text == "Fish & chips, 5 < 6, em and a<b.\none\ntwo"
    assert treatment.word_count == 11 == len(treatment.text.split())


@pytest.mark.parametrize(
    ("words", "minutes"), [(0, 1), (1, 1), (200, 1), (201, 2), (400, 2), (401, 3)]
)
def test_reading_time(parse: Parse, words: int, minutes: int) -> None:
    treatment = page(parse, " ".join(["word"] * words) + "\n")
    assert treatment.word_count == words
    assert treatment.reading_time_minutes == minutes


def test_summary_is_description_else_first_paragraph(parse: Parse) -> None:
    assert page(parse, "First *para*.\n\nSecond.\n").summary == "First para."
    described = page(parse, "First.\n", front="title: T\ndescription: ' Given. '\n")
    assert described.summary == "Given."


def test_summary_skips_paragraphs_without_text(parse: Parse) -> None:
    treatment = page(parse, "![only an image](a.png)\n\nThe real first words.\n")
    assert treatment.summary == "The real first words."


def test_no_paragraph_no_summary(parse: Parse) -> None:
    assert page(parse, "## Just a heading\n").summary is None
    assert page(parse, "").summary is None
    assert page(parse, "").html == ""


# --------------------------------------------------------------------------- indications


@pytest.mark.parametrize(
    "heading",
    [
        "Mesotherapy also can help with:",
        "It helps with:",
        "Suitable for:",
        "GOOD FOR:",
        "Recommended for:",
        "Indications:",
        "What it treats:",
        "Who is this *suitable for*:",
    ],
)
def test_indication_headings(parse: Parse, heading: str) -> None:
    treatment = page(parse, f"Intro.\n\n#### {heading}\n\n* Acne\n* Dry skin\n")
    assert [(m.name, m.slug) for m in treatment.indications] == [
        ("Acne", "acne"),
        ("Dry skin", "dry-skin"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "## Good for\n\n* Not: no colon\n",
        "## Prices:\n\n* 100 GBP\n",
        "## Good for:\n\nA paragraph first.\n\n* Not directly after\n",
        # A qualifying heading without a list must not reach a later heading's list.
        "## Good for you:\n\nA paragraph.\n\n## Prices:\n\n- 100 GBP\n- 200 GBP\n",
        "Good for:\n\n* A paragraph is not a heading\n",
    ],
)
def test_lists_that_are_not_indications(parse: Parse, body: str) -> None:
    assert page(parse, body).indications == ()


def test_indication_list_forms(parse: Parse) -> None:
    body = (
        "## Good for:\n"  # no blank line before the list
        "1. **Acne** scars\n"
        "2. [Hair loss](/hair)\n"
        "    - Only a detail\n"
        "3. Acne  Scars\n"  # the same slug: once
        "\n"
        "## Treats:\n\n"
        "* Loose item\n\n"
        "* Another &amp; more\n"
    )
    assert [(m.name, m.slug) for m in page(parse, body).indications] == [
        ("Acne scars", "acne-scars"),
        ("Hair loss", "hair-loss"),
        ("Loose item", "loose-item"),
        ("Another & more", "another-more"),
    ]


def test_front_matter_indications_after_heading_lists(parse: Parse) -> None:
    treatment = page(
        parse,
        "## Helps with:\n\n* Acne\n",
        front="title: T\nindications: [acne, ' Rosacea ', 42, '']\n",
    )
    assert [(m.name, m.slug) for m in treatment.indications] == [
        ("Acne", "acne"),
        ("Rosacea", "rosacea"),
        ("42", "42"),
    ]
