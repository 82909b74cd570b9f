"""A page body: images found in it, Markdown rendered to safe HTML, plain text, headings."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
import nh3

from contentapi.model import Heading, Image, SectionSpan

_TAG = re.compile(r"<(amp-img|img)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)/?>(?:\s*</amp-img>)?", re.I)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"([^\"]*)\"|'([^']*)'))?\s*\)")
_IMAGE = re.compile(f"{_TAG.pattern}|{_MD_IMAGE.pattern}", re.I)
_ATTRIBUTE = re.compile(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))")
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_LEADING_CAROUSEL = re.compile(r"\A\s*<amp-carousel\b.*?</amp-carousel\s*>", re.I | re.S)
_AMP_TAG = re.compile(r"</?amp-[\w-]+\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.I)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.S)
# What a URL check ignores: white space and control characters anywhere (browsers drop
# tabs and newlines inside a URL; clients may trim Unicode spaces), and invisible format
# characters.
_URL_IGNORED = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff]+")
_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_FIRST_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)
_QUOTED_ATTRS = r"(?:[^>\"']|\"[^\"]*\"|'[^']*')*"
_HIDDEN_ELEMENT = re.compile(rf"<(script|style|template)\b{_QUOTED_ATTRS}>.*?</\1\s*>", re.I | re.S)
_MARKUP_DECLARATION = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<[?!][^>]*>", re.S)
_BLOCK_TAG = re.compile(
    rf"</?(?:p|div|li|ul|ol|table|tr|pre|blockquote|br|hr|h[1-6])(?:\s{_QUOTED_ATTRS})?/?>", re.I
)
_ANY_TAG = re.compile(rf"</?[a-zA-Z]{_QUOTED_ATTRS}>")
_INDICATION_WORDS = (
    "help with",
    "helps with",
    "suitable for",
    "good for",
    "recommended for",
    "indications",
    "treats",
)
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    **{f"h{level}": {"id"} for level in range(1, 7)},
    "img": {"src", "alt", "title", "width", "height"},
    "a": {"href", "title", "hreflang"},
    "code": {"class"},
    "abbr": {"title"},
    "sup": {"id"},
    "li": {"id"},
}
_HEADING_TAGS = frozenset(f"h{level}" for level in range(1, 7))
_HIDDEN = frozenset({"script", "style", "template"})  # content that is never text


@dataclass(frozen=True, slots=True)
class Body:
    """Everything the loader derives from a page body."""

    html: str
    text: str
    images: tuple[Image, ...]
    toc: tuple[Heading, ...]
    sections: tuple[SectionSpan, ...]
    indications: tuple[str, ...]
    first_heading: str | None
    first_paragraph: str | None


class Renderer:
    """Renders bodies with one reusable Python-Markdown instance (not thread-safe)."""

    def __init__(self) -> None:
        self._markdown = markdown.Markdown(
            extensions=["extra", "toc", "sane_lists"], output_format="html"
        )

    def render(self, body: str, slug: str) -> Body:
        """Render one body; `slug` names the page its images belong to."""
        images = find_images(body, slug)
        source = _LEADING_CAROUSEL.sub("", body, count=1)
        source = _AMP_TAG.sub(_amp_to_html, source)
        self._markdown.reset()
        raw = self._markdown.convert(source)
        toc = tuple(_flatten(getattr(self._markdown, "toc_tokens", [])))
        safe = sanitize(raw)
        first = next(
            (text for p in _FIRST_PARAGRAPH.finditer(safe) if (text := plain_text(p.group(1)))),
            None,
        )
        text = plain_text(safe)
        return Body(
            html=safe,
            text=text,
            images=images,
            toc=toc,
            sections=_sections(safe, text, toc),
            indications=_indications(raw),
            first_heading=next((h.title for h in toc if h.level == 1), None),
            first_paragraph=first,
        )


def sanitize(fragment: str) -> str:
    """Strip anything active (scripts, handlers, unsafe URLs, frames, styles) from HTML.

    Image sources are normalised (see normalise_src) here, inside the sanitiser, so the
    value checked is the value served.
    """
    return nh3.clean(
        fragment,
        attributes=_ALLOWED_ATTRIBUTES,
        strip_comments=True,
        attribute_filter=_filter_attribute,
    )


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment: no tags, entities decoded, blocks on their own lines."""
    # Regular expressions, not html.parser: 3x faster, and the same text on sanitised HTML.
    text = _HIDDEN_ELEMENT.sub("", fragment)
    text = _MARKUP_DECLARATION.sub("", text)
    text = _BLOCK_TAG.sub("\n", text)
    text = html.unescape(_ANY_TAG.sub("", text))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalise_src(src: str) -> str:
    """Backslashes become slashes and relative paths gain a leading slash; URLs stay."""
    src = src.strip().replace("\\", "/")
    if _SCHEME.match(src) or src.startswith("/"):
        return src
    return "/" + src.removeprefix("./")


def find_images(body: str, slug: str) -> tuple[Image, ...]:
    """Every <amp-img>, <img> and Markdown image outside code fences, in document order."""
    searchable = _FENCE.sub(lambda m: " " * len(m.group(0)), body)
    images: list[Image] = []
    for match in _IMAGE.finditer(searchable):
        if match.group(1):
            attrs = _attributes(match.group(2))
            src, alt, title = attrs.get("src"), attrs.get("alt"), attrs.get("title")
            width, height = _integer(attrs.get("width")), _integer(attrs.get("height"))
        else:
            src, alt = match.group(4), match.group(3) or None
            title, width, height = match.group(5) or match.group(6), None, None
        if not src or not src.strip() or _has_unsafe_scheme(src):
            continue
        images.append(
            Image(slug, len(images), normalise_src(src), alt, title or None, width, height)
        )
    return tuple(images)


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, double, single, bare in _ATTRIBUTE.findall(text):
        found.setdefault(name.lower(), html.unescape(double or single or bare))
    return found


def _integer(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 9:
        return None
    return int(value)


def _amp_to_html(match: re.Match[str]) -> str:
    tag = match.group(0)
    if not tag.lower().startswith("<amp-img"):
        return ""
    attrs = _attributes(tag[len("<amp-img") : -1])
    if "src" in attrs:
        attrs["src"] = normalise_src(attrs["src"])
    kept = ("src", "alt", "title", "width", "height")
    return "<img " + " ".join(f'{k}="{html.escape(attrs[k])}"' for k in kept if k in attrs) + ">"


def _flatten(tokens: list[dict[str, object]]) -> list[Heading]:
    flat: list[Heading] = []
    for token in tokens:
        title = plain_text(str(token.get("html", token.get("name", ""))))
        flat.append(Heading(int(str(token["level"])), title, str(token["id"])))
        children = token.get("children")
        if isinstance(children, list):
            flat.extend(_flatten(children))
    return flat


def _sections(safe: str, text: str, toc: tuple[Heading, ...]) -> tuple[SectionSpan, ...]:
    matches = list(_HEADING.finditer(safe))
    sections = []
    searched_to = 0
    for position, (match, heading) in enumerate(zip(matches, toc, strict=False)):
        end = matches[position + 1].start() if position + 1 < len(matches) else len(safe)
        start = match.end()
        while start < end and safe[start].isspace():
            start += 1
        while end > start and safe[end - 1].isspace():
            end -= 1
        section_text = plain_text(safe[start:end])
        # The section's text is a run of the page's lines: point into the page's text.
        found = text.find(section_text, searched_to) if section_text else -1
        if found >= 0:
            span = SectionSpan(heading, (start, end), (found, found + len(section_text)))
            searched_to = found + len(section_text)
        else:
            span = SectionSpan(heading, (start, end), (0, 0), section_text)
        sections.append(span)
    return tuple(sections)


def _indications(raw: str) -> tuple[str, ...]:
    finder = _IndicationFinder()
    finder.feed(raw)
    finder.close()
    return tuple(finder.names)


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    """nh3 calls this after its own checks: normalise <img src>, drop unsafe URLs.

    nh3 takes a value that starts with a non-ASCII space (`&nbsp;javascript:...`) for a
    relative URL; a client that trims it, or normalise_src, would bring the scheme back.
    """
    if attribute not in _URL_ATTRIBUTES:
        return value
    if element == "img" and attribute == "src" and value.strip():
        value = normalise_src(value)
    return None if _has_unsafe_scheme(value) else value


def _has_unsafe_scheme(url: str) -> bool:
    scheme = _SCHEME.match(_URL_IGNORED.sub("", url))
    return scheme is not None and scheme.group(0)[:-1].lower() not in nh3.ALLOWED_URL_SCHEMES


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
