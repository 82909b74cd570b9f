"""Bodies of CommonMark sites (Hugo, Zola, Gatsby, Astro) rendered with markdown-it-py,
into the same Body as kramdown sites (markup.py): html sanitised the same way, text,
headings with the same anchors, sections, images, indications."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from typing import Any

from markdown.extensions.toc import slugify, strip_tags, unique
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.footnote.index import render_footnote_ref
from mdit_py_plugins.tasklists import tasklists_plugin

from contentapi.content.fragments import plain_text
from contentapi.content.markup import (
    Body,
    finish_body,
    for_markdown,
    leading_carousel,
    tag_images,
    taken_image,
)
from contentapi.content.model import Heading, Image

# markdown-it's own HTML tokens, read for the <img> tags an author wrote.
_HTML_TOKENS = frozenset({"html_block", "html_inline"})
_FOOTNOTE_REF = re.compile(r'<sup class="footnote-ref"><a href="([^"]*)" id="([^"]*)">')


def commonmark_parser() -> MarkdownIt:
    """markdown-it-py as CommonMark sites have their Markdown: the CommonMark spec with
    raw HTML, plus the additions their generators turn on (GitHub's tables, ~~strike~~
    and task lists; footnotes, on in Goldmark, Zola and remark-gfm), and an id on every
    heading by the same rule as kramdown sites."""
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser.use(tasklists_plugin).use(footnote_plugin)
    parser.add_render_rule("footnote_ref", _footnote_ref)
    parser.core.ruler.push("heading_ids", _heading_ids)
    return parser


class CommonMarkRenderer:
    """Renders bodies with one reusable markdown-it-py parser."""

    def __init__(self) -> None:
        self._parser = commonmark_parser()

    def render(self, body: str, owner: str, folder: str) -> Body:
        """Render one body of a page in `folder`; `owner` names the page its images
        belong to."""
        source, _ = for_markdown(body, folder)
        env: dict[str, Any] = {}
        tokens = self._parser.parse(source, env)
        # No newline at the end, as on kramdown sites.
        raw = self._parser.renderer.render(tokens, self._parser.options, env).rstrip("\n")
        # The leading carousel is left out of html, but its pictures are the page's.
        images = tag_images(leading_carousel(body), owner, 0, folder)
        for token in _in_order(tokens):
            if token.type == "image":
                alt = _html_renderer(self._parser).renderInlineAsText(
                    token.children or [], self._parser.options, env
                )
                src, title = token.attrGet("src"), token.attrGet("title")
                _keep(
                    images,
                    taken_image(
                        owner,
                        len(images),
                        str(src) if src is not None else None,
                        folder,
                        alt or None,
                        str(title) if title else None,
                    ),
                )
            elif token.type in _HTML_TOKENS:
                images += tag_images(token.content, owner, len(images), folder)
        return finish_body(raw, tuple(env.get("toc", ())), tuple(images), folder)


def _footnote_ref(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    """A footnote reference with its id on <sup>, as kramdown sites have it (where the
    sanitiser keeps it, so the note's link back finds it)."""
    written = render_footnote_ref(self, tokens, idx, options, env)
    return _FOOTNOTE_REF.sub(r'<sup class="footnote-ref" id="\2"><a href="\1">', written)


def _html_renderer(parser: MarkdownIt) -> RendererHTML:
    renderer = parser.renderer
    assert isinstance(renderer, RendererHTML), "commonmark_parser renders HTML"
    return renderer


def _keep(images: list[Image], image: Image | None) -> None:
    if image is not None:
        images.append(image)


def _in_order(tokens: Sequence[Token]) -> Iterator[Token]:
    """The block tokens and the inline tokens inside them, in document order (an image's
    own children are its alt text, not images). Code is a token of its own (code_inline,
    fence, code_block) whose text is never read here: no image is taken from code."""
    for token in tokens:
        yield token
        if token.type == "inline" and token.children:
            yield from token.children


def _heading_ids(state: StateCore) -> None:
    """Give each heading an id as the toc extension does on kramdown sites (its slugify
    of the heading's text, _1, _2... when taken) and note the headings in env["toc"]."""
    used: set[str] = set()
    counters: dict[str, int] = {}
    toc: list[Heading] = []
    renderer = _html_renderer(state.md)
    for position, token in enumerate(state.tokens):
        if token.type != "heading_open" or position + 1 >= len(state.tokens):
            continue
        inline = state.tokens[position + 1]
        inner = renderer.renderInline(inline.children or [], state.md.options, state.env)
        anchor = unique(slugify(html.unescape(strip_tags(inner)), "-"), used, counters)
        token.attrSet("id", anchor)
        toc.append(Heading(int(token.tag[1]), plain_text(inner), anchor))
    state.env["toc"] = toc
