"""Load shedding: a bounded queue of requests per server process, the rest answered 503.

On one event loop a request waits where no middleware can see it: uvicorn reads every
ready connection, makes a task per request, and the tasks run one after another, each
to its end (an uncached answer never yields). Under 64 connections an uncached list of 50
answered with a p50 of 71 ms and a p99 of 2.4 s (wrk, this machine, loaded): every
request waited behind every other, and some behind many more.

So the count is kept where requests arrive: the HTTP protocol (edges.py) counts a request
from the moment its ASGI task is made until that task ends, and a query it answers
itself with the JIT (lane.WireReplay, no task) until the event loop turns: the requests
read in the same turn waited behind that answer as they would behind a task. One
arriving while `queue_depth` others are held is marked `shed` in its scope and counts
nothing. The `SheddingMiddleware` below the fast lane answers it 503 with
`Retry-After: 1`, so an exact repeat the lane holds a recording of is still answered from
it (a replay costs microseconds; a burst of cached requests must not be refused). A
request the wire replay would have answered with the JIT gets the same 503 from the
replay itself, with no request task (lane.WireReplay.busy): through the app a refusal
cost about as much as an answer, so a client that asks again at once (wrk, most load
generators, an impatient app) left the server fewer answers a second with shedding on
than off. What waits ahead of any request is at most `queue_depth` answers in the making
and some refusals.

Health probes (/healthz, /readyz) are never marked, nor long-lived streams (graphql-sse at
/graphql/stream: a subscriber would hold a place for hours). WebSocket connections are
upgraded before a request task exists and are not counted either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from contentapi.http.protocol import error_body

SHED = "contentapi.shed"
"""Scope key: True when the request arrived over the queue's depth."""
UNQUEUED = frozenset({"/healthz", "/readyz", "/graphql/stream"})
"""Paths never counted nor shed."""
RETRY_AFTER = b"1"

ASGIApp3 = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestQueue:
    """Requests held by one server process (answers in the making and waiting to start).

    Written without a lock: one per process, touched only from its event loop's thread.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.held = 0
        self.shed = 0  # how many arrived over the depth since the process started
        # Answers the protocol made at once (lane.WireReplay) since the event loop last
        # turned: every request read in the same turn waited behind them, as behind tasks.
        self.answered_inline = 0

    def has_room(self) -> bool:
        """Whether fewer than `depth` requests are ahead of one arriving now (always, at 0)."""
        return self.depth == 0 or self.held + self.answered_inline < self.depth

    def answered_now(self) -> None:
        """Count an answer made in the protocol, not in a task, until the loop turns."""
        if self.depth == 0:
            return
        if not self.answered_inline:
            # call_soon runs after every I/O callback of this turn (asyncio and uvloop).
            asyncio.get_running_loop().call_soon(self._turned)
        self.answered_inline += 1

    def refused_now(self) -> None:
        """Count a request over the depth that the protocol answered 503 itself."""
        self.shed += 1

    def _turned(self) -> None:
        self.answered_inline = 0

    def admit(self, scope: dict[str, Any], app: ASGIApp3) -> ASGIApp3:
        """The app to run for this request: `app` counted while it runs, or `app` with the
        scope marked shed when `depth` requests are already held (0: never)."""
        if self.depth == 0 or scope.get("type") != "http" or scope.get("path") in UNQUEUED:
            return app
        if not self.has_room():
            scope[SHED] = True
            self.shed += 1
            return app
        self.held += 1

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await app(scope, receive, send)
            finally:
                self.held -= 1

        return counted


BUSY_STATUS = 503
BUSY_BODY = error_body(
    "the server is busy: too many requests are waiting; try again in a second",
    code="SERVER_BUSY",
)
BUSY_HEADERS = (
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BUSY_BODY)).encode()),
    (b"retry-after", RETRY_AFTER),
    (b"cache-control", b"no-store"),
)
"""What SheddingMiddleware answers a shed request (the wire replay's refusal is made of it)."""


class SheddingMiddleware:
    """Answers 503 + Retry-After to requests the protocol marked as over the queue."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not scope.get(SHED):
            await self.app(scope, receive, send)
            return
        await send(
            {"type": "http.response.start", "status": BUSY_STATUS, "headers": list(BUSY_HEADERS)}
        )
        await send({"type": "http.response.body", "body": BUSY_BODY})
