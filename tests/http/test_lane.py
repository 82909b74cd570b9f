"""The fast lane replays exact repeats, and only what is safe to replay."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

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
