"""Treatment.ast, links and linkedFrom through the GraphQL schema: the seed's tree exactly,
links resolved against the request's view (drafts only with the preview token), image
and heading ids that match the rest of the schema, and no active content from the
hostile corpus."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_safety import _URL_IGNORED as URL_IGNORED
from test_safety import UNSAFE_SCHEMES, active_content, parse_tags

from contentapi.content.index import ContentIndex
from contentapi.schema import Context, Limits, build_schema
from contentapi.settings import Settings

from expected import SEED_INDICATIONS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCHEMA = build_schema()
Node = dict[str, Any]
# The node types of mdast (with GFM) that Treatment.ast may hold.
MDAST_TYPES = frozenset(
    {
        "root",
        "heading",
        "paragraph",
        "list",
        "listItem",
        "blockquote",
        "code",
        "table",
        "tableRow",
        "tableCell",
        "thematicBreak",
        "text",
        "emphasis",
        "strong",
        "delete",
        "inlineCode",
        "break",
        "link",
        "image",
        "html",
    }
)
PAGES = """
query {
  treatments(first: 40) {
    nodes {
      uri slug html
      ast
      images { id src }
      tableOfContents { anchor }
      links { uri }
      linkedFrom { uri }
    }
  }
}
"""


def run(index: ContentIndex, query: str, preview: bool = False, **variables: Any) -> Any:
    result = SCHEMA.execute_sync(
        query, variable_values=variables or None, context_value=Context(index, preview)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def pages(index: ContentIndex, preview: bool = False) -> dict[str, dict[str, Any]]:
    """Every page the view shows, by uri."""
    return {page["uri"]: page for page in run(index, PAGES, preview)["treatments"]["nodes"]}


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.get("children", ()):
        yield from walk(child)


def text_of(node: Node) -> str:
    if "value" in node and node["type"] != "html":
        return str(node["value"])
    return "".join(text_of(child) for child in node.get("children", ()))


@pytest.fixture(scope="module")
def links() -> ContentIndex:
    return ContentIndex.from_directory(FIXTURES / "links")


@pytest.fixture(scope="module")
def hostile() -> dict[str, dict[str, Any]]:
    return pages(ContentIndex.from_directory(FIXTURES / "hostile"), preview=True)


# --------------------------------------------------------------------------- the seed


@pytest.fixture(scope="module")
def seed(seed_index: ContentIndex) -> dict[str, Any]:
    page: dict[str, Any] = run(
        seed_index,
        '{ treatment(slug: "mesotherapy") { ast images { id src } '
        "tableOfContents { anchor } links { uri } linkedFrom { uri } } }",
    )["treatment"]
    return page


def test_the_seeds_tree_has_its_headings_and_the_list_of_indications(
    seed: dict[str, Any],
) -> None:
    root = seed["ast"]
    assert root["type"] == "root"
    blocks = root["children"]
    assert [block["type"] for block in blocks] == [
        *["paragraph"] * 2,
        "heading",
        *["paragraph"] * 5,
        "heading",
        "list",
    ]
    headings = [block for block in blocks if block["type"] == "heading"]
    assert headings == [
        {
            "type": "heading",
            "depth": 4,
            "children": [{"type": "text", "value": "The Method"}],
            "data": {"id": "the-method", "hProperties": {"id": "the-method"}},
        },
        {
            "type": "heading",
            "depth": 5,
            "children": [{"type": "text", "value": "Mesotherapy also can help with:"}],
            "data": {
                "id": "mesotherapy-also-can-help-with",
                "hProperties": {"id": "mesotherapy-also-can-help-with"},
            },
        },
    ]
    # The list comes straight after its heading: ten items, the indications in order.
    the_list = blocks[-1]
    assert blocks[-2]["data"]["id"] == "mesotherapy-also-can-help-with"
    assert {k: v for k, v in the_list.items() if k != "children"} == {
        "type": "list",
        "ordered": False,
        "start": None,
        "spread": False,
    }
    assert the_list["children"] == [
        {
            "type": "listItem",
            "spread": False,
            "checked": None,
            "children": [{"type": "paragraph", "children": [{"type": "text", "value": name}]}],
        }
        for name, _ in SEED_INDICATIONS
    ]
    assert len(the_list["children"]) == 10


def test_the_seeds_tree_keeps_curly_quotes_and_leaves_the_carousel_out(
    seed: dict[str, Any],
) -> None:
    blocks = seed["ast"]["children"]
    assert blocks[0] == {
        "type": "paragraph",
        "children": [
            {
                "type": "text",
                "value": "Homeopathic mesotherapy is a treatment to improve the condition "
                "of the skin and to combat cellulites, hair loss and many others.",
            }
        ],
    }
    assert text_of(blocks[1]).endswith("\n\u201cMESO\u201d in Greek means \u201cMiddle\u201d")
    assert text_of(blocks[4]).startswith("They boost the production of the cell\u2019s own")
    written = json.dumps(seed["ast"], ensure_ascii=False)
    assert "amp-" not in written
    assert "carousel" not in written
    assert "mesotherapy_london" not in written
    # The carousel's two pictures are the page's images, not nodes of the tree.
    assert [image["src"] for image in seed["images"]] == [
        "/img/pages/mesotherapy_london.jpg",
        "/img/pages/mesotherapy_london2.jpg",
    ]
    assert [node["type"] for node in walk(seed["ast"]) if node["type"] in ("image", "html")] == []
    assert {node["type"] for node in walk(seed["ast"])} == {
        "root",
        "paragraph",
        "text",
        "heading",
        "list",
        "listItem",
    }


def test_the_seed_links_nowhere(seed: dict[str, Any]) -> None:
    assert seed["links"] == []
    assert seed["linkedFrom"] == []


# --------------------------------------------------------------------------- links


def test_links_in_order_without_repeats_or_itself(links: ContentIndex) -> None:
    found = pages(links)
    assert sorted(found) == ["/a/", "/b/", "/c/", "/sub/d/"]
    # a.md: b.md, /c/, ./sub/d.md#part, ./b.md again, draft.md (hidden), ../c/index.html
    # again, missing.md, another site, mailto:, #top and /a/ (itself).
    assert found["/a/"]["links"] == [{"uri": "/b/"}, {"uri": "/c/"}, {"uri": "/sub/d/"}]
    assert found["/b/"]["links"] == [{"uri": "/a/"}, {"uri": "/sub/d/"}]
    assert found["/c/"]["links"] == []
    assert found["/sub/d/"]["links"] == [{"uri": "/a/"}, {"uri": "/b/"}]
    # linkedFrom: the pages linking here, in path order.
    assert found["/a/"]["linkedFrom"] == [{"uri": "/b/"}, {"uri": "/sub/d/"}]
    assert found["/b/"]["linkedFrom"] == [{"uri": "/a/"}, {"uri": "/sub/d/"}]
    assert found["/c/"]["linkedFrom"] == [{"uri": "/a/"}]
    assert found["/sub/d/"]["linkedFrom"] == [{"uri": "/a/"}, {"uri": "/b/"}]


def link_nodes(page: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(node["url"], node.get("data")) for node in walk(page["ast"]) if node["type"] == "link"]


def page_data(index: ContentIndex, uri: str, preview: bool = False) -> dict[str, str]:
    """A page's global id and uri, as the schema gives them."""
    found = run(index, "query($uri: String!) { treatment(uri: $uri) { id uri } }", preview, uri=uri)
    assert found["treatment"] is not None, uri
    data: dict[str, str] = found["treatment"]
    return data


def test_link_nodes_carry_the_page_they_name(links: ContentIndex) -> None:
    a, b, c, d = (page_data(links, uri) for uri in ("/a/", "/b/", "/c/", "/sub/d/"))
    assert link_nodes(pages(links)["/a/"]) == [
        ("b.md", b),
        ("/c/", c),
        ("./sub/d.md#part", d),
        ("./b.md", b),
        ("draft.md", None),
        ("../c/index.html", c),
        ("missing.md", None),
        ("https://example.com/b/", None),
        ("mailto:someone@example.com", None),
        ("#top", None),
        ("/a/", a),
    ]
    assert link_nodes(pages(links)["/b/"]) == [("/a", a), ("../sub/d/", d)]


def test_links_to_drafts_resolve_only_with_the_preview_token(links: ContentIndex) -> None:
    public, preview = pages(links), pages(links, preview=True)
    assert "/draft/" not in public
    draft = page_data(links, "/draft/", preview=True)
    assert draft["id"] != page_data(links, "/a/")["id"]
    assert link_nodes(public["/a/"])[4] == ("draft.md", None)
    assert link_nodes(preview["/a/"])[4] == ("draft.md", draft)
    assert preview["/a/"]["links"] == [
        {"uri": "/b/"},
        {"uri": "/c/"},
        {"uri": "/sub/d/"},
        {"uri": "/draft/"},
    ]
    assert preview["/a/"]["linkedFrom"] == [{"uri": "/b/"}, {"uri": "/draft/"}, {"uri": "/sub/d/"}]
    assert preview["/draft/"]["links"] == [{"uri": "/a/"}]
    assert public["/a/"]["linkedFrom"] == [{"uri": "/b/"}, {"uri": "/sub/d/"}]
    # Pages that do not link to the draft are the same either way.
    for uri in ("/b/", "/c/", "/sub/d/"):
        assert preview[uri] == public[uri]


# --------------------------------------------------------------------------- ids


def test_image_nodes_carry_the_images_global_ids(links: ContentIndex) -> None:
    page = pages(links)["/a/"]
    nodes = [node for node in walk(page["ast"]) if node["type"] == "image"]
    # Two nodes showing one picture are its two images, in order.
    assert [image["src"] for image in page["images"]] == ["/pic.png", "/pic.png"]
    assert page["images"][0]["id"] != page["images"][1]["id"]
    assert nodes == [
        {
            "type": "image",
            "url": "/pic.png",
            "alt": "Pic",
            "title": None,
            "data": {"id": page["images"][0]["id"]},
        },
        {
            "type": "image",
            "url": "/pic.png",
            "alt": "again",
            "title": None,
            "data": {"hProperties": {"width": "40", "height": "30"}, "id": page["images"][1]["id"]},
        },
    ]
    # Each id is an Image the schema serves, with that picture.
    for node in nodes:
        found = run(
            links,
            "query($id: ID!) { node(id: $id) { ... on Image { src alt } } }",
            id=node["data"]["id"],
        )
        assert found["node"] == {"src": "/pic.png", "alt": node["alt"]}


def test_an_amp_img_in_the_body_is_an_image_node(hostile: dict[str, dict[str, Any]]) -> None:
    page = hostile["/amp-carousel-script/"]
    nodes = [node for node in walk(page["ast"]) if node["type"] == "image"]
    by_src = {image["src"]: image["id"] for image in page["images"]}
    assert [(node["url"], node["alt"]) for node in nodes] == [("/b.jpg", None), ("/c.jpg", "lone")]
    assert [node["data"]["id"] for node in nodes] == [by_src["/b.jpg"], by_src["/c.jpg"]]
    assert "amp-" not in json.dumps(page["ast"])


# Every site with headings: the seed, the hostile corpus and the real sites' fixtures.
HEADING_SITES = ["hostile", "sites/docs", "sites/hugo", "sites/jekyll", "sites/powershell-docs"]


@pytest.mark.parametrize("site", HEADING_SITES)
def test_heading_ids_are_the_html_anchors(site: str) -> None:
    found = pages(ContentIndex.from_directory(FIXTURES / site), preview=True)
    checked = 0
    for page in found.values():
        headings = [node for node in walk(page["ast"]) if node["type"] == "heading"]
        ids = [node.get("data", {}).get("id") for node in headings]
        assert ids == _heading_anchors(page["html"]), page["uri"]
        # tableOfContents links to the same anchors.
        assert {entry["anchor"] for entry in page["tableOfContents"]} <= set(ids), page["uri"]
        checked += len(ids)
    assert checked >= 3


def test_the_seeds_heading_ids_are_its_table_of_contents(seed: dict[str, Any]) -> None:
    ids = [node["data"]["id"] for node in walk(seed["ast"]) if node["type"] == "heading"]
    assert ids == [entry["anchor"] for entry in seed["tableOfContents"]]
    assert ids == ["the-method", "mesotherapy-also-can-help-with"]


def _heading_anchors(fragment: str) -> list[str | None]:
    """The id of each heading of an html fragment (None for one without)."""
    return [
        dict(attrs).get("id")
        for tag, attrs in parse_tags(fragment)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6")
    ]


# --------------------------------------------------------------------------- safety


def active_in_tree(tree: Node) -> list[str]:
    """What in a tree could run code or load a document once a renderer writes it out:
    empty when safe."""
    found: list[str] = []
    for node in walk(tree):
        if node["type"] not in MDAST_TYPES:
            found.append(f"a {node['type']} node")
        if node["type"] == "html":
            found += active_content(node["value"])
        attributes = dict(node.get("data", {}).get("hProperties", {}))
        if "url" in node:
            attributes["href" if node["type"] == "link" else "src"] = node["url"]
        # As mdast-util-to-hast writes the node: its url and hProperties as attributes.
        written = "".join(
            f' {name}="{html.escape(str(value), quote=True)}"' for name, value in attributes.items()
        )
        found += active_content(f"<span{written}>")
        if any(str(key).lower().startswith("on") for key in attributes):
            found.append(f"an event handler on a {node['type']} node")
    return found


@pytest.mark.parametrize(
    "tree",
    [
        {"type": "link", "url": " JaVa\tscript:alert(1)", "children": []},
        {"type": "image", "url": "data:image/svg+xml,<svg/>"},
        {"type": "html", "value": '<img src="x" onerror="alert(1)">'},
        {"type": "html", "value": "<script>alert(1)</script>"},
        {"type": "image", "url": "/x.png", "data": {"hProperties": {"onload": "alert(1)"}}},
        {"type": "mdxJsxFlowElement", "children": []},
    ],
)
def test_the_tree_checker_sees_active_content(tree: Node) -> None:
    assert active_in_tree({"type": "root", "children": [tree]}) != []


def strings_outside_text(node: Any, key: str = "") -> Iterator[str]:
    """Every string of a tree but the text it shows (text, inlineCode and code values):
    urls, titles, alt texts, data."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from strings_outside_text(item)
    elif isinstance(node, dict):
        for name, value in node.items():
            shown = name == "value" and node.get("type") in ("text", "inlineCode", "code")
            if not shown:
                yield from strings_outside_text(value, name)


def test_hostile_trees_hold_no_active_content(hostile: dict[str, dict[str, Any]]) -> None:
    assert len(hostile) == 18
    for uri, page in hostile.items():
        assert active_in_tree(page["ast"]) == [], uri
        for value in strings_outside_text(page["ast"]):
            probe = URL_IGNORED.sub("", value).lower()
            assert not probe.startswith(UNSAFE_SCHEMES), (uri, value)
            assert "<script" not in probe, (uri, value)


def test_hostile_scripts_are_not_text_in_the_tree(hostile: dict[str, dict[str, Any]]) -> None:
    # (event-handlers.md writes one <img .../onerror=...> that Markdown shows as text.)
    for uri in ("/script-tags/", "/amp-carousel-script/", "/svg-math/", "/javascript-urls/"):
        texts = text_of(hostile[uri]["ast"])
        assert "alert(" not in texts, uri


# --------------------------------------------------------------------------- as bytes


@pytest.mark.parametrize("site", ["links", "hostile", "sites/hugo", "sites/docs"])
def test_the_tree_written_as_stored_is_the_tree_as_objects(site: str) -> None:
    """With json_fragments (the HTTP endpoint's context), ast is the stored JSON with the
    ids spliced in, an orjson.Fragment: written out, the same JSON as the objects."""
    index = ContentIndex.from_directory(FIXTURES / site)
    for preview in (False, True):
        as_objects = run(index, PAGES, preview)
        result = SCHEMA.execute_sync(
            PAGES, context_value=Context(index, preview, json_fragments=True)
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        nodes = result.data["treatments"]["nodes"]
        assert nodes and all(isinstance(node["ast"], orjson.Fragment) for node in nodes)
        assert orjson.loads(orjson.dumps(result.data)) == as_objects


def test_the_response_budget_counts_the_trees_bytes(links: ContentIndex) -> None:
    limits = Limits.from_settings(Settings(max_response_bytes=1500))
    schema = build_schema(limits)
    query = '{ treatment(uri: "/a/") { ast } }'
    for fragments in (False, True):
        result = schema.execute_sync(query, context_value=Context(links, json_fragments=fragments))
        assert result.errors is not None
        assert [error.message for error in result.errors] == [
            "The response would be larger than the limit of 1500 bytes "
            "(CONTENTAPI_MAX_RESPONSE_BYTES): ask for fewer items or fewer large fields."
        ]
