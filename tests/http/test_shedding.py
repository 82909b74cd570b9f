"""The request queue's counting and the 503 it leads to (the burst itself: tests/system)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from contentapi.http.shedding import SHED, UNQUEUED, RequestQueue, SheddingMiddleware
from contentapi.http.streams import STREAM_PATH


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _scope(path: str = "/graphql") -> dict[str, Any]:
    return {"type": "http", "path": path, "method": "POST", "headers": []}


async def _run(app: Any, scope: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def test_requests_past_the_depth_are_marked_and_count_nothing() -> None:
    queue = RequestQueue(2)
    scopes = [_scope() for _ in range(4)]
    apps = [queue.admit(scope, _ok) for scope in scopes]
    assert queue.held == 2
    assert [SHED in scope for scope in scopes] == [False, False, True, True]
    assert apps[2] is _ok and apps[3] is _ok  # shed ones are not counted
    assert queue.shed == 2
    asyncio.run(_run(apps[0], scopes[0]))
    assert queue.held == 1
    assert SHED not in (fresh := _scope()) and queue.admit(fresh, _ok) is not _ok
    assert queue.held == 2 and SHED not in fresh


def test_answers_made_in_the_protocol_hold_a_place_until_the_loop_turns() -> None:
    queue = RequestQueue(2)

    async def one_turn() -> list[bool]:
        seen = [queue.has_room()]
        queue.answered_now()
        held = queue.admit(_scope(), _ok)  # one task held, one inline answer
        seen.append(queue.has_room())
        shed = _scope()
        queue.admit(shed, _ok)
        seen.append(SHED in shed)
        await asyncio.sleep(0)  # the loop turns: the inline answer gives its place back
        seen.append(queue.has_room())
        await _run(held, _scope())
        seen.append(queue.held == 0 and queue.answered_inline == 0)
        return seen

    assert asyncio.run(one_turn()) == [True, False, True, True, True]


def test_without_a_depth_inline_answers_count_nothing() -> None:
    queue = RequestQueue(0)
    for _ in range(100):
        queue.answered_now()  # no loop needed: nothing is counted
    assert queue.has_room() and queue.answered_inline == 0


def test_a_place_is_given_back_when_the_app_fails() -> None:
    queue = RequestQueue(1)

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    scope = _scope()
    app = queue.admit(scope, broken)
    with pytest.raises(RuntimeError):
        asyncio.run(_run(app, scope))
    assert queue.held == 0


def test_probes_streams_websockets_and_depth_0_are_never_queued() -> None:
    assert STREAM_PATH in UNQUEUED
    queue = RequestQueue(1)
    queue.admit(_scope(), _ok)
    for scope in [_scope("/healthz"), _scope("/readyz"), _scope(STREAM_PATH)]:
        assert queue.admit(scope, _ok) is _ok and SHED not in scope
    websocket = {"type": "websocket", "path": "/graphql"}
    assert queue.admit(websocket, _ok) is _ok and SHED not in websocket
    off = RequestQueue(0)
    scopes = [_scope() for _ in range(100)]
    assert all(off.admit(scope, _ok) is _ok for scope in scopes)
    assert not any(SHED in scope for scope in scopes) and off.held == 0


def test_the_middleware_answers_a_marked_request_503_with_retry_after() -> None:
    app = SheddingMiddleware(_ok)
    sent = asyncio.run(_run(app, {**_scope(), SHED: True}))
    assert sent[0]["status"] == 503
    headers = dict(sent[0]["headers"])
    assert headers[b"retry-after"] == b"1"
    assert headers[b"cache-control"] == b"no-store"
    assert int(headers[b"content-length"]) == len(sent[1]["body"])
    assert orjson.loads(sent[1]["body"])["errors"][0]["extensions"] == {"code": "SERVER_BUSY"}
    assert [m["status"] for m in asyncio.run(_run(app, _scope())) if "status" in m] == [200]
