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


def pack(text: str) -> bytes:
    """Text compressed for keeping: pages' html, text and Markdown take a third the memory."""
    return zlib.compress(text.encode(), 1)


def unpack(data: bytes) -> str:
    """Text kept with pack()."""
    return zlib.decompress(data).decode()


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
    html_packed: bytes = field(repr=False)
    markdown_packed: bytes = field(repr=False)
    text_packed: bytes = field(repr=False)
    summary: str | None
    category: Mention | None = None
    section_spans: tuple[SectionSpan, ...] = ()
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
    def html(self) -> str:
        """The body as sanitised HTML."""
        return unpack(self.html_packed)

    @property
    def text(self) -> str:
        """The body as plain text."""
        return unpack(self.text_packed)

    @property
    def markdown(self) -> str:
        """The Markdown body as written."""
        return unpack(self.markdown_packed)

    @property
    def sections(self) -> tuple[Section, ...]:
        """The body cut at its headings."""
        if not self.section_spans:
            return ()
        html, text = self.html, self.text
        return tuple(
            Section(
                span.heading,
                html[span.html_span[0] : span.html_span[1]],
                span.own_text
                if span.own_text is not None
                else text[span.text_span[0] : span.text_span[1]],
            )
            for span in self.section_spans
        )


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
