"""A page body as an mdast tree (github.com/syntax-tree/mdast, with its GFM nodes), for
apps that draw native views instead of a WebView.

The tree is made from the page's sanitised html, not from its Markdown: one converter
serves both dialects (Python-Markdown's kramdown sites and markdown-it-py's CommonMark
sites), and the tree holds exactly what html holds, sanitised the same way (no script,
no event handler, no `javascript:` URL), the carousel already left out and amp- tags
already plain. No Python library turns HTML into mdast: that is hast-util-to-mdast, in
JavaScript, and Python's Markdown parsers each have a tree of their own (markdown-it-py's
tokens, Python-Markdown's ElementTree) that neither the other dialect nor raw HTML shares.
So a small converter over the standard library's html.parser does it; the test suite
turns every fixture's tree back into HTML with mdast-util-to-hast and compares it with
html (tests/rich-text).

What mdast has no node for is kept as it stands in html: an element of its own (`<dl>`,
`<details>`, `<sup>`, `<kbd>`, ...) becomes an `html` node holding that sanitised
element; a mere wrapper (`<div>`, `<span>`, an `<a>` without href) gives its content.
Nodes carry no `position`: they come from html, not from places in the source.

Built once per page when it is parsed and kept packed with its body (see _pack): the
tree's JSON and where in it its links and images are, so a request only writes in what
depends on the other pages or on the schema, a link's page (its global id and uri, when
the request may see that page) and an image's global id, joining bytes (resolved_json)
without parsing the tree into objects; resolved_tree gives the objects.
"""

from __future__ import annotations

import html
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from contentapi.content.fragments import resolve_src
from contentapi.content.model import Image

Node = dict[str, Any]
# Where a node sits in the tree: the index of each child on the way down from the root.
NodePath = list[int]

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
# Elements that HTML lays out inline (phrasing content): they go into a paragraph.
_PHRASING = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "big",
        "br",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "img",
        "ins",
        "kbd",
        "mark",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
    }
)
# Wrappers with no meaning of their own to mdast: their content stands in their place.
_FLOW_WRAPPERS = frozenset(
    {"div", "section", "article", "main", "header", "footer", "aside", "nav", "center"}
)
_PHRASING_WRAPPERS = frozenset({"span", "font", "big"})
_EMPHASIS = {"em": "emphasis", "i": "emphasis", "strong": "strong", "b": "strong"}
_DELETE = frozenset({"del", "s", "strike"})
_HEADINGS = {f"h{depth}": depth for depth in range(1, 7)}
_TABLE_SECTIONS = frozenset({"thead", "tbody", "tfoot"})
_TABLE_CELLS = frozenset({"th", "td"})
_ALIGNMENTS = frozenset({"left", "right", "center"})
# Attributes of <a> and <img> that mdast has no field for, kept as hProperties (the
# attributes mdast-util-to-hast writes), so a renderer keeps an image's size.
_EXTRA_ATTRIBUTES = {"a": ("hreflang",), "img": ("width", "height")}
_PAGE_SUFFIXES = (".md", ".markdown")
_HTML_SUFFIXES = ("index.html", "index.htm", ".html", ".htm")


class _Element:
    """An element of the parsed html."""

    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Element | str] = []


class _TreeBuilder(HTMLParser):
    """html as elements and text. The sanitiser wrote it (every element closed, nothing
    active), but an end tag without its start is still ignored, as a browser would."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("#root", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _Element(tag, {name: value or "" for name, value in attrs})
        self._open[-1].children.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open[-1].children.append(_Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        children = self._open[-1].children
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def _parse(fragment: str) -> _Element:
    builder = _TreeBuilder()
    builder.feed(fragment)
    builder.close()
    return builder.root


def html_to_mdast(fragment: str) -> Node:
    """The mdast `root` of an html fragment (sanitised html: see the module's docstring)."""
    return {"type": "root", "children": _flow(_parse(fragment).children)}


# Flow content: blocks, and runs of phrasing content between them as paragraphs.


def _flow(children: Sequence[_Element | str]) -> list[Node]:
    nodes: list[Node] = []
    run: list[_Element | str] = []
    for child in children:
        if isinstance(child, str) or child.tag in _PHRASING:
            run.append(child)
            continue
        _paragraph_of(run, nodes)
        run = []
        nodes.extend(_block(child))
    _paragraph_of(run, nodes)
    return nodes


def _paragraph_of(run: list[_Element | str], nodes: list[Node]) -> None:
    """Phrasing content found between blocks, as a paragraph (none if it is only white
    space): mdast puts no text straight into flow content."""
    phrasing = _trimmed(_phrasing(run))
    if phrasing:
        nodes.append({"type": "paragraph", "children": phrasing})


def _block(element: _Element) -> list[Node]:
    tag = element.tag
    if tag == "p":
        # White space at a paragraph's ends is not shown; an empty <p> is no paragraph.
        children = _trimmed(_phrasing(element.children))
        return [{"type": "paragraph", "children": children}] if children else []
    if tag in _HEADINGS:
        heading: Node = {
            "type": "heading",
            "depth": _HEADINGS[tag],
            "children": _trimmed(_phrasing(element.children)),
        }
        anchor = element.attrs.get("id")
        if anchor:
            # data.id as apps read it; hProperties as mdast-util-to-hast writes it.
            heading["data"] = {"id": anchor, "hProperties": {"id": anchor}}
        return [heading]
    if tag in ("ul", "ol"):
        return [_list(element)]
    if tag == "li":  # outside a list: its content
        return _flow(element.children)
    if tag == "blockquote":
        return [{"type": "blockquote", "children": _flow(element.children)}]
    if tag == "pre":
        return [_code(element)]
    if tag == "hr":
        return [{"type": "thematicBreak"}]
    if tag == "table":
        return [_table(element)]
    if tag in _FLOW_WRAPPERS:
        return _flow(element.children)
    return [{"type": "html", "value": _serialise(element)}]


def _list(element: _Element) -> Node:
    ordered = element.tag == "ol"
    items: list[Node] = []
    for child in element.children:
        if isinstance(child, str):
            if child.strip():
                items.append(_list_item([child], spread=False))
            continue
        if child.tag == "li":
            spread = any(isinstance(c, _Element) and c.tag == "p" for c in child.children)
            items.append(_list_item(child.children, spread))
        else:
            items.append(_list_item([child], spread=False))
    start: int | None = None
    if ordered:
        written = element.attrs.get("start", "").strip()
        start = int(written) if written.lstrip("-").isdigit() and len(written) < 10 else 1
    return {
        "type": "list",
        "ordered": ordered,
        "start": start,
        "spread": any(item["spread"] for item in items),
        "children": items,
    }


def _list_item(children: Sequence[_Element | str], spread: bool) -> Node:
    # The sanitiser drops a task list's <input> checkbox (as html shows), so whether an
    # item is checked is not known here.
    return {"type": "listItem", "spread": spread, "checked": None, "children": _flow(children)}


def _code(pre: _Element) -> Node:
    elements = [child for child in pre.children if isinstance(child, _Element)]
    loose_text = "".join(child for child in pre.children if isinstance(child, str))
    lang: str | None = None
    if len(elements) == 1 and elements[0].tag == "code" and not loose_text.strip():
        for name in elements[0].attrs.get("class", "").split():
            if name.startswith("language-") and len(name) > len("language-"):
                lang = name[len("language-") :]
                break
    value = _text_of(pre)
    # mdast-util-to-hast writes the line end that ends a block of code.
    value = value.removesuffix("\n")
    return {"type": "code", "lang": lang, "meta": None, "value": value}


def _table(table: _Element) -> Node:
    rows: list[_Element] = []
    for child in table.children:
        if isinstance(child, str):
            continue
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in _TABLE_SECTIONS:
            rows.extend(c for c in child.children if isinstance(c, _Element) and c.tag == "tr")
    table_rows: list[Node] = []
    align: list[str | None] = []
    for number, row in enumerate(rows):
        cells = [c for c in row.children if isinstance(c, _Element) and c.tag in _TABLE_CELLS]
        if number == 0:
            align = [_alignment(cell) for cell in cells]
        table_rows.append({"type": "tableRow", "children": [_table_cell(cell) for cell in cells]})
    width = max((len(row["children"]) for row in table_rows), default=0)
    align += [None] * (width - len(align))
    return {"type": "table", "align": align, "children": table_rows}


def _alignment(cell: _Element) -> str | None:
    written = cell.attrs.get("align", "").strip().lower()
    return written if written in _ALIGNMENTS else None


def _table_cell(cell: _Element) -> Node:
    """A cell's content as phrasing content (all mdast allows there): the blocks some
    tables hold in a cell (paragraphs, lists) become their phrasing content, with a
    break between two."""
    children: list[Node] = []
    for block in _flow(cell.children):
        if children:
            children.append({"type": "break"})
        children.extend(_phrasing_of_node(block))
    return {"type": "tableCell", "children": children}


def _phrasing_of_node(node: Node) -> list[Node]:
    """The phrasing content of a flow node (itself when it is phrasing or html)."""
    if node["type"] in ("paragraph", "heading", "tableCell"):
        children: list[Node] = node["children"]
        return children
    if node["type"] == "code":
        return [{"type": "inlineCode", "value": node["value"]}]
    if node["type"] == "thematicBreak":
        return []
    if "children" not in node:
        return [node]
    found: list[Node] = []
    for child in node["children"]:
        if found:
            found.append({"type": "break"})
        found.extend(_phrasing_of_node(child))
    return found


# Phrasing content.


def _phrasing(children: Sequence[_Element | str]) -> list[Node]:
    nodes: list[Node] = []
    for child in children:
        if isinstance(child, str):
            _add_text(nodes, child)
        else:
            for node in _inline(child):
                if node["type"] == "text":
                    _add_text(nodes, node["value"])
                else:
                    nodes.append(node)
    return nodes


def _add_text(nodes: list[Node], value: str) -> None:
    if not value:
        return
    if nodes and nodes[-1]["type"] == "text":
        nodes[-1]["value"] += value
    else:
        nodes.append({"type": "text", "value": value})


def _inline(element: _Element) -> list[Node]:
    tag = element.tag
    if tag in _EMPHASIS:
        return [{"type": _EMPHASIS[tag], "children": _phrasing(element.children)}]
    if tag in _DELETE:
        return [{"type": "delete", "children": _phrasing(element.children)}]
    if tag == "code":
        return [{"type": "inlineCode", "value": _text_of(element)}]
    if tag == "br":
        return [{"type": "break"}]
    if tag == "a":
        href = element.attrs.get("href")
        if href is None:  # no link, only its text
            return _phrasing(element.children)
        link: Node = {
            "type": "link",
            "url": href,
            "title": element.attrs.get("title"),
            "children": _phrasing(element.children),
        }
        _add_extra_attributes(link, element)
        return [link]
    if tag == "img":
        image: Node = {
            "type": "image",
            "url": element.attrs.get("src", ""),
            "alt": element.attrs.get("alt"),
            "title": element.attrs.get("title"),
        }
        _add_extra_attributes(image, element)
        return [image]
    if tag in _PHRASING_WRAPPERS:
        return _phrasing(element.children)
    if tag in _PHRASING:
        return [{"type": "html", "value": _serialise(element)}]
    # A block inside phrasing content (a paragraph inside a link): its phrasing content.
    found: list[Node] = []
    for block in _block(element):
        found.extend(_phrasing_of_node(block))
    return found


def _add_extra_attributes(node: Node, element: _Element) -> None:
    kept = {
        name: element.attrs[name]
        for name in _EXTRA_ATTRIBUTES[element.tag]
        if name in element.attrs
    }
    if kept:
        node["data"] = {"hProperties": kept}


def _trimmed(nodes: list[Node]) -> list[Node]:
    """Phrasing content without the white space at its ends (the line ends between tags,
    which HTML ignores there)."""
    if nodes and nodes[0]["type"] == "text":
        nodes[0]["value"] = nodes[0]["value"].lstrip()
        if not nodes[0]["value"]:
            nodes.pop(0)
    if nodes and nodes[-1]["type"] == "text":
        nodes[-1]["value"] = nodes[-1]["value"].rstrip()
        if not nodes[-1]["value"]:
            nodes.pop()
    return nodes


def _text_of(element: _Element) -> str:
    return "".join(
        child if isinstance(child, str) else _text_of(child) for child in element.children
    )


def _serialise(element: _Element) -> str:
    """An element as HTML again (for an html node): escaped as the sanitiser escapes."""
    attributes = "".join(
        f' {name}="{html.escape(value, quote=True)}"' for name, value in element.attrs.items()
    )
    if element.tag in _VOID:
        return f"<{element.tag}{attributes}>"
    inner = "".join(
        html.escape(child, quote=False) if isinstance(child, str) else _serialise(child)
        for child in element.children
    )
    return f"<{element.tag}{attributes}>{inner}</{element.tag}>"


# The packed tree, and what a request fills in.


@dataclass(frozen=True, slots=True)
class RichText:
    """A page's tree as it is kept (see pack) and, for each of its link nodes in
    document order, the page it may name: a file of the content folder (a path without a
    leading /, for a link to x.md) or a site path (a uri, with a leading /), "" for a link
    to no page of the site (another site, mailto:, #anchor)."""

    packed: bytes
    link_targets: tuple[str, ...]


def rich_text(fragment: str, images: Sequence[Image], path: str, uri: str) -> RichText:
    """The tree of a page's sanitised html, packed, with its link targets: `images` are
    the page's (each image node is matched to one by its src, in order), `path` its file
    under the content folder and `uri` where it is served (relative links resolve against
    them)."""
    tree = html_to_mdast(fragment)
    links: list[Node] = []
    image_nodes: list[Node] = []
    for _, node in _walk(tree, []):
        if node["type"] == "link":
            links.append(node)
        elif node["type"] == "image":
            image_nodes.append(node)
    positions = _image_positions([node["url"] for node in image_nodes], [i.src for i in images])
    folder = path.rpartition("/")[0]
    targets = tuple(link_target(node["url"], folder, uri) for node in links)
    # What a request fills in: each link's page (by its number among the links) and each
    # image's id (by its position among the page's images), written into the node's data.
    splices: list[tuple[Node, int, int]] = [
        (node, _LINK, number) for number, node in enumerate(links)
    ]
    splices += [
        (node, _IMAGE, position)
        for node, position in zip(image_nodes, positions, strict=True)
        if position is not None
    ]
    return RichText(_pack(tree, splices), targets)


# A packed tree: the byte length of its splice table, the table as JSON (for each place a
# request fills in, in the order of the bytes: where it starts and ends in the tree's
# JSON, whether it is a link or an image, its number, the data the node has anyway), then
# the tree's JSON with a marker at each such place. A request writes the tree out by
# joining the bytes between the places with each place's data (see resolved_json): no
# tree is parsed into objects to answer a query.
_TABLE_LENGTH = struct.Struct("<I")
_LINK, _IMAGE = 0, 1


def _pack(tree: Node, splices: Sequence[tuple[Node, int, int]]) -> bytes:
    bases: list[Any] = []
    for number, (node, _, _) in enumerate(splices):
        bases.append(node.pop("data", None))
        # A key no node has ("\u0000" and a number), written last in the node: its place.
        node[f"\x00{number}"] = 0
    written = orjson.dumps(tree)
    table: list[list[Any]] = []
    for number, (_, kind, which) in enumerate(splices):
        marker = b',"\\u0000' + str(number).encode() + b'":0'
        start = written.index(marker)
        table.append([start, start + len(marker), kind, which, bases[number]])
    table.sort(key=lambda entry: int(entry[0]))
    header = orjson.dumps(table)
    return _TABLE_LENGTH.pack(len(header)) + header + written


def _walk(node: Node, node_path: NodePath) -> Iterator[tuple[NodePath, Node]]:
    yield node_path, node
    for number, child in enumerate(node.get("children", ())):
        yield from _walk(child, [*node_path, number])


def _image_positions(found: Sequence[str], images: Sequence[str]) -> list[int | None]:
    """The position among a page's images of each image node (by src; None for one that
    is not among them): in order, each image used once, so two nodes showing one picture
    are its two images."""
    used: set[int] = set()
    positions: list[int | None] = []
    after = 0
    for src in found:
        position = next(
            (p for p in range(after, len(images)) if images[p] == src and p not in used), None
        )
        if position is None:
            position = next(
                (p for p in range(len(images)) if images[p] == src and p not in used), None
            )
        if position is not None:
            used.add(position)
            after = position + 1
        positions.append(position)
    return positions


def link_target(url: str, folder: str, uri: str) -> str:
    """The page a link's url may name ("" when none): a .md or .markdown file resolved
    against the page's `folder` (as a path under the content folder), else a site path
    resolved against the page's `uri` (as a browser resolves it on that page), without
    index.html or .html, ending in /."""
    url = url.strip()
    if not url or url.startswith(("#", "?", "//")):
        return ""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return ""
    written = unquote(parts.path)
    if not written:
        return ""
    if written.lower().endswith(_PAGE_SUFFIXES):
        return resolve_src(written, folder).lstrip("/")
    site_path = resolve_src(written, uri.strip("/"))
    lowered = site_path.lower()
    for suffix in _HTML_SUFFIXES:
        if lowered.endswith(suffix):
            site_path = site_path[: -len(suffix)]
            break
    return site_path if site_path.endswith("/") else site_path + "/"


def resolved_json(
    packed: bytes,
    image_id: Callable[[int], str],
    link_data: Sequence[Node | None],
) -> bytes:
    """The tree `packed` holds as JSON, each image node's data.id set to image_id(its
    position) and each link node's data to link_data's entry for it (in document order;
    None: it names no page this request may see), beside the data it has anyway (an
    image's size, a link's hreflang); an empty root for a page packed without one."""
    if not packed:
        return b'{"type":"root","children":[]}'
    (header_length,) = _TABLE_LENGTH.unpack_from(packed)
    tree_start = _TABLE_LENGTH.size + header_length
    if header_length == 2:  # "[]": nothing to fill in
        return packed[tree_start:]
    view = memoryview(packed)
    pieces: list[bytes | memoryview] = []
    last = tree_start
    for start, end, kind, which, base in orjson.loads(view[_TABLE_LENGTH.size : tree_start]):
        pieces.append(view[last : tree_start + start])
        last = tree_start + end
        data: Node = dict(base) if base else {}
        if kind == _IMAGE:
            data["id"] = image_id(which)
        else:
            page = link_data[which] if which < len(link_data) else None
            if page is not None:
                data.update(page)
        if data:
            pieces.append(b',"data":' + orjson.dumps(data))
    pieces.append(view[last:])
    return b"".join(pieces)


def resolved_tree(
    packed: bytes,
    image_id: Callable[[int], str],
    link_data: Sequence[Node | None],
) -> Node:
    """The tree resolved_json writes, as objects."""
    root: Node = orjson.loads(resolved_json(packed, image_id, link_data))
    return root
