"""GraphQL object types. Each reads a model object as it is: no copies per request."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.scalars import JSON

from contentapi import model
from contentapi.schema.context import Context
from contentapi.schema.errors import QueryError
from contentapi.schema.pagination import Window, check_count, encode_cursor, window

T = TypeVar("T")
Info = strawberry.Info[Context, None]


def global_id(kind: str, key: str) -> str:
    """A Relay global id: base64 of 'Type:key', the same on every replica."""
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, str] | None:
    """(type name, key) of a global id, or None if it is not one."""
    try:
        kind, _, key = base64.b64decode(value.encode(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    return (kind, key) if key else None


@strawberry.interface(description="An object with a global id, fetchable with node(id:).")
class Node:
    id: strawberry.ID


@strawberry.type(description="Where a page of a connection stands in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """A page of a list, Relay style."""

    window: strawberry.Private[Window[Any]]

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        start = self.window.start
        return [
            Edge(cursor=encode_cursor(start + i), node=n) for i, n in enumerate(self.window.items)
        ]

    @strawberry.field
    def nodes(self) -> list[T]:
        return list(self.window.items)

    @strawberry.field
    def page_info(self) -> PageInfo:
        found, start = len(self.window.items), self.window.start
        return PageInfo(
            has_next_page=self.window.has_next,
            has_previous_page=self.window.has_previous,
            start_cursor=encode_cursor(start) if found else None,
            end_cursor=encode_cursor(start + found - 1) if found else None,
        )

    @strawberry.field
    def total_count(self) -> int:
        return self.window.total


def connect(
    items: Sequence[Any],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Any:
    """A Connection over items (typed Any: the same object serves every node type)."""
    return Connection(window=window(items, first, after, last, before))


def _treatments_of(info: Info, slugs: Sequence[str]) -> list[model.Treatment]:
    by_slug = info.context.view.by_slug
    return [by_slug[slug] for slug in slugs]


# Resolvers take the model object as `root`, so no GraphQL wrapper object is ever built.


def _treatment_id(root: model.Treatment) -> strawberry.ID:
    return strawberry.ID(global_id("Treatment", root.slug))


def _treatment_category(root: model.Treatment, info: Info) -> Category | None:
    if root.category is None:
        return None
    found: Any = info.context.view.categories.get(root.category.slug)
    return found  # type: ignore[no-any-return]


def _treatment_indications(root: model.Treatment, info: Info) -> list[Indication]:
    merged: Any = info.context.view.indications
    return [merged[mention.slug] for mention in root.indications]


def _treatment_related(root: model.Treatment, info: Info, first: int | None = 5) -> list[Treatment]:
    first = 5 if first is None else first
    check_count(first, "first")
    related: Any = info.context.view.related(root.slug)[:first]
    return list(related)


def _treatment_toc(root: model.Treatment) -> list[Heading]:
    headings: Any = list(root.toc)
    return headings  # type: ignore[no-any-return]


def _treatment_excerpt(root: model.Treatment, length: int | None = 160) -> str:
    length = 160 if length is None else length
    if length < 1:
        raise QueryError(f"'length' must be at least 1, got {length}")
    text = " ".join(root.text.split())
    if len(text) <= length:
        return text
    # The ellipsis counts towards the length.
    room = text[:length]
    cut = room.rsplit(" ", 1)[0] if " " in room else room[: length - 1]
    return cut.rstrip(" ,;:.-")[: length - 1] + "…"


@strawberry.type(name="Treatment", description="A page: one treatment.")
class Treatment(Node):
    id: strawberry.ID = strawberry.field(resolver=_treatment_id)
    slug: str
    title: str
    path: str = strawberry.field(description="File path relative to the content root.")
    category: Category | None = strawberry.field(resolver=_treatment_category)
    summary: str | None
    excerpt: str = strawberry.field(
        resolver=_treatment_excerpt,
        description="Plain text cut at a word boundary, ending in … when cut.",
    )
    html: str = strawberry.field(description="The body as sanitised HTML, carousel removed.")
    markdown: str
    text: str
    sections: list[Section]
    table_of_contents: list[Heading] = strawberry.field(resolver=_treatment_toc)
    images: list[Image]
    indications: list[Indication] = strawberry.field(resolver=_treatment_indications)
    related: list[Treatment] = strawberry.field(
        resolver=_treatment_related,
        description=(
            "Other treatments ranked by how many indications they share with this one "
            "(ties by title)."
        ),
    )
    word_count: int
    reading_time_minutes: int
    date: dt.date | None
    updated_at: dt.datetime | None
    draft: bool = strawberry.field(description="True only for drafts seen with the preview token.")
    order: int | None
    front_matter: JSON

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, model.Treatment)


def _image_id(root: model.Image) -> strawberry.ID:
    return strawberry.ID(global_id("Image", f"{root.treatment_slug}/{root.position}"))


def _image_treatment(root: model.Image, info: Info) -> Treatment:
    found: Any = info.context.view.by_slug[root.treatment_slug]
    return found  # type: ignore[no-any-return]


def _image_url(root: model.Image, info: Info) -> str:
    base = info.context.public_url.rstrip("/")
    if not base or "://" in root.src or root.src.startswith("//"):
        return root.src
    return base + root.src


@strawberry.type(name="Image", description="A picture on a treatment page, in page order.")
class Image(Node):
    id: strawberry.ID = strawberry.field(resolver=_image_id)
    src: str
    url: str = strawberry.field(
        resolver=_image_url, description="src made absolute with CONTENTAPI_PUBLIC_URL, if set."
    )
    alt: str | None
    title: str | None
    width: int | None
    height: int | None
    position: int
    treatment: Treatment = strawberry.field(resolver=_image_treatment)

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, model.Image)


def _indication_id(root: model.Indication) -> strawberry.ID:
    return strawberry.ID(global_id("Indication", root.slug))


def _category_id(root: model.Category) -> strawberry.ID:
    return strawberry.ID(global_id("Category", root.slug))


def _member_count(root: model.Indication | model.Category) -> int:
    return len(root.treatment_slugs)


def _member_treatments(
    root: model.Indication | model.Category,
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Treatment]:
    members = sorted(_treatments_of(info, root.treatment_slugs), key=_by_title)
    return connect(members, first, after, last, before)  # type: ignore[no-any-return]


def _by_title(treatment: model.Treatment) -> tuple[str, str]:
    return (treatment.title.casefold(), treatment.slug)


@strawberry.type(name="Indication", description="Something treatments help with.")
class Indication(Node):
    id: strawberry.ID = strawberry.field(resolver=_indication_id)
    slug: str
    name: str
    treatment_count: int = strawberry.field(resolver=_member_count)
    treatments: Connection[Treatment] = strawberry.field(
        resolver=_member_treatments, description="Treatments that help with it, by title."
    )

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, model.Indication)


@strawberry.type(name="Category", description="A group of treatments (front matter category).")
class Category(Node):
    id: strawberry.ID = strawberry.field(resolver=_category_id)
    name: str
    slug: str
    treatment_count: int = strawberry.field(resolver=_member_count)
    treatments: Connection[Treatment] = strawberry.field(
        resolver=_member_treatments, description="Treatments in it, by title."
    )

    @classmethod
    def is_type_of(cls, obj: object, _info: Any) -> bool:
        return isinstance(obj, model.Category)


@strawberry.type(name="Heading")
class Heading:
    level: int
    title: str
    anchor: str


@strawberry.type(name="Section", description="A body part from one heading to the next.")
class Section:
    heading: Heading
    html: str
    text: str


@strawberry.type(name="SearchHit")
class SearchHit:
    treatment: Treatment
    score: float
    snippet: str = strawberry.field(
        description="HTML-safe text around the match, matched words wrapped in <mark>."
    )


@strawberry.type(name="ContentInfo")
class ContentInfo:
    version: str = strawberry.field(
        description=(
            "Changes whenever any served page changes; "
            "equal on every replica serving the same files."
        )
    )
    treatment_count: int
    indication_count: int
    image_count: int
    category_count: int
    loaded_at: dt.datetime


@strawberry.type(name="ContentError", description="A page that could not be loaded.")
class ContentError:
    path: str
    line: int | None
    message: str
