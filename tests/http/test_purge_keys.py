"""CDN purge keys: Surrogate-Key and Cache-Tag on GET answers, a key per treatment shown
and per kind of list, bounded in size, and the same keys in a change's purge list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from contentapi.schema.keys import MAX_HEADER, change_keys, document_key, header_value

from clients import make_client

TOKEN = "preview"
MESO, PEEL, ACU = (document_key(uri) for uri in ("/mesotherapy/", "/peel/", "/acupuncture/"))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(preview_token=TOKEN) as client:
        yield client


def keys_of(client: TestClient, query: str) -> str:
    response = client.get("/graphql", params={"query": query})
    assert response.status_code == 200
    assert response.headers["cache-tag"] == response.headers["surrogate-key"].replace(" ", ",")
    return response.headers["surrogate-key"]


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ('{ treatment(slug: "mesotherapy") { title } }', f"all {MESO}"),
        ('{ treatment(slug: "nothing") { title } }', "all"),
        ("{ treatments { totalCount } }", "all treatments"),
        (
            "{ treatments(first: 100) { nodes { slug } } }",
            " ".join(["all", *sorted((MESO, PEEL, ACU)), "treatments"]),
        ),
        ("{ treatments(first: 1) { edges { node { slug } } } }", f"all {ACU} treatments"),
        ('{ treatment(slug: "mesotherapy") { images { src } } }', f"all images {MESO}"),
        ('{ search(query: "mesotherapy") { treatment { slug } } }', f"all search {MESO}"),
        ("{ contentInfo { version } }", "all version"),
        ('{ changes(since: "") { complete } }', "all version"),
        ("{ indications(first: 1) { totalCount } }", "all indications"),
        ("{ categories { name } }", "all categories"),
    ],
)
def test_a_get_answer_names_what_it_holds(client: TestClient, query: str, keys: str) -> None:
    assert keys_of(client, query) == keys


def test_a_related_treatment_is_keyed_too(client: TestClient) -> None:
    query = '{ treatment(slug: "mesotherapy") { related { slug } } }'
    related = client.get("/graphql", params={"query": query}).json()["data"]["treatment"]
    uris = {f"/{item['slug']}/" for item in related["related"]} | {"/mesotherapy/"}
    assert len(uris) > 1
    expected = " ".join(["all", *sorted(document_key(uri) for uri in uris), "treatments"])
    assert keys_of(client, query) == expected


def test_a_replayed_answer_has_the_same_keys(client: TestClient) -> None:
    query = '{ treatment(slug: "peel") { title } }'
    assert keys_of(client, query) == keys_of(client, query) == f"all {PEEL}"


def test_only_public_gets_carry_keys(client: TestClient) -> None:
    query = '{ treatment(slug: "peel") { title } }'
    posted = client.post("/graphql", json={"query": query})
    preview = client.get(
        "/graphql", params={"query": query}, headers={"authorization": f"Bearer {TOKEN}"}
    )
    for response in (posted, preview):
        assert response.status_code == 200
        assert "surrogate-key" not in response.headers
        assert "cache-tag" not in response.headers


def test_a_change_purges_the_keys_its_documents_were_served_under(client: TestClient) -> None:
    served = keys_of(client, '{ treatment(slug: "mesotherapy") { title } }').split()
    listed = keys_of(client, "{ treatments { totalCount } }").split()
    purged = change_keys(["/mesotherapy/"])
    assert set(served) - {"all"} <= set(purged)
    assert set(listed) - {"all"} <= set(purged)
    assert PEEL not in purged


def test_too_many_keys_fall_back_to_the_site_wide_key() -> None:
    keys = [document_key(f"/page-{n}/") for n in range(400)]
    assert header_value(keys[:10], " ") == " ".join(["all", *sorted(keys[:10])])
    assert len(" ".join(["all", *keys])) > MAX_HEADER
    assert header_value(keys, " ") == "all"
