"""The content model: plain frozen objects that know nothing of GraphQL or HTTP."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Image:
    """One picture of a page, in document order."""

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
    """The part of a body from one heading to the next.

    It holds spans of the page's html and text rather than copies of them: sections
    would otherwise double the memory a page takes.
    """

    heading: Heading
    page_html: str = field(repr=False)
    html_span: tuple[int, int]
    page_text: str = field(repr=False)
    text_span: tuple[int, int]

    @property
    def html(self) -> str:
        """The section's HTML (after its heading, up to the next one)."""
        return self.page_html[self.html_span[0] : self.html_span[1]]

    @property
    def text(self) -> str:
        """The section's plain text."""
        return self.page_text[self.text_span[0] : self.text_span[1]]


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
    html: str
    markdown_zlib: bytes = field(repr=False)
    text: str
    summary: str | None
    category: Mention | None = None
    sections: tuple[Section, ...] = ()
    toc: tuple[Heading, ...] = ()
    images: tuple[Image, ...] = ()
    indications: tuple[Mention, ...] = ()
    word_count: int = 0
    reading_time_minutes: int = 1
    date: dt.date | None = None
    updated_at: dt.datetime | None = None
    draft: bool = False
    order: int | None = None
    front_matter: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    digest: str = ""

    @property
    def markdown(self) -> str:
        """The Markdown body as written (kept compressed: it is rarely asked for)."""
        return zlib.decompress(self.markdown_zlib).decode()


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
