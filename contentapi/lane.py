"""The fast lane: a request seen before, byte for byte, is answered with the bytes sent then.

Most traffic to a content API repeats itself exactly (the same page query from every
visitor). Such a request needs no routing, parsing or negotiation: its answer depends only
on its method, query string, body and a few headers, and on the content being served.
This pure ASGI middleware keys the whole response on those and replays it; everything
else goes on to the app. Only answers the endpoint marks as safe to replay are kept
(never preview requests, persisted-query misses, batches or conditional requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contentapi.responses import ResponseCache
from contentapi.store import ContentStore

# Headers that change the answer: they are part of the key.
_VARYING = (b"accept", b"accept-encoding", b"content-type")
# Requests carrying these are never answered from the lane.
_BYPASS = (b"authorization", b"if-none-match", b"cookie")
_MAX_BODY = 16 * 1024
REPLAYABLE = "lane_replayable"


@dataclass(frozen=True, slots=True)
class Recording:
    """A response as sent: status, headers, body, and what the access log wants."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    state: dict[str, Any]


class FastLane:
    """Replays recorded answers to requests identical to earlier ones."""

    def __init__(self, app: ASGIApp, store: ContentStore, max_bytes: int, path: str) -> None:
        self.app = app
        self.store = store
        self.path = path
        self.recordings = ResponseCache[Recording](max_bytes, lambda r: len(r.body) + 500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] not in ("GET", "POST")
            or self.recordings.max_bytes == 0
        ):
            await self.app(scope, receive, send)
            return
        varying: dict[bytes, bytes] = {}
        length = 0
        for name, value in scope["headers"]:
            if name in _BYPASS:
                await self.app(scope, receive, send)
                return
            if name in _VARYING:
                varying[name] = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else _MAX_BODY + 1
        if length > _MAX_BODY:
            await self.app(scope, receive, send)
            return
        body: bytes | None = b""
        if scope["method"] == "POST":
            buffered = await _buffer(receive)
            if buffered is None:
                return  # the client left before sending its body
            body, receive = buffered
            if body is None:  # too long to be worth remembering
                await self.app(scope, receive, send)
                return
        key = (
            self.store.current.fingerprint,
            scope["method"],
            scope["query_string"],
            body,
            *(varying.get(name, b"") for name in _VARYING),
        )
        found = self.recordings.get(key)
        if found is not None:
            scope.setdefault("state", {}).update(found.state)
            await send(
                {"type": "http.response.start", "status": found.status, "headers": found.headers}
            )
            await send({"type": "http.response.body", "body": found.body})
            return
        await self._record(key, scope, receive, send)

    async def _record(
        self, key: tuple[Any, ...], scope: Scope, receive: Receive, send: Send
    ) -> None:
        start: Message | None = None
        parts: list[bytes] = []
        complete = True

        async def send_and_record(message: Message) -> None:
            nonlocal start, complete
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            else:
                complete = False
            await send(message)

        await self.app(scope, receive, send_and_record)
        state = scope.get("state", {})
        if start is not None and complete and state.get(REPLAYABLE) and start["status"] == 200:
            recorded_state = {k: state.get(k) for k in ("operation", "cost")}
            headers = list(start.get("headers", []))
            self.recordings.put(key, Recording(200, headers, b"".join(parts), recorded_state))


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
