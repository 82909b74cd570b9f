"""Change notifications in the schema: ContentChange (one version change, as webhooks and
the contentChanged subscription tell it) and ContentChanges (delta sync for apps)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Annotated

import strawberry

from contentapi.content.changes import Change, ChangeLog
from contentapi.content.feed import FeedFull
from contentapi.content.model import page_key
from contentapi.schema.context import Context
from contentapi.schema.errors import QueryError
from contentapi.schema.relay import global_id
from contentapi.schema.types import Redirect


def document_id(uri: str) -> str:
    """The global id of the treatment at `uri` (the id its `id` field gives)."""
    return global_id("Treatment", page_key(uri))


@strawberry.type(description="A document a change touched: its global id and its uri.")
class ChangedDocument:
    id: strawberry.ID = strawberry.field(
        description="The treatment's global id (node(id:) fetches it, unless it was deleted)."
    )
    uri: str = strawberry.field(description="The treatment's uri, its path on the site.")


def _documents(uris: Iterable[str]) -> list[ChangedDocument]:
    return [ChangedDocument(id=strawberry.ID(document_id(uri)), uri=uri) for uri in uris]


@strawberry.type(description="One content version change: what it created, updated and deleted.")
class ContentChange:
    version: str = strawberry.field(description="The version after the change.")
    previous_version: str | None = strawberry.field(
        description="The version before the change (null when none was seen before)."
    )
    created: list[ChangedDocument] = strawberry.field(description="Treatments added.")
    updated: list[ChangedDocument] = strawberry.field(description="Treatments changed.")
    deleted: list[ChangedDocument] = strawberry.field(description="Treatments removed.")
    moved: list[Redirect] = strawberry.field(
        description=(
            "Treatments renamed (also in created and deleted): each old uri and the uri now; "
            "redirect(path:) answers the old one while changes remember this change."
        )
    )

    @classmethod
    def of(cls, change: Change) -> ContentChange:
        """The change as the schema shows it."""
        return cls(
            version=change.version,
            previous_version=change.previous,
            created=_documents(change.created),
            updated=_documents(change.updated),
            deleted=_documents(change.deleted),
            moved=[Redirect(from_=old, to=new, status=301) for old, new in change.moved],
        )


@strawberry.type(
    description=(
        "What changed since a version (changes(since:)): fetch `updated` with nodes(ids:), "
        "drop `deleted`, keep `version` for next time."
    )
)
class ContentChanges:
    version: str = strawberry.field(description="The current version.")
    complete: bool = strawberry.field(
        description="False when since is older than the kept history: resync everything."
    )
    updated: list[strawberry.ID] = strawberry.field(
        description=(
            "Ids of documents created or updated since that version (fetch them with nodes). "
            "When complete is false: the id of every document there is now."
        )
    )
    deleted: list[strawberry.ID] = strawberry.field(
        description="Ids of documents deleted since that version."
    )


_EMPTY = ChangeLog()


def resolve_changes(
    info: strawberry.Info[Context, None],
    since: Annotated[
        str,
        strawberry.argument(
            description=(
                "A version the app holds (contentInfo.version or a previous answer's "
                "version); an empty string asks for everything."
            )
        ),
    ],
) -> ContentChanges:
    """What changed since `since`, as the request's audience sees it (drafts only with the
    preview token)."""
    context = info.context
    log = context.changes if context.changes is not None else _EMPTY
    delta = log.since(since, context.index, context.preview)
    return ContentChanges(
        version=delta.version,
        complete=delta.complete,
        updated=[strawberry.ID(document_id(uri)) for uri in delta.updated],
        deleted=[strawberry.ID(document_id(uri)) for uri in delta.deleted],
    )


NO_FEED = "this server has no live change feed here: subscribe over graphql-sse or WebSocket"


@strawberry.type(
    description=(
        "Live streams: over GraphQL over Server-Sent Events (graphql-sse, distinct "
        "connections, at /graphql/stream) or WebSocket (graphql-transport-ws, at /graphql)."
    )
)
class Subscription:
    @strawberry.subscription(
        description=(
            "One event per content version change (drafts' changes only with the preview token)."
        )
    )
    async def content_changed(
        self, info: strawberry.Info[Context, None]
    ) -> AsyncGenerator[ContentChange, None]:
        context = info.context
        if context.feed is None:
            raise QueryError(NO_FEED)
        connection = context.connection
        preview = context.preview or (connection is not None and connection.preview)
        client = connection.client if connection is not None else ""
        try:
            with context.feed.subscribe(preview, client) as queue:
                while True:
                    yield ContentChange.of(await queue.get())
        except FeedFull as exc:  # raised before the first event only
            raise QueryError(str(exc)) from None
