"""GraphQL-over-HTTP conformance of the real server.

The main check runs the `graphql-http` npm package's server audits
(tests/http-audit/audit.mjs) against `contentapi serve`. Every MUST has to pass,
and the failing SHOULD and MAY audits must be exactly the ones listed below, so
that a regression and an improvement are both noticed (then update the list).
The rest pins the HTTP behaviour around it that the audit does not look at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server import running_server

ROOT = Path(__file__).resolve().parent.parent.parent
AUDIT_DIR = ROOT / "tests" / "http-audit"
AUDIT_SCRIPT = AUDIT_DIR / "audit.mjs"

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

# SHOULD audits ("warn") that fail on purpose, id -> why. Empty: every SHOULD passes.
EXPECTED_SHOULD_FAILURES: dict[str, str] = {}
# MAY audits ("notice") that fail on purpose, id -> why. Empty: every MAY passes.
EXPECTED_MAY_FAILURES: dict[str, str] = {}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """`contentapi serve` on the bundled content/ folder, shared by this module."""
    with running_server(ROOT / "content") as url:
        yield url


def _require_audit_tools() -> str:
    """Path of node, or skip (fail under CI) when node or the npm packages are missing."""
    node = shutil.which("node")
    if node is None:
        problem = "node is not installed"
    elif not (AUDIT_DIR / "node_modules" / "graphql-http" / "package.json").is_file():
        problem = "tests/http-audit/node_modules is missing (npm ci was not run there)"
    else:
        return node
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem}: CI must install it (`make node-deps` runs npm ci)")
    pytest.skip(f"{problem}: run `make test`, which installs the audit's npm packages")


@pytest.fixture(scope="module")
def audit(base_url: str) -> dict[str, Any]:
    """Run audit.mjs once: {"returncode", "results": [per audit], "summary", "output"}."""
    node = _require_audit_tools()
    process = subprocess.run(
        [node, str(AUDIT_SCRIPT), base_url + "/graphql"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = f"exit {process.returncode}\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}"
    results: list[dict[str, Any]] = []
    summary: dict[str, int] | None = None
    for line in process.stdout.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"audit.mjs printed a line that is not JSON: {line!r}\n{output}")
        if "summary" in record:
            summary = record["summary"]
        else:
            results.append(record)
    assert summary is not None, f"audit.mjs printed no summary\n{output}"
    return {
        "returncode": process.returncode,
        "results": results,
        "summary": summary,
        "output": output,
    }


def _failing(audit: dict[str, Any], status: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in audit["results"] if r["status"] == status}


def _explain(failures: dict[str, dict[str, Any]]) -> str:
    return "\n".join(
        f"  {r['id']} {r['name']}: {r['reason']} (response: {r.get('response')})"
        for r in failures.values()
    )


def test_audit_ran_every_audit(audit: dict[str, Any]) -> None:
    results = audit["results"]
    ids = [r["id"] for r in results]
    assert len(ids) == len(set(ids)), "an audit id was reported twice"
    assert audit["summary"]["total"] == len(results)
    # graphql-http 1.23.1 has 61 server audits; fewer means audit.mjs lost some.
    assert len(results) >= 61, audit["output"]
    assert {r["status"] for r in results} <= {"ok", "warn", "error", "notice"}


def test_every_must_audit_passes(audit: dict[str, Any]) -> None:
    errors = _failing(audit, "error")
    assert not errors, "MUST audits fail:\n" + _explain(errors)
    assert audit["returncode"] == 0, audit["output"]


@pytest.mark.parametrize(
    ("status", "level", "expected", "name"),
    [
        ("warn", "SHOULD", EXPECTED_SHOULD_FAILURES, "EXPECTED_SHOULD_FAILURES"),
        ("notice", "MAY", EXPECTED_MAY_FAILURES, "EXPECTED_MAY_FAILURES"),
    ],
)
def test_failing_should_and_may_audits_are_the_expected_ones(
    audit: dict[str, Any], status: str, level: str, expected: dict[str, str], name: str
) -> None:
    failing = _failing(audit, status)
    unexpected = {k: v for k, v in failing.items() if k not in expected}
    fixed = sorted(set(expected) - set(failing))
    assert not unexpected, f"{level} audits that now fail:\n" + _explain(unexpected)
    assert not fixed, f"{level} audits that pass now: drop {fixed} from {name}"


# What the audit does not cover.


def _post(base_url: str, body: Any, accept: str | None = None, **headers: str) -> httpx.Response:
    headers = {"content-type": JSON, **headers}
    if accept is not None:
        headers["accept"] = accept
    content = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return httpx.post(base_url + "/graphql", content=content, headers=headers, timeout=10)


def _media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, {JSON}", JSON),
        (f"{JSON};q=0.9, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"{JSON};q=0.5, {GRAPHQL_RESPONSE};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON};q=0, */*", GRAPHQL_RESPONSE),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
    ],
)
def test_accept_negotiation_follows_q_values(
    base_url: str, accept: str | None, expected: str
) -> None:
    response = _post(base_url, {"query": "{ __typename }"}, accept)
    assert response.status_code == 200
    assert _media_type(response) == expected
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["text/plain", f"{JSON};q=0, {GRAPHQL_RESPONSE};q=0"])
def test_nothing_acceptable_is_406(base_url: str, accept: str) -> None:
    response = _post(base_url, {"query": "{ __typename }"}, accept)
    assert response.status_code == 406
    assert "message" in response.json()["errors"][0]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{ not json", JSON, 400),
        ("[1, 2]", JSON, 400),
        ('{"variables": {}}', JSON, 400),
        ('{"query": "{ __typename }"}', "text/plain", 415),
        ('{"query": "{ __typename }"}', "application/graphql", 415),
        ('{"query": "{ __typename }"}', f"{JSON}; charset=latin1", 415),
    ],
)
def test_request_errors_answer_in_the_negotiated_type(
    base_url: str, body: str, content_type: str, status: int
) -> None:
    for accept, expected in [(JSON, JSON), (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE)]:
        response = _post(base_url, body, accept, **{"content-type": content_type})
        assert response.status_code == status
        assert _media_type(response) == expected
        payload = response.json()
        assert "data" not in payload
        assert isinstance(payload["errors"][0]["message"], str)


def test_utf8_charset_is_accepted(base_url: str) -> None:
    response = _post(
        base_url,
        {"query": "{ __typename }"},
        JSON,
        **{"content-type": "application/json; charset=UTF-8"},
    )
    assert response.status_code == 200


def test_mutation_over_get_is_405_with_allow(base_url: str) -> None:
    response = httpx.get(
        base_url + "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert _media_type(response) == GRAPHQL_RESPONSE
    assert "errors" in response.json()


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_a_graphql_error(base_url: str, method: str) -> None:
    response = httpx.request(method, base_url + "/graphql", content=b"{}")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert "message" in response.json()["errors"][0]


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_field_error_keeps_data_null_and_200(base_url: str, accept: str) -> None:
    # `treatments` is a non-null root field, so its error makes all of data null;
    # execution did start, so the response has `data` and is not a request error.
    response = _post(base_url, {"query": "{ treatments(first: -1) { totalCount } }"}, accept)
    assert response.status_code == 200
    payload = response.json()
    assert payload["data"] is None
    assert payload["errors"][0]["path"] == ["treatments"]


def test_head_is_answered_like_get(base_url: str) -> None:
    url = base_url + "/graphql"
    params = {"query": "{ __typename }"}
    get = httpx.get(url, params=params)
    head = httpx.head(url, params=params)
    assert head.status_code == get.status_code == 200
    assert head.headers["etag"] == get.headers["etag"]
    assert head.content == b""


def test_graphiql_is_still_served_to_browsers(base_url: str) -> None:
    response = httpx.get(
        base_url + "/graphql",
        headers={"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "GraphiQL" in response.text
