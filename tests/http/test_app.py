"""The HTTP app through Starlette's TestClient: routes, media types, errors, preview, caching."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from contentapi.content.index import ContentView
from contentapi.errors import SettingsError
from contentapi.http.app import create_app
from contentapi.settings import Settings

from clients import make_client
from expected import READYZ_KEYS

CLINIC = Path(__file__).parent.parent / "fixtures" / "clinic"
SEED_QUERY = '{ treatment(slug: "mesotherapy") { title images { src width } } }'
TOKEN = "s3cret-preview"


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings(content_dir=CLINIC, preview_token=TOKEN, cache_dir=None)
    with make_client(settings) as client:
        yield client


def test_post_json_query(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": SEED_QUERY})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "data": {
            "treatment": {
                "title": "Mesotherapy",
                "images": [
                    {"src": "/img/pages/mesotherapy_london.jpg", "width": 400},
                    {"src": "/img/pages/mesotherapy_london2.jpg", "width": 400},
                ],
            }
        }
    }
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_get_query_with_variables_and_graphql_response_type(client: TestClient) -> None:
    response = client.get(
        "/graphql",
        params={
            "query": "query T($s: String!) { treatment(slug: $s) { title } }",
            "variables": '{"s": "peel"}',
            "operationName": "T",
        },
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert response.json() == {"data": {"treatment": {"title": "Chemical Peel"}}}
    assert response.headers["cache-control"] == "public, max-age=60"


def test_get_etag_revalidates_with_304(client: TestClient) -> None:
    first = client.get("/graphql", params={"query": SEED_QUERY})
    etag = first.headers["etag"]
    again = client.get("/graphql", params={"query": SEED_QUERY}, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/graphql", params={"query": "{ contentInfo { version } }"})
    assert other.headers["etag"] != etag


@pytest.mark.parametrize(
    ("method", "kwargs", "status", "message"),
    [
        (
            "post",
            {"content": b"{bad", "headers": {"content-type": "application/json"}},
            400,
            "not valid JSON",
        ),
        ("post", {"json": {"variables": {}}}, 400, "no 'query'"),
        ("post", {"json": ["not", "an", "object"]}, 400, "batched requests"),
        ("post", {"json": "just a string"}, 400, "JSON object"),
        (
            "post",
            {"content": b"query=1", "headers": {"content-type": "text/plain"}},
            415,
            "application/json",
        ),
        (
            "post",
            {"json": {"query": "{ contentInfo { version } }", "variables": [1]}},
            400,
            "variables",
        ),
        ("get", {"params": {"query": "mutation { x }"}}, 405, "mutation"),
        ("put", {"json": {"query": "{ __typename }"}}, 405, "Method Not Allowed"),
    ],
)
def test_bad_requests_get_json_4xx(
    client: TestClient, method: str, kwargs: dict[str, object], status: int, message: str
) -> None:
    response = getattr(client, method)("/graphql", **kwargs)
    assert response.status_code == status
    body = response.json()
    assert message in body["errors"][0]["message"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("method", ["post", "get"])
def test_a_subscription_is_told_where_streams_are(client: TestClient, method: str) -> None:
    subscription = {"query": "subscription { contentChanged { version } }"}
    if method == "post":
        response = client.post("/graphql", json=subscription)
    else:
        response = client.get("/graphql", params=subscription)
    assert response.status_code == 400
    assert "allow" not in response.headers
    assert response.json() == {
        "errors": [
            {
                "message": "subscriptions are not served by plain requests to /graphql: "
                "subscribe over GraphQL over Server-Sent Events (graphql-sse, distinct "
                "connections) at /graphql/stream, or over WebSocket (graphql-transport-ws) "
                "at /graphql"
            }
        ]
    }


def test_graphql_errors_are_200_for_json_and_400_for_graphql_response(client: TestClient) -> None:
    plain = client.post("/graphql", json={"query": "{ nope }"})
    assert plain.status_code == 200
    assert "Cannot query field 'nope'" in plain.json()["errors"][0]["message"]
    typed = client.post(
        "/graphql",
        json={"query": "{ nope }"},
        headers={"accept": "application/graphql-response+json"},
    )
    assert typed.status_code == 400


def test_preview_token_shows_drafts_privately(client: TestClient) -> None:
    query = {"query": '{ treatment(slug: "secret") { title } contentErrors { path line } }'}
    public = client.post("/graphql", json=query)
    assert public.json() == {"data": {"treatment": None, "contentErrors": []}}
    wrong = client.post("/graphql", json=query, headers={"authorization": "Bearer nope"})
    assert wrong.json()["data"]["treatment"] is None
    preview = client.get("/graphql", params=query, headers={"authorization": f"Bearer {TOKEN}"})
    assert preview.json() == {
        "data": {
            "treatment": {"title": "Secret Laser"},
            "contentErrors": [{"path": "broken.md", "line": 3}],
        }
    }
    assert preview.headers["cache-control"] == "private, no-store"
    assert "etag" not in preview.headers


def test_no_token_configured_never_serves_drafts() -> None:
    with make_client(
        Settings(content_dir=CLINIC, cache_dir=None), raise_server_exceptions=True
    ) as c:
        response = c.post(
            "/graphql",
            json={"query": '{ treatment(slug: "secret") { title } }'},
            headers={"authorization": "Bearer "},
        )
    assert response.json() == {"data": {"treatment": None}}


def test_unexpected_errors_are_masked_and_logged(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(self: ContentView, slug: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ContentView, "related", explode)
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/graphql", json={"query": '{ treatment(slug: "peel") { title related { slug } } }'}
        )
    assert response.status_code == 200
    body = response.json()
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "secret internals" not in response.text
    assert "secret internals" in caplog.text


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert sorted(ready) == READYZ_KEYS
    assert ready["status"] == "ready"
    # In process there is no uvicorn protocol to replay anything.
    assert ready["wireReplays"] == 0
    assert ready["treatments"] == 3
    assert len(ready["version"]) == 16
    assert ready["fastPathFallbacks"] == ready["jitFallbacks"] == 0
    # A broken page may be a draft: only editors see how many there are.
    editor = client.get("/readyz", headers={"authorization": f"Bearer {TOKEN}"}).json()
    assert editor == {**ready, "errors": 1}


def test_readyz_counts_fast_path_fallbacks(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fallbacks() -> tuple[int, int]:
        ready = client.get("/readyz").json()
        return ready["fastPathFallbacks"], ready["jitFallbacks"]

    query = {"query": '{ treatment(slug: "peel") { title related { slug } } }'}
    assert client.post("/graphql", json=query).json()["data"]["treatment"]["title"] == (
        "Chemical Peel"
    )
    assert fallbacks() == (0, 0)

    def explode(self: ContentView, slug: str) -> None:
        raise RuntimeError("related is broken")

    monkeypatch.setattr(ContentView, "related", explode)
    # Another query than the first: an exact repeat would be replayed, not executed.
    broken = {"query": '{ treatment(slug: "mesotherapy") { related { slug } } }'}
    assert client.post("/graphql", json=broken).json()["errors"][0]["message"] == (
        "Unexpected error."
    )
    # The JIT met the error first and left the request to the executor, which did too.
    assert fallbacks() == (1, 1)
    monkeypatch.undo()
    # Introspection (GraphiQL sends it on every load) always takes graphql-core's path.
    introspection = {"query": "{ __schema { queryType { name } } }"}
    assert client.post("/graphql", json=introspection).json() == {
        "data": {"__schema": {"queryType": {"name": "Query"}}}
    }
    assert client.post("/graphql", json={"query": "{ contentInfo { treatmentCount } }"}).json()
    assert fallbacks() == (1, 1)


def test_graphiql_is_served_from_the_package(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/graphiql/static/graphiql.min.js" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 6
    assert all(url.startswith("/graphiql/static/") for url in assets), assets
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js", "init.js"):
        assert client.get(f"/graphiql/static/{asset}").status_code == 200


@pytest.mark.parametrize(
    ("accept", "page"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html;q=0.9, application/json;q=0.9", True),
        ("text/html;q=0, application/json", False),
        ("application/json, text/html;q=0.5", False),
        ("application/graphql-response+json, text/html;q=0.8", False),
        ("*/*", False),
        ("text/*", False),
        ("", False),
    ],
)
def test_graphiql_only_when_html_is_preferred(client: TestClient, accept: str, page: bool) -> None:
    response = client.get("/graphql", headers={"accept": accept})
    if page:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
    else:
        assert response.status_code == 400
        assert response.json() == {"errors": [{"message": "the request has no 'query' string"}]}


def test_large_bodies_are_refused_with_413() -> None:
    settings = Settings(content_dir=CLINIC, max_body_bytes=1000, cache_dir=None)
    with make_client(settings, raise_server_exceptions=True) as small:
        response = small.post("/graphql", json={"query": "{ __typename }", "pad": "x" * 2000})
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["errors"][0]["message"]


def test_cors_is_off_unless_configured(client: TestClient) -> None:
    headers = {"origin": "https://site.example", "access-control-request-method": "POST"}
    assert "access-control-allow-origin" not in client.options("/graphql", headers=headers).headers
    settings = Settings(content_dir=CLINIC, cors_origins="https://site.example", cache_dir=None)
    with make_client(settings, raise_server_exceptions=True) as cors:
        allowed = cors.options("/graphql", headers=headers)
        assert allowed.headers["access-control-allow-origin"] == "https://site.example"


def test_cors_origins_are_compared_as_browsers_send_them() -> None:
    written = "https://Site.example/, http://localhost:5173, https://cdn.example:443"
    settings = Settings(content_dir=CLINIC, cors_origins=written, cache_dir=None)
    assert settings.origins == [
        "https://site.example",
        "http://localhost:5173",
        "https://cdn.example",
    ]
    with make_client(settings, raise_server_exceptions=True) as cors:
        for origin in settings.origins:
            answer = cors.post("/graphql", json={"query": SEED_QUERY}, headers={"origin": origin})
            assert answer.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("site.example", "it needs http:// or https://"),
        ("https://site.example/app", "an origin has no path, query or fragment"),
        ("https://site.example:99999", "its port is not a number from 1 to 65535"),
        ("https://*.site.example", "a host is ASCII letters, digits, dots and hyphens"),
    ],
)
def test_a_malformed_cors_origin_is_refused_at_start_up(written: str, reason: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"CONTENTAPI_CORS_ORIGINS": f"https://ok.example, {written}"})
    assert str(refused.value).startswith(
        f"CONTENTAPI_CORS_ORIGINS holds {written!r}, which is not an origin ({reason}"
    )


def test_cors_allowed_headers_and_credentials_are_settings() -> None:
    preflight = {
        "origin": "https://site.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,apollographql-client-name,traceparent",
    }
    settings = Settings(content_dir=CLINIC, cors_origins="https://site.example", cache_dir=None)
    with make_client(settings, raise_server_exceptions=True) as cors:
        allowed = cors.options("/graphql", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-headers"] == (
            "Accept, Accept-Language, Authorization, Content-Language, Content-Type, "
            "If-None-Match, apollographql-client-name, apollographql-client-version, "
            "baggage, sentry-trace, traceparent"
        )
        assert "access-control-allow-credentials" not in allowed.headers
        custom = cors.options(
            "/graphql", headers={**preflight, "access-control-request-headers": "x-custom"}
        )
        assert custom.status_code == 400
    narrow = settings.replace(
        cors_allow_headers="Content-Type, X-Custom", cors_allow_credentials=True
    )
    with make_client(narrow, raise_server_exceptions=True) as cors:
        refused = cors.options("/graphql", headers=preflight)
        assert (refused.status_code, refused.text) == (400, "Disallowed CORS headers")
        custom = cors.options(
            "/graphql", headers={**preflight, "access-control-request-headers": "x-custom"}
        )
        assert custom.status_code == 200
        assert custom.headers["access-control-allow-credentials"] == "true"
        answer = cors.post(
            "/graphql", json={"query": SEED_QUERY}, headers={"origin": "https://site.example"}
        )
        assert answer.headers["access-control-allow-credentials"] == "true"
    with pytest.raises(SettingsError, match="name the origins instead of '\\*'"):
        settings.replace(cors_origins="*", cors_allow_credentials=True)


def test_missing_content_folder_fails_before_serving(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        create_app(Settings(content_dir=tmp_path / "missing"))


def test_queries_differing_only_by_a_comment_line_are_cached_apart(client: TestClient) -> None:
    version_only = "{ contentInfo { version # x treatmentCount\n } }"
    both = "{ contentInfo { version # x\n treatmentCount } }"
    first = client.get("/graphql", params={"query": version_only})
    assert set(first.json()["data"]["contentInfo"]) == {"version"}
    second = client.get(
        "/graphql", params={"query": both}, headers={"if-none-match": first.headers["etag"]}
    )
    assert second.status_code == 200
    assert second.json()["data"]["contentInfo"]["treatmentCount"] == 3


def test_images_are_served_from_the_content_folder(client: TestClient) -> None:
    image = client.get("/img/peel.png")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    missing = client.get("/img/nope.jpg")
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"message": "Not Found"}]}
    for escape in ("/img/../peel.md", "/img/%2e%2e/peel.md", "/img/..%2fpeel.md"):
        assert client.get(escape).status_code == 404


def test_image_symlinks_leading_outside_are_not_followed(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "img").mkdir(parents=True)
    (content / "page.md").write_text("---\ntitle: Page\n---\nBody.\n", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("private", encoding="utf-8")
    (content / "img" / "leak.txt").symlink_to(secret)
    with make_client(
        Settings(content_dir=content, cache_dir=tmp_path / "c"), raise_server_exceptions=True
    ) as c:
        assert c.get("/img/leak.txt").status_code == 404


def test_access_log_is_one_json_line_per_request(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    settings = Settings(content_dir=CLINIC, access_log=str(log), cache_dir=tmp_path / "cache")
    with make_client(settings, raise_server_exceptions=True) as client:
        client.post(
            "/graphql",
            json={"query": "query Peel { treatments(first: 2) { nodes { slug } } }"},
        )
        client.get("/healthz")
    first, second = [json.loads(line) for line in log.read_text().splitlines()]
    assert (first["method"], first["path"], first["status"]) == ("POST", "/graphql", 200)
    assert (first["operation"], first["cost"]) == ("Peel", 1 + 2 * 2)
    assert first["duration_ms"] > 0
    assert (second["path"], second["operation"], second["cost"]) == ("/healthz", None, None)


def test_large_responses_are_gzipped_when_accepted(client: TestClient) -> None:
    query = {"query": '{ treatment(slug: "mesotherapy") { html text } }'}
    plain = client.post("/graphql", json=query, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for _ in range(2):  # compressed once, then served from the cache
        packed = client.post("/graphql", json=query, headers={"accept-encoding": "gzip"})
        assert packed.headers["content-encoding"] == "gzip"
        assert int(packed.headers["content-length"]) < len(plain.content) / 2
        assert packed.json() == plain.json()
        assert "Accept-Encoding" in packed.headers["vary"]
    small = client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"accept-encoding": "gzip"}
    )
    assert "content-encoding" not in small.headers
    asset = client.get("/graphiql/static/graphiql.min.js", headers={"accept-encoding": "gzip"})
    assert asset.headers["content-encoding"] == "gzip"
