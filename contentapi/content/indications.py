"""What a treatment helps with: the items of the list right after a heading such as
"Mesotherapy also can help with:", or after a paragraph whose last line is such as
"Benefits of microneedling:" or "Best for:", in a page's rendered html."""

from __future__ import annotations

from html.parser import HTMLParser

_HEADING_TAGS = frozenset(f"h{level}" for level in range(1, 7))
_HIDDEN = frozenset({"script", "style", "template"})  # content that is never text
# Start tags that end an open <p> (HTML's rule, for the blocks Markdown writes).
_CLOSES_PARAGRAPH = frozenset(
    {"p", "ul", "ol", "div", "table", "pre", "blockquote", "hr", "dl", "section", "figure"}
)


_INDICATION_WORDS = (
    "help with",
    "helps with",
    "suitable for",
    "good for",
    "recommended for",
    "indications",
    "treats",
)
# Clinic sites introduce the list with a paragraph line too, in these words as well.
_PARAGRAPH_WORDS = (*_INDICATION_WORDS, "benefits", "best for", "treatment areas")


# The first word of each of those: the text before a list of indications holds one.
_MARKS = tuple(sorted({phrase.split()[0] for phrase in _PARAGRAPH_WORDS}))


def find_indications(raw: str) -> tuple[str, ...]:
    """The indication names of a page, from its html, in order.

    A page whose html holds none of the words that introduce a list of indications is not
    parsed (html.parser took 14% of a cold load of cpp-docs' 9,740 pages, 15 of which have
    such a list; 87% of them hold none of the words): its text is in the html as it is,
    but for a numeric character reference (`&#104;`), so a page with one is parsed, and a
    tag inside a word (`h<b>elp</b>`), which is not read.
    """
    lowered = raw.lower()
    if "&#" not in raw and not any(mark in lowered for mark in _MARKS):
        return ()
    finder = _IndicationFinder()
    try:
        finder.feed(raw)
        finder.close()
    except AssertionError:
        # html.parser (Python 3.11, 3.12) asserts on a `<![` it cannot read, which Markdown
        # passes on inside raw HTML (`<div>\n<![a](x.png)\n</div>`): no list follows it.
        pass
    return tuple(finder.names)


def _is_indication_heading(text: str) -> bool:
    lowered = text.lower()
    return text.endswith(":") and any(word in lowered for word in _INDICATION_WORDS)


def _is_indication_line(paragraph: str) -> bool:
    """Whether a paragraph's last line introduces a list of indications."""
    line = paragraph.strip().rsplit("\n", 1)[-1]
    text = " ".join(line.split())
    lowered = text.lower()
    return text.endswith(":") and any(word in lowered for word in _PARAGRAPH_WORDS)


class _IndicationFinder(HTMLParser):
    """The top-level items of each list that directly follows an indication heading or
    an indication paragraph."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: list[str] = []
        self._heading: str | None = None  # the heading tag being read
        self._heading_parts: list[str] = []
        self._paragraph: list[str] | None = None  # the text of the <p> being read
        self._follows = False  # a qualifying heading closed and nothing has come since
        self._depth = 0  # nesting of the list being collected
        self._item: list[str] | None = None
        self._hidden = 0  # inside <script>, <style> or <template>: not names

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif self._hidden:
            pass
        elif self._depth:
            if tag in ("ul", "ol"):
                self._depth += 1
            elif tag == "li" and self._depth == 1:
                self._finish_item()
                self._item = []
        elif tag in _HEADING_TAGS:
            self._heading, self._heading_parts, self._follows = tag, [], False
            self._paragraph = None
        elif self._heading is not None:
            pass
        elif self._paragraph is not None and tag not in _CLOSES_PARAGRAPH:
            if tag == "br":
                self._paragraph.append("\n")
        else:
            if self._paragraph is not None:
                self._end_paragraph()  # a block opening ends a <p> left open, as in HTML
            if tag == "p":
                self._paragraph, self._follows = [], False
            else:
                self._depth = 1 if tag in ("ul", "ol") and self._follows else 0
                self._follows = False

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif self._hidden:
            pass
        elif self._depth:
            if tag in ("ul", "ol"):
                self._depth -= 1
                if not self._depth:
                    self._finish_item()
            elif tag == "li" and self._depth == 1:
                self._finish_item()
        elif tag == self._heading:
            text = " ".join("".join(self._heading_parts).split())
            self._heading = None
            self._follows = _is_indication_heading(text)
        elif tag == "p" and self._paragraph is not None and self._heading is None:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._depth:
            if self._depth == 1 and self._item is not None:
                self._item.append(data)
        elif self._heading is not None:
            self._heading_parts.append(data)
        elif self._paragraph is not None:
            self._paragraph.append(data)
        elif data.strip():
            self._follows = False

    def _end_paragraph(self) -> None:
        assert self._paragraph is not None
        self._follows = _is_indication_line("".join(self._paragraph))
        self._paragraph = None

    def _finish_item(self) -> None:
        if self._item is not None:
            name = " ".join("".join(self._item).split())
            if name:
                self.names.append(name)
        self._item = None
