"""The wire replay (contentapi/http/lane.py WireReplay, written by the protocol in
contentapi/http/edges.py): a real `contentapi serve`, raw HTTP/1.1 on one connection, so
the bytes of an answer the app sent and of the same answer written by the protocol are
compared whole. A chunked body is never the protocol's (it goes to the app), so a chunked
request is how a test gets the app's own answer to compare with."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from server import ROOT, ServerProcess, started_server

QUERY = '{ treatment(slug: "mesotherapy") { slug title } }'
OTHER = '{ treatment(slug: "mesotherapy") { title } }'
EXPECTED = {"data": {"treatment": {"slug": "mesotherapy", "title": "Mesotherapy"}}}
ORIGIN = "https://clinic.example"


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("wire") / "content"
    shutil.copytree(ROOT / "content", target)
    return target


@pytest.fixture()
def server(content: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {
        "CONTENTAPI_ACCESS_LOG": str(tmp_path / "access.log"),
        "CONTENTAPI_CORS_ORIGINS": ORIGIN,
        "CONTENTAPI_CACHE_DIR": str(tmp_path / "cache"),
    }
    with started_server(content, env=env) as started:
        yield started


@pytest.fixture()
def uncached(content: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {
        "CONTENTAPI_RESPONSE_CACHE_BYTES": "0",
        "CONTENTAPI_CACHE_DIR": str(tmp_path / "cache"),
    }
    with started_server(content, env=env) as started:
        yield started


def post(body: str, *headers: str) -> bytes:
    data = body.encode()
    lines = [
        "POST /graphql HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Content-Length: {len(data)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def graphql(query: str) -> str:
    return orjson.dumps({"query": query}).decode()


def chunked(body: str) -> bytes:
    """The POST with its body in one chunk: the app's to answer, never the protocol's."""
    data = body.encode()
    return (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % len(data)
        + data
        + b"\r\n0\r\n\r\n"
    )


def read_responses(sock: socket.socket, count: int) -> list[bytes]:
    """`count` whole responses (each with Content-Length), as sent, in order."""
    data = b""
    responses: list[bytes] = []
    while len(responses) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1").lower()
            length = int(head.split("content-length: ")[1].split("\r\n")[0])
            end = head_end + 4 + length
            if len(data) >= end:
                responses.append(data[:end])
                data = data[end:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"closed after {len(responses)} of {count} responses"
        data += chunk
    assert data == b"", "more bytes than the responses asked for"
    return responses


def exchange(server: ServerProcess, *requests: bytes) -> list[bytes]:
    """Send the requests one after the other on one connection; their responses."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        answers = []
        for request in requests:
            sock.sendall(request)
            answers += read_responses(sock, 1)
        return answers


def without_date(response: bytes) -> bytes:
    return b"\r\n".join(line for line in response.split(b"\r\n") if not line.startswith(b"date:"))


def body_of(response: bytes) -> object:
    return orjson.loads(response.partition(b"\r\n\r\n")[2])


def replays(server: ServerProcess) -> int:
    count = httpx.get(server.url + "/readyz", timeout=5).json()["wireReplays"]
    assert isinstance(count, int)
    return count


def test_a_post_is_answered_with_the_bytes_the_app_sends(server: ServerProcess) -> None:
    from_app, first, second = exchange(server, chunked(graphql(QUERY)), *[post(graphql(QUERY))] * 2)
    assert body_of(from_app) == EXPECTED
    assert from_app.startswith(b"HTTP/1.1 200 OK\r\ndate: ")
    assert first.startswith(b"HTTP/1.1 200 OK\r\ndate: ")
    assert without_date(first) == without_date(from_app)
    assert without_date(second) == without_date(from_app)
    assert replays(server) == 2


def test_without_a_response_cache_the_jit_answers_in_the_protocol(
    uncached: ServerProcess,
) -> None:
    from_app, first, second = exchange(
        uncached, chunked(graphql(QUERY)), *[post(graphql(QUERY))] * 2
    )
    assert body_of(from_app) == EXPECTED
    assert without_date(first) == without_date(from_app)
    assert without_date(second) == without_date(from_app)
    assert replays(uncached) == 2
    # What the JIT does not run (introspection) is the app's: the same answer either way.
    introspection = graphql("{ __schema { queryType { name } } }")
    by_app, by_protocol = exchange(uncached, chunked(introspection), post(introspection))
    assert body_of(by_protocol) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert without_date(by_protocol) == without_date(by_app)
    assert replays(uncached) == 2


def test_a_repeated_get_is_replayed_too(server: ServerProcess) -> None:
    target = "/graphql?" + httpx.QueryParams({"query": QUERY}).__str__()
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n"
    # A Cookie means nothing to the app, but the lane and the replay leave it to the app.
    with_cookie = request.replace("\r\n\r\n", "\r\nCookie: seen=1\r\n\r\n")
    from_app, first, second = exchange(server, with_cookie.encode(), *[request.encode()] * 2)
    assert body_of(from_app) == EXPECTED
    assert without_date(first) == without_date(from_app)
    assert without_date(second) == without_date(from_app)
    assert replays(server) == 2


def test_a_replay_writes_the_access_line_the_app_writes(
    server: ServerProcess, tmp_path: Path
) -> None:
    exchange(server, chunked(graphql(QUERY)), post(graphql(QUERY)))
    assert replays(server) == 1
    server.process.terminate()
    server.process.wait(timeout=15)
    lines = [orjson.loads(line) for line in (tmp_path / "access.log").read_bytes().splitlines()]
    graphql_lines = [line for line in lines if line["path"] == "/graphql"]
    assert len(graphql_lines) == 2
    for line in graphql_lines:
        assert line["duration_ms"] >= 0
        del line["duration_ms"]
    assert (
        graphql_lines[0]
        == graphql_lines[1]
        == {
            "method": "POST",
            "path": "/graphql",
            "status": 200,
            "operation": None,
            "cost": graphql_lines[0]["cost"],
        }
    )
    assert isinstance(graphql_lines[0]["cost"], int)


def test_pipelined_requests_are_answered_in_order(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # The protocol's, the app's, the protocol's again: one write.
        sock.sendall(post(graphql(QUERY)) + chunked(graphql(OTHER)) + post(graphql(QUERY)))
        answers = read_responses(sock, 3)
    assert [body_of(answer) for answer in answers] == [
        EXPECTED,
        {"data": {"treatment": {"title": "Mesotherapy"}}},
        EXPECTED,
    ]
    assert replays(server) >= 1


def with_header(request: bytes, header: str) -> bytes:
    return request.replace(b"\r\n\r\n", f"\r\n{header}\r\n\r\n".encode(), 1)


@pytest.mark.parametrize(
    ("origin", "allowed"), [(ORIGIN, True), ("https://elsewhere.example", False)]
)
def test_a_caller_with_an_origin_gets_the_cors_headers_the_app_sends(
    server: ServerProcess, origin: str, allowed: bool
) -> None:
    header = f"Origin: {origin}"
    from_app, first, second = exchange(
        server, with_header(chunked(graphql(QUERY)), header), *[post(graphql(QUERY), header)] * 2
    )
    assert body_of(from_app) == EXPECTED
    assert without_date(first) == without_date(from_app)
    assert without_date(second) == without_date(from_app)
    head = from_app.partition(b"\r\n\r\n")[0].lower()
    assert (f"access-control-allow-origin: {origin}".encode() in head) is allowed
    assert b"\r\nvary: authorization, accept, accept-encoding, origin\r\n" in head
    assert replays(server) == 2


def test_chunked_and_expect_continue_bodies_go_to_the_app(server: ServerProcess) -> None:
    expect = post(graphql(QUERY), "Expect: 100-continue")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(chunked(graphql(QUERY)))
        (answer,) = read_responses(sock, 1)
        assert body_of(answer) == EXPECTED
        sock.sendall(expect)
        data_in = b""
        while b"\r\n\r\n" not in data_in:
            data_in += sock.recv(65536)
        assert data_in.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        rest = data_in[len(b"HTTP/1.1 100 Continue\r\n\r\n") :]
        while not rest.endswith(b"}}}"):
            rest += sock.recv(65536)
        assert body_of(rest) == EXPECTED
    assert replays(server) == 0
