"""Requests the HTTP protocol holds back for the wire replay before any request cycle is
made (contentapi/http/edges.py): answered there, or handed to the app with their body,
also when a shutdown begins while the body is on its way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from contentapi.http.app import create_app
from contentapi.http.edges import EdgeLimits, GuardedHttpToolsProtocol
from contentapi.http.shedding import RequestQueue
from contentapi.http.state import WIRE_REPLAY
from contentapi.settings import Settings

CLINIC = Path(__file__).parent.parent / "fixtures" / "clinic"
JIT_QUERY = '{ treatment(slug: "peel") { title } }'
APP_QUERY = "{ __schema { queryType { name } } }"  # introspection: the JIT leaves it


class Transport:
    """What the protocol writes to: everything it wrote, and whether it closed."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def writelines(self, parts: Iterable[bytes]) -> None:
        self.written += b"".join(parts)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def head_and_body(query: str) -> tuple[bytes, bytes]:
    body = json.dumps({"query": query}).encode()
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    return head, body


async def exchange(tmp_path: Path, steps: list[bytes | str]) -> tuple[Transport, int, int]:
    """Feed a protocol bytes in turn ("shutdown": begin a graceful shutdown), let the app
    run, and give back the transport (as the server left it), the answers the wire replay
    wrote and the requests the app's tasks took."""
    settings = Settings(content_dir=CLINIC, cache_dir=tmp_path / "cache", response_cache_bytes=0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        replay = app.state.wire_replay
        config = Config(app=app, log_level="warning", access_log=False)
        config.load()
        protocol = GuardedHttpToolsProtocol(
            config,
            ServerState(),
            {WIRE_REPLAY: replay},
            limits=EdgeLimits.from_settings(settings),
            queue=RequestQueue(0),
        )
        transport = Transport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        admitted = 0
        original_admit = protocol.queue.admit

        def counting_admit(scope: Any, app: Any) -> Any:
            nonlocal admitted
            admitted += 1
            return original_admit(scope, app)

        protocol.queue.admit = counting_admit  # type: ignore[method-assign]
        for step in steps:
            if step == "shutdown":
                protocol.shutdown()
            else:
                assert isinstance(step, bytes)
                protocol.data_received(step)
            for _ in range(50):  # the app's task, if one was started, runs to its end
                await asyncio.sleep(0)
        replayed = replay.replayed
        left = Transport()
        left.written, left.closed = transport.written, transport.closed
        protocol.connection_lost(None)
    return left, replayed, admitted


def responses(written: bytes) -> list[tuple[bytes, dict[bytes, bytes], bytes]]:
    """The status lines, headers and bodies in what was written."""
    found = []
    while written:
        head, _, rest = written.partition(b"\r\n\r\n")
        status, *lines = head.split(b"\r\n")
        headers = dict(line.lower().split(b": ", 1) for line in lines)
        length = int(headers[b"content-length"])
        found.append((status, headers, rest[:length]))
        written = rest[length:]
    return found


def test_a_held_request_whose_body_comes_later_is_answered_by_the_replay(
    tmp_path: Path,
) -> None:
    head, body = head_and_body(JIT_QUERY)
    transport, replayed, admitted = asyncio.run(
        exchange(tmp_path, [head, body[:10], body[10:], head + body])
    )
    answers = responses(transport.written)
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 200 OK"] * 2
    assert [json.loads(sent) for _, _, sent in answers] == [
        {"data": {"treatment": {"title": "Chemical Peel"}}}
    ] * 2
    assert (replayed, admitted) == (2, 0)  # no task, no request cycle's app
    assert not transport.closed


def test_a_held_request_the_replay_leaves_goes_to_the_app_with_its_body(
    tmp_path: Path,
) -> None:
    head, body = head_and_body(APP_QUERY)
    jit_head, jit_body = head_and_body(JIT_QUERY)
    transport, replayed, admitted = asyncio.run(
        exchange(tmp_path, [head, body[:7], body[7:], jit_head + jit_body])
    )
    answers = responses(transport.written)
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 200 OK"] * 2
    assert json.loads(answers[0][2]) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert json.loads(answers[1][2])["data"]["treatment"]["title"] == "Chemical Peel"
    assert (replayed, admitted) == (1, 1)


def test_a_shutdown_while_a_body_is_on_its_way_lets_the_app_answer_then_closes(
    tmp_path: Path,
) -> None:
    """uvicorn's own shutdown would close at once, the previous request being complete:
    the held one is answered by the app instead, with Connection: close."""
    head, body = head_and_body(JIT_QUERY)
    transport, replayed, admitted = asyncio.run(
        exchange(tmp_path, [head + body, head, "shutdown", body])
    )
    answers = responses(transport.written)
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 200 OK"] * 2
    assert answers[0][2] == answers[1][2]
    assert b"connection" not in answers[0][1]
    assert answers[1][1][b"connection"] == b"close"
    assert (replayed, admitted) == (1, 1)
    assert transport.closed
