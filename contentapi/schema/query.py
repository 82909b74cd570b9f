"""The Query root: lookups, lists with filters and order, search, node ids, content info."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry

from contentapi import model
from contentapi.index import Ordering, TreatmentQuery
from contentapi.schema.pagination import check_count, parse_position
from contentapi.schema.types import (
    Category,
    Connection,
    ContentError,
    ContentInfo,
    Image,
    Indication,
    Info,
    Node,
    SearchHit,
    Treatment,
    connect,
    parse_global_id,
)

_PAGE_ARGS = "first, after, last, before: Relay pagination (first/last at most 100)."


@strawberry.enum
class TreatmentOrderField(Enum):
    TITLE = "TITLE"
    DATE = "DATE"
    UPDATED_AT = "UPDATED_AT"
    WORD_COUNT = "WORD_COUNT"
    ORDER = "ORDER"


@strawberry.enum
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input
class TreatmentOrder:
    field: TreatmentOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class TreatmentFilter:
    category: str | None = strawberry.field(default=None, description="Category slug.")
    indication: str | None = strawberry.field(
        default=None, description="Indication slug: treatments that help with it."
    )
    indications_all: list[str] | None = strawberry.field(
        default=None, description="Treatments that help with ALL of these indication slugs."
    )
    search: str | None = strawberry.field(
        default=None, description="Full-text search over title, summary and text."
    )
    slugs: list[str] | None = None


@strawberry.input
class IndicationFilter:
    name_contains: str | None = strawberry.field(
        default=None, description="Substring of the name, case-insensitive."
    )
    min_treatments: int | None = strawberry.field(
        default=None, description="Only indications that at least this many treatments help with."
    )


def _node(info: Info, value: str) -> Any:
    parsed = parse_global_id(value)
    if parsed is None:
        return None
    kind, key = parsed
    view = info.context.view
    if kind == "Treatment":
        return view.by_slug.get(key)
    if kind == "Indication":
        return view.indications.get(key)
    if kind == "Category":
        return view.categories.get(key)
    if kind == "Image":
        slug, _, written = key.rpartition("/")
        position = parse_position(written)
        return None if position is None else view.image(slug, position)
    return None


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; null if there is none.")
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return _node(info, id)  # type: ignore[no-any-return]

    @strawberry.field(description="Objects by global id, in order; null where there is none.")
    def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > 100:
            check_count(len(ids), "ids")
        return [_node(info, value) for value in ids]

    @strawberry.field(description="A treatment by slug, or null.")
    def treatment(self, info: Info, slug: str) -> Treatment | None:
        return info.context.view.by_slug.get(slug)  # type: ignore[return-value]

    @strawberry.field(description=f"Treatments matching every filter set. {_PAGE_ARGS}")
    def treatments(
        self,
        info: Info,
        filter: TreatmentFilter | None = None,
        order_by: list[TreatmentOrder] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Treatment]:
        query = TreatmentQuery()
        if filter is not None:
            query = TreatmentQuery(
                category=filter.category,
                indication=filter.indication,
                indications_all=tuple(filter.indications_all)
                if filter.indications_all is not None
                else None,
                search=filter.search,
                slugs=tuple(filter.slugs) if filter.slugs is not None else None,
            )
        order = [
            Ordering(o.field.value, o.direction is OrderDirection.DESC) for o in order_by or []
        ]
        found = info.context.view.find(query, order)
        return connect(found, first, after, last, before)  # type: ignore[no-any-return]

    @strawberry.field(description="An indication by slug, or null.")
    def indication(self, info: Info, slug: str) -> Indication | None:
        return info.context.view.indications.get(slug)  # type: ignore[return-value]

    @strawberry.field(description=f"Indications by name. {_PAGE_ARGS}")
    def indications(
        self,
        info: Info,
        filter: IndicationFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Indication]:
        found: list[model.Indication] = list(info.context.view.indications_by_name)
        if filter is not None and filter.name_contains:
            needle = filter.name_contains.casefold()
            found = [i for i in found if needle in i.name.casefold()]
        if filter is not None and filter.min_treatments is not None:
            least = filter.min_treatments
            found = [i for i in found if len(i.treatment_slugs) >= least]
        return connect(found, first, after, last, before)  # type: ignore[no-any-return]

    @strawberry.field(description="A category by slug, or null.")
    def category(self, info: Info, slug: str) -> Category | None:
        return info.context.view.categories.get(slug)  # type: ignore[return-value]

    @strawberry.field(description="All categories by name.")
    def categories(self, info: Info) -> list[Category]:
        return list(info.context.view.categories_by_name)  # type: ignore[arg-type]

    @strawberry.field(description=f"Every image, in page then position order. {_PAGE_ARGS}")
    def images(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Image]:
        return connect(info.context.view.images, first, after, last, before)  # type: ignore[no-any-return]

    @strawberry.field(description="Full-text search, best match first (first at most 100).")
    def search(
        self,
        info: Info,
        query: str,
        first: Annotated[int | None, strawberry.argument(description="How many hits.")] = 10,
    ) -> list[SearchHit]:
        first = 10 if first is None else first
        check_count(first, "first")
        view = info.context.view
        return [
            SearchHit(
                treatment=view.by_slug[hit.slug],  # type: ignore[arg-type]
                score=hit.score,
                snippet=hit.snippet,
            )
            for hit in view.search(query, first)
        ]

    @strawberry.field(description="What is being served: a version and counts.")
    def content_info(self, info: Info) -> ContentInfo:
        view = info.context.view
        return ContentInfo(
            version=view.version,
            treatment_count=len(view.treatments),
            indication_count=len(view.indications),
            image_count=len(view.images),
            category_count=len(view.categories),
            loaded_at=info.context.index.loaded_at_for(info.context.preview),
        )

    @strawberry.field(
        description=(
            "Pages that could not be loaded. Empty unless the request carries the preview token."
        )
    )
    def content_errors(self, info: Info) -> list[ContentError]:
        if not info.context.preview:
            return []
        return [
            ContentError(path=e.path, line=e.line, message=e.message)
            for e in info.context.index.errors
        ]
