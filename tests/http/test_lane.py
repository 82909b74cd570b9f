"""The fast lane replays exact repeats, and only what is safe to replay."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from contentapi.content.index import ContentIndex
from contentapi.settings import Settings

from clients import make_client

CLINIC = Path(__file__).parent.parent / "fixtures" / "clinic"
QUERY = {"query": '{ treatment(slug: "peel") { title } }'}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    content = tmp_path / "content"
    shutil.copytree(CLINIC, content)
    settings = Settings(content_dir=content, preview_token="t", cache_dir=tmp_path / "cache")
    with make_client(settings, raise_server_exceptions=True) as client:
        yield client


def test_exact_repeats_are_replayed_byte_for_byte(client: TestClient, calls: list[str]) -> None:
    first = client.post("/graphql", json=QUERY)
    second = client.post("/graphql", json=QUERY)
    assert len(calls) == 1
    assert second.content == first.content == b'{"data":{"treatment":{"title":"Chemical Peel"}}}'
    assert second.headers == first.headers
    assert second.headers["x-content-type-options"] == "nosniff"
    other = client.post("/graphql", json={"query": "{ contentInfo { treatmentCount } }"})
    assert other.json() == {"data": {"contentInfo": {"treatmentCount": 3}}}
    assert len(calls) == 2
    client.get("/graphql", params=QUERY)
    client.get("/graphql", params=QUERY)
    assert len(calls) == 3


def test_accept_and_encoding_are_part_of_the_key(client: TestClient, calls: list[str]) -> None:
    client.post("/graphql", json=QUERY)
    typed = client.post(
        "/graphql", json=QUERY, headers={"accept": "application/graphql-response+json"}
    )
    assert typed.headers["content-type"] == "application/graphql-response+json"
    assert len(calls) == 2


def test_preview_and_conditional_requests_always_reach_the_app(
    client: TestClient, calls: list[str]
) -> None:
    preview = {"authorization": "Bearer t"}
    secret = {"query": '{ treatment(slug: "secret") { title } }'}
    for _ in range(2):
        assert client.post("/graphql", json=secret, headers=preview).json() == {
            "data": {"treatment": {"title": "Secret Laser"}}
        }
    assert client.post("/graphql", json=secret).json() == {"data": {"treatment": None}}
    etag = client.get("/graphql", params=QUERY).headers["etag"]
    assert client.get("/graphql", params=QUERY, headers={"if-none-match": etag}).status_code == 304
    assert len(calls) == 5


def test_persisted_query_misses_are_not_replayed(client: TestClient, calls: list[str]) -> None:
    digest = hashlib.sha256(QUERY["query"].encode()).hexdigest()
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    missing = client.post("/graphql", json=by_hash).json()
    assert missing["errors"][0]["message"] == "PersistedQueryNotFound"
    client.post("/graphql", json={**QUERY, **by_hash})
    assert client.post("/graphql", json=by_hash).json() == {
        "data": {"treatment": {"title": "Chemical Peel"}}
    }


def test_new_content_is_never_answered_from_old_recordings(
    client: TestClient, calls: list[str]
) -> None:
    assert client.post("/graphql", json=QUERY).json()["data"]["treatment"]["title"] == (
        "Chemical Peel"
    )
    content = client.app.state.settings.content_dir  # type: ignore[attr-defined]
    page = content / "peel.md"
    page.write_text(page.read_text().replace("Chemical Peel", "Gentle Peel"))
    client.app.state.store.swap(ContentIndex.from_directory(content))  # type: ignore[attr-defined]
    assert client.post("/graphql", json=QUERY).json()["data"]["treatment"]["title"] == (
        "Gentle Peel"
    )
    assert len(calls) == 2


def test_replays_are_logged_with_operation_and_cost(tmp_path: Path, calls: list[str]) -> None:
    log = tmp_path / "access.log"
    named = {"query": "query Peel { treatments(first: 2) { nodes { slug } } }"}
    settings = Settings(content_dir=CLINIC, access_log=str(log), cache_dir=tmp_path / "cache")
    with make_client(settings, raise_server_exceptions=True) as client:
        client.post("/graphql", json=named)
        client.post("/graphql", json=named)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(calls) == 1
    assert [(e["status"], e["operation"], e["cost"]) for e in entries] == [
        (200, "Peel", 5),
        (200, "Peel", 5),
    ]


def test_long_bodies_without_a_length_still_get_413(client: TestClient, calls: list[str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["errors"][0]["message"]


def test_replays_get_cors_headers_for_their_own_origin(tmp_path: Path, calls: list[str]) -> None:
    settings = Settings(
        content_dir=CLINIC,
        cors_origins="https://a.example, https://b.example",
        cache_dir=tmp_path / "cache",
    )
    vary = "Authorization, Accept, Accept-Encoding, Origin"
    with make_client(settings, raise_server_exceptions=True) as client:
        for origin in ("https://a.example", "https://b.example", "https://a.example"):
            answer = client.post("/graphql", json=QUERY, headers={"origin": origin})
            assert answer.headers["access-control-allow-origin"] == origin
            assert answer.headers.get_list("vary") == [vary]
        for headers in ({}, {"origin": "https://evil.example"}):
            answer = client.post("/graphql", json=QUERY, headers=headers)
            assert "access-control-allow-origin" not in answer.headers
            assert answer.headers.get_list("vary") == [vary]
            assert answer.json() == {"data": {"treatment": {"title": "Chemical Peel"}}}
    assert len(calls) == 1


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requests that went through the app to GraphQLEndpoint.run."""
    from contentapi.http.endpoint import GraphQLEndpoint

    seen: list[str] = []
    original = GraphQLEndpoint.run

    async def counting(self: GraphQLEndpoint, request: Any, operation: Any, **kw: Any) -> Any:
        seen.append(operation.query)
        return await original(self, request, operation, **kw)

    monkeypatch.setattr(GraphQLEndpoint, "run", counting)
    return seen


# A cookie sends a request past the lane, to the app: the same answer the long way round.
THROUGH_THE_APP = {"cookie": "session=1"}


@pytest.mark.parametrize("cache_bytes", [0, 16 * 1024 * 1024])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
def test_compiled_queries_are_answered_in_the_lane_as_the_app_answers_them(
    tmp_path: Path, runs: list[str], cache_bytes: int, method: str, encoding: str, accept: str
) -> None:
    """The same bytes, headers in the same order, whichever way the lane answers (without
    a response cache: express.py; with one: the endpoint's answer, recorded)."""
    query = {"query": "{ treatments(first: 3) { nodes { slug title html } } }"}
    settings = Settings(
        content_dir=CLINIC, cache_dir=tmp_path / "cache", response_cache_bytes=cache_bytes
    )
    headers = {"accept-encoding": encoding, "accept": accept}
    with make_client(settings, raise_server_exceptions=True) as client:

        def ask(extra: dict[str, str]) -> Any:
            if method == "GET":
                return client.get("/graphql", params=query, headers={**headers, **extra})
            return client.post("/graphql", json=query, headers={**headers, **extra})

        lane = ask({})
        assert runs == []  # the JIT ran it from the lane
        app = ask(THROUGH_THE_APP)
        assert len(runs) == 1
    assert lane.status_code == app.status_code == 200
    assert lane.content == app.content
    assert lane.json()["data"]["treatments"]["nodes"][0]["slug"] == "acupuncture"
    assert lane.headers.multi_items() == app.headers.multi_items()
    assert lane.headers["x-content-type-options"] == "nosniff"
    assert lane.headers.get("content-encoding") == ("gzip" if encoding == "gzip" else None)
    assert lane.headers["content-type"] == accept
    if method == "GET":
        assert lane.headers["etag"].startswith('W/"')
        assert lane.headers["surrogate-key"] == app.headers["surrogate-key"] != ""
    else:
        assert lane.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ __schema { queryType { name } } }"},  # introspection: not compiled
        {"query": '{ treatment(slug: "peel") { title excerpt(length: 0) } }'},  # an error
        [{"query": "{ __typename }"}],  # a batch
        {"query": "{ nope }"},  # invalid
        {"query": "mutation { __typename }"},
    ],
)
def test_what_the_jit_does_not_answer_goes_on_to_the_app(
    client: TestClient, runs: list[str], body: Any
) -> None:
    client.post("/graphql", json=body)
    assert len(runs) == (0 if isinstance(body, list) else 1)


def test_a_body_over_the_servers_limit_is_refused_by_the_app(tmp_path: Path) -> None:
    settings = Settings(content_dir=CLINIC, cache_dir=tmp_path / "cache", max_body_bytes=100)
    with make_client(settings) as client:
        padded = {"query": "{ __typename }", "pad": "x" * 200}
        assert client.post("/graphql", json=padded).status_code == 413
        assert client.post("/graphql", json={"query": "{ __typename }"}).status_code == 200


def test_requests_over_the_queue_are_shed_not_answered_by_the_jit(tmp_path: Path) -> None:
    import asyncio

    from contentapi.http.app import create_app
    from contentapi.http.shedding import SHED

    app = create_app(Settings(content_dir=CLINIC, cache_dir=tmp_path / "cache"))
    body = json.dumps({"query": "{ contentInfo { treatmentCount } }"}).encode()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        SHED: True,
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"1") in sent[0]["headers"]


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries the fast lane read out of a request (its body or query string)."""
    from contentapi.http import lane

    seen: list[str] = []
    original = lane.operation_from

    def reading(params: Any, *, from_query_string: bool) -> Any:
        seen.append(params.get("query"))
        return original(params, from_query_string=from_query_string)

    monkeypatch.setattr(lane, "operation_from", reading)
    return seen


def test_a_request_sent_again_is_run_without_being_read_again(
    tmp_path: Path, runs: list[str], read: list[str]
) -> None:
    """With no response cache, the same bytes are kept ready for the JIT (its plan, the
    coerced variables): run again, not read, parsed and validated again. Other variables
    are another request; a persisted query (named, not sent) is read each time."""
    settings = Settings(content_dir=CLINIC, cache_dir=tmp_path / "cache", response_cache_bytes=0)
    query = "query One($slug: String!) { treatment(slug: $slug) { slug title } }"
    with make_client(settings, raise_server_exceptions=True) as client:
        endpoint = client.app.state.wire_replay.endpoint  # type: ignore[attr-defined]
        peel = {"query": query, "variables": {"slug": "peel"}}
        first = client.post("/graphql", json=peel)
        again = client.post("/graphql", json=peel)
        other = client.post("/graphql", json={**peel, "variables": {"slug": "acupuncture"}})
        assert read == [query, query]
        assert runs == []  # all three answered by the JIT in the lane
        assert first.content == again.content
        assert first.json() == {"data": {"treatment": {"slug": "peel", "title": "Chemical Peel"}}}
        assert other.json()["data"]["treatment"]["slug"] == "acupuncture"
        assert len(endpoint.ready_requests) == 2
        # A kept request whose plan left the plans' cache is compiled again.
        endpoint.schema.compiler.plans.clear()
        assert client.post("/graphql", json=peel).content == first.content
        assert len(read) == 2
        digest = hashlib.sha256(query.encode()).hexdigest()
        persisted = {
            "variables": {"slug": "peel"},
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
        }
        assert client.post("/graphql", json={**persisted, "query": query}).content == first.content
        assert client.post("/graphql", json=persisted).content == first.content
        assert client.post("/graphql", json=persisted).content == first.content
        assert read == [query] * 2 + [query, None, None]
        assert len(endpoint.ready_requests) == 3  # the one sending its text as well


def test_requests_kept_ready_cost_what_they_are_charged(tmp_path: Path) -> None:
    """The bytes the kept requests hold, measured by tracemalloc, stay within what their
    cache counts (its keys and the lane's estimate of each entry)."""
    import gc
    import tracemalloc

    settings = Settings(
        content_dir=CLINIC, cache_dir=tmp_path / "cache", response_cache_bytes=0, access_log=""
    )
    query = (
        "query One($slug: String!, $n: Int) "
        "{ treatment(slug: $slug) { slug } treatments(first: $n) { totalCount } }"
    )
    with make_client(settings, raise_server_exceptions=True) as client:
        endpoint = client.app.state.wire_replay.endpoint  # type: ignore[attr-defined]
        client.post("/graphql", json={"query": query, "variables": {"slug": "peel"}})
        bodies = [
            json.dumps({"query": query, "variables": {"slug": f"page-{n}" * 20, "n": n % 5}})
            for n in range(300)
        ]
        gc.collect()
        used_before = endpoint.ready_requests.bytes_used
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for body in bodies:
                answer = client.post(
                    "/graphql", content=body, headers={"content-type": "application/json"}
                )
                assert answer.json()["data"]["treatment"] is None
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        counted = endpoint.ready_requests.bytes_used - used_before
    assert len(endpoint.ready_requests) == 301
    assert 0.5 * counted < held <= counted, f"{held:,} bytes held, {counted:,} counted"
