"""mdast.py: sanitised html as an mdast tree, the pages its links may name, the packed
tree and what a request fills in; the tree kept unchanged through the warm-start cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contentapi.content import page as page_parser
from contentapi.content.index import ContentIndex
from contentapi.content.load import load_all
from contentapi.content.mdast import html_to_mdast, link_target, resolved_tree, rich_text
from contentapi.content.model import Image, Treatment


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "value": value}


def paragraph(*children: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "children": list(children)}


@pytest.mark.parametrize(
    ("fragment", "blocks"),
    [
        (
            '<h2 id="a-b">A <em>b</em></h2>',
            [
                {
                    "type": "heading",
                    "depth": 2,
                    "children": [text("A "), {"type": "emphasis", "children": [text("b")]}],
                    "data": {"id": "a-b", "hProperties": {"id": "a-b"}},
                }
            ],
        ),
        ("<h6>No anchor</h6>", [{"type": "heading", "depth": 6, "children": [text("No anchor")]}]),
        (
            '<p><img src="/a.png" alt="A" title="T" width="4" height="3" class="x"></p>',
            [
                paragraph(
                    {
                        "type": "image",
                        "url": "/a.png",
                        "alt": "A",
                        "title": "T",
                        "data": {"hProperties": {"width": "4", "height": "3"}},
                    }
                )
            ],
        ),
        (
            '<ol start="3">\n<li>three</li>\n<li><p>four</p></li>\n</ol>',
            [
                {
                    "type": "list",
                    "ordered": True,
                    "start": 3,
                    "spread": True,
                    "children": [
                        {
                            "type": "listItem",
                            "spread": False,
                            "checked": None,
                            "children": [paragraph(text("three"))],
                        },
                        {
                            "type": "listItem",
                            "spread": True,
                            "checked": None,
                            "children": [paragraph(text("four"))],
                        },
                    ],
                }
            ],
        ),
        (
            '<pre><code class="language-python">x = 1\n</code></pre>',
            [{"type": "code", "lang": "python", "meta": None, "value": "x = 1"}],
        ),
        (
            "<blockquote>\n<p>quoted</p>\n</blockquote><hr>",
            [
                {"type": "blockquote", "children": [paragraph(text("quoted"))]},
                {"type": "thematicBreak"},
            ],
        ),
        (
            '<table><thead><tr><th align="right">a</th><th>b</th></tr></thead>'
            "<tbody><tr><td>1</td><td><del>2</del></td></tr></tbody></table>",
            [
                {
                    "type": "table",
                    "align": ["right", None],
                    "children": [
                        {
                            "type": "tableRow",
                            "children": [
                                {"type": "tableCell", "children": [text("a")]},
                                {"type": "tableCell", "children": [text("b")]},
                            ],
                        },
                        {
                            "type": "tableRow",
                            "children": [
                                {"type": "tableCell", "children": [text("1")]},
                                {
                                    "type": "tableCell",
                                    "children": [{"type": "delete", "children": [text("2")]}],
                                },
                            ],
                        },
                    ],
                }
            ],
        ),
        (
            "<p><code>a &lt;b&gt;</code> <strong>s</strong><br>\nnext &amp; last</p>",
            [
                paragraph(
                    {"type": "inlineCode", "value": "a <b>"},
                    text(" "),
                    {"type": "strong", "children": [text("s")]},
                    {"type": "break"},
                    text("\nnext & last"),
                )
            ],
        ),
        # A wrapper gives its content; an element mdast has no node for is html.
        ("<div><p>inside</p></div>", [paragraph(text("inside"))]),
        (
            "<dl><dt>t</dt><dd>a &lt; b</dd></dl>",
            [{"type": "html", "value": "<dl><dt>t</dt><dd>a &lt; b</dd></dl>"}],
        ),
        ("<p>x<sup>2</sup></p>", [paragraph(text("x"), {"type": "html", "value": "<sup>2</sup>"})]),
        # Text between blocks is a paragraph; white space alone is none.
        ("loose <a>text</a>\n<p> </p>", [paragraph(text("loose text"))]),
        (
            '<p><a href="/b/" title="B">b</a></p>',
            [paragraph({"type": "link", "url": "/b/", "title": "B", "children": [text("b")]})],
        ),
    ],
)
def test_html_to_mdast(fragment: str, blocks: list[dict[str, Any]]) -> None:
    assert html_to_mdast(fragment) == {"type": "root", "children": blocks}


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("b.md", "guide/b.md"),
        ("./b.md#part", "guide/b.md"),
        ("../x/c.markdown", "x/c.markdown"),
        ("/top.md", "top.md"),
        ("b%20c.md", "guide/b c.md"),
        ("/treatments/x", "/treatments/x/"),
        ("/treatments/x/index.html", "/treatments/x/"),
        ("../other.html", "/guide/other/"),
        ("sibling/", "/guide/page/sibling/"),
        ("?page=2", ""),
        ("#top", ""),
        ("//cdn.example.com/x/", ""),
        ("https://example.com/b.md", ""),
        ("mailto:a@example.com", ""),
        ("", ""),
    ],
)
def test_link_target(url: str, target: str) -> None:
    # On guide/page.md, served at /guide/page/.
    assert link_target(url, "guide", "/guide/page/") == target


def test_rich_text_packs_the_tree_with_its_link_targets_and_image_positions() -> None:
    images = [
        Image("/guide/page/", 0, "/pic.png", "one"),
        Image("/guide/page/", 1, "/other.png"),
        Image("/guide/page/", 2, "/pic.png", "two"),
    ]
    fragment = (
        '<p><a href="b.md">b</a> <img src="/pic.png" alt="one"> '
        '<a href="https://example.com/">out</a></p>\n'
        '<p><img src="/pic.png" alt="two"> <img src="/elsewhere.png"> '
        '<a href="/c/" hreflang="fr">c</a></p>'
    )
    tree = rich_text(fragment, images, "guide/page.md", "/guide/page/")
    assert tree.link_targets == ("guide/b.md", "", "/c/")
    found = resolved_tree(
        tree.packed,
        lambda position: f"image {position}",
        [{"id": "B", "uri": "/guide/b/"}, None, {"id": "C", "uri": "/c/"}],
    )
    first, second = found["children"]
    assert first["children"][0]["data"] == {"id": "B", "uri": "/guide/b/"}
    assert first["children"][2]["data"] == {"id": "image 0"}
    assert "data" not in first["children"][4]
    # The second node showing /pic.png is its second image; a picture that is not among
    # the page's images has no id.
    assert second["children"][0]["data"] == {"id": "image 2"}
    assert "data" not in second["children"][2]
    assert second["children"][4]["data"] == {
        "hProperties": {"hreflang": "fr"},
        "id": "C",
        "uri": "/c/",
    }
    # Each request gets a tree of its own.
    again = resolved_tree(tree.packed, str, [None, None, None])
    assert "data" not in again["children"][0]["children"][0]
    assert again["children"][0]["children"][2]["data"] == {"id": "0"}


def test_a_page_packed_without_a_tree_is_an_empty_root() -> None:
    assert resolved_tree(b"", str, []) == {"type": "root", "children": []}


# --------------------------------------------------------------------------- warm start


def trees(index: ContentIndex, preview: bool) -> dict[str, Any]:
    """Every page's tree as a request with that view gets it."""
    view = index.view(preview)
    found = {}
    for page in view.treatments:
        link_data = [
            None if target is None else {"uri": target.uri} for target in view.link_targets(page)
        ]
        found[page.uri] = resolved_tree(page.ast_packed, str, link_data)
    return found


@pytest.mark.parametrize("folder", ["links", "hostile", "sites/hugo"])
def test_the_tree_survives_a_warm_start_unchanged(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str
) -> None:
    root = fixtures_dir / folder
    cold = load_all(root, cache_dir=tmp_path)
    cold_pages = [page for page in cold if isinstance(page, Treatment)]
    assert any(page.link_targets for page in cold_pages) or folder != "links"

    def no_parsing(*args: object) -> None:
        raise AssertionError("a warm start parsed a page")

    monkeypatch.setattr(page_parser, "parse_page", no_parsing)
    warm = load_all(root, cache_dir=tmp_path)
    warm_pages = [page for page in warm if isinstance(page, Treatment)]
    assert [p.ast_packed for p in warm_pages] == [p.ast_packed for p in cold_pages]
    assert [p.link_targets for p in warm_pages] == [p.link_targets for p in cold_pages]
    assert all(page.ast_packed for page in warm_pages)
    for preview in (False, True):
        assert trees(ContentIndex.from_pages(root, warm), preview) == trees(
            ContentIndex.from_pages(root, cold), preview
        )


def test_the_seeds_tree_survives_a_warm_start(
    seed_index: ContentIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = seed_index.root
    load_all(root, cache_dir=tmp_path)
    monkeypatch.setattr(page_parser, "parse_page", lambda *args: pytest.fail("parsed"))
    warm = ContentIndex.from_directory(root, cache_dir=tmp_path)
    assert trees(warm, False) == trees(seed_index, False)
    tree = trees(warm, False)["/mesotherapy/"]
    assert [node["data"]["id"] for node in tree["children"] if node["type"] == "heading"] == [
        "the-method",
        "mesotherapy-also-can-help-with",
    ]
