"""The content model: plain frozen objects that know nothing of GraphQL or HTTP (a page's
body is kept packed: body.py holds the format and reads it back)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from contentapi.content.body import (
    StoredBody,
    packed_ast,
    packed_html,
    packed_markdown,
    packed_meta,
    packed_text,
)

_new_tuple = tuple.__new__
# Pages whose decoded images are kept (see _decoded_images): about 400 bytes each.
IMAGES_KEPT = 4096


class Image(NamedTuple):
    """One picture of a page, in document order.

    A named tuple, not a frozen dataclass like the rest: pages keep their images packed and
    make them when asked for, and a tuple is made in half the time (a list of 50 pages
    spent a quarter of its time making images).
    """

    # The uri of the page it is on (its id uses the page's key, see page_key).
    treatment_uri: str
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


@dataclass(frozen=True, slots=True)
class Mention:
    """An indication as named on one page."""

    name: str
    slug: str


def page_key(uri: str) -> str:
    """The key naming a page in global ids: its uri without the leading and trailing '/'
    ('/' for the site root).

    One page, one key, on every replica and after every restart, as uris are unique; for
    a page at the top of the folder (uri /slug/) it is its slug, the key ids held before
    uris existed (Treatment:mesotherapy).
    """
    return uri.strip("/") or "/"


def uri_of_key(key: str) -> str:
    """The uri that page_key made `key` from."""
    return "/" if key == "/" else f"/{key}/"


@dataclass(frozen=True, slots=True)
class Treatment:
    """One page, fully parsed and rendered."""

    slug: str
    title: str
    path: str
    # The page's unique site path, with a leading and a trailing '/'.
    uri: str
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
    # Which of the images is the cover: the front matter's (put first unless the body
    # shows it too), else the first.
    cover_position: int = 0
    # For each link node of the body's mdast tree, in document order, the page it may
    # name (see mdast.RichText): resolved against the pages a view holds.
    link_targets: tuple[str, ...] = ()
    # The locale the file names (front matter lang/language/locale, else a file-name
    # suffix such as x.de.md), a BCP 47 tag; None: its folder or the default decides (see
    # locales.py and translations.py).
    locale: str | None = None
    # Front matter translationKey (Hugo): pages sharing it are translations of each other.
    translation_key: str | None = None
    # Old site paths of the page (front matter redirect_from and aliases), normalised.
    redirect_from: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The page's key in global ids (see page_key)."""
        return page_key(self.uri)

    @property
    def images(self) -> tuple[Image, ...]:
        """The page's images in document order (a front matter cover first)."""
        if not self.image_count:
            return ()
        return _decoded_images(self.uri, self.images_packed)

    @property
    def cover_image(self) -> Image | None:
        """The front matter image, else the first image; None for a page without images."""
        if not self.image_count:
            return None
        return self.images[self.cover_position]

    @property
    def packed_body(self) -> bytes:
        """The body as pack_body made it."""
        body = self.body
        return body if isinstance(body, bytes) else body.read()

    @property
    def html(self) -> str:
        """The body as sanitised HTML."""
        return packed_html(self.packed_body)

    @property
    def ast_packed(self) -> bytes:
        """The body's mdast tree as mdast.rich_text packed it (b"" for none): read it with
        mdast.resolved_tree."""
        return packed_ast(self.packed_body)

    @property
    def text(self) -> str:
        """The body as plain text."""
        return packed_text(self.packed_body)

    @property
    def markdown(self) -> str:
        """The Markdown body as written."""
        return packed_markdown(self.packed_body)

    @property
    def toc(self) -> tuple[Heading, ...]:
        """The headings of the body, in document order."""
        return tuple(Heading(*heading) for heading in packed_meta(self.packed_body)[1]["toc"])

    @property
    def sections(self) -> tuple[Section, ...]:
        """The body cut at its headings."""
        body = self.packed_body
        text, meta = packed_meta(body)
        if not meta["sections"]:
            return ()
        html = packed_html(body)
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
        front_matter: dict[str, Any] = packed_meta(self.packed_body)[1]["front_matter"]
        return front_matter


@dataclass(frozen=True, slots=True)
class Indication:
    """What treatments help with, merged by slug across pages."""

    slug: str
    name: str
    # The uris of its treatments, in path order.
    treatment_uris: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Category:
    """A group of treatments: front matter category (or categories), their collection
    folder, or a layout that is not a template's name."""

    slug: str
    name: str
    # The uris of its treatments, in path order.
    treatment_uris: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContentError:
    """A file that could not be served, and why."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@functools.lru_cache(maxsize=IMAGES_KEPT)
def _decoded_images(uri: str, packed: bytes) -> tuple[Image, ...]:
    """The images `packed` holds, of the page at `uri`, for the last IMAGES_KEPT pages
    asked: pages keep them packed (a fraction of the memory), and a list of 50 pages
    decoded its 102 images on every request, 99 us of a 520 us request at 1,000 generated
    pages against 6 us to look them up (in process). Keyed by the page's uri too, as
    each image names its page; both are immutable, as are the tuples made."""
    rows = orjson.loads(packed)
    # tuple.__new__ rather than Image(...): the named tuple's own __new__ (a Python
    # function filling defaults) made a list of 50 pages' images in 113 us against 90
    # (pack_images writes every field, so none is left to a default).
    return tuple([_new_tuple(Image, (uri, position, *row)) for position, row in enumerate(rows)])
