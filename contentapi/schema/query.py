"""The Query root: lookups, lists with filters and order, search, node ids, content info.

Resolvers use `info` for `info.context` only: the fast executor (schema/execution.py)
calls them with an object holding `.context` and nothing else, and one that reads more of
`info` makes every operation using it fall back to graphql-core (see schema/types.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any

import strawberry

from contentapi.content import model
from contentapi.content.contentmodel import typed_view
from contentapi.content.index import Ordering, TreatmentQuery
from contentapi.content.model import uri_of_key
from contentapi.content.search import Hit, query_words, snippet
from contentapi.schema.changes import ContentChanges, resolve_changes
from contentapi.schema.errors import QueryError
from contentapi.schema.locales import FALLBACK_HELP, LOCALE_HELP, chain, translations
from contentapi.schema.redirects import redirect_table
from contentapi.schema.relay import (
    Connection,
    Node,
    PageAfter,
    PageBefore,
    PageFirst,
    PageLast,
    check_count,
    connect,
    parse_global_id,
    parse_position,
)
from contentapi.schema.types import (
    Category,
    ContentError,
    ContentInfo,
    Image,
    Indication,
    Info,
    Redirect,
    SearchHit,
    Treatment,
)

_PAGE = "A connection: pages of up to 100, 20 without first or last."


@strawberry.enum(description="What treatments(orderBy:) sorts by.")
class TreatmentOrderField(Enum):
    TITLE = strawberry.enum_value("TITLE", description="The title, ignoring case.")
    DATE = strawberry.enum_value(
        "DATE", description="Front matter date; treatments without one come last."
    )
    UPDATED_AT = strawberry.enum_value(
        "UPDATED_AT", description="Front matter updated; treatments without one come last."
    )
    WORD_COUNT = strawberry.enum_value("WORD_COUNT", description="Length in words.")
    ORDER = strawberry.enum_value(
        "ORDER", description="Front matter order (or weight); treatments without one come last."
    )


@strawberry.enum(description="Which way a sort goes.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value(
        "ASC", description="Ascending: A to Z, oldest first, shortest first, lowest order first."
    )
    DESC = strawberry.enum_value(
        "DESC", description="Descending: Z to A, newest first, longest first, highest order first."
    )


@strawberry.input(
    description=(
        "One sort key of treatments(orderBy:). Treatments equal on every key keep slug order."
    )
)
class TreatmentOrder:
    field: TreatmentOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way; ascending when left out."
    )


@strawberry.input(
    description="Conditions on treatments: only those meeting every condition given are listed."
)
class TreatmentFilter:
    category: str | None = strawberry.field(
        default=None, description="Only treatments in the category with this slug."
    )
    indication: str | None = strawberry.field(
        default=None, description="Only treatments that help with the indication with this slug."
    )
    indications_all: list[str] | None = strawberry.field(
        default=None,
        description="Only treatments that help with every one of these indication slugs.",
    )
    search: str | None = strawberry.field(
        default=None,
        description=(
            "Only treatments matching this full-text search (as search(query:) reads it), "
            "best match first unless orderBy is given."
        ),
    )
    slugs: list[str] | None = strawberry.field(
        default=None, description="Only the treatments with these slugs."
    )


@strawberry.input(
    description="Conditions on indications: only those meeting every condition given are listed."
)
class IndicationFilter:
    name_contains: str | None = strawberry.field(
        default=None, description="Only indications whose name contains this, ignoring case."
    )
    min_treatments: int | None = strawberry.field(
        default=None, description="Only indications that at least this many treatments help with."
    )


def _translated(
    info: Info, slug: str | None, uri: str | None, locales: tuple[str, ...]
) -> model.Treatment | None:
    """treatment(slug: or uri:) in a locale chain: the page of the translation group that
    chain picks. Translations share their slug, so a slug names one group unless pages of
    different groups have it (then null and an error listing their uris)."""
    view = info.context.view
    found = translations(info.context)
    if uri is not None:
        page = view.by_uri.get(uri)
        return None if page is None else found.pick(page, locales)
    assert slug is not None
    first = view.by_slug.get(slug)
    if first is None:
        return None
    uris = view.shared_slugs.get(slug, (first.uri,))
    groups: dict[str, model.Treatment] = {}
    for candidate in uris:
        groups.setdefault(found.group[candidate], view.by_uri[candidate])
    picked = [p for p in (found.pick(page, locales) for page in groups.values()) if p]
    if len(groups) > 1:
        listed = ", ".join(sorted(page.uri for page in picked)[:10])
        raise QueryError(
            f"{len(groups)} treatments in different translation groups have the slug "
            f"{slug[:60]!r}: ask for one by uri ({listed})"
        )
    return picked[0] if picked else None


def _node(info: Info, value: str) -> Any:
    parsed = parse_global_id(value)
    if parsed is None:
        return None
    kind, key = parsed
    view = info.context.view
    typed = typed_view(info.context.index, view)
    if typed is not None:
        found = typed.by_type_key(kind, key)
        if found is not None:
            return None if found is False else found
    if kind == "Treatment":
        return view.by_key(key)
    if kind == "Indication":
        return view.indications.get(key)
    if kind == "Category":
        return view.categories.get(key)
    if kind == "Image":
        page, _, written = key.rpartition("/")
        position = parse_position(written)
        return None if position is None or not page else view.image(uri_of_key(page), position)
    return None


@strawberry.type(
    description=(
        "Every read of the content: treatments, indications, categories and images by slug, "
        "id or list, full-text search, and what is being served."
    )
)
class Query:
    @strawberry.field(description="Any object by its global id; null if there is none.")
    def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="A global id, as an id field gives it.")
        ],
    ) -> Node | None:
        return _node(info, id)  # type: ignore[no-any-return]

    @strawberry.field(description="Objects by global id, in order; null where there is none.")
    def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Global ids, at most 100, as id fields give them."),
        ],
    ) -> list[Node | None]:
        if len(ids) > 100:
            check_count(len(ids), "ids")
        return [_node(info, value) for value in ids]

    @strawberry.field(
        description=(
            "A treatment by uri, or by slug where one page has it (null with an error "
            "listing their uris where several do); null if there is none. Give one of the two."
        )
    )
    def treatment(
        self,
        info: Info,
        slug: Annotated[
            str | None,
            strawberry.argument(description="The treatment's slug, such as mesotherapy."),
        ] = None,
        uri: Annotated[
            str | None,
            strawberry.argument(
                description="The treatment's uri as its uri field gives it, such as /mesotherapy/."
            ),
        ] = None,
        locale: Annotated[str | None, strawberry.argument(description=LOCALE_HELP)] = None,
        fallback: Annotated[
            list[str] | None, strawberry.argument(description=FALLBACK_HELP)
        ] = None,
    ) -> Treatment | None:
        view = info.context.view
        if (slug is None) == (uri is None):
            raise QueryError(
                "treatment needs exactly one of 'slug' and 'uri', "
                + ("got both" if slug is not None else "got neither")
            )
        typed = typed_view(info.context.index, view)
        locales = chain(info.context, locale, fallback)
        # A uri names one page: in another locale only when one is asked for.
        if locales is not None and (slug is not None or locale is not None):
            page = _translated(info, slug, uri, locales)
            # A content model's other collections are not treatments.
            if page is not None and typed is not None and not typed.is_treatment(page):
                return None
            return page  # type: ignore[return-value]
        if uri is not None:
            page = view.by_uri.get(uri)
            # A content model's other collections are not treatments.
            if page is not None and typed is not None and not typed.is_treatment(page):
                return None
            return page  # type: ignore[return-value]
        assert slug is not None
        if typed is not None and typed.not_treatments:
            candidates = typed.treatments_by_slug(slug)
            if len(candidates) < 2:
                return candidates[0] if candidates else None  # type: ignore[return-value]
        shared = view.shared_slugs.get(slug)
        if shared is not None:
            listed = ", ".join(shared[:10])
            if len(shared) > 10:
                listed += f" and {len(shared) - 10} more"
            raise QueryError(
                f"{len(shared)} treatments have the slug {slug[:60]!r}: "
                f"ask for one by uri ({listed})"
            )
        return view.by_slug.get(slug)  # type: ignore[return-value]

    @strawberry.field(
        description=f"Treatments meeting every filter given, by title unless ordered. {_PAGE}"
    )
    def treatments(
        self,
        info: Info,
        filter: Annotated[
            TreatmentFilter | None,
            strawberry.argument(description="Conditions to meet; all treatments when left out."),
        ] = None,
        order_by: Annotated[
            list[TreatmentOrder] | None,
            strawberry.argument(
                description=(
                    "Sort keys, the first deciding first; by title (by relevance with "
                    "filter.search) when left out."
                )
            ),
        ] = None,
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        locale: Annotated[str | None, strawberry.argument(description=LOCALE_HELP)] = None,
        fallback: Annotated[
            list[str] | None, strawberry.argument(description=FALLBACK_HELP)
        ] = None,
    ) -> Connection[Treatment]:
        locales = chain(info.context, locale, fallback)
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
        order = [Ordering(o.field.name, o.direction is OrderDirection.DESC) for o in order_by or []]
        found: Sequence[model.Treatment]
        if locales is not None and query == TreatmentQuery() and not order:
            found = translations(info.context).listed(locales, info.context.view.by_title)
        else:
            found = info.context.view.find(query, order)
            if locales is not None:
                found = translations(info.context).in_chain(found, locales)
        typed = typed_view(info.context.index, info.context.view)
        if typed is not None and typed.not_treatments:
            found = [page for page in found if typed.is_treatment(page)]
        return connect(found, first, after, last, before)  # type: ignore[no-any-return]

    @strawberry.field(description="An indication by slug, or null.")
    def indication(
        self,
        info: Info,
        slug: Annotated[
            str, strawberry.argument(description="The indication's slug, such as hair-loss.")
        ],
        locale: Annotated[str | None, strawberry.argument(description=LOCALE_HELP)] = None,
        fallback: Annotated[
            list[str] | None, strawberry.argument(description=FALLBACK_HELP)
        ] = None,
    ) -> Indication | None:
        locales = chain(info.context, locale, fallback)
        if locales is not None:
            return translations(info.context).merged(locales).indications.get(slug)  # type: ignore[return-value]
        return info.context.view.indications.get(slug)  # type: ignore[return-value]

    @strawberry.field(description=f"Indications meeting every filter given, by name. {_PAGE}")
    def indications(
        self,
        info: Info,
        filter: Annotated[
            IndicationFilter | None,
            strawberry.argument(description="Conditions to meet; all indications when left out."),
        ] = None,
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        locale: Annotated[str | None, strawberry.argument(description=LOCALE_HELP)] = None,
        fallback: Annotated[
            list[str] | None, strawberry.argument(description=FALLBACK_HELP)
        ] = None,
    ) -> Connection[Indication]:
        locales = chain(info.context, locale, fallback)
        found: list[model.Indication] = (
            list(info.context.view.indications_by_name)
            if locales is None
            else translations(info.context).merged(locales).indications_by_name
        )
        if filter is not None and filter.name_contains:
            needle = filter.name_contains.casefold()
            found = [i for i in found if needle in i.name.casefold()]
        if filter is not None and filter.min_treatments is not None:
            least = filter.min_treatments
            found = [i for i in found if len(i.treatment_uris) >= least]
        return connect(found, first, after, last, before)  # type: ignore[no-any-return]

    @strawberry.field(description="A category by slug, or null.")
    def category(
        self,
        info: Info,
        slug: Annotated[
            str, strawberry.argument(description="The category's slug, such as skin-treatment.")
        ],
        locale: Annotated[str | None, strawberry.argument(description=LOCALE_HELP)] = None,
        fallback: Annotated[
            list[str] | None, strawberry.argument(description=FALLBACK_HELP)
        ] = None,
    ) -> Category | None:
        locales = chain(info.context, locale, fallback)
        if locales is not None:
            return translations(info.context).merged(locales).categories.get(slug)  # type: ignore[return-value]
        return info.context.view.categories.get(slug)  # type: ignore[return-value]

    @strawberry.field(description="All categories by name.")
    def categories(
        self,
        info: Info,
        locale: Annotated[str | None, strawberry.argument(description=LOCALE_HELP)] = None,
        fallback: Annotated[
            list[str] | None, strawberry.argument(description=FALLBACK_HELP)
        ] = None,
    ) -> list[Category]:
        locales = chain(info.context, locale, fallback)
        if locales is not None:
            return translations(info.context).merged(locales).categories_by_name  # type: ignore[return-value]
        return list(info.context.view.categories_by_name)  # type: ignore[arg-type]

    @strawberry.field(description=f"Every image, in page then position order. {_PAGE}")
    def images(
        self,
        info: Info,
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
    ) -> Connection[Image]:
        return connect(info.context.view.images, first, after, last, before)  # type: ignore[no-any-return]

    @strawberry.field(
        description=(
            "Full-text search over titles, summaries and text, best match first: made for "
            "a search box that asks again as the user types."
        )
    )
    def search(
        self,
        info: Info,
        query: Annotated[
            str,
            strawberry.argument(
                description=(
                    "What the user typed: a treatment matches when it holds every word, the "
                    "last word as a prefix (cellu finds cellulite); case and accents ignored."
                )
            ),
        ],
        first: Annotated[
            int | None, strawberry.argument(description="How many hits at most, 0 to 100.")
        ] = 10,
        locale: Annotated[str | None, strawberry.argument(description=LOCALE_HELP)] = None,
        fallback: Annotated[
            list[str] | None, strawberry.argument(description=FALLBACK_HELP)
        ] = None,
    ) -> list[SearchHit]:
        first = 10 if first is None else first
        check_count(first, "first")
        view = info.context.view
        typed = typed_view(info.context.index, view)
        locales = chain(info.context, locale, fallback)
        if locales is None:
            hits = view.search(query, first)
        else:
            # Matches without snippets, the chain's pages only, then snippets for those:
            # first enough rows for every group to match in each locale, all if short.
            chosen = translations(info.context).chosen(locales)
            enough = first * max(len(info.context.locales.tags), 1) + 10
            matched = view.search_index.search(query, enough, snippets=False)
            kept = [hit for hit in matched if hit.uri in chosen]
            if len(kept) < first and len(matched) >= enough:
                matched = view.search_index.search(query, None, snippets=False)
                kept = [hit for hit in matched if hit.uri in chosen]
            words = query_words(query)
            hits = [
                Hit(hit.uri, hit.score, snippet(view.by_uri[hit.uri], words))
                for hit in kept[:first]
            ]
        return [
            SearchHit(
                treatment=view.by_uri[hit.uri],  # type: ignore[arg-type]
                score=hit.score,
                snippet=hit.snippet,
                document=(typed.document(view.by_uri[hit.uri]) if typed is not None else None)
                or view.by_uri[hit.uri],  # type: ignore[arg-type]
            )
            for hit in hits
        ]

    @strawberry.field(
        description=(
            "Where an old path of a page now lives, or null: front matter redirect_from and "
            "aliases, and uris of pages renamed while served (as long as changes remember it)."
        )
    )
    def redirect(
        self,
        info: Info,
        path: Annotated[
            str,
            strawberry.argument(
                description="A site path such as /old-page/ (query, fragment, trailing / ignored)."
            ),
        ],
    ) -> Redirect | None:
        found = redirect_table(info.context).find(path)
        return (
            None
            if found is None
            else Redirect(from_=found.source, to=found.to, status=found.status)
        )

    @strawberry.field(
        description="Every redirect, by old path: for a frontend to install at build time."
    )
    def redirects(self, info: Info) -> list[Redirect]:
        return [
            Redirect(from_=found.source, to=found.to, status=found.status)
            for found in redirect_table(info.context).all()
        ]

    @strawberry.field(
        description=(
            "What is being served: a version to tell when the content changed (poll it to "
            "refresh), counts, and when it was loaded."
        )
    )
    def content_info(self, info: Info) -> ContentInfo:
        view = info.context.view
        typed = typed_view(info.context.index, view)
        others = len(typed.not_treatments) if typed is not None else 0
        return ContentInfo(
            version=view.version,
            treatment_count=len(view.treatments) - others,
            indication_count=len(view.indications),
            image_count=len(view.images),
            category_count=len(view.categories),
            loaded_at=info.context.index.loaded_at_for(info.context.preview),
        )

    changes: ContentChanges = strawberry.field(
        resolver=resolve_changes,
        description="What changed since a version, for apps that keep an offline copy.",
    )

    @strawberry.field(
        description=(
            "Pages that could not be loaded. Empty unless the request carries the preview token."
        )
    )
    def content_errors(self, info: Info) -> list[ContentError]:
        if not info.context.preview:
            return []
        typed = typed_view(info.context.index, info.context.view)
        return [
            ContentError(path=e.path, line=e.line, message=e.message)
            for e in (*info.context.index.errors, *(typed.errors if typed is not None else ()))
        ]
