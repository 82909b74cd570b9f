"""The content model: plain frozen objects that know nothing of GraphQL or HTTP."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from contentapi.bodies import StoredBody


class Image(NamedTuple):
    """One picture of a page, in document order.

    A named tuple, not a frozen dataclass like the rest: pages keep their images packed and
    make them when asked for, and a tuple is made in half the time (a list of 50 pages
    spent a quarter of its time making images).
    """

    treatment_slug: str
    position: int
    src: str
    alt: str | None = None
    title: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading of a page body with its anchor id."""

    level: int
    title: str
    anchor: str


@dataclass(frozen=True, slots=True)
class Section:
    """The part of a body from one heading to the next."""

    heading: Heading
    html: str
    text: str


@dataclass(frozen=True, slots=True)
class SectionSpan:
    """Where a section lies in its page's html and text (its text itself if not a run of
    the page's text)."""

    heading: Heading
    html_span: tuple[int, int]
    text_span: tuple[int, int]
    own_text: str | None = None


# A packed body: the byte lengths of its html, text and Markdown; the html as UTF-8, not
# compressed (it is read on most requests, and bodies live on disk, not in memory); then
# one zlib stream of the text, the Markdown, and the headings, sections and front matter
# as JSON (the text repeats the Markdown, so they pack to a third together).
_LENGTHS = struct.Struct("<III")


def pack_body(
    html: str,
    text: str,
    markdown: str,
    toc: tuple[Heading, ...],
    sections: tuple[SectionSpan, ...],
    front_matter: dict[str, Any],
) -> bytes:
    """A page's body as one blob (see _LENGTHS for its layout)."""
    html_bytes, text_bytes, markdown_bytes = html.encode(), text.encode(), markdown.encode()
    meta = orjson.dumps(
        {
            "toc": [(h.level, h.title, h.anchor) for h in toc],
            # A section i belongs to heading i: only where its html and text lie is kept.
            "sections": [(*s.html_span, *s.text_span, s.own_text) for s in sections],
            "front_matter": front_matter,
        }
    )
    lengths = _LENGTHS.pack(len(html_bytes), len(text_bytes), len(markdown_bytes))
    return lengths + html_bytes + zlib.compress(text_bytes + markdown_bytes + meta, 6)


def pack_images(images: Sequence[Image]) -> bytes:
    """Images kept as a page keeps them (their page and position are the page's)."""
    packed = orjson.dumps([(i.src, i.alt, i.title, i.width, i.height) for i in images])
    # orjson's bytes keep the 4 KB it wrote them into; a copy is the size it says.
    return bytes(memoryview(packed))


def is_packed_body(body: bytes) -> bool:
    """Whether `body` is laid out as pack_body lays it out: lengths, the html they give and
    a stream after it (a cheap check of bytes read back from a cache, not of their text)."""
    if len(body) < _LENGTHS.size:
        return False
    # An empty stream still compresses to some bytes: the html never ends the blob.
    html_length: int = _LENGTHS.unpack_from(body)[0]
    return _LENGTHS.size + html_length < len(body)


def _inflate(body: bytes, upto: int | None = None) -> bytes:
    """The compressed stream of a packed body, unpacked, or only its first `upto` bytes."""
    stream = memoryview(body)[_LENGTHS.size + _LENGTHS.unpack_from(body)[0] :]
    if upto is None:
        return zlib.decompress(stream)
    # A max_length of 0 means "no limit" to zlib.
    return zlib.decompressobj().decompress(stream, upto) if upto else b""


def _unpacked(body: bytes) -> tuple[bytes, dict[str, Any]]:
    """The compressed stream of a packed body, unpacked, and the JSON at its end."""
    stream = _inflate(body)
    _, text_length, markdown_length = _LENGTHS.unpack_from(body)
    meta: dict[str, Any] = orjson.loads(stream[text_length + markdown_length :])
    return stream, meta


def _html(body: bytes) -> str:
    return str(
        memoryview(body)[_LENGTHS.size : _LENGTHS.size + _LENGTHS.unpack_from(body)[0]], "utf-8"
    )


@dataclass(frozen=True, slots=True)
class Mention:
    """An indication as named on one page."""

    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class Treatment:
    """One page, fully parsed and rendered."""

    slug: str
    title: str
    path: str
    # Packed by pack_body, in memory or stored on disk; the digest stands for it in ==.
    body: bytes | StoredBody = field(repr=False, compare=False)
    summary: str | None
    category: Mention | None = None
    # Packed by pack_images: two images as objects take four times the memory.
    images_packed: bytes = field(default=b"", repr=False)
    image_count: int = 0
    indications: tuple[Mention, ...] = ()
    word_count: int = 0
    reading_time_minutes: int = 1
    date: dt.date | None = None
    updated_at: dt.datetime | None = None
    draft: bool = False
    order: int | None = None
    digest: str = ""

    @property
    def images(self) -> tuple[Image, ...]:
        """The page's images in document order."""
        if not self.image_count:
            return ()
        rows = orjson.loads(self.images_packed)
        return tuple([Image(self.slug, position, *row) for position, row in enumerate(rows)])

    @property
    def packed_body(self) -> bytes:
        """The body as pack_body made it."""
        body = self.body
        return body if isinstance(body, bytes) else body.read()

    @property
    def html(self) -> str:
        """The body as sanitised HTML."""
        return _html(self.packed_body)

    @property
    def text(self) -> str:
        """The body as plain text."""
        body = self.packed_body
        return _inflate(body, _LENGTHS.unpack_from(body)[1]).decode()

    @property
    def markdown(self) -> str:
        """The Markdown body as written."""
        body = self.packed_body
        _, text_length, markdown_length = _LENGTHS.unpack_from(body)
        return _inflate(body, text_length + markdown_length)[text_length:].decode()

    @property
    def toc(self) -> tuple[Heading, ...]:
        """The headings of the body, in document order."""
        return tuple(Heading(*heading) for heading in _unpacked(self.packed_body)[1]["toc"])

    @property
    def sections(self) -> tuple[Section, ...]:
        """The body cut at its headings."""
        body = self.packed_body
        stream, meta = _unpacked(body)
        if not meta["sections"]:
            return ()
        html, text = _html(body), stream[: _LENGTHS.unpack_from(body)[1]].decode()
        return tuple(
            Section(
                Heading(*heading),
                html[html_start:html_end],
                own_text if own_text is not None else text[text_start:text_end],
            )
            for heading, (html_start, html_end, text_start, text_end, own_text) in zip(
                meta["toc"], meta["sections"], strict=False
            )
        )

    @property
    def front_matter(self) -> dict[str, Any]:
        """The front matter as JSON values (dates as ISO strings), a fresh copy each time."""
        front_matter: dict[str, Any] = _unpacked(self.packed_body)[1]["front_matter"]
        return front_matter


@dataclass(frozen=True, slots=True)
class Indication:
    """What treatments help with, merged by slug across pages."""

    slug: str
    name: str
    treatment_slugs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Category:
    """A group of treatments named by `category` or `layout`."""

    slug: str
    name: str
    treatment_slugs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContentError:
    """A file that could not be served, and why."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"
