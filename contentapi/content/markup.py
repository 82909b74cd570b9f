"""A page body: images found in it, Markdown rendered to safe HTML, plain text, headings."""

from __future__ import annotations

import bisect
import html
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as etree

import markdown
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from contentapi.content.dialect import AUTO, COMMONMARK, content_dialect, forced_dialect
from contentapi.content.fragments import (
    has_unsafe_scheme,
    is_template,
    plain_text,
    resolve_src,
    sanitize,
)
from contentapi.content.indications import find_indications
from contentapi.content.model import Heading, Image, SectionSpan

if TYPE_CHECKING:
    from contentapi.content.commonmark import CommonMarkRenderer

_TAG = re.compile(r"<(amp-img|img)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)/?>(?:\s*</amp-img>)?", re.I)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"([^\"]*)\"|'([^']*)'))?\s*\)")
# A reference-style image: ![alt][label], ![alt][] or ![alt] (an image only where a
# definition `[label]: src` names its label).
_MD_REFERENCE_IMAGE = re.compile(r"!\[([^\]]*)\](?:[ ]?\[([^\]]*)\])?")
# Images written in a generator's own syntax, which its Markdown engine turns into <img>:
# DocFX's directive (`:::image type="content" source="media/x.png" alt-text="...":::`,
# a complex one closed by `:::image-end:::`) and Hugo's figure shortcode
# (`{{< figure src="x.jpg" alt="..." >}}`; `{{</* figure */>}}` is how Hugo's own
# documentation writes one that is not run, and is left as written).
_DOCFX_IMAGE = r":::image(?!-end)\b(?P<docfx_attributes>(?:[^:\"'\n]|\"[^\"]*\"|'[^']*')*):::"
_DOCFX_IMAGE_END = r":::image-end:::"
_HUGO_FIGURE = (
    r"\{\{[<%][ \t]*figure\b(?P<figure_attributes>(?:[^>%\"']|\"[^\"]*\"|'[^']*')*)"
    r"[>%]\}\}"
)
_IMAGE = re.compile(
    f"{_TAG.pattern}|{_MD_IMAGE.pattern}|{_MD_REFERENCE_IMAGE.pattern}"
    f"|{_DOCFX_IMAGE}|{_HUGO_FIGURE}",
    re.I,
)
_REFERENCE_DEFINITION = re.compile(
    r"^[ ]{0,3}\[([^\]]+)\]:[ \t]*<?([^\s>]+)>?"
    r"(?:[ \t]+(?:\"([^\"]*)\"|'([^']*)'|\(([^)]*)\)))?[ \t]*$",
    re.M,
)
# Fences as a preprocessor sees them (lines), the info strings fenced_code itself reads
# (a language, hl_lines, or {attributes} alone), and the opening of a list item.
_FENCE_OPEN = re.compile(r"(?P<indent> *)(?P<fence>`{3,}|~{3,})[ ]*(?P<info>.*)")
_FENCED_CODE_INFO = re.compile(r"(?:\.?[\w#.+-]*[ ]*(?:hl_lines=(\"|').*?\1[ ]*)?)|\{.*\}[ ]*")
_LANGUAGE = re.compile(r"[\w#.+-]+")
# A code span on one line: a run of backticks, closed by a run of the same length.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")
_LIST_ITEM = re.compile(r" *(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_ATTRIBUTE = re.compile(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))")
# Markdown's code: its contents are escaped, so a tag written there starts with "&lt;".
_CODE_ELEMENT = re.compile(r"<code\b[^>]*>.*?</code>", re.S)
# Marks each image written in a body with a private-use character chosen per body (one
# it does not hold) and then the image's number as one character from plane 15.
_MARKERS = range(0xE000, 0xF900)
_IMAGE_NUMBERS = 0xF0000
_MOST_MARKED = 0xFFFE  # plane 15's private-use code points
_LEADING_CAROUSEL = re.compile(r"\A\s*<amp-carousel\b.*?</amp-carousel\s*>", re.I | re.S)
_AMP_TAG = r"</?amp-[\w-]+\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>"
# What Markdown is not given as written: amp- tags, DocFX image directives and Hugo
# figures, each made the plain HTML its generator publishes (see _as_html).
_FOREIGN = re.compile(
    f"{_AMP_TAG}|{_DOCFX_IMAGE}|{_DOCFX_IMAGE_END}|{_HUGO_FIGURE}",
    re.I,
)
_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.S)
_FIRST_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)
_HEADING_TAGS = frozenset(f"h{level}" for level in range(1, 7))


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
    """Renders bodies as the site's generator does: Python-Markdown for kramdown sites
    (Jekyll, and the default), markdown-it-py for CommonMark sites (Hugo, Zola, Gatsby,
    Astro); which one a content folder is, see site_dialect. One reusable instance of
    each (not thread-safe).

    `markdown` forces a dialect (the CONTENTAPI_MARKDOWN setting, passed down from the
    settings: auto, commonmark or kramdown).
    """

    def __init__(self, markdown: str = AUTO) -> None:
        forced_dialect(markdown)  # a bad setting fails here, before any page
        self._setting = markdown
        self._markdown = python_markdown()
        self._heading_marks = _HeadingMarks(self._markdown)
        # After inline Markdown (20), before the toc extension reads headings' text (5).
        self._markdown.treeprocessors.register(self._heading_marks, "image-marks", 6)
        self._commonmark: CommonMarkRenderer | None = None
        self._dialects: dict[Path | None, str] = {}

    def dialect(self, root: Path | None) -> str:
        """The dialect bodies of the content folder `root` are rendered in (looked up once
        per folder by each renderer)."""
        found = self._dialects.get(root)
        if found is None:
            found = self._dialects[root] = content_dialect(self._setting, root)
        return found

    def render(self, body: str, owner: str, path: str = "", root: Path | None = None) -> Body:
        """Render one body; `owner` names the page its images belong to, `path` is the
        page's file under the content folder `root` (with / between folders): relative
        image sources resolve against its folder."""
        folder = path.rpartition("/")[0]
        if self.dialect(root) == COMMONMARK:
            if self._commonmark is None:
                # Imported here: commonmark.py builds on this module's helpers.
                from contentapi.content.commonmark import CommonMarkRenderer

                self._commonmark = CommonMarkRenderer()
            return self._commonmark.render(body, owner, folder)
        return self._render_kramdown(body, owner, folder)

    def _render_kramdown(self, body: str, owner: str, folder: str) -> Body:
        written = list(_IMAGE.finditer(body))
        source, place_in_source = for_markdown(body, folder)
        marker = _marker(source) if written else None
        marks = self._heading_marks.marks = _ImageMarks(marker) if marker else None
        places: list[tuple[int, int]] = []
        if marker:
            places = [
                (place, number)
                for number, match in enumerate(written[:_MOST_MARKED])
                if (place := place_in_source(match.start())) is not None
                and _can_mark(source, place)
            ]
            source = _mark(source, places, marker, self._markdown.tab_length)
        self._markdown.reset()
        raw = self._markdown.convert(source)
        if marks is not None:
            raw = marks.read_html(raw)
        toc = tuple(_flatten(getattr(self._markdown, "toc_tokens", [])))
        unshown = marks.unshown(number for _, number in places) if marks is not None else set()
        images = _images(written, unshown, owner, folder, _references(body) if written else {})
        return finish_body(raw, toc, images, folder)


def python_markdown() -> markdown.Markdown:
    """Python-Markdown as kramdown sites are rendered, with fences as Jekyll's kramdown
    (GFM input) reads them (see _SiteFences)."""
    md = markdown.Markdown(extensions=["extra", "toc", "sane_lists"], output_format="html")
    # After white space is normalised (30), before fenced_code reads fences (25).
    md.preprocessors.register(_SiteFences(md), "site-fences", 27)
    return md


class _SiteFences(Preprocessor):
    """Fences fenced_code does not read, made ones it reads or code of their own.

    An info string with attributes (```` ```jsx {6} ````, ```` ```md {file="a.md"} ````)
    stops fenced_code from seeing a fence at all: the code became live HTML and the prose
    after it a <pre>. Its first word is kept as the language, the attributes dropped. A
    fence inside a list item is indented, which fenced_code never reads: it is rendered
    here as fenced_code renders one and stashed, its placeholder left in the item.
    """

    def run(self, lines: list[str]) -> list[str]:
        kept: list[str] = []
        at = 0
        while at < len(lines):
            opening = _FENCE_OPEN.match(lines[at])
            close = _closing_fence(lines, at, opening) if opening else None
            if opening is None or close is None:
                kept.append(lines[at])
                at += 1
                continue
            indent, fence, info = len(opening["indent"]), opening["fence"], opening["info"]
            if not indent:
                readable = _FENCED_CODE_INFO.fullmatch(info)
                kept.append(lines[at] if readable else fence + _language(info))
                kept.extend(lines[at + 1 : close + 1])
            elif _in_list_item(lines, at, indent):
                code = "".join(_dedent(line, indent) + "\n" for line in lines[at + 1 : close])
                language = _language(info)
                attribute = f' class="language-{language}"' if language else ""
                stored = f"<pre><code{attribute}>{html.escape(code)}</code></pre>"
                # A multiple of four: where Python-Markdown reads an item's own blocks.
                kept.append(" " * (-(-indent // 4) * 4) + self.md.htmlStash.store(stored))
            else:
                kept.extend(lines[at : close + 1])
            at = close + 1
        return kept


def _closing_fence(lines: list[str], at: int, opening: re.Match[str]) -> int | None:
    """The line that closes the fence opened on line `at`: for one at the margin the same
    fence (as fenced_code has it), for an indented one a run of at least its length."""
    fence = opening["fence"]
    if fence[0] == "`" and "`" in opening["info"]:
        return None  # not a fence: a backtick info string holds no backtick
    for end in range(at + 1, len(lines)):
        line = lines[end]
        if opening["indent"]:
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                return end
        elif line.rstrip(" ") == fence:
            return end
    return None


def _in_list_item(lines: list[str], at: int, indent: int) -> bool:
    """Whether the indented line `at` belongs to a list item: the nearest line before it
    that is less indented opens one."""
    for before in range(at - 1, -1, -1):
        line = lines[before]
        if not line.strip() or len(line) - len(line.lstrip(" ")) >= indent:
            continue
        return _LIST_ITEM.match(line) is not None
    return False


def _dedent(line: str, indent: int) -> str:
    """A code line of an indented fence without the fence's indentation (less where the
    line has less)."""
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def _language(info: str) -> str:
    """A fence's language: the info string's first word, before any `{` attributes."""
    words = info.split()
    word = words[0].split("{", 1)[0].removeprefix(".") if words else ""
    language = _LANGUAGE.match(word)
    return language.group(0) if language else ""


def finish_body(raw: str, toc: tuple[Heading, ...], images: tuple[Image, ...], folder: str) -> Body:
    """The Body of a page whose Markdown rendered to `raw` with headings `toc`: html
    sanitised (relative image sources resolved against `folder`), text, sections."""
    safe = sanitize(raw, folder)
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
        indications=find_indications(raw),
        first_heading=next((h.title for h in toc if h.level == 1), None),
        first_paragraph=first,
    )


def taken_image(
    owner: str,
    position: int,
    src: str | None,
    folder: str,
    alt: str | None,
    title: str | None,
    width: int | None = None,
    height: int | None = None,
) -> Image | None:
    """The image at `position` of a page in `folder`, or None when `src` names none (no
    source, an unsafe URL or a template expression)."""
    if not src or not src.strip() or has_unsafe_scheme(src) or is_template(src):
        return None
    return Image(owner, position, resolve_src(src, folder), alt, title or None, width, height)


def leading_carousel(body: str) -> str:
    """The <amp-carousel> a body starts with ("" when none): left out of html."""
    carousel = _LEADING_CAROUSEL.match(body)
    return carousel.group(0) if carousel else ""


def tag_images(text: str, owner: str, first: int, folder: str) -> list[Image]:
    """The images of the <img> and <amp-img> tags in `text`, numbered from `first`."""
    images: list[Image] = []
    for tag in _TAG.finditer(text):
        image = tag_image(owner, first + len(images), tag.group(2), folder)
        if image is not None:
            images.append(image)
    return images


def tag_image(owner: str, position: int, attributes: str, folder: str) -> Image | None:
    """The image an <img> or <amp-img> tag's attributes name (see taken_image)."""
    return _attributes_image(owner, position, _attributes(attributes), folder)


def _attributes_image(
    owner: str, position: int, attrs: dict[str, str], folder: str
) -> Image | None:
    return taken_image(
        owner,
        position,
        attrs.get("src"),
        folder,
        attrs.get("alt"),
        attrs.get("title"),
        _integer(attrs.get("width")),
        _integer(attrs.get("height")),
    )


def _images(
    written: list[re.Match[str]],
    unshown: set[int],
    owner: str,
    folder: str,
    references: dict[str, tuple[str, str | None]],
) -> tuple[Image, ...]:
    """The <amp-img>, <img> and Markdown images (inline and reference-style) written in a
    body, in document order, but those Markdown renders as code or drops (their numbers in
    `unshown`)."""
    images: list[Image] = []
    for number, match in enumerate(written):
        if number in unshown:
            continue
        image: Image | None
        if match.group(1):
            image = tag_image(owner, len(images), match.group(2), folder)
        elif match.group(4) is not None:
            src, alt = match.group(4), match.group(3) or None
            title = match.group(5) or match.group(6)
            image = taken_image(owner, len(images), src, folder, alt, title)
        elif (docfx := match.group("docfx_attributes")) is not None:
            image = _attributes_image(owner, len(images), _docfx_image(docfx), folder)
        elif (figure := match.group("figure_attributes")) is not None:
            image = _attributes_image(owner, len(images), _attributes(figure), folder)
        else:
            label = match.group(8) or match.group(7)
            src, title = references.get(_label(label), (None, None))
            image = taken_image(owner, len(images), src, folder, match.group(7) or None, title)
        if image is not None:
            images.append(image)
    return tuple(images)


def _references(body: str) -> dict[str, tuple[str, str | None]]:
    """The reference definitions of a body (`[label]: src "title"`): source and title by
    label, the first definition of a label winning, as Markdown has it."""
    found: dict[str, tuple[str, str | None]] = {}
    for match in _REFERENCE_DEFINITION.finditer(body):
        title = match.group(3) or match.group(4) or match.group(5)
        found.setdefault(_label(match.group(1)), (match.group(2), title))
    return found


def _label(label: str) -> str:
    """A reference label as Markdown matches it: case and runs of white space ignored."""
    return " ".join(label.split()).casefold()


def for_markdown(body: str, folder: str = "") -> tuple[str, Callable[[int], int | None]]:
    """The body as Markdown is given it (the leading carousel cut, other amp- tags, DocFX
    image directives and Hugo figures made plain HTML), and where a place in the body went
    in it (None: cut, or inside a tag)."""
    carousel = _LEADING_CAROUSEL.match(body)
    cut = carousel.end() if carousel else 0
    pieces: list[str] = []
    # Each stretch of the body: where it starts, where it starts in the source, and
    # whether it was copied (else replaced whole).
    stretches: list[tuple[int, int, bool]] = []
    done, length = cut, 0
    code = _code_stretches(body)
    for tag in _FOREIGN.finditer(body, cut):
        if _inside(code, tag.start()):
            continue
        plain = _as_html(tag, folder)
        stretches += ((done, length, True), (tag.start(), length + tag.start() - done, False))
        pieces += (body[done : tag.start()], plain)
        length += tag.start() - done + len(plain)
        done = tag.end()
    stretches.append((done, length, True))
    pieces.append(body[done:])
    starts = [stretch[0] for stretch in stretches]

    def place_in_source(place: int) -> int | None:
        if place < cut:
            return None
        start, start_in_source, copied = stretches[bisect.bisect_right(starts, place) - 1]
        if copied:
            return start_in_source + place - start
        return start_in_source if place == start else None

    return "".join(pieces), place_in_source


def _code_stretches(body: str) -> list[tuple[int, int]]:
    """Where a body holds code, as (start, end) in order: fenced blocks and code spans.

    Written here, not asked of the Markdown engines, because the amp- tags, directives and
    figures they are given must be made HTML before they read the body; a foreign tag
    written as code is shown as written. Fences are found as _SiteFences finds them,
    code spans on one line (a span over several lines, or an indented code block, shows
    such a tag made HTML: neither is seen on the real sites in tests/fixtures/sites).
    """
    if "`" not in body and "~~~" not in body:
        return []
    stretches: list[tuple[int, int]] = []
    lines = body.split("\n")
    starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    at = 0
    while at < len(lines):
        opening = _FENCE_OPEN.match(lines[at])
        close = _closing_fence(lines, at, opening) if opening else None
        if close is not None:
            stretches.append((starts[at], starts[close + 1] - 1))
            at = close + 1
            continue
        if "`" in lines[at]:
            stretches += (
                (starts[at] + span.start(), starts[at] + span.end())
                for span in _CODE_SPAN.finditer(lines[at])
            )
        at += 1
    return stretches


def _inside(stretches: list[tuple[int, int]], place: int) -> bool:
    where = bisect.bisect_right(stretches, place, key=lambda stretch: stretch[0])
    return where > 0 and stretches[where - 1][1] > place


def _marker(source: str) -> str | None:
    """A private-use character the source does not hold (None in the unlikely case it holds
    them all: its images are then all taken, code or not)."""
    return next((chr(code) for code in _MARKERS if chr(code) not in source), None)


def _mark(source: str, places: list[tuple[int, int]], marker: str, tab_length: int) -> str:
    """The source with the marker and an image's number put at each of its places.

    Which images are code is Markdown's call (fences, indented blocks, code spans, code in
    lists, quotes and footnotes), so the source is marked and rendered once, not parsed by
    rules of our own. A private-use character changes no Markdown rule, and a mark is put
    where it changes nothing else (see _can_mark): before any backslashes in front of an
    image, so an escape still escapes what it did, and on a line with tabs expanded as
    Markdown expands them, so no tab stop moves.
    """
    parts: list[str] = []
    done = 0
    for line_start, on_line in itertools.groupby(
        places, key=lambda place: source.rfind("\n", 0, place[0]) + 1
    ):
        line_end = source.find("\n", line_start)
        line = source[line_start : line_end if line_end >= 0 else len(source)]
        expanded = line.expandtabs(tab_length) if "\t" in line else line
        parts.append(source[done:line_start])
        previous = column = 0  # the last mark's place in the line, and in `expanded`
        for place, number in on_line:
            at = place - line_start
            while at > previous and line[at - 1] == "\\":
                at -= 1
            previous = at
            if expanded is not line:
                at = len(line[:at].expandtabs(tab_length))
            parts += (expanded[column:at], marker, chr(_IMAGE_NUMBERS + number))
            column = at
        parts.append(expanded[column:])
        done = line_start + len(line)
    parts.append(source[done:])
    return "".join(parts)


def _can_mark(source: str, place: int) -> bool:
    """Whether a mark before the image at `place` leaves Markdown's reading unchanged:
    not after `<` (`<!` opens a declaration) nor where the image opens a link's
    destination (`[l](<img ...>)` links to the text between the angle brackets). Such an
    image is left unmarked, and so taken, as before marks were used. So is a <figure>
    opening a line."""
    if place > 0 and source[place - 1] == "<":
        return False
    if source.startswith("<figure>", place) and (place == 0 or source[place - 1] == "\n"):
        # A mark would make the HTML block a paragraph around the <figure> (a Hugo figure).
        return False
    before = place
    while before > 0 and source[before - 1].isspace():
        before -= 1
    return not (source.startswith("<", place) and source.startswith("](", before - 2))


class _ImageMarks:
    """The marks put before the images written in a body, and what Markdown made of each:
    shown (its mark landed in text that is no code), or code, or dropped."""

    def __init__(self, marker: str) -> None:
        self._pattern = re.compile(re.escape(marker) + "(.)", re.S)
        self._shown: set[int] = set()

    def unshown(self, marked: Iterable[int]) -> set[int]:
        """The numbers of the marked images Markdown shows only as code (a toc can show a
        heading twice) or not at all (a fence's info string, which it drops)."""
        return set(marked) - self._shown

    def take_out(self, text: str, in_code: bool) -> str:
        """Text of Markdown's tree without marks, each noted as shown unless `in_code`."""
        if not in_code:
            self._shown.update(
                ord(number) - _IMAGE_NUMBERS for number in self._pattern.findall(text)
            )
        return self._pattern.sub("", text)

    def read_html(self, raw: str) -> str:
        """Markdown's html without marks, each noted: in code when it is inside <code> and
        not followed by a tag (an <img> of the author's inside a raw <code> is a picture)."""
        spans: list[tuple[int, int]] | None = None
        for match in self._pattern.finditer(raw):
            number = ord(match.group(1)) - _IMAGE_NUMBERS
            inside = False
            if not raw.startswith("<", match.end()):
                if spans is None:
                    spans = [element.span() for element in _CODE_ELEMENT.finditer(raw)]
                where = bisect.bisect_right(spans, (match.start(), len(raw)))
                inside = where > 0 and spans[where - 1][1] > match.start()
            if not inside:
                self._shown.add(number)
        return self._pattern.sub("", raw)


class _HeadingMarks(Treeprocessor):
    """Takes the marks out of headings before the toc extension reads their text, which
    it strips of spaces at its ends: a mark left there would keep a space in the toc."""

    marks: _ImageMarks | None = None

    def run(self, root: etree.Element) -> None:
        if self.marks is None:
            return
        for heading in root.iter():
            if heading.tag not in _HEADING_TAGS:
                continue
            for element in heading.iter():
                if element.text:
                    element.text = self._take_out(element.text, element.tag == "code")
                if element is not heading and element.tail:
                    element.tail = self._take_out(element.tail, False)

    def _take_out(self, text: str, in_code: bool) -> str:
        assert self.marks is not None
        kept = self.marks.take_out(text, in_code)
        # Inline Markdown has run, but later steps still tell atomic text apart.
        return AtomicString(kept) if isinstance(text, AtomicString) else kept


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, double, single, bare in _ATTRIBUTE.findall(text):
        found.setdefault(name.lower(), html.unescape(double or single or bare))
    return found


def _integer(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 9:
        return None
    return int(value)


def _docfx_image(attributes: str) -> dict[str, str]:
    """A DocFX image directive's attributes as an <img>'s: `source` is its src,
    `alt-text` its alt."""
    attrs = _attributes(attributes)
    named = {"src": attrs.get("source"), "alt": attrs.get("alt-text")}
    return {name: value for name, value in named.items() if value is not None}


def _as_html(match: re.Match[str], folder: str) -> str:
    """The plain HTML of an amp- tag (an <amp-img> is an <img>, other amp- tags nothing), a
    DocFX image directive (an <img>; the line closing a complex one, nothing) or a Hugo
    figure (<figure> with its <img> and caption), as their generators publish them."""
    tag = match.group(0)
    if (docfx := match.group("docfx_attributes")) is not None:
        # A directive is a block of its own: a blank line after it keeps the description
        # of a complex image Markdown, not text of an HTML block.
        after = "\n" if match.string.startswith("\n", match.end()) else ""
        return _img(_docfx_image(docfx), folder) + after
    if (figure := match.group("figure_attributes")) is not None:
        return _figure(_attributes(figure), folder)
    if not tag.lower().startswith("<amp-img"):
        return ""
    return _img(_attributes(tag[len("<amp-img") : -1]), folder)


def _figure(attrs: dict[str, str], folder: str) -> str:
    """A Hugo figure as Hugo's embedded shortcode renders it: the <img> (in a link when it
    has one), then a caption of its title (<h4>) and caption (<p>)."""
    image = _img({name: value for name, value in attrs.items() if name != "title"}, folder)
    if "link" in attrs:
        image = f'<a href="{html.escape(attrs["link"])}">{image}</a>'
    caption = "".join(
        f"<{tag}>{html.escape(attrs[name])}</{tag}>"
        for name, tag in (("title", "h4"), ("caption", "p"))
        if attrs.get(name)
    )
    shown = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{image}{shown}</figure>"


def _img(attrs: dict[str, str], folder: str) -> str:
    if "src" in attrs:
        attrs = {**attrs, "src": resolve_src(attrs["src"], folder)}
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
