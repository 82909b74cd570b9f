"""Automatic persisted queries (Apollo's protocol), the allow-list mode (Apollo's manifest,
Relay's persisted map with doc_id, a list), and batching.

The real clients (Apollo's manifest generator and persisted-query link, relay-compiler and
relay-runtime) are driven against a real server in tests/test_e2e.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from contentapi.errors import SettingsError
from contentapi.http.app import create_app
from contentapi.http.persisted import PersistedQueries, PersistedQueryError
from contentapi.settings import Settings

from clients import make_client

CLINIC = Path(__file__).parent.parent / "fixtures" / "clinic"
QUERY = '{ treatment(slug: "peel") { title } }'
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
PEEL = {"data": {"treatment": {"title": "Chemical Peel"}}}


def client(**settings: object) -> TestClient:
    return make_client(raise_server_exceptions=True, **settings)


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
    with pytest.raises(
        SettingsError, match="'abc' is not the SHA-256, MD5 or SHA-1 hex of its query"
    ):
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


def manifest(*operations: dict[str, str]) -> dict[str, object]:
    """An Apollo persisted query manifest, as @apollo/generate-persisted-query-manifest writes."""
    return {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}


NAMED = 'query Peel {\n  treatment(slug: "peel") {\n    title\n    __typename\n  }\n}'
NAMED_DIGEST = hashlib.sha256(NAMED.encode()).hexdigest()
PEEL_TYPED = {"data": {"treatment": {"title": "Chemical Peel", "__typename": "Treatment"}}}


def test_apollo_manifest_is_an_allow_list_by_id(tmp_path: Path) -> None:
    listed = tmp_path / "persisted-query-manifest.json"
    operations = [
        {"id": NAMED_DIGEST, "name": "Peel", "type": "query", "body": NAMED},
        # createOperationId may make any id: it is taken as written.
        {
            "id": "contentInfo-v2",
            "name": "Count",
            "type": "query",
            "body": "query Count { contentInfo { treatmentCount } }",
        },
    ]
    listed.write_text(json.dumps(manifest(*operations)), encoding="utf-8")
    with client(persisted_queries=str(listed)) as locked:
        assert (
            locked.post(
                "/graphql", json={"operationName": "Peel", "extensions": persisted(NAMED_DIGEST)}
            ).json()
            == PEEL_TYPED
        )
        by_get = locked.get("/graphql", params={"extensions": json.dumps(persisted(NAMED_DIGEST))})
        assert by_get.json() == PEEL_TYPED
        assert by_get.headers["cache-control"] == "public, max-age=60"
        custom = locked.post("/graphql", json={"extensions": persisted("contentInfo-v2")})
        assert custom.json() == {"data": {"contentInfo": {"treatmentCount": 3}}}
        # The link's retry sends the text with the id: the manifest's body decides.
        retry = locked.post(
            "/graphql", json={"query": NAMED, "extensions": persisted(NAMED_DIGEST)}
        )
        assert retry.json() == PEEL_TYPED
        assert locked.post("/graphql", json={"query": NAMED}).json() == PEEL_TYPED
        other = locked.post(
            "/graphql", json={"query": QUERY, "extensions": persisted(NAMED_DIGEST)}
        ).json()
        assert other == {
            "errors": [
                {
                    "message": "provided id does not match query",
                    "extensions": {"code": "PERSISTED_QUERY_MISMATCH"},
                }
            ]
        }
        unknown = locked.post("/graphql", json={"extensions": persisted("f" * 64)}).json()
        assert unknown == {
            "errors": [
                {
                    "message": "PersistedQueryNotFound",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                }
            ]
        }
        refused = locked.post("/graphql", json={"query": QUERY}).json()
        assert refused["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_ALLOWED"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            {"format": "apollo-persisted-query-manifest", "version": 2, "operations": []},
            "Apollo manifest version 2 is not 1, the only version this server reads",
            id="version",
        ),
        pytest.param(
            {"format": "relay", "version": 1, "operations": []},
            "format 'relay' is not 'apollo-persisted-query-manifest'",
            id="format",
        ),
        pytest.param(
            manifest({"id": "a", "name": "A", "type": "query"}),
            "operation 1 needs an 'id' and a 'body' string, "
            "not {'id': 'a', 'name': 'A', 'type': 'query'}",
            id="no body",
        ),
        pytest.param(
            manifest({"id": "a", "body": "{ a }"}, {"id": "a", "body": "{ b }"}),
            "id 'a' is given to two different bodies",
            id="one id, two bodies",
        ),
        pytest.param(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": None},
            "'operations' must be a list, not None",
            id="no operations",
        ),
    ],
)
def test_a_bad_apollo_manifest_is_refused_at_start_up(
    tmp_path: Path, content: dict[str, object], message: str
) -> None:
    listed = tmp_path / "manifest.json"
    listed.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        create_app(Settings(content_dir=CLINIC, persisted_queries=str(listed)))
    assert str(refused.value) == f"persisted queries {str(listed)!r}: {message}"


# relay-compiler's persistConfig writes {id: text}, the id the hex of the text's hash.
RELAY_TEXT = 'query PeelQuery {\n  treatment(slug: "peel") {\n    title\n    id\n  }\n}\n'
PEEL_WITH_ID = {"data": {"treatment": {"title": "Chemical Peel", "id": "VHJlYXRtZW50OnBlZWw="}}}


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256"])
def test_relay_doc_id_runs_the_stored_document(tmp_path: Path, algorithm: str) -> None:
    doc_id = hashlib.new(algorithm, RELAY_TEXT.encode()).hexdigest()
    listed = tmp_path / "persisted-queries.json"
    listed.write_text(json.dumps({doc_id: RELAY_TEXT}), encoding="utf-8")
    with client(persisted_queries=str(listed)) as relay:
        posted = relay.post("/graphql", json={"doc_id": doc_id, "variables": {}})
        assert posted.json() == PEEL_WITH_ID
        by_get = relay.get("/graphql", params={"doc_id": doc_id})
        assert by_get.json() == PEEL_WITH_ID
        assert by_get.headers["cache-control"] == "public, max-age=60"
        proposal = relay.post("/graphql", json={"documentId": doc_id})
        assert proposal.json() == PEEL_WITH_ID
        upper = relay.post("/graphql", json={"doc_id": doc_id.upper()})
        assert upper.json() == PEEL_WITH_ID


def test_document_id_with_the_proposals_sha256_prefix(tmp_path: Path) -> None:
    listed = tmp_path / "queries.json"
    listed.write_text(json.dumps([QUERY]), encoding="utf-8")
    with client(persisted_queries=str(listed)) as locked:
        answer = locked.post("/graphql", json={"documentId": f"sha256:{DIGEST}"})
        assert answer.json() == PEEL


def test_unknown_or_malformed_document_ids(tmp_path: Path) -> None:
    listed = tmp_path / "queries.json"
    listed.write_text(json.dumps([QUERY]), encoding="utf-8")
    with client(persisted_queries=str(listed)) as locked:
        unknown = locked.post("/graphql", json={"doc_id": "0123abcd"})
        assert unknown.status_code == 200
        assert unknown.json() == {
            "errors": [
                {
                    "message": "no persisted document has the id '0123abcd'",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                }
            ]
        }
        assert unknown.headers["cache-control"] == "no-store"
        both = locked.post("/graphql", json={"doc_id": DIGEST, "documentId": DIGEST})
        assert both.status_code == 400
        assert both.json() == {
            "errors": [
                {"message": "send a persisted document's id as 'doc_id' or 'documentId', not both"}
            ]
        }
        number = locked.post("/graphql", json={"doc_id": 12})
        assert number.status_code == 400
        assert number.json()["errors"][0]["message"] == (
            "'doc_id' must be a persisted document's id: a string of 1 to 256 characters, not 12"
        )
        long = locked.get("/graphql", params={"documentId": "x" * 257})
        assert long.status_code == 400
        # A document id and text that disagree: the list's text decides.
        wrong = locked.post("/graphql", json={"doc_id": DIGEST, "query": "{ __typename }"})
        assert wrong.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_MISMATCH"}


def test_doc_id_without_an_allow_list_finds_what_apq_learned() -> None:
    with client() as apq:
        missing = apq.post("/graphql", json={"doc_id": DIGEST}).json()
        assert missing["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
        apq.post("/graphql", json={"query": QUERY, "extensions": persisted()})
        assert apq.post("/graphql", json={"doc_id": DIGEST}).json() == PEEL
        # Nothing is learned under an id that is not the SHA-256 of the text.
        learn = apq.post("/graphql", json={"doc_id": "abc", "query": QUERY}).json()
        assert learn["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_MISMATCH"}
