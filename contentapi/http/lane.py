"""The fast lane: a request seen before, byte for byte, is answered with the bytes sent then;
one whose query the JIT runs is answered without the app.

Most traffic to a content API repeats itself exactly (the same page query from every
visitor). Such a request needs no routing or parsing: its answer depends only on its
method, query string, body and what a few headers mean, and on the content being served.
This pure ASGI middleware keys the whole response on those and replays it. Its
recordings share one byte budget with the endpoint's answers (one ResponseCache). Only
answers the endpoint marks as safe to replay are kept (never preview requests,
persisted-query misses, batches or conditional requests).

A request not seen before is read here into its operation, as the /graphql route reads
it, and if the endpoint can answer it from its cache or the JIT alone
(GraphQLEndpoint.compiled), the answer is sent from here, with the headers the route and
the security middleware below would give it (GraphQLEndpoint.response, headers.secured):
Starlette's routing, request objects and middleware chain cost a single uncached query
more than the JIT itself (bench/throughput.py (a): 4,488 req/s through the app against
19,694 for a replay). Everything else (GraphiQL, batches, errors of any kind, requests
over the queue, bodies over the limit) goes on to the app.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import Headers, QueryParams
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contentapi.bounded import BoundedCache
from contentapi.http.access import AccessLog
from contentapi.http.endpoint import GraphQLEndpoint
from contentapi.http.express import Express
from contentapi.http.headers import header_block, secured
from contentapi.http.protocol import (
    GRAPHQL_RESPONSE,
    Operation,
    RequestError,
    accepts_gzip,
    check_content_types,
    media_type_for,
    operation_from,
)
from contentapi.http.responses import Recording, ResponseCache
from contentapi.http.shedding import (
    BUSY_BODY,
    BUSY_HEADERS,
    BUSY_STATUS,
    SHED,
    RequestQueue,
)
from contentapi.http.state import JIT_TRIED, LOGGED, REPLAYABLE
from contentapi.schema.jit import Ready

# Requests carrying these are never answered from the lane.
_BYPASS = (b"authorization", b"if-none-match", b"cookie")
_MAX_BODY = 16 * 1024
# The CORS headers the replay made, by recording's headers and caller's Origin: making them
# with Starlette's middleware took 20 us of server CPU a request (a cached (a) under CORS
# without an Origin, 10.5-11.7k -> 8.9k req/s; 12.2-12.7k with this cache, wrk 64
# connections); a lookup here is about 1 us. Bounded, as every Origin a client makes up
# is another entry.
_CORS_HEADS_BYTES = 1024 * 1024
# What a request kept ready holds besides its key: its operation's query text and
# variables, the coerced variables and the Ready, per byte of the request and around them
# (tracemalloc, tests/http/test_lane.py).
_READY_BYTES_PER_BYTE = 6
_READY_OVERHEAD = 1024


class FastLane:
    """Replays recorded answers to requests identical to earlier ones.

    The key holds what the app reads, read the way the app reads it: the method, the raw
    query string and body, and the meaning of the headers that shape the answer (the
    negotiated media type, whether gzip is accepted), never their raw bytes, so repeated
    or padded headers can neither get another client's answer nor make a large key. A
    request whose headers the app would refuse (a bad Accept or Content-Type) goes on to
    the app. The key is the request's own bytes (a prefix, the query string's length,
    the query string, the body): no hashing on the way, and its length is counted in the
    shared byte budget.
    """

    def __init__(self, app: ASGIApp, endpoint: GraphQLEndpoint, path: str) -> None:
        self.app = app
        self.endpoint = endpoint
        self.store = endpoint.store
        self.path = path
        self.recordings: ResponseCache = endpoint.cache
        self.max_body = _max_body(endpoint)
        self.express = Express(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return
        is_post = scope["method"] == "POST"
        facts = _read_headers(scope["headers"], is_post, self.max_body, _BYPASS)
        if facts is None:  # the app answers it (or refuses it with the error)
            await self.app(scope, receive, send)
            return
        body = b""
        if is_post:
            buffered = await _buffer(receive, self.max_body)
            if buffered is None:
                return  # the client left before sending its body
            whole, receive = buffered
            if whole is None:  # too long to be worth remembering
                await self.app(scope, receive, send)
                return
            body = whole
        fingerprint = self.store.current.fingerprint
        key = _key(facts, fingerprint, scope["query_string"], body)
        found = _recorded(self.endpoint, key)
        if found is None and not scope.get(SHED):
            found = _compiled_and_recorded(self.express, key, fingerprint, scope, body, facts)
        if found is not None:
            scope.setdefault("state", {}).update(found.state)
            # Read back from the head each time: middleware outside the lane (CORS) edits
            # the message's header list in place, and each replay must start from the
            # recorded headers alone.
            await send(
                {"type": "http.response.start", "status": found.status, "headers": found.headers}
            )
            await send({"type": "http.response.body", "body": found.body})
            return
        if not self.recordings.max_bytes:
            await self.app(scope, receive, send)
            return
        await self._record(key, fingerprint, scope, receive, send)

    async def _record(
        self, key: bytes, fingerprint: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        start: Message | None = None
        parts: list[bytes] = []
        complete = True

        async def send_and_record(message: Message) -> None:
            nonlocal start, complete
            if message["type"] == "http.response.start":
                # Copied before it is sent on: middleware outside the lane (CORS) adds its
                # per-request headers to the message in place, and they must not be kept.
                start = {**message, "headers": list(message.get("headers", []))}
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            else:
                complete = False
            await send(message)

        await self.app(scope, receive, send_and_record)
        state = scope.get("state", {})
        if start is not None and complete and state.get(REPLAYABLE) and start["status"] == 200:
            recorded_state = {k: state.get(k) for k in LOGGED}
            recording = Recording.of(200, start["headers"], b"".join(parts), recorded_state)
            self.recordings.put(key, recording, recording.cost(), fingerprint)


class WireReplay:
    """Recorded answers replayed by the HTTP protocol itself (contentapi/http/edges.py),
    before uvicorn makes a request cycle, a task and the ASGI messages of a request.

    For a recorded answer, uvicorn's own work around the app costs more than the app:
    `contentapi serve` answered a repeated (a) at 5,500-5,600 req/s through the lane, and
    14,500 / 13,300 / 8,900 when a throwaway patch of the protocol wrote the same bytes
    from its parser callback (wrk, 2 threads, 64 connections, 4 s, loopback, one run
    each). Here the protocol asks for the recording with the request it parsed, under the
    lane's own key (the same `_read_headers` and `_key`), and writes it with uvicorn's
    status line and default headers (the Date) as uvicorn's send would. What the
    middleware above the lane would add is added here too: the access log's line and,
    when CORS is on, the headers Starlette's CORSMiddleware adds for this caller's Origin
    (or the Vary: Origin it adds without one), by that middleware's own code.

    A request the lane has not recorded is answered here too when the endpoint can answer
    it from the JIT alone (`_compiled_and_recorded`, the lane's own), also with the response
    cache off: the shortest path from socket to plan. It runs in the parser's callback, as
    it would have run in the request's task (the JIT never awaits), and counts in the
    process's RequestQueue as a task would until the event loop turns. Past the queue's
    depth such a request is refused here as the app would refuse it (`busy`: the
    SheddingMiddleware's 503 with the security headers, CORS headers and access line the
    middleware above it adds). Everything else goes to the app as before.
    """

    def __init__(
        self,
        endpoint: GraphQLEndpoint,
        path: str,
        access_log: AccessLog,
        cors: CORSMiddleware | None,
    ) -> None:
        self.endpoint = endpoint
        self.store = endpoint.store
        self.path = path
        self.path_bytes = path.encode()  # as the protocol reads it from the request line
        self.max_body = _max_body(endpoint)
        self.express = Express(endpoint)
        self.access_log = access_log
        self.cors = cors  # the app's CORS options, when it has them
        self.cors_heads: BoundedCache[bytes] = BoundedCache(_CORS_HEADS_BYTES)
        # The app's answer to a request over the queue, as it leaves SecurityHeaders.
        self.busy = Recording.of(
            BUSY_STATUS, secured(list(BUSY_HEADERS)), BUSY_BODY, dict.fromkeys(LOGGED)
        )
        self.replayed = 0  # answers the protocol wrote, refusals included

    def wanted(self, scope: Scope) -> _Facts | None:
        """The facts of a request that may be answered here once its body is in: a GET or
        a POST to the GraphQL path, with none of the headers the lane leaves to the app,
        whose body, declared by its Content-Length, is short (no chunked body, no Expect:
        100-continue: those go on to the app, which reads them). None: the app answers."""
        method = scope["method"]
        if scope["path"] != self.path or method not in ("GET", "POST"):
            return None
        return _read_headers(
            scope["headers"], method == "POST", self.max_body, _BYPASS, declared=True
        )

    def _cors_head(self, found: Recording, scope: Scope) -> bytes:
        """`_with_cors` for this recording and caller, made once per (headers, Origin): what
        Starlette's CORSMiddleware adds depends on nothing else (its options are fixed)."""
        assert self.cors is not None
        origin = next((value for name, value in scope["headers"] if name == b"origin"), b"")
        key = b"".join((len(origin).to_bytes(4, "big"), origin, found.head))
        head = self.cors_heads.get(key)
        if head is None:
            head = _with_cors(self.cors, found.headers, scope)
            self.cors_heads.put(key, head, len(head))
        return head

    def answer(
        self, scope: Scope, facts: _Facts, body: bytes, queue: RequestQueue
    ) -> tuple[int, bytes, bytes] | None:
        """The recorded or compiled answer to a request `wanted` found these facts in, as
        its status and what follows the status line and uvicorn's default headers: its own
        headers with the blank line, and its body; its access line written. None: ask the
        app."""
        started = time.perf_counter()
        fingerprint = self.store.current.fingerprint
        cache = self.endpoint.cache
        # Without a response cache nothing is recorded or looked up by it.
        if cache.max_bytes:
            key = _key(facts, fingerprint, scope["query_string"], body)
            found = cache.recording(key)
        else:
            key, found = b"", None
        if found is None:
            if not queue.has_room():
                queue.refused_now()
                found = self.busy
            else:
                try:
                    found = _compiled_and_recorded(
                        self.express, key, fingerprint, scope, body, facts
                    )
                except Exception:
                    # Raised in a parser callback, it would reach the client as uvicorn's
                    # 400 "Invalid HTTP request" and nowhere else: the app answers it
                    # again instead, and reports what went wrong its own way (a logged 500).
                    return None
                if found is None:
                    return None
                # Counted in the queue until the loop turns, as a task would be.
                queue.answered_now()
        head = found.head if self.cors is None else self._cors_head(found, scope)
        self.replayed += 1
        if self.access_log.enabled:
            self.access_log.request(
                scope["method"], scope["path"], found.status, started, found.state
            )
        return found.status, head, found.body


def _recorded(endpoint: GraphQLEndpoint, key: bytes) -> Recording | None:
    """The answer recorded for this request's key, if any."""
    return endpoint.cache.recording(key) if endpoint.cache.max_bytes else None


def _compiled_and_recorded(
    express: Express,
    key: bytes,
    fingerprint: str,
    scope: Scope,
    body: bytes,
    facts: _Facts,
) -> Recording | None:
    """The answer the endpoint gives from its cache or the JIT alone, recorded for the next
    time (when the cache is on); None: the app answers it."""
    found = _compiled(express, scope, body, facts)
    cache = express.endpoint.cache
    if found is not None and cache.max_bytes:
        cache.put(key, found, found.cost(), fingerprint)
    return found


def _ready_cost(request: bytes) -> int:
    return _READY_BYTES_PER_BYTE * len(request) + _READY_OVERHEAD


def _operation(scope: Scope, body: bytes, is_get: bool) -> Operation | None:
    """The operation a GET's query string or a POST's body sends; None: the app answers."""
    params: Any
    if is_get:
        params = dict(QueryParams(scope["query_string"]))
    else:
        try:
            params = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(params, dict):
            return None  # a batch
    try:
        return operation_from(params, from_query_string=is_get)
    except RequestError:
        return None


def _compiled(express: Express, scope: Scope, body: bytes, facts: _Facts) -> Recording | None:
    """The response to a request the endpoint answers from its cache or the JIT, as the
    app would send it; None for any other (the app answers it)."""
    endpoint = express.endpoint
    is_get = scope["method"] == "GET"
    if is_get and not scope["query_string"]:
        return None  # GraphiQL, or the app's error
    # The same bytes are the same operation: kept ready for the JIT by them, a request
    # sent again is not read, parsed, validated and planned again (12 us in process).
    request = b"G" + scope["query_string"] if is_get else b"P" + body
    known = endpoint.ready_requests.get(request)
    if known is None:
        operation = _operation(scope, body, is_get)
        if operation is None:
            return None
        ready = endpoint.ready(operation)
        if ready is not None:
            endpoint.ready_requests.put(request, (operation, ready), _ready_cost(request))
    else:
        operation, ready = known
    if ready is not None and not endpoint.cache.max_bytes:
        found = express.answer(operation, ready, is_get=is_get, kind=facts.kind, gzip=facts.gzip)
    else:  # through the response cache, or an operation the JIT has no Ready for
        found = _answered(endpoint, operation, ready, is_get, facts)
    if found is None:
        scope.setdefault("state", {})[JIT_TRIED] = True
    return found


def _answered(
    endpoint: GraphQLEndpoint,
    operation: Operation,
    ready: Ready | None,
    is_get: bool,
    facts: _Facts,
) -> Recording | None:
    """The endpoint's answer from its cache or the JIT, as a recording."""
    answer = endpoint.compiled(operation, is_get=is_get, kind=facts.kind, ready=ready)
    if answer is None:
        return None
    status, headers, sent, figures = endpoint.reply(
        answer,
        operation,
        preview=False,
        is_get=is_get,
        if_none_match=[],
        accept_encoding=facts.accept_encoding,
    )
    if not figures.get(REPLAYABLE):
        return None
    return Recording.of(status, secured(headers), sent, {k: figures[k] for k in LOGGED})


async def _sent(message: Message) -> None:
    """Where the replay's CORSMiddleware sends the message it has added its headers to."""


def _with_cors(cors: CORSMiddleware, headers: list[tuple[bytes, bytes]], scope: Scope) -> bytes:
    """The headers, with those Starlette's CORSMiddleware adds for this request, as they go
    on the wire. Its own `send` adds them (Access-Control-* for an allowed Origin, Vary:
    Origin), so the replay's cannot drift from the app's; it awaits nothing but `_sent`,
    so one step runs it to the end."""
    message: Message = {"type": "http.response.start", "headers": list(headers)}
    step = cors.send(message, _sent, Headers(scope=scope))
    try:
        step.send(None)
    except StopIteration:
        return header_block(message["headers"])
    step.close()
    raise RuntimeError("Starlette's CORSMiddleware.send waited for something")


def _max_body(endpoint: GraphQLEndpoint) -> int:
    """The longest body worth remembering, for the lane and the replay alike."""
    return min(_MAX_BODY, endpoint.settings.max_body_bytes)


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the headers of a request the lane may answer mean to its answer."""

    kind: str  # the negotiated media type
    gzip: bool
    accept_encoding: list[str]
    is_post: bool


def _read_headers(
    headers: Iterable[tuple[bytes, bytes]],
    is_post: bool,
    max_body: int,
    bypass: tuple[bytes, ...],
    *,
    declared: bool = False,
) -> _Facts | None:
    """The facts of a GET or POST the lane may answer; None for one it leaves to the app
    (a header in `bypass` sent, headers the app refuses, a body over `max_body` or, when
    the body must be `declared`, a POST without a Content-Length or with a
    Transfer-Encoding or an Expect)."""
    accept: list[str] = []
    accept_encoding: list[str] = []
    content_types: list[str] = []
    length: int | None = None
    for name, value in headers:
        if name in bypass:
            return None
        if name == b"accept":
            accept.append(value.decode("latin-1"))
        elif name == b"accept-encoding":
            accept_encoding.append(value.decode("latin-1"))
        elif name == b"content-type":
            content_types.append(value.decode("latin-1"))
        elif name == b"content-length":
            if not value.isdigit():
                return None
            length = int(value)
        elif declared and name in (b"transfer-encoding", b"expect"):
            return None
    if declared and is_post and length is None:
        return None
    try:
        kind = media_type_for(accept)
        if is_post:
            check_content_types(content_types)
    except RequestError:
        return None
    if length is not None and length > max_body:
        return None
    gzip = bool(accept_encoding) and accepts_gzip(accept_encoding)
    return _Facts(kind, gzip, accept_encoding, is_post)


def _key(facts: _Facts, fingerprint: str, query_string: bytes, body: bytes) -> bytes:
    """The recording's key: fixed-size fields, then the two variable ones, the first
    length-prefixed, so no two requests share a key."""
    flags = (
        (b"P" if facts.is_post else b"G")
        + (b"g" if facts.kind == GRAPHQL_RESPONSE else b"j")
        + (b"z" if facts.gzip else b"-")
    )
    return b"".join(
        (
            ResponseCache.LANE_KEY,
            flags,
            fingerprint.encode().ljust(32),
            len(query_string).to_bytes(8, "big"),
            query_string,
            body,
        )
    )


async def _buffer(receive: Receive, limit: int) -> tuple[bytes | None, Receive] | None:
    """Read the request body, up to `limit` bytes, and a receive that hands it on to the
    app unchanged. The body is None when it is longer (the app then reads the rest and
    refuses it as it sees fit); the whole result is None if the client left."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        messages.append(message)
        size += len(message.get("body", b""))
        if not message.get("more_body", False) or size > limit:
            break
    complete = not messages[-1].get("more_body", False) and size <= limit
    body = b"".join(m.get("body", b"") for m in messages) if complete else None

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return body, replay
