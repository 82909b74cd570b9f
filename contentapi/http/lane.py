"""The fast lane: a request seen before, byte for byte, is answered with the bytes sent then.

Most traffic to a content API repeats itself exactly (the same page query from every
visitor). Such a request needs no routing or parsing: its answer depends only on its
method, query string, body and what a few headers mean, and on the content being served.
This pure ASGI middleware keys the whole response on those and replays it; everything
else goes on to the app. Its recordings share one byte budget with the endpoint's
answers (one ResponseCache). Only answers the endpoint marks as safe to replay are kept
(never preview requests, persisted-query misses, batches or conditional requests).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contentapi.content.store import ContentStore
from contentapi.http.protocol import (
    GRAPHQL_RESPONSE,
    RequestError,
    accepts_gzip,
    check_content_types,
    media_type_for,
)
from contentapi.http.responses import Recording, ResponseCache
from contentapi.http.state import LOGGED, REPLAYABLE

# Requests carrying these are never answered from the lane.
_BYPASS = (b"authorization", b"if-none-match", b"cookie")
_MAX_BODY = 16 * 1024


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

    def __init__(self, app: ASGIApp, store: ContentStore, cache: ResponseCache, path: str) -> None:
        self.app = app
        self.store = store
        self.path = path
        self.recordings = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] not in ("GET", "POST")
            or self.recordings.max_bytes == 0
        ):
            await self.app(scope, receive, send)
            return
        accept: list[str] = []
        accept_encoding: list[str] = []
        content_types: list[str] = []
        length = 0
        for name, value in scope["headers"]:
            if name in _BYPASS:
                await self.app(scope, receive, send)
                return
            if name == b"accept":
                accept.append(value.decode("latin-1"))
            elif name == b"accept-encoding":
                accept_encoding.append(value.decode("latin-1"))
            elif name == b"content-type":
                content_types.append(value.decode("latin-1"))
            elif name == b"content-length":
                length = int(value) if value.isdigit() else _MAX_BODY + 1
        is_post = scope["method"] == "POST"
        try:
            graphql_response = media_type_for(accept) == GRAPHQL_RESPONSE
            if is_post:
                check_content_types(content_types)
        except RequestError:  # the app answers it with the error
            await self.app(scope, receive, send)
            return
        if length > _MAX_BODY:
            await self.app(scope, receive, send)
            return
        body = b""
        if is_post:
            buffered = await _buffer(receive)
            if buffered is None:
                return  # the client left before sending its body
            whole, receive = buffered
            if whole is None:  # too long to be worth remembering
                await self.app(scope, receive, send)
                return
            body = whole
        fingerprint = self.store.current.fingerprint
        query_string: bytes = scope["query_string"]
        flags = (
            (b"P" if is_post else b"G")
            + (b"g" if graphql_response else b"j")
            + (b"z" if accept_encoding and accepts_gzip(accept_encoding) else b"-")
        )
        # Fixed-size fields, then the two variable ones, the first length-prefixed: no two
        # requests share a key.
        key = b"".join(
            (
                ResponseCache.LANE_KEY,
                flags,
                fingerprint.encode().ljust(32),
                len(query_string).to_bytes(8, "big"),
                query_string,
                body,
            )
        )
        found = self.recordings.recording(key)
        if found is not None:
            scope.setdefault("state", {}).update(found.state)
            # A copy: middleware outside the lane (CORS) edits the message's header list
            # in place, and each replay must start from the recorded headers alone.
            headers = list(found.headers)
            await send({"type": "http.response.start", "status": found.status, "headers": headers})
            await send({"type": "http.response.body", "body": found.body})
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
            recording = Recording(200, start["headers"], b"".join(parts), recorded_state)
            self.recordings.put(key, recording, recording.cost(), fingerprint)


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive] | None:
    """Read the request body, up to _MAX_BODY bytes, and a receive that hands it on to the
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
        if not message.get("more_body", False) or size > _MAX_BODY:
            break
    complete = not messages[-1].get("more_body", False)
    body = b"".join(m.get("body", b"") for m in messages) if complete else None

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return body, replay
