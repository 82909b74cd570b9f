"""Subscriptions: Strawberry's own transports for the contentChanged stream, GraphQL over
Server-Sent Events (graphql-sse, distinct connections mode: one operation per request,
at /graphql/stream) and WebSocket (graphql-transport-ws, at /graphql).

Both run over the same schema as /graphql, with the request's preview token (over
WebSocket also in the connection_init payload, as browsers cannot set headers there) and
the live feed's limits (per client and in total). Keep-alives: SSE sends a `: ping`
comment every CONTENTAPI_SUBSCRIPTION_KEEP_ALIVE seconds; WebSocket answers the
protocol's pings, and uvicorn pings every connection at the WebSocket level.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.streaming import SSETransport
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from contentapi.content.feed import ChangeFeed
from contentapi.content.store import ContentStore
from contentapi.content.translations import site_locales
from contentapi.http.endpoint import carries_preview_token
from contentapi.http.headers import read_body
from contentapi.http.protocol import RequestError, error_response
from contentapi.schema import ContentSchema, Context
from contentapi.schema.context import Connection
from contentapi.settings import Settings

STREAM_PATH = "/graphql/stream"


class _TransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, reading the preview token from connection_init's payload
    ({"authorization": "Bearer <token>"}) too."""

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload")
        view = self.view
        connection = self.context.connection if isinstance(self.context, Context) else None
        if isinstance(payload, dict) and isinstance(view, StreamView) and connection is not None:
            authorization = payload.get("authorization", payload.get("Authorization"))
            if isinstance(authorization, str) and carries_preview_token(
                {"authorization": authorization}, view.settings.preview_token
            ):
                connection.preview = True
        await super().handle_connection_init(message)


class StreamView(GraphQL[Context, None]):
    """Strawberry's ASGI view, for subscriptions only: no IDE, no plain queries over GET."""

    graphql_transport_ws_handler_class = _TransportWS

    def __init__(
        self, schema: ContentSchema, store: ContentStore, feed: ChangeFeed, settings: Settings
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=10),
            # Operations open on one socket, queries too; contentChanged streams are
            # limited per client and in total by the feed.
            max_subscriptions_per_connection=100,
            allowed_origins=settings.origins,
        )
        self.store = store
        self.feed = feed
        self.settings = settings
        interval = float(settings.subscription_keep_alive)

        class KeptAlive(SSETransport):
            def __init__(self) -> None:
                super().__init__(heartbeat_interval=interval)

        self.stream_transport_classes_by_protocol = {GRAPHQL_SSE_PROTOCOL: KeptAlive}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Bodies as /graphql reads them: refused with 413 past CONTENTAPI_MAX_BODY_BYTES,
        before Strawberry reads them whole."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            body = await read_body(request, self.settings.max_body_bytes)
        except RequestError as exc:
            await error_response(request, exc)(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # a disconnect, while the stream is open
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await super().__call__(scope, replay, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        preview = carries_preview_token(request.headers, self.settings.preview_token)
        client = request.client.host if request.client is not None else ""
        return Context(
            index=self.store.current,
            preview=preview,
            public_url=self.settings.public_url,
            changes=self.store.changes,
            locales=site_locales(
                self.settings.locale_tags, self.settings.content_dir, self.settings.model
            ),
            feed=self.feed,
            connection=Connection(client, preview),
        )
