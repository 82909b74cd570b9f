"""A page body: images found in it, Markdown rendered to safe HTML, plain text, headings."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
import nh3

from contentapi.model import Heading, Image, Section

_TAG = re.compile(r"<(amp-img|img)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)/?>(?:\s*</amp-img>)?", re.I)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"([^\"]*)\"|'([^']*)'))?\s*\)")
_IMAGE = re.compile(f"{_TAG.pattern}|{_MD_IMAGE.pattern}", re.I)
_ATTRIBUTE = re.compile(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))")
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_LEADING_CAROUSEL = re.compile(r"\A\s*<amp-carousel\b.*?</amp-carousel\s*>", re.I | re.S)
_AMP_TAG = re.compile(r"</?amp-[\w-]+\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.I)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.S)
_INDICATION_LIST = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>\s*<(ul|ol)\b[^>]*>(.*?)</\3>", re.S)
_LIST_ITEM = re.compile(r"<li\b[^>]*>(.*?)</li>", re.S)
_FIRST_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)
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
_BLOCKS = {"p", "div", "li", "ul", "ol", "table", "tr", "pre", "blockquote", "br", "hr"}
_BLOCKS |= {f"h{level}" for level in range(1, 7)}


@dataclass(frozen=True, slots=True)
class Body:
    """Everything the loader derives from a page body."""

    html: str
    text: str
    images: tuple[Image, ...]
    toc: tuple[Heading, ...]
    sections: tuple[Section, ...]
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
        first = _FIRST_PARAGRAPH.search(safe)
        return Body(
            html=safe,
            text=plain_text(safe),
            images=images,
            toc=toc,
            sections=_sections(safe, toc),
            indications=_indications(raw),
            first_heading=next((h.title for h in toc if h.level == 1), None),
            first_paragraph=(plain_text(first.group(1)) or None) if first else None,
        )


def sanitize(fragment: str) -> str:
    """Strip anything active (scripts, handlers, unsafe URLs, frames, styles) from HTML."""
    return nh3.clean(fragment, attributes=_ALLOWED_ATTRIBUTES, strip_comments=True)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment: no tags, entities decoded, blocks on their own lines."""
    parser = _TextParser()
    parser.feed(fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
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
        if not src or not src.strip():
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


def _sections(safe: str, toc: tuple[Heading, ...]) -> tuple[Section, ...]:
    matches = list(_HEADING.finditer(safe))
    sections = []
    for position, (match, heading) in enumerate(zip(matches, toc, strict=False)):
        end = matches[position + 1].start() if position + 1 < len(matches) else len(safe)
        fragment = safe[match.end() : end].strip()
        sections.append(Section(heading, fragment, plain_text(fragment)))
    return tuple(sections)


def _indications(raw: str) -> tuple[str, ...]:
    names: list[str] = []
    for match in _INDICATION_LIST.finditer(raw):
        heading = plain_text(match.group(2)).strip()
        lowered = heading.lower()
        if heading.endswith(":") and any(word in lowered for word in _INDICATION_WORDS):
            names.extend(plain_text(item) for item in _LIST_ITEM.findall(match.group(4)))
    return tuple(name for name in names if name)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
