"""The Python `gql` client against a real server, used as the README's "Use it from a
frontend" section shows.

gql's HTTP transports send every operation as a JSON POST: HTTPXTransport and
AIOHTTPTransport call `post`, and RequestsHTTPTransport's `method="GET"` sends that JSON
body with a GET instead of the query string GraphQL over HTTP puts a GET's operation in,
so no server reads it (ours answers 400: "the request has no 'query' string"). These tests
pin what works: gql over POST, its schema validating operations against schema.graphql
before they are sent, server errors as TransportQueryError; and a plain httpx GET for
answers HTTP caches can keep.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport, HTTPXTransport
from graphql import GraphQLError

from server import running_server

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA = (ROOT / "schema.graphql").read_text(encoding="utf-8")
TREATMENT_PAGE = """
query Page($slug: String!) {
  treatment(slug: $slug) { title category { name } indications { name } }
}
"""

# tests/server.py leaves the server's stdout pipe open when it stops it; the file
# object is collected later and warns (as in tests/test_e2e.py).
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <_io.FileIO:pytest.PytestUnraisableExceptionWarning"
    ),
    pytest.mark.filterwarnings("ignore:unclosed file <_io.BufferedReader:ResourceWarning"),
]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The GraphQL URL of a real server on content/ that allows at most 2 aliases."""
    with running_server(ROOT / "content", env={"CONTENTAPI_MAX_ALIASES": "2"}) as base:
        yield base + "/graphql"


def page_request(slug: str) -> GraphQLRequest:
    request = gql(TREATMENT_PAGE)
    request.variable_values = {"slug": slug}
    return request


def test_gql_queries_over_post(url: str) -> None:
    methods: list[str] = []
    transport = HTTPXTransport(
        url=url, event_hooks={"request": [lambda request: methods.append(request.method)]}
    )
    with Client(transport=transport, schema=SCHEMA) as session:
        result = session.execute(page_request("mesotherapy"))
        missing = session.execute(page_request("no-such-page"))
    assert result["treatment"]["title"] == "Mesotherapy"
    assert result["treatment"]["category"] == {"name": "Skin Treatment"}
    assert [i["name"] for i in result["treatment"]["indications"][:3]] == [
        "Facelift",
        "Redundant (sagging) skin",
        "Hand rejuvenation",
    ]
    assert missing == {"treatment": None}
    assert methods == ["POST", "POST"]


async def _execute_async(url: str) -> dict[str, Any]:
    async with Client(transport=HTTPXAsyncTransport(url=url), schema=SCHEMA) as session:
        return await session.execute(page_request("mesotherapy"))


def test_gql_async_transport(url: str) -> None:
    result = asyncio.run(_execute_async(url))
    assert result["treatment"]["title"] == "Mesotherapy"
    assert len(result["treatment"]["indications"]) == 10


def test_gql_validates_against_schema_graphql_before_sending(url: str) -> None:
    methods: list[str] = []
    transport = HTTPXTransport(
        url=url, event_hooks={"request": [lambda request: methods.append(request.method)]}
    )
    with Client(transport=transport, schema=SCHEMA) as session:
        with pytest.raises(GraphQLError, match="Cannot query field 'headline' on type 'Treatment'"):
            session.execute(gql('{ treatment(slug: "mesotherapy") { headline } }'))
    assert methods == []


def test_gql_reports_the_servers_errors(url: str) -> None:
    with Client(transport=HTTPXTransport(url=url)) as session:
        with pytest.raises(TransportQueryError) as refused:
            session.execute(gql("{ a: __typename b: __typename c: __typename }"))
    assert refused.value.errors == [{"message": "3 aliases found. Allowed: 2"}]


def test_get_for_http_caches_with_httpx(url: str) -> None:
    """What the README offers for cacheable GETs from Python: the operation in the URL."""
    params = {"query": TREATMENT_PAGE, "variables": json.dumps({"slug": "mesotherapy"})}
    answer = httpx.get(url, params=params)
    assert answer.status_code == 200
    assert answer.json()["data"]["treatment"]["title"] == "Mesotherapy"
    assert answer.headers["cache-control"] == "public, max-age=60"
    again = httpx.get(url, params=params, headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304
