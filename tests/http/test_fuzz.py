"""Fuzzing the HTTP endpoint: whatever a client sends, the answer is never a 5xx.

Every response is a GraphQL-style JSON document with `data` or a non-empty `errors`
list of objects with a string `message` (a 304 has no body; GraphiQL is HTML).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx2
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from contentapi.http.app import create_app
from contentapi.settings import Settings

from clients import make_client

CLINIC = Path(__file__).resolve().parent.parent / "fixtures" / "clinic"
FUZZ = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    deadline=None,
    max_examples=150,
)
JSON_TYPES = ("application/json", "application/graphql-response+json")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings_ = Settings(
        content_dir=CLINIC, preview_token="t", cache_dir=tmp_path_factory.mktemp("cache")
    )
    with make_client(settings_) as client:
        yield client


@pytest.fixture(scope="module")
def batch_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings_ = Settings(
        content_dir=CLINIC,
        preview_token="t",
        batch_limit=4,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )
    with make_client(settings_) as client:
        yield client


# --------------------------------------------------------------------------- checks


def check_result(body: Any) -> None:
    """One GraphQL response: `data`, or a non-empty list of errors with messages."""
    assert isinstance(body, dict), body
    assert "data" in body or "errors" in body, body
    if "errors" in body:
        errors = body["errors"]
        assert isinstance(errors, list), body
        assert errors, body
        for error in errors:
            assert isinstance(error, dict), body
            assert isinstance(error.get("message"), str), body
            assert error["message"], body


def check(response: httpx2.Response, *, graphiql: bool = False, batch: bool = False) -> Any:
    """No 5xx; a JSON body of the GraphQL response shape (batches: a list of them)."""
    status = response.status_code
    if currently_in_test_context():
        event(f"status {status}")
    assert status < 500, (status, response.text[:1000])
    if status == 304 or response.request.method == "HEAD":
        assert response.content == b""
        return None
    kind = response.headers.get("content-type", "")
    if graphiql and status == 200 and kind.startswith("text/html"):
        return None
    assert kind.startswith(JSON_TYPES), (status, kind, response.text[:200])
    body = json.loads(response.content)
    if batch and isinstance(body, list):
        assert status == 200
        assert body
        for item in body:
            check_result(item)
        return body
    check_result(body)
    if status >= 400:
        assert "errors" in body, body
    return body


def post(client: TestClient, body: bytes | str, headers: dict[str, Any] | None = None) -> Any:
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    headers = {"content-type": "application/json", **(headers or {})}
    return client.post("/graphql", content=content, headers=headers)


def dumps(value: Any) -> str:
    """JSON as a client might write it: NaN and Infinity included, lone surrogates escaped."""
    return json.dumps(value)


# --------------------------------------------------------------------------- strategies

HUGE_INTS = st.sampled_from(
    [2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, 2**64, 2**70, -(2**70), 10**30]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | HUGE_INTS
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["mesotherapy", "peel", "", "VHJlYXRtZW50Om1lc290aGVyYXB5", "TITLE", "DESC"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)


def nested(depth: int, kind: str = "list") -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


# orjson writes at most 254 levels (see test_deep_variables_are_a_client_error), so the
# random nesting stays below that; the explicit test covers the deeper levels.
DEEP = st.builds(nested, st.integers(1, 200), st.sampled_from(["list", "object"]))
VARIABLE_VALUES = JSON_VALUES | DEEP | HUGE_INTS

QUERIES_WITH_VARIABLES = [
    "query Q($slug: String!) { treatment(slug: $slug) { slug title html excerpt } }",
    "query Q($first: Int, $after: String, $last: Int, $before: String) "
    "{ treatments(first: $first, after: $after, last: $last, before: $before) "
    "{ totalCount nodes { slug } pageInfo { endCursor hasNextPage } } }",
    "query Q($filter: TreatmentFilter, $order: [TreatmentOrder!]) "
    "{ treatments(filter: $filter, orderBy: $order) { totalCount nodes { slug } } }",
    "query Q($ids: [ID!]!) { nodes(ids: $ids) { id } }",
    "query Q($id: ID!) { node(id: $id) { id ... on Treatment { slug } } }",
    "query Q($q: String!, $first: Int) { search(query: $q, first: $first) { snippet score } }",
    "query Q($length: Int) { treatments { nodes { excerpt(length: $length) } } }",
    "query Q($f: IndicationFilter, $first: Int) "
    "{ indications(filter: $f, first: $first) { nodes { name treatmentCount } } }",
    "query Q($slug: String!, $first: Int) { treatment(slug: $slug) { related(first: $first) "
    "{ slug } } }",
    "query Q($skip: Boolean!) { contentInfo @skip(if: $skip) { version } }",
]
PLAIN_QUERIES = [
    "{ contentInfo { version treatmentCount } }",
    "{ contentErrors { path line message } }",
    "{ categories { name treatments { totalCount } } }",
    "{ images(first: 100) { nodes { src url } } }",
    "{ __schema { queryType { name } } }",
    "{ __typename }",
    "mutation { __typename }",
    "subscription { __typename }",
    "query A { __typename } query B { __typename }",
]
FRAGMENTS = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "$",
    "$first",
    "$slug: String!",
    "...",
    "...F",
    "... on Treatment",
    "fragment",
    "fragment F on Query { __typename }",
    "fragment F on Treatment { slug }",
    "on",
    "query",
    "query Q($first: Int)",
    "mutation",
    "subscription",
    "treatment",
    'treatment(slug: "mesotherapy")',
    "treatments",
    "nodes",
    "edges { node { slug } }",
    'search(query: "skin")',
    "first: 99999999999999999999",
    "first: -1",
    "first: 0",
    "last: 2147483648",
    'after: "x"',
    "first: $first",
    "slug",
    "title",
    "html",
    "id",
    "__typename",
    "__schema { types { name } }",
    "contentErrors { message }",
    "related(first: 100) { related(first: 100) { slug } }",
    "a: treatment",
    "@include(if: true)",
    "@skip(if: $x)",
    "@deprecated",
    '"',
    '"""',
    "'",
    "\\",
    "\\u0000",
    ":",
    "!",
    "=",
    "|",
    "&",
    ",",
    "#",
    "\n",
    "\x00",
    "\ufeff",
    "1e999",
    "0x1",
    "null",
    "true",
    "🙂",
]
QUERIES = (
    st.text(max_size=200)
    | st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(" ".join)
    | st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
    | st.sampled_from(QUERIES_WITH_VARIABLES + PLAIN_QUERIES)
)
VARIABLE_NAMES = st.sampled_from(
    ["slug", "first", "after", "last", "before", "filter", "order", "ids", "id", "q", "length"]
    + ["f", "skip", "x"]
) | st.text(max_size=8)
VARIABLES = st.none() | st.dictionaries(VARIABLE_NAMES, VARIABLE_VALUES, max_size=5)
PERSISTED = st.fixed_dictionaries(
    {
        "persistedQuery": st.fixed_dictionaries(
            {
                "version": SCALARS,
                "sha256Hash": st.text(max_size=64)
                | st.sampled_from(
                    [hashlib.sha256(q.encode()).hexdigest() for q in PLAIN_QUERIES[:3]]
                )
                | SCALARS,
            }
        )
    }
)
EXTENSIONS = st.none() | PERSISTED | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3)
OPERATION_NAMES = st.none() | st.sampled_from(["Q", "A", "B", ""]) | st.text(max_size=10) | SCALARS
REQUEST_BODIES = st.fixed_dictionaries(
    {"query": QUERIES | SCALARS},
    optional={
        "variables": VARIABLES | JSON_VALUES,
        "operationName": OPERATION_NAMES,
        "extensions": EXTENSIONS | JSON_VALUES,
    },
)
GOOD_REQUESTS = st.fixed_dictionaries(
    {"query": st.sampled_from(QUERIES_WITH_VARIABLES + PLAIN_QUERIES)},
    optional={"variables": VARIABLES, "operationName": st.sampled_from(["Q", "A", "B"])},
)
# Header values as bytes: any printable Latin-1 (what HTTP/1.1 can carry), tabs too.
HEADER_TEXT = st.text(
    alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]) | st.just("\t"),
    max_size=60,
).map(lambda text: text.encode("latin-1"))
ACCEPTS = HEADER_TEXT | st.sampled_from(
    [
        b"application/json",
        b"application/graphql-response+json",
        b"application/graphql-response+json, application/json;q=0.9",
        b"application/json;q=0",
        b"application/json;q=nan, application/graphql-response+json;q=inf",
        b"application/json;q=-1",
        b"text/html",
        b"text/html, application/json",
        b"*/*",
        b"*/*;q=0",
        b"application/*",
        b"application/graphql-response+json;q=0, application/json;q=0",
        b";;,,;q=",
        b"/",
    ]
)
CONTENT_TYPES = HEADER_TEXT | st.sampled_from(
    [
        b"application/json",
        b"application/json; charset=utf-8",
        b'application/json; charset="UTF-8"',
        b"application/json; charset=latin-1",
        b"application/json;charset=",
        b"APPLICATION/JSON",
        b"application/graphql",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=x",
        b"text/plain",
        b"",
    ]
)
AUTHORIZATIONS = HEADER_TEXT | st.sampled_from(
    [b"Bearer t", b"bearer t", b"Bearer  t  ", b"Bearer x", b"Bearer ", b"Basic dDp0", b"t"]
)


# --------------------------------------------------------------------------- properties


@FUZZ
@given(body=JSON_VALUES | REQUEST_BODIES)
def test_arbitrary_json_bodies(client: TestClient, body: Any) -> None:
    check(post(client, dumps(body)))


@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_as_json_bodies(client: TestClient, data: bytes) -> None:
    check(post(client, data))


@FUZZ
@given(
    query=QUERIES,
    variables=VARIABLES,
    operation_name=OPERATION_NAMES,
    method=st.sampled_from(["GET", "POST"]),
)
def test_arbitrary_queries(
    client: TestClient, query: str, variables: Any, operation_name: Any, method: str
) -> None:
    if method == "POST":
        body = {"query": query, "variables": variables, "operationName": operation_name}
        check(post(client, dumps(body)))
    else:
        params = {"query": query}
        if variables is not None:
            params["variables"] = dumps(variables)
        if isinstance(operation_name, str):
            params["operationName"] = operation_name
        check(client.get("/graphql", params=params))


@FUZZ
@given(
    query=st.sampled_from(QUERIES_WITH_VARIABLES),
    variables=VARIABLES,
    method=st.sampled_from(["GET", "POST"]),
)
def test_arbitrary_variables(client: TestClient, query: str, variables: Any, method: str) -> None:
    if method == "POST":
        check(post(client, dumps({"query": query, "variables": variables})))
    else:
        params = {"query": query, "variables": dumps(variables)}
        check(client.get("/graphql", params=params))


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST"]) | st.sampled_from(["HEAD", "PUT", "PATCH", "OPTIONS"]),
    accept=st.none() | ACCEPTS,
    content_type=st.none() | CONTENT_TYPES,
    authorization=st.none() | AUTHORIZATIONS,
    if_none_match=st.none() | HEADER_TEXT | st.sampled_from([b"*", b'W/"x", *']),
    with_query=st.booleans(),
)
def test_arbitrary_headers(
    client: TestClient,
    method: str,
    accept: bytes | None,
    content_type: bytes | None,
    authorization: bytes | None,
    if_none_match: bytes | None,
    with_query: bool,
) -> None:
    headers: dict[str, Any] = {
        name: value
        for name, value in [
            ("accept", accept),
            ("content-type", content_type),
            ("authorization", authorization),
            ("if-none-match", if_none_match),
        ]
        if value is not None
    }
    query = "{ contentInfo { version } contentErrors { path } }"
    if method in ("GET", "HEAD"):
        params = {"query": query} if with_query else {}
        response = client.request(method, "/graphql", params=params, headers=headers)
    else:
        content = dumps({"query": query}).encode() if with_query else b""
        response = client.request(method, "/graphql", content=content, headers=headers)
    graphiql = method == "GET" and not with_query and b"text/html" in (accept or b"")
    check(response, graphiql=graphiql)


QUERY_PARAM_NAMES = st.sampled_from(
    ["query", "variables", "operationName", "extensions", "query[]", "Query"]
) | st.text(max_size=8)
QUERY_PARAM_VALUES = (
    st.text(max_size=60)
    | QUERIES
    | JSON_VALUES.map(dumps)
    | EXTENSIONS.map(dumps)
    | st.sampled_from(["{", "null", "[]", "1e999", "NaN", '{"a":' * 50])
)


# Query strings as written by hand: percent escapes (valid or not, UTF-8 or not), `&`,
# `=`, `+` and any printable character (a URL cannot carry control characters).
RAW_QUERY_STRINGS = st.lists(
    st.text(alphabet=st.characters(exclude_categories=["Cc", "Cs"]), max_size=10)
    | st.sampled_from(["&", "=", "+", "%", "%2", "%ff", "%ED%A0%80", "%00", "%C3%A9", "%7B%7D"])
    | st.sampled_from(["query=", "variables=", "operationName=", "extensions=", "query%3D"]),
    max_size=12,
).map("".join)


@FUZZ
@given(
    params=st.lists(st.tuples(QUERY_PARAM_NAMES, QUERY_PARAM_VALUES), max_size=6),
    raw=st.none() | RAW_QUERY_STRINGS,
    accept=st.none() | ACCEPTS,
)
def test_arbitrary_query_strings(
    client: TestClient, params: list[Any], raw: str | None, accept: bytes | None
) -> None:
    headers: dict[str, Any] = {"accept": accept} if accept is not None else {}
    if raw is not None:
        # A query string exactly as written, percent signs and all.
        response = client.get(
            "/graphql?" + raw.replace("#", "%23").replace(" ", "+"), headers=headers
        )
        query = response.request.url.query.decode("latin-1")
        graphiql = not parse_qsl(query, keep_blank_values=True)
    else:
        response = client.get("/graphql", params=params, headers=headers)
        graphiql = not params
    check(response, graphiql=graphiql and b"text/html" in (accept or b""))


@FUZZ
@given(
    bodies=st.lists(GOOD_REQUESTS, max_size=5)
    | st.lists(GOOD_REQUESTS | REQUEST_BODIES | JSON_VALUES, max_size=6),
    accept=st.none() | ACCEPTS,
)
def test_arbitrary_batches(batch_client: TestClient, bodies: list[Any], accept: Any) -> None:
    headers: dict[str, Any] = {"accept": accept} if accept is not None else {}
    check(post(batch_client, dumps(bodies), headers), batch=True)


# --------------------------------------------------------------------------- specific cases


@pytest.mark.parametrize(
    "body",
    [
        "[" * 10_000 + "]" * 10_000,
        "[" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"query": "{ __typename }", "variables": ' + '{"a":' * 10_000 + "1" + "}" * 10_001,
        '{"query": "{ __typename }", "extensions": ' + "[" * 10_000 + "]" * 10_000 + "}",
    ],
    ids=["lists", "unclosed", "objects", "variables", "extensions"],
)
def test_deeply_nested_bodies_are_client_errors(client: TestClient, body: str) -> None:
    response = post(client, body)
    assert 400 <= response.status_code < 500
    check(response)


@pytest.mark.parametrize(
    "query",
    ["{" * 60_000, "{ a" * 20_000, "{ treatment(slug: " + "[" * 30_000, "query(" + "$a:[" * 10_000],
    ids=["braces", "fields", "lists", "variables"],
)
def test_huge_nested_queries_are_refused(client: TestClient, query: str) -> None:
    body = check(post(client, dumps({"query": query})))
    assert "data" not in body
    assert body["errors"]


def test_deeply_nested_query_string_variables_are_client_errors(client: TestClient) -> None:
    variables = '{"a":' + "[" * 10_000 + "]" * 10_000 + "}"
    response = client.get("/graphql", params={"query": "{ __typename }", "variables": variables})
    assert 400 <= response.status_code < 500
    check(response)


def test_a_matching_etag_gets_an_empty_304(client: TestClient) -> None:
    params = {"query": "{ contentInfo { version } }"}
    first = client.get("/graphql", params=params)
    check(first)
    again = client.get("/graphql", params=params, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    check(again)


@pytest.mark.parametrize("where", ["post-variables", "post-extensions", "get-variables"])
def test_deep_variables_are_a_client_error(client: TestClient, where: str) -> None:
    deep = nested(300)
    if where == "get-variables":
        params = {"query": "{ __typename }", "variables": dumps({"a": deep})}
        response = client.get("/graphql", params=params)
    else:
        key = where.removeprefix("post-")
        response = post(client, dumps({"query": "{ __typename }", key: {"a": deep}}))
    check(response)
    assert response.status_code == 400
    assert "nested more than 64 levels deep" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "front",
    ["big: 123456789012345678901234567890\n", "deep: " + "[" * 300 + "1" + "]" * 300 + "\n"],
    ids=["huge-int", "deep"],
)
def test_front_matter_that_json_cannot_hold_is_not_a_500(tmp_path: Path, front: str) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "page.md").write_text(f"---\ntitle: Page\n{front}---\nBody.\n")
    app = create_app(Settings(content_dir=content, cache_dir=tmp_path / "cache"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = post(client, dumps({"query": "{ treatments { nodes { frontMatter } } }"}))
    check(response)
    nodes = response.json()["data"]["treatments"]["nodes"]
    # A huge number is kept as its digits; front matter nested too deeply is a page error.
    assert nodes == (
        [{"frontMatter": {"title": "Page", "big": "123456789012345678901234567890"}}]
        if front.startswith("big")
        else []
    )
