"""What a treatment helps with: the items of the list right after a heading such as
"Mesotherapy also can help with:" in a page's rendered html."""

from __future__ import annotations

from html.parser import HTMLParser

_HEADING_TAGS = frozenset(f"h{level}" for level in range(1, 7))
_HIDDEN = frozenset({"script", "style", "template"})  # content that is never text


_INDICATION_WORDS = (
    "help with",
    "helps with",
    "suitable for",
    "good for",
    "recommended for",
    "indications",
    "treats",
)


def find_indications(raw: str) -> tuple[str, ...]:
    """The indication names of a page, from its html, in order."""
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


class _IndicationFinder(HTMLParser):
    """The top-level items of each list that directly follows an indication heading."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: list[str] = []
        self._heading: str | None = None  # the heading tag being read
        self._heading_parts: list[str] = []
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
        elif self._heading is None:
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

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._depth:
            if self._depth == 1 and self._item is not None:
                self._item.append(data)
        elif self._heading is not None:
            self._heading_parts.append(data)
        elif data.strip():
            self._follows = False

    def _finish_item(self) -> None:
        if self._item is not None:
            name = " ".join("".join(self._item).split())
            if name:
                self.names.append(name)
        self._item = None
