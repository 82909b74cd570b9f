"""Automatic persisted queries (Apollo's protocol), the allow-list mode, and batching."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from contentapi.app import create_app
from contentapi.errors import SettingsError
from contentapi.persisted import PersistedQueries, PersistedQueryError
from contentapi.settings import Settings

CLINIC = Path(__file__).parent / "fixtures" / "clinic"
QUERY = '{ treatment(slug: "peel") { title } }'
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
PEEL = {"data": {"treatment": {"title": "Chemical Peel"}}}


def client(**settings: object) -> TestClient:
    config = Settings(content_dir=CLINIC, cache_dir=Path("/nonexistent/cache")).replace(**settings)
    return TestClient(create_app(config))


def persisted(digest: str = DIGEST) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def test_apq_round_trip_over_get_and_post() -> None:
    with client() as apq:
        first = apq.get("/graphql", params={"extensions": json.dumps(persisted())})
        assert first.status_code == 200
        assert first.json() == {
            "errors": [
                {
                    "message": "PersistedQueryNotFound",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                }
            ]
        }
        register = apq.post("/graphql", json={"query": QUERY, "extensions": persisted()})
        assert register.json() == PEEL
        by_hash = apq.get("/graphql", params={"extensions": json.dumps(persisted())})
        assert by_hash.json() == PEEL
        assert by_hash.headers["cache-control"] == "public, max-age=60"
        assert "etag" in by_hash.headers
        assert apq.post("/graphql", json={"extensions": persisted()}).json() == PEEL


def test_apq_hash_mismatch_is_refused() -> None:
    with client() as apq:
        wrong = apq.post("/graphql", json={"query": QUERY, "extensions": persisted("0" * 64)})
        error = wrong.json()["errors"][0]
        assert error["extensions"] == {"code": "PERSISTED_QUERY_MISMATCH"}
        assert "data" not in wrong.json()


def test_store_is_bounded_by_count_and_bytes() -> None:
    store = PersistedQueries(max_count=2, max_bytes=1000)
    queries = [f"{{ a{i}: __typename }}" for i in range(3)]
    for query in queries:
        store.resolve(query, persisted(hashlib.sha256(query.encode()).hexdigest()))
    assert len(store) == 2
    with pytest.raises(PersistedQueryError):
        store.resolve("", persisted(hashlib.sha256(queries[0].encode()).hexdigest()))
    big = PersistedQueries(max_count=100, max_bytes=40)
    for query in queries:
        big.resolve(query, persisted(hashlib.sha256(query.encode()).hexdigest()))
    assert len(big) == 2  # 3 x 19 bytes do not fit in 40


def test_allow_list_runs_only_listed_documents(tmp_path: Path) -> None:
    allowed = tmp_path / "queries.json"
    allowed.write_text(json.dumps({DIGEST: QUERY}), encoding="utf-8")
    with client(persisted_queries=str(allowed)) as locked:
        assert locked.post("/graphql", json={"extensions": persisted()}).json() == PEEL
        assert locked.post("/graphql", json={"query": QUERY}).json() == PEEL
        other = locked.post("/graphql", json={"query": "{ contentInfo { version } }"}).json()
        assert other == {
            "errors": [
                {
                    "message": "Only persisted queries may run on this server.",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_ALLOWED"},
                }
            ]
        }
        other_hash = hashlib.sha256(b"{ __typename }").hexdigest()
        learn = locked.post(
            "/graphql", json={"query": "{ __typename }", "extensions": persisted(other_hash)}
        ).json()
        assert learn["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


def test_allow_list_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "queries.json"
    bad.write_text(json.dumps({"abc": QUERY}), encoding="utf-8")
    with pytest.raises(SettingsError, match="'abc' is not the SHA-256 of its query"):
        create_app(Settings(content_dir=CLINIC, persisted_queries=str(bad)))


def test_batches_are_off_by_default_and_capped_when_on() -> None:
    batch = [{"query": QUERY}, {"query": "{ contentInfo { treatmentCount } }"}]
    with client() as plain:
        refused = plain.post("/graphql", json=batch)
        assert refused.status_code == 400
        assert "turned off" in refused.json()["errors"][0]["message"]
    with client(batch_limit=2) as batching:
        answered = batching.post("/graphql", json=batch)
        assert answered.status_code == 200
        assert answered.json() == [PEEL, {"data": {"contentInfo": {"treatmentCount": 3}}}]
        too_many = batching.post("/graphql", json=batch * 2)
        assert too_many.status_code == 400
        assert too_many.json()["errors"][0]["message"] == (
            "a batch must hold 1 to 2 operations, not 4"
        )
