"""Page bodies: images, safe HTML, plain text, headings, indications and summaries."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import markdown
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contentapi.content.dialect import site_dialect
from contentapi.content.fragments import normalise_src, sanitize
from contentapi.content.index import ContentIndex
from contentapi.content.markup import Renderer, python_markdown
from contentapi.content.model import ContentError, Heading, Image, Treatment
from contentapi.content.page import parse_page
from contentapi.content.reload import LiveIndex
from contentapi.errors import SettingsError
from contentapi.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent.parent

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
    "![r]",
    "[r]: r.png\n",
    "```js {1}\n",
    "  ",
]


def markdown_alone(body: str) -> str:
    """The html of a body without amp- tags, as the renderer's Markdown renders it without
    image marks."""
    return sanitize(python_markdown().convert(body))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(MARKDOWN_PIECES), max_size=30))
def test_finding_images_changes_nothing_markdown_renders(pieces: list[str]) -> None:
    body = "".join(pieces)
    plain = markdown_alone(body)
    # Python-Markdown itself sometimes leaves one of its inline placeholders (STX
    # "klzzwxh:0002" ETX) in the html, as for "*![a](x.png)**![a](x.png)*![a](x.png)":
    # its output is then no oracle (the renderer's shows the image there).
    assume("klzzwxh:" not in plain)
    assert Renderer().render(body, "t").html == plain


# Without an attribute-carrying info string or a list item, no fence is one Python-Markdown
# itself would not read: the renderer's Markdown is Python-Markdown's, unchanged.
ORDINARY_PIECES = [
    piece for piece in MARKDOWN_PIECES if piece not in ("```js {1}\n", "- ", "1. ", "*")
]


# A line at the margin opening a fence whose info string fenced_code does not read (it
# takes a word of these characters, optionally {attributes} or hl_lines).
UNREAD_FENCE = re.compile(r"^(`{3,}|~{3,}) *(?![\w#.+-]* *$)(?!\{)[^`\n]+$", re.MULTILINE)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*ORDINARY_PIECES, "```js\n", "  ```\n"]), max_size=30))
def test_site_fences_leave_ordinary_markdown_alone(pieces: list[str]) -> None:
    body = "".join(pieces)
    assume(UNREAD_FENCE.search(body) is None)
    plain = markdown.Markdown(extensions=["extra", "toc", "sane_lists"], output_format="html")
    assert python_markdown().convert(body) == plain.convert(body)


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


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("```![a](x.png)\n```\n", "<pre><code></code></pre>"),
        ("```![a](x.png)\nkept\n```\n", "<pre><code>kept\n</code></pre>"),
        ("```js![a](x.png)\nkept\n```\n", '<pre><code class="language-js">kept\n</code></pre>'),
    ],
)
def test_an_info_string_is_no_picture(parse: Parse, body: str, html: str) -> None:
    # kramdown's GFM parser, goldmark and CommonMark read any info string without a
    # backtick as a fence's (fenced_code alone reads the first as a code span): the
    # picture in it is not shown, so it is not one of the page's images.
    treatment = page(parse, body)
    assert (treatment.html, treatment.images) == (html, ())


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
        "Good for\n\n* A paragraph line without a colon\n",
        "Good for: everyone\n\n* The line does not end in a colon\n",
        "Prices:\n\n* A paragraph line without an indication word\n",
        "The benefits are many.\nSee:\n\n* Only the last line counts\n",
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


@pytest.mark.parametrize(
    "line",
    [
        "Benefits of microneedling:",
        "**Best for:**",
        "Treatment areas:",
        "Good for:",
        "The treatment takes an hour.\nIt helps with:",
        "See the photos.  \nBest for:",  # a hard break before the line
    ],
)
def test_indication_paragraph_lines(parse: Parse, line: str) -> None:
    treatment = page(parse, f"Intro.\n\n{line}\n\n* Acne\n* Dry skin\n")
    assert [(m.name, m.slug) for m in treatment.indications] == [
        ("Acne", "acne"),
        ("Dry skin", "dry-skin"),
    ]


@pytest.mark.parametrize(
    ("intro", "found"),
    [
        # A numeric reference hides a word from a look at the html: it is parsed.
        ("It &#104;elps with:", ["acne", "dry-skin"]),
        ("<em>Helps</em> with:", ["acne", "dry-skin"]),
        ("It HELPS WITH:", ["acne", "dry-skin"]),
        # None of the words: no list of indications, however it reads.
        ("It works on:", []),
        ("It helps:", []),
    ],
)
def test_the_words_before_a_list_of_indications(parse: Parse, intro: str, found: list[str]) -> None:
    treatment = page(parse, f"Intro.\n\n{intro}\n\n* Acne\n* Dry skin\n")
    assert [m.slug for m in treatment.indications] == found


def test_a_list_right_after_a_paragraph_line_is_a_list_on_commonmark_sites_only(
    parse: Parse,
) -> None:
    body = "Best for:\n- Acne\n- Scars\n"
    kramdown, commonmark = page(parse, body), commonmark_page(body)
    assert kramdown.html == "<p>Best for:\n- Acne\n- Scars</p>"
    assert kramdown.indications == ()
    assert commonmark.html == "<p>Best for:</p>\n<ul>\n<li>Acne</li>\n<li>Scars</li>\n</ul>"
    assert [m.slug for m in commonmark.indications] == ["acne", "scars"]


# --------------------------------------------------------------------------- dialects


COMMONMARK = Renderer("commonmark")


def commonmark_page(body: str, path: str = "t.md", front: str = "title: T\n") -> Treatment:
    result = parse_page(f"---\n{front}---\n{body}".encode(), path, COMMONMARK)
    assert isinstance(result, Treatment), result
    return result


def both(parse: Parse, body: str, path: str = "t.md") -> list[Treatment]:
    """The page as a kramdown site and as a CommonMark site renders it."""
    kramdown = parse(f"---\ntitle: T\n---\n{body}", path)
    assert isinstance(kramdown, Treatment), kramdown
    return [kramdown, commonmark_page(body, path)]


def test_fences_whose_info_string_carries_attributes(parse: Parse) -> None:
    body = (
        "```jsx {6}\nconst A = () => <b>bold</b>;\n```\n\nAfter.\n\n"
        '```md {file="a.md"}\n# Not a heading\n```\n\n'
        "~~~ python title=\"x.py\" {1,3}\nx = '<i>'\n~~~\n"
    )
    for treatment in both(parse, body):
        assert treatment.html == (
            '<pre><code class="language-jsx">const A = () =&gt; &lt;b&gt;bold&lt;/b&gt;;\n'
            "</code></pre>\n<p>After.</p>\n"
            '<pre><code class="language-md"># Not a heading\n</code></pre>\n'
            "<pre><code class=\"language-python\">x = '&lt;i&gt;'\n</code></pre>"
        )
        assert treatment.toc == ()
        assert treatment.summary == "After."


def test_fences_inside_list_items(parse: Parse) -> None:
    body = (
        "1. Install:\n\n   ```sh\n   npm i <pkg>\n     --save\n   ```\n\n"
        "2. Configure:\n\n    ```toml {linenos=true}\n    [markup]\n    ```\n\n"
        "3. Run.\n"
    )
    for treatment in both(parse, body):
        assert treatment.html == (
            "<ol>\n<li>\n<p>Install:</p>\n"
            '<pre><code class="language-sh">npm i &lt;pkg&gt;\n  --save\n</code></pre>\n'
            "</li>\n<li>\n<p>Configure:</p>\n"
            '<pre><code class="language-toml">[markup]\n</code></pre>\n'
            "</li>\n<li>\n<p>Run.</p>\n</li>\n</ol>"
        )


def test_an_indented_fence_outside_a_list_is_still_code_on_kramdown_sites(
    parse: Parse,
) -> None:
    # Four spaces at the margin: an indented code block, fence characters and all.
    assert page(parse, "Text.\n\n    ```js\n    x\n    ```\n").html == (
        "<p>Text.</p>\n<pre><code>```js\nx\n```\n</code></pre>"
    )


def test_a_fence_inside_a_fence_is_code(parse: Parse) -> None:
    body = "````md\n```jsx {6}\n<b>x</b>\n```\n````\n"
    for treatment in both(parse, body):
        assert treatment.html == (
            '<pre><code class="language-md">```jsx {6}\n&lt;b&gt;x&lt;/b&gt;\n```\n</code></pre>'
        )


def test_reference_style_images_in_document_order(parse: Parse) -> None:
    body = (
        "![Inline](a.png) then ![First][one], ![Second][] and ![third] and ![none][missing]"
        ' <img src="/tag.png">.\n\n'
        '[one]: media/1.png "One"\n[second]: /img/2.png\n[Third]: <../3.png>\n'
        "[ONE]: /not-the-first-definition.png\n"
    )
    for treatment in both(parse, body, "post/index.md"):
        assert treatment.images == (
            Image("/post/", 0, "/post/a.png", "Inline", None, None, None),
            Image("/post/", 1, "/post/media/1.png", "First", "One", None, None),
            Image("/post/", 2, "/img/2.png", "Second", None, None, None),
            Image("/post/", 3, "/3.png", "third", None, None, None),
            Image("/post/", 4, "/tag.png", None, None, None, None),
        )


def test_reference_style_images_in_code_are_not_images(parse: Parse) -> None:
    body = "`![a][r]`\n\n    ![b][r]\n\n```\n![c][r]\n```\n\n![d][r]\n\n[r]: /r.png\n"
    for treatment in both(parse, body):
        assert [(image.src, image.alt) for image in treatment.images] == [("/r.png", "d")]


@pytest.mark.parametrize(
    "body",
    [
        "![logo](/{{t.logoImage}})\n",
        "![x]({{site.baseurl}}/x.png)\n",
        '<img src="{{ .RelPermalink }}">\n',
        "<img src='{% link assets/x.png %}'>\n",
        '<amp-img src="{{ page.image }}" width="1" height="1"></amp-img>\n',
        "![r][r]\n\n[r]: /{{ r }}.png\n",
    ],
)
def test_template_expressions_are_not_images(parse: Parse, body: str) -> None:
    for treatment in both(parse, body + "\n![kept](kept.png)\n"):
        assert [image.src for image in treatment.images] == ["/kept.png"]


def test_images_in_code_are_not_images_on_commonmark_sites() -> None:
    treatment = commonmark_page(
        '`![a](code.png)` `<img src="span.png">`\n\n    ![b](indented.png)\n\n'
        '```\n<img src="fence.png">\n```\n\n- ```\n  ![c](listed.png)\n  ```\n\n'
        "> ```\n> ![d](quoted.png)\n> ```\n\n![e](real.png)\n"
    )
    assert [image.src for image in treatment.images] == ["/real.png"]


@pytest.mark.parametrize(
    ("path", "src", "expected"),
    [
        ("post/index.md", "./yoda.jpg", "/post/yoda.jpg"),
        ("post/index.md", "yoda.jpg", "/post/yoda.jpg"),
        ("build/reference/page.md", "../media/x.png", "/build/media/x.png"),
        ("build/reference/page.md", "./../../media/./x.png?w=2#top", "/media/x.png?w=2#top"),
        # Above the content root: the excess `..` is dropped, never served.
        ("build/page.md", "../../../x.png", "/x.png"),
        ("build/page.md", "%2e%2e/%2E%2E/x.png", "/x.png"),
        ("build/page.md", "/img/../x.jpg", "/x.jpg"),
        ("build/page.md", "/img/x.jpg", "/img/x.jpg"),
        ("build/page.md", "https://cdn.example.com/../x.png", "https://cdn.example.com/../x.png"),
        ("build/page.md", "//cdn.example.com/x.png", "//cdn.example.com/x.png"),
        ("build/page.md", "img\\pages\\x.jpg", "/build/img/pages/x.jpg"),
        ("top.md", "img\\pages\\x.jpg", "/img/pages/x.jpg"),
    ],
)
def test_relative_images_resolve_against_the_page_folder(
    parse: Parse, path: str, src: str, expected: str
) -> None:
    for treatment in both(parse, f'![x]({src})\n\n<img src="{src}">\n', path):
        assert [image.src for image in treatment.images] == [expected, expected]
        assert treatment.html.count(f'src="{expected}"') == 2


def test_the_leading_carousel_on_commonmark_sites() -> None:
    treatment = commonmark_page(
        '<amp-carousel width="4" height="3">\n<amp-img src="a\\b.jpg" width="400" '
        'height="300"></amp-img>\n</amp-carousel>\n\nText.\n\n'
        '<amp-img src="./c.jpg" alt="C"></amp-img>\n',
        "post/index.md",
    )
    assert treatment.html == '<p>Text.</p>\n<img src="/post/c.jpg" alt="C">'
    assert treatment.images == (
        Image("/post/", 0, "/post/a/b.jpg", None, None, 400, 300),
        Image("/post/", 1, "/post/c.jpg", "C", None, None, None),
    )


def test_commonmark_headings_get_the_same_anchors_and_toc() -> None:
    body = "# Café *au* lait\n\n## Step\n\n## Step\n\n### `code` & <i>more</i>\n"
    treatment = commonmark_page(body)
    assert treatment.toc == (
        Heading(1, "Café au lait", "cafe-au-lait"),
        Heading(2, "Step", "step"),
        Heading(2, "Step", "step_1"),
        Heading(3, "code & more", "code-more"),
    )
    assert treatment.html.startswith('<h1 id="cafe-au-lait">Café <em>au</em> lait</h1>')
    assert [heading for heading in Renderer().render(body, "t").toc] == list(treatment.toc)


def test_commonmark_sites_have_tables_strikethrough_and_task_lists() -> None:
    treatment = commonmark_page("| a | b |\n|---|--:|\n| 1 | 2 |\n\n~~old~~\n\n- [x] done\n")
    assert treatment.html == (
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n"
        "<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n<p><s>old</s></p>\n"
        # The task's checkbox is an <input>, which sanitising drops.
        "<ul>\n<li> done</li>\n</ul>"
    )


def test_commonmark_html_is_sanitised() -> None:
    treatment = commonmark_page(
        '<script>alert(1)</script>\n\n[x](javascript:alert(1)) <a href="javascript:x" '
        'onclick="y">a</a>\n\n![i](javascript:alert(1))\n'
    )
    # markdown-it refuses javascript: links and images (left as text); nh3 the rest.
    assert treatment.html == (
        '\n<p>[x](javascript:alert(1)) <a rel="noopener noreferrer">a</a></p>\n'
        "<p>![i](javascript:alert(1))</p>"
    )
    assert treatment.images == ()


@pytest.mark.parametrize(
    ("files", "dialect"),
    [
        ({}, "kramdown"),
        ({"_config.yml": "title: x\n"}, "kramdown"),
        ({"_config.yml": "markdown: kramdown\n"}, "kramdown"),
        ({"_config.yml": "title: x\nmarkdown: CommonMarkGhPages\n"}, "commonmark"),
        ({"hugo.toml": "title = 'x'\n"}, "commonmark"),
        ({"config.toml": "baseURL = 'https://x.org/'\n"}, "commonmark"),  # Hugo
        ({"config.toml": 'base_url = "https://x.org"\n'}, "commonmark"),  # Zola
        ({"config.toml": "[tool.other]\nname = 'x'\n"}, "kramdown"),
        ({"astro.config.mjs": "export default {}\n"}, "commonmark"),
        ({"gatsby-config.js": "module.exports = {}\n"}, "commonmark"),
        ({"docfx.json": "{}\n"}, "commonmark"),
        # One level up: the site's folder above its content/.
        ({"../hugo.yaml": "title: x\n"}, "commonmark"),
        ({"../_config.yml": "title: x\n"}, "kramdown"),
        # The folder's own configuration comes first.
        ({"_config.yml": "x: 1\n", "../hugo.toml": "x = 1\n"}, "kramdown"),
    ],
)
def test_the_dialect_comes_from_the_site_configuration(
    tmp_path: Path, files: dict[str, str], dialect: str
) -> None:
    root = tmp_path / "site" / "content"
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    assert site_dialect(root) == dialect
    assert Renderer("auto").dialect(root) == dialect


def test_astro_content_collections_take_the_dialect_from_the_project(tmp_path: Path) -> None:
    root = tmp_path / "src" / "content"
    root.mkdir(parents=True)
    (tmp_path / "astro.config.ts").write_text("export default {}\n", encoding="utf-8")
    assert site_dialect(root) == "commonmark"


def test_the_setting_forces_the_dialect(tmp_path: Path) -> None:
    (tmp_path / "hugo.toml").write_text("title = 'x'\n", encoding="utf-8")
    assert Renderer("kramdown").dialect(tmp_path) == "kramdown"
    assert Renderer(" CommonMark ").dialect(PROJECT / "content") == "commonmark"
    assert Renderer("auto").dialect(tmp_path) == "commonmark"
    with pytest.raises(SettingsError, match="CONTENTAPI_MARKDOWN='gfm' is not a Markdown dialect"):
        Renderer("gfm")
    with pytest.raises(SettingsError, match="CONTENTAPI_MARKDOWN 'gfm' is not a Markdown dialect"):
        Settings(markdown="gfm")


def test_the_setting_reaches_every_page_of_a_load(tmp_path: Path) -> None:
    """From the settings down to the renderer, in the full load and in live reload."""
    (tmp_path / "page.md").write_text(
        "---\ntitle: T\n---\nIntro:\n- a list in CommonMark, text in kramdown\n",
        encoding="utf-8",
    )
    kramdown = ContentIndex.from_directory(tmp_path, markdown="kramdown")
    commonmark = ContentIndex.from_directory(tmp_path, markdown="commonmark")
    assert "<li>" not in kramdown.public.by_uri["/page/"].html
    assert "<li>" in commonmark.public.by_uri["/page/"].html
    live = LiveIndex.load(tmp_path, markdown="commonmark")
    live.update([tmp_path / "page.md"])
    assert "<li>" in live.index().public.by_uri["/page/"].html


def test_the_seed_is_a_kramdown_site() -> None:
    assert site_dialect(PROJECT / "content") == "kramdown"
    assert Renderer().dialect(PROJECT / "content") == "kramdown"


# --------------------------------------------------------------------------- real sites

SITES = PROJECT / "tests" / "fixtures" / "sites"


def site_page(content: str, path: str, markdown: str = "auto") -> Treatment:
    """A page of a real site's fixture (tests/fixtures/sites, read only), loaded as
    `contentapi serve` would load the folder (CONTENTAPI_MARKDOWN as `markdown`)."""
    index = ContentIndex.from_directory(SITES / content, markdown=markdown)
    assert index.errors == ()
    (found,) = [page for page in index.preview.treatments if page.path == path]
    return found


def code_classes(html: str) -> list[str]:
    return re.findall(r"<pre><code(?: class=\"([^\"]*)\")?>", html)


@pytest.mark.parametrize(
    ("content", "dialect"),
    [
        ("hugo/content", "commonmark"),  # hugo.toml one level up
        ("hugo", "commonmark"),
        ("zola/content", "commonmark"),  # Zola's config.toml (base_url) one level up
        ("astro/src/content", "commonmark"),  # astro.config.mjs above src/
        ("gatsby-posts/content", "commonmark"),
        ("folder-blog/content", "commonmark"),
        ("docs/docs", "commonmark"),  # docfx.json
        ("jekyll", "kramdown"),  # _config.yml
        ("jekyll-serif", "kramdown"),
    ],
)
def test_real_sites_are_rendered_in_their_generators_dialect(content: str, dialect: str) -> None:
    assert Renderer().dialect(SITES / content) == dialect


def test_docs_site_fences_in_list_items_and_images_above_the_page() -> None:
    page = site_page("docs/docs", "build/reference/property-page-xml-files.md")
    # Nine ```xml fences, three of them inside list items: each a code block, no live XML.
    assert code_classes(page.html) == ["language-xml"] * 9
    assert "<DataSource" not in page.html
    assert [(image.src, image.alt) for image in page.images] == [
        (
            "/build/media/cpp-property-page-2017.png",
            "Screenshot of the project Property Pages dialog.",
        )
    ]
    page = site_page("docs/docs", "build/reference/vcpp-directories-property-page.md")
    # DocFX's :::image::: directives (a complex one first) and Markdown images, in order.
    assert [(image.src, image.title) for image in page.images] == [
        ("/build/media/vcppdir.png", None),
        ("/build/media/vcppdir_libdir_edit.png", "Dialog to edit library paths"),
        ("/build/media/vcppdir_libdir.png", None),
        ("/build/media/vcppdir_libdir_macros.png", None),
    ]
    assert page.images[0].alt == (
        "Screenshot of the Solution Explorer window with the Project node selected."
    )
    # The complex image's long description stays Markdown, a paragraph after the picture;
    # the directives themselves are gone from html and text.
    assert (
        '<img src="/build/media/vcppdir.png" alt="Screenshot of the Solution Explorer window'
        ' with the Project node selected.">\n<p>In the property pages dialog, Configuration'
        " properties &gt; VC++ directories is selected." in page.html
    )
    assert ":::" not in page.html and ":::" not in page.text
    # Images in list items, beside their page: media/ of the page's own folder.
    page = site_page("docs/docs", "build/clang-support-cmake.md")
    assert [image.src for image in page.images] == [
        "/build/media/clang-install-vs2019.png",
        "/build/media/clang-install-vs2022.png",
        "/build/media/cmake-add-config-icon.png",
        "/build/media/cmake-clang-configuration.png",
        "/build/media/cmake-clang-toolset.png",
        "/build/media/clang-location-cmake.png",
        "/build/media/clang-debug-visualize.png",
    ]
    assert page.images[6].alt == (
        "Screenshot of the Visual Studio debugger debugging a CMake Clang project."
    )


def test_zola_reference_style_images_resolve_in_the_bundle() -> None:
    page = site_page("zola/content", "Shape-of-errors-to-come/index.md")
    assert [(image.src, image.alt) for image in page.images] == [
        ("/Shape-of-errors-to-come/old_errors.png", "Picture of old error style"),
        ("/Shape-of-errors-to-come/new_errors.png", None),
        ("/Shape-of-errors-to-come/new_errors2.png", "Picture of new constant eval error"),
        ("/Shape-of-errors-to-come/new_errors3.png", "Picture of new trait mismatch"),
        ("/Shape-of-errors-to-come/new_errors4.png", "Picture of new type name not found"),
    ]
    assert code_classes(page.html) == ["language-rust", "", ""]


def test_hugo_docs_fences_and_bundle_images() -> None:
    page = site_page("hugo/content", "en/content-management/image-processing/index.md")
    assert code_classes(page.html) == [
        "language-tree",
        "language-go-html-template",
        "language-tree",
        *["language-go-html-template"] * 7,
        "language-toml",
        "language-sh",
    ]
    # Go templates in its code ({{ $image := .Resources.Get "sunset.jpg" }}) are no images.
    assert page.images == ()
    page = site_page("hugo/content", "en/functions/strings/Diff/index.md")
    assert [(image.src, image.alt) for image in page.images] == [
        ("/en/functions/strings/Diff/diff-screen-capture.png", "screen capture")
    ]


def test_jekyll_docs_fences_on_a_kramdown_site() -> None:
    page = site_page("jekyll", "_docs/collections.md")
    assert code_classes(page.html) == [
        "language-yaml",
        "language-yaml",
        "language-markdown",
        "language-liquid",
        "language-yaml",
        "language-liquid",
        *["language-yaml"] * 4,
    ]
    # Liquid in its code ({{ staff_member.name }}) is code, and no image.
    assert "<h2>" not in page.html
    assert page.images == ()


def test_a_dialect_change_never_serves_pages_cached_in_the_other(tmp_path: Path) -> None:
    # The page cache keys on a page's bytes: CommonMark pages are kept in a folder of
    # their own, so forcing the other dialect parses the page again.
    content, cache = tmp_path / "content", tmp_path / "cache"
    content.mkdir()
    (content / "p.md").write_text("---\ntitle: P\n---\nBest for:\n- Acne\n", encoding="utf-8")
    for dialect, html in [
        ("kramdown", "<p>Best for:\n- Acne</p>"),
        ("commonmark", "<p>Best for:</p>\n<ul>\n<li>Acne</li>\n</ul>"),
        ("kramdown", "<p>Best for:\n- Acne</p>"),
    ]:
        index = ContentIndex.from_directory(content, cache_dir=cache, markdown=dialect)
        assert index.public.by_slug["p"].html == html
    assert sorted(path.name for path in cache.iterdir() if path.is_dir()) == ["commonmark"]


def test_footnotes_on_commonmark_sites_link_both_ways() -> None:
    treatment = commonmark_page("Text[^note].\n\n[^note]: The note.\n")
    assert treatment.html == (
        '<p>Text<sup id="fnref1"><a href="#fn1" rel="noopener noreferrer">[1]</a></sup>.</p>\n'
        '<hr>\n\n<ol>\n<li id="fn1"><p>The note. '
        '<a href="#fnref1" rel="noopener noreferrer">↩︎</a></p>\n</li>\n</ol>\n'
    )


@pytest.mark.parametrize("dialect", ["kramdown", "commonmark"])
def test_powershell_docs_reference_style_images_beside_the_page(dialect: str) -> None:
    page = site_page(
        "powershell-docs/reference",
        "docs-conceptual/learn/deep-dives/add-credentials-to-powershell-functions.md",
        dialect,
    )
    media = "/docs-conceptual/learn/deep-dives/media/add-credentials-to-powershell-functions"
    # [01]: ./media/... at the end of the page; the links among [03]..[09] are no images.
    assert [(image.position, image.src, image.alt) for image in page.images] == [
        (0, f"{media}/GetCredAtRunTime.gif", "Get a credential at runtime"),
        (1, f"{media}/GetCredsPrompt.gif", "Prompt for credentials"),
    ]
    assert code_classes(page.html) == ["language-powershell"] * 12


def test_hugo_figure_shortcode_is_published_as_hugo_renders_it() -> None:
    page = site_page("hugo/content", "en/shortcodes/figure.md")
    assert [(image.src, image.alt) for image in page.images] == [
        ("/images/examples/zion-national-park.jpg", "A photograph of Zion National Park")
    ]
    assert page.cover_image == page.images[0]
    # A figure written over six lines, as Hugo's embedded shortcode renders it.
    assert (
        '<figure><a href="https://www.nps.gov/zion/index.htm" rel="noopener noreferrer">'
        '<img src="/images/examples/zion-national-park.jpg"'
        ' alt="A photograph of Zion National Park"></a>'
        "<figcaption><p>Zion National Park</p></figcaption></figure>" in page.html
    )
    # The same figure in the page's code block, {{</* ... */>}} as Hugo's docs write one
    # that is not run, stays code, as written.
    assert '<pre><code class="language-md">{{&lt;/* figure\n  src="/images' in page.html
    assert page.html.count("<figure>") == 1


@pytest.mark.parametrize("markdown", ["commonmark", "kramdown"])
def test_foreign_image_syntax_written_as_code_stays_code(markdown: str) -> None:
    body = (
        'Inline `{{< figure src="a.png" >}}` and `:::image source="b.png":::`.\n\n'
        "```markdown\n"
        '{{< figure src="c.png" >}}\n'
        ':::image type="content" source="d.png" alt-text="D":::\n'
        '<amp-img src="e.png"></amp-img>\n'
        "```\n\n"
        '{{% figure src="f.png" title="F" %}}\n'
    )
    rendered = Renderer(markdown).render(body, "/p/", "guide/p.md")
    assert [image.src for image in rendered.images] == ["/guide/f.png"]
    assert '<code>{{&lt; figure src="a.png" &gt;}}</code>' in rendered.html
    assert '<code>:::image source="b.png":::</code>' in rendered.html
    assert (
        '{{&lt; figure src="c.png" &gt;}}\n:::image type="content" source="d.png"'
        ' alt-text="D":::\n&lt;amp-img src="e.png"&gt;&lt;/amp-img&gt;\n</code></pre>'
        in rendered.html
    )
    assert '<figure><img src="/guide/f.png"><figcaption><h4>F</h4></figcaption></figure>' in (
        rendered.html
    )
