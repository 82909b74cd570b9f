"""The ASGI app: routes, middleware and settings around the GraphQL endpoint."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from contentapi.content.changes import ChangeLog
from contentapi.content.contentmodel import typed_view
from contentapi.content.feed import ChangeFeed
from contentapi.content.index import ContentIndex
from contentapi.content.indexfile import load_for_serving
from contentapi.content.reload import LiveIndex, Watcher
from contentapi.content.store import ContentStore
from contentapi.content.translations import site_locales
from contentapi.http.access import AccessLog, AccessLogMiddleware
from contentapi.http.endpoint import GraphQLEndpoint
from contentapi.http.headers import SecurityHeadersMiddleware
from contentapi.http.lane import FastLane, WireReplay
from contentapi.http.media import ImageFiles, ImageRoute
from contentapi.http.protocol import (
    error_body,
)
from contentapi.http.route import GraphQLRoute
from contentapi.http.shedding import SheddingMiddleware
from contentapi.http.sitemaps import SiteFiles
from contentapi.http.streams import STREAM_PATH, StreamView
from contentapi.http.webhooks import WebhookSender
from contentapi.schema import Limits, schema_for
from contentapi.schema.execution import fallbacks_of
from contentapi.settings import Settings

log = logging.getLogger("contentapi")
STATIC = Path(__file__).parent.parent / "static"
# The example frontend lives in a checkout, beside the package (not installed with it).
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples" / "web"


def create_app(settings: Settings | None = None, *, index: ContentIndex | None = None) -> Starlette:
    """Build the app; content is loaded now, so a missing folder fails before serving."""
    settings = settings or Settings.from_env()
    live = None
    if settings.watch or index is None:
        # A built index (CONTENTAPI_INDEX, or the cache folder's) when there is one.
        index, pages = load_for_serving(
            settings.content_dir,
            settings.workers,
            settings.cache_dir,
            settings.ignore_patterns,
            settings.markdown,
            Path(settings.index) if settings.index else None,
        )
        if settings.watch:
            live = LiveIndex(
                settings.content_dir, pages, settings.ignore_patterns, settings.markdown, index
            )
    changes = ChangeLog.in_folder(settings.cache_dir, settings.content_dir, settings.changes_kept)
    access_log = AccessLog(settings.access_log)
    # Listening before the store sees the first index: a start on changed files is sent too.
    webhooks = WebhookSender.from_settings(settings, access_log)
    if webhooks is not None:
        changes.listen(webhooks.listener)
    feed = ChangeFeed(settings.subscriptions_per_client, settings.subscriptions_max)
    changes.listen(feed.listener)
    store = ContentStore(index, changes)
    for error in index.errors:
        log.warning("content error: %s", error)
    schema = schema_for(settings, Limits.from_settings(settings))
    typed = typed_view(index, index.public)
    for error in typed.errors if typed is not None else ():
        log.warning("content error: %s", error)
    endpoint = GraphQLEndpoint(schema, store, settings)

    graphql = GraphQLRoute(endpoint, settings)
    site_files = SiteFiles(
        store, settings, site_locales(settings.locale_tags, settings.content_dir, settings.model)
    )
    streams = StreamView(schema, store, feed, settings)

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    fallbacks = fallbacks_of(schema)

    async def readyz(request: Request) -> Response:
        current = store.current
        ready: dict[str, Any] = {
            "status": "ready",
            "version": current.public.version,
            "treatments": len(current.public.treatments),
            # Operations this worker's fast executor left to graphql-core unforeseen (not
            # introspection, not errors in the answer): 0 unless something demoted it.
            "fastPathFallbacks": fallbacks.count,
            # Requests the JIT (schema/jit.py) began and left to the executor unforeseen.
            "jitFallbacks": schema.compiler.fallbacks.count,
            # Answers the HTTP protocol wrote itself (lane.WireReplay): the lane's
            # recordings, the JIT's answers and refusals over the queue.
            "wireReplays": request.app.state.wire_replay.replayed,
        }
        # A broken page may be a draft: its error is no one's business but the editors'.
        if endpoint.is_preview(request):
            ready["errors"] = len(current.errors)
        return _json(ready)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        access_log.open()
        if webhooks is not None:
            await webhooks.start()
        watcher = None
        if live is not None:
            watcher = Watcher(settings, store, live)
            app.state.watcher = watcher
            await watcher.start()
        try:
            yield
        finally:
            if watcher is not None:
                await watcher.stop()
            if webhooks is not None:
                await webhooks.stop()
            # The last change recorded is on disk before the process ends.
            changes.flush()
            access_log.close()

    routes: list[Any] = [
        Route("/graphql", graphql.handle, methods=["GET", "POST"]),
        # Subscriptions: graphql-sse beside /graphql, WebSocket on both paths.
        Route(STREAM_PATH, streams, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", streams),
        WebSocketRoute(STREAM_PATH, streams),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/sitemap.xml", site_files.sitemap, methods=["GET", "HEAD"]),
        Route("/sitemap-{number:int}.xml", site_files.sitemap_part, methods=["GET", "HEAD"]),
        Route("/feed.xml", site_files.feed, methods=["GET", "HEAD"]),
        Mount(
            "/graphiql/static",
            GZipMiddleware(StaticFiles(directory=STATIC / "graphiql"), settings.gzip_min_size),
            name="graphiql",
        ),
    ]
    if settings.examples and EXAMPLES.is_dir():
        routes.append(
            Mount("/examples", StaticFiles(directory=EXAMPLES, html=True), name="examples")
        )
    # Last, so no content file shadows a route above: every image file under the content
    # folder at its own path (/img/x.jpg, /post/yoda.jpg). One route for every other path
    # (a Mount would redirect /img to a URL built from Host), so every answer there is the
    # same JSON 404 with Cache-Control.
    images = ImageFiles(settings.content_dir, store, settings)
    routes.append(ImageRoute(images, [route.path for route in routes if isinstance(route, Route)]))
    # The middleware, outermost first (Starlette's ServerErrorMiddleware wraps them all):
    #
    #   AccessLogMiddleware         one line per request, replayed or not, as finally sent
    #   └ CORSMiddleware            Access-Control-* and Vary: Origin for this request's
    #     │                         Origin; answers preflights itself
    #     └ FastLane                replays recorded answers to exact repeats of /graphql
    #       └ SecurityHeaders       nosniff, CSP, ...: the same for everyone, so recorded
    #         └ SheddingMiddleware  503 + Retry-After to requests the protocol marked as
    #           │                   over CONTENTAPI_QUEUE_DEPTH (see shedding.py)
    #           └ routes            /graphql (GraphQLEndpoint), /healthz, ..., images
    #
    # Why the order matters: the lane records what comes up from below it and replays it
    # to anyone. CORS headers depend on the caller's Origin, so CORS must sit above the
    # lane (inside, a replay would carry the first caller's Access-Control-Allow-Origin);
    # and the access log must sit above the lane too, or replays would go unlogged.
    middleware = [Middleware(AccessLogMiddleware, log=access_log)]
    cors: dict[str, Any] | None = None
    if settings.origins:
        cors = {
            "allow_origins": settings.origins,
            "allow_methods": ["GET", "POST"],
            "allow_headers": settings.allowed_headers,
            "allow_credentials": settings.cors_allow_credentials,
            "expose_headers": ["ETag"],
            "max_age": 600,
        }
        middleware.append(Middleware(CORSMiddleware, **cors))
    middleware += [
        # The lane keeps its recordings in the endpoint's cache: one budget for both.
        Middleware(FastLane, endpoint=endpoint, path="/graphql"),
        Middleware(SecurityHeadersMiddleware),
        # Below the lane, so a request over the queue that the lane can replay is answered.
        Middleware(SheddingMiddleware),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
    )
    app.state.store = store
    app.state.settings = settings
    app.state.endpoint = endpoint
    # The replay adds CORS headers as the middleware above the lane does: with its own
    # CORSMiddleware, made with the same options.
    replay_cors = None if cors is None else CORSMiddleware(_no_app, **cors)
    app.state.wire_replay = WireReplay(endpoint, "/graphql", access_log, replay_cors)
    app.state.webhooks = webhooks
    app.state.feed = feed
    return app


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the wire replay's CORSMiddleware only sends headers")


def _json(data: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return Response(
        error_body(exc.detail or "error"),
        status_code=exc.status_code,
        media_type="application/json",
        headers=exc.headers,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(error_body("Unexpected error."), status_code=500, media_type="application/json")
