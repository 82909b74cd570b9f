"""The app `contentapi serve` starts with: live from its first moment, serving once loaded.

A replica's port opens before its content is loaded, so an orchestrator can tell a
process that is loading (alive, not ready) from one that hangs: while the folder or index
file is read in a thread, `/healthz` answers 200 and `/readyz` 503 `{"status": "loading"}`
at once. Every other request waits for the content, up to HOLD_SECONDS, then is answered
503 with `Retry-After: 1` (a WebSocket is closed with 1013, try again later): with
several workers on one socket, a request the kernel hands to a worker still loading (one
started later, or restarted) is served a moment later rather than refused while another
worker is ready. How many wait is bounded by the request queue (shedding.py). Then the app
create_app built takes every request, its own lifespan (the watcher, webhooks, the access
log) running inside this one's.

A load that fails is logged with its traceback and the process told to stop (SIGTERM,
which uvicorn answers by shutting down), so it is never left alive and never ready.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import anyio
import orjson
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from contentapi.http.app import create_app
from contentapi.http.edges import EdgeLimits, protocol_factory
from contentapi.http.protocol import error_body
from contentapi.http.state import WIRE_REPLAY
from contentapi.settings import Settings

log = logging.getLogger("contentapi")
LOADING_MESSAGE = "the content is still loading: try again in a moment"
# Answered at once while loading: an orchestrator asks them to learn just that.
_PROBES = frozenset({"/healthz", "/readyz"})
# WebSocket close code 1013: "Try Again Later" (RFC 6455's registry).
_TRY_AGAIN_LATER = 1013
# How long a request waits for the content before it is told to come back: workers started
# together finish loading a built index within about a second of each other.
HOLD_SECONDS = 10.0


def _stop_this_process() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


class LoadingApp:
    """An ASGI app answering probes while `build` (create_app, run in a thread) loads the
    content, then handing every request to the app it built."""

    def __init__(
        self,
        build: Callable[[], Starlette],
        on_failure: Callable[[], None] = _stop_this_process,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        self._build = build
        self._on_failure = on_failure
        self._hold_seconds = hold_seconds
        self._app: Starlette | None = None
        self._loaded = anyio.Event()
        self._stopping = anyio.Event()

    @property
    def loaded(self) -> bool:
        """Whether the content is loaded and the built app takes the requests."""
        return self._app is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        app = self._app
        if app is None and scope["type"] == "http" and scope["path"] not in _PROBES:
            with anyio.move_on_after(self._hold_seconds):
                await self._loaded.wait()
            app = self._app
        if app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": _TRY_AGAIN_LATER})
        else:
            await _loading_answer(scope["path"], send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with anyio.create_task_group() as group:
            # uvicorn hands this state to its protocol (as app_state): the loaded app's
            # wire replay reaches the protocol through it (edges.py).
            group.start_soon(self._load_and_serve, scope.setdefault("state", {}))
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
            if self._app is None:
                # Still loading: the thread is left to finish on its own, unused.
                group.cancel_scope.cancel()
            self._stopping.set()
        await send({"type": "lifespan.shutdown.complete"})

    async def _load_and_serve(self, server_state: dict[str, Any]) -> None:
        start = time.perf_counter()
        try:
            app = await anyio.to_thread.run_sync(self._build, abandon_on_cancel=True)
        except Exception:
            log.critical("the content could not be loaded: stopping", exc_info=True)
            self._on_failure()
            return
        async with app.router.lifespan_context(app):
            self._app = app
            server_state[WIRE_REPLAY] = app.state.wire_replay
            self._loaded.set()
            index = app.state.store.current
            # One line per worker: how an operator (or a test) sees every worker ready.
            log.info(
                "process %d ready: content version %s, %d pages, in %.2f s",
                os.getpid(),
                index.public.version,
                len(index.preview_pages),
                time.perf_counter() - start,
            )
            await self._stopping.wait()


async def _loading_answer(path: str, send: Send) -> None:
    if path == "/healthz":
        status, body = 200, orjson.dumps({"status": "ok"})
    elif path == "/readyz":
        status, body = 503, orjson.dumps({"status": "loading"})
    else:
        status, body = 503, error_body(LOADING_MESSAGE)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if status == 503:
        headers.append((b"retry-after", b"1"))
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})


def create_serving_app() -> LoadingApp:
    """The app `contentapi serve` runs (uvicorn's factory, in each worker): its settings
    read from the environment now, so a wrong one stops the worker before it listens, and
    its content loaded once it does."""
    settings = Settings.from_env()
    return LoadingApp(lambda: create_app(settings))


def uvicorn_options(settings: Settings, limits: EdgeLimits) -> dict[str, Any]:
    """What uvicorn is started with, by `serve` and by each worker process."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        "timeout_graceful_shutdown": 10,
        "server_header": False,
        # httptools with header limits, read timeouts and a connection cap (edges.py)...
        # ... and a bounded queue of requests, the rest shed (shedding.py).
        "http": protocol_factory(limits, settings.queue_depth),
        "timeout_keep_alive": limits.keep_alive_timeout,
        # A WebSocket message (a subscription's subscribe) is a request body too.
        "ws_max_size": settings.max_body_bytes,
    }


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging plus ours: plain messages, the access log as one JSON line each."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG, "loggers": dict(LOGGING_CONFIG["loggers"])}
    config["formatters"] = {
        **LOGGING_CONFIG["formatters"],
        "plain": {"format": "%(message)s"},
    }
    config["handlers"] = {
        **LOGGING_CONFIG["handlers"],
        "contentapi": {
            "formatter": "plain",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
    }
    config["loggers"]["contentapi"] = {
        "handlers": ["contentapi"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
