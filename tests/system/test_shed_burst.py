"""Load shedding through a real server: a burst beyond CONTENTAPI_QUEUE_DEPTH gets 503s with
Retry-After at once, the rest 200; health probes are never shed; every request is answered."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import orjson
import pytest

from server import ROOT, ServerProcess, started_server

pytestmark = pytest.mark.system
T = TypeVar("T")

BURST = 120
DEPTH = 2
QUERY = b'{"query":"{ treatments(first: 50) { nodes { title summary html images { src } } } }"}'
SLUG_QUERY = b'{"query":"{ treatments(first: 1) { nodes { slug } } }"}'


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    env = {
        "CONTENTAPI_QUEUE_DEPTH": str(DEPTH),
        "CONTENTAPI_RESPONSE_CACHE_BYTES": "0",  # every request is executed: none is cheap
        "CONTENTAPI_CACHE_DIR": "",
        "CONTENTAPI_ACCESS_LOG": "",
    }
    with started_server(ROOT / "content", env=env) as process:
        yield process


def _request(port: int, path: str, body: bytes | None) -> bytes:
    if body is None:
        return b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path.encode(), port)
    return (
        b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (path.encode(), port, len(body), body)
    )


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """An answer's status line and headers as sent, and what came after them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection without an answer"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    head, body = _read_head(sock)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _written_at_once(
    port: int, requests: list[bytes], read: Callable[[socket.socket], T]
) -> list[T]:
    """Open a connection per request, then write them all at once; every answer as `read`
    reads it, in order."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in requests]
    try:
        for sock, request in zip(sockets, requests, strict=True):
            sock.sendall(request)
        return [read(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _burst(
    port: int, requests: list[tuple[str, bytes | None]]
) -> list[tuple[int, dict[str, str], bytes]]:
    """Each request on a connection of its own, written at once; every answer, in order."""
    raw = [_request(port, path, body) for path, body in requests]
    return _written_at_once(port, raw, _read_answer)


def _until_shed(burst: Callable[[], list[T]], is_shed: Callable[[T], bool]) -> tuple[list[T], int]:
    """`burst` until one of its answers is shed (the bundled pages are quick: a burst may,
    rarely, all find room), at most 5 times: the last burst's answers and how many bursts."""
    for bursts in range(1, 6):
        answers = burst()
        if any(map(is_shed, answers)):
            return answers, bursts
    return answers, 5


def _shed_burst(
    port: int, requests: list[tuple[str, bytes | None]]
) -> list[tuple[int, dict[str, str], bytes]]:
    """_burst until one shows a 503, at most 5 times."""
    return _until_shed(lambda: _burst(port, requests), lambda answer: answer[0] == 503)[0]


def test_a_burst_beyond_the_queue_is_shed_with_retry_after(server: ServerProcess) -> None:
    expected = httpx.post(
        server.url + "/graphql", content=QUERY, headers={"content-type": "application/json"}
    )
    assert expected.status_code == 200
    answers = _shed_burst(server.port, [("/graphql", QUERY)] * BURST)
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {200, 503}
    # The first DEPTH arrivals are held, however fast the server is; the rest of one burst
    # written before the first answer is made cannot all find room.
    assert statuses.count(200) >= DEPTH
    assert statuses.count(503) >= 1
    for status, headers, body in answers:
        if status == 200:
            assert body == expected.content
        else:
            assert headers["retry-after"] == "1"
            assert headers["cache-control"] == "no-store"
            assert headers["x-content-type-options"] == "nosniff"
            assert orjson.loads(body) == {
                "errors": [
                    {
                        "message": "the server is busy: too many requests are waiting; "
                        "try again in a second",
                        "extensions": {"code": "SERVER_BUSY"},
                    }
                ]
            }


def test_health_probes_in_a_burst_are_never_shed(server: ServerProcess) -> None:
    requests: list[tuple[str, bytes | None]] = [("/graphql", QUERY)] * BURST
    requests += [("/healthz", None), ("/readyz", None)] * 5
    answers = _shed_burst(server.port, requests)
    graphql, probes = answers[:BURST], answers[BURST:]
    assert [status for status, _, _ in probes] == [200] * 10
    assert [status for status, _, _ in graphql].count(503) >= 1


def test_after_a_burst_the_queue_is_empty_again(server: ServerProcess) -> None:
    """Every held request gave its place back: DEPTH requests at once are all served."""
    _burst(server.port, [("/graphql", QUERY)] * BURST)
    for _ in range(3):
        answers = _burst(server.port, [("/graphql", SLUG_QUERY)] * DEPTH)
        assert [status for status, _, _ in answers] == [200] * DEPTH
        time.sleep(0.05)


def test_a_shed_connection_stays_open_for_its_next_request(server: ServerProcess) -> None:
    for _ in range(5):  # the bundled pages are quick: a burst may, rarely, all find room
        sockets = [
            socket.create_connection(("127.0.0.1", server.port), timeout=20) for _ in range(BURST)
        ]
        try:
            for sock in sockets:
                sock.sendall(_request(server.port, "/graphql", QUERY))
            first = [_read_answer(sock)[0] for sock in sockets]
            if 503 not in first:
                continue
            # One at a time now: nothing else is held, so each is served on its connection.
            shed = [sock for sock, status in zip(sockets, first, strict=True) if status == 503]
            for sock in shed[:5]:
                sock.sendall(_request(server.port, "/graphql", SLUG_QUERY))
                assert _read_answer(sock)[0] == 200
            return
        finally:
            for sock in sockets:
                sock.close()
    pytest.fail("5 bursts of 120 requests over a queue of 2 were never shed")


ORIGIN = "https://clinic.example"


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """A shedding server under CORS, and its access log."""
    log = tmp_path_factory.mktemp("shed") / "access.log"
    env = {
        "CONTENTAPI_QUEUE_DEPTH": str(DEPTH),
        "CONTENTAPI_RESPONSE_CACHE_BYTES": "0",
        "CONTENTAPI_CACHE_DIR": "",
        "CONTENTAPI_ACCESS_LOG": str(log),
        "CONTENTAPI_CORS_ORIGINS": ORIGIN,
    }
    with started_server(ROOT / "content", env=env) as process:
        yield process, log


def _head_without_date(sock: socket.socket) -> bytes:
    """An answer's status line and headers as sent, but the Date (the one that may differ)."""
    lines = _read_head(sock)[0].split(b"\r\n")
    return b"\r\n".join(line for line in lines if not line.startswith(b"date:"))


def _raw_burst(port: int, request: bytes) -> list[bytes]:
    """One raw request written on BURST connections at once: each answer's head."""
    return _written_at_once(port, [request] * BURST, _head_without_date)


def _shed_head(port: int, request: bytes) -> tuple[bytes, int]:
    """The head of the 503 a burst of `request` gets, and how many bursts that took."""

    def is_shed(head: bytes) -> bool:
        return head.startswith(b"HTTP/1.1 503")

    heads, bursts = _until_shed(lambda: _raw_burst(port, request), is_shed)
    shed = [head for head in heads if is_shed(head)]
    if not shed:
        pytest.fail("5 bursts of 120 requests over a queue of 2 were never shed")
    assert len(set(shed)) == 1
    return shed[0], bursts


def test_the_protocol_refuses_a_request_over_the_queue_with_the_apps_bytes(
    cors_server: tuple[ServerProcess, Path],
) -> None:
    """A POST the wire replay would answer with the JIT is refused by the replay itself when
    the queue is full (no task, no app); a chunked one goes to the app's SheddingMiddleware.
    Both refusals carry the same status line and headers, CORS and security headers
    included, and write the same access line."""
    server, log = cors_server
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Origin: " + ORIGIN.encode() + b"\r\n"
    )
    plain = head + b"Content-Length: %d\r\n\r\n%s" % (len(QUERY), QUERY)
    chunked = head + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (
        len(QUERY),
        QUERY,
    )
    before = httpx.get(server.url + "/readyz").json()["wireReplays"]
    from_app, _ = _shed_head(server.port, chunked)
    replayed = httpx.get(server.url + "/readyz").json()["wireReplays"]
    assert replayed == before  # a chunked body is never the protocol's
    from_protocol, bursts = _shed_head(server.port, plain)
    # Every answer written by the protocol, the refusals with the JIT's answers.
    assert httpx.get(server.url + "/readyz").json()["wireReplays"] == replayed + BURST * bursts
    assert from_protocol == from_app
    assert b"\r\naccess-control-allow-origin: " + ORIGIN.encode() in from_app
    assert b"\r\nretry-after: 1" in from_app
    assert b"\r\nx-frame-options: DENY" in from_app
    server.process.terminate()
    server.process.wait(timeout=15)
    refusals = [
        orjson.loads(line)
        for line in log.read_bytes().splitlines()
        if orjson.loads(line)["status"] == 503
    ]
    assert len(refusals) >= 2
    for line in refusals:
        assert line.pop("duration_ms") >= 0
    assert all(
        line
        == {"method": "POST", "path": "/graphql", "status": 503, "operation": None, "cost": None}
        for line in refusals
    )
