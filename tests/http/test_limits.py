"""Hostile queries are refused before execution with errors that name the limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from clients import make_client

CLINIC = Path(__file__).parent.parent / "fixtures" / "clinic"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as client:
        yield client


def first_error(client: TestClient, query: str, **variables: object) -> str:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body or body["data"] is None
    return str(body["errors"][0]["message"])


def still_answers(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ contentInfo { treatmentCount } }"})
    assert response.json() == {"data": {"contentInfo": {"treatmentCount": 3}}}


def test_depth_50_is_refused(client: TestClient) -> None:
    query = '{ treatment(slug: "peel") { ' + "related { " * 50 + "slug" + " }" * 50 + " } }"
    assert first_error(client, query) == "'anonymous' exceeds maximum operation depth of 10"
    still_answers(client)


def test_depth_limit_sees_through_fragments(client: TestClient) -> None:
    query = (
        '{ treatment(slug: "peel") { ...A } } '
        "fragment A on Treatment { related { ...B } } "
        "fragment B on Treatment { related { related { related { related { related { "
        "related { related { related { related { slug } } } } } } } } } }"
    )
    assert "exceeds maximum operation depth of 10" in first_error(client, query)


def test_too_many_aliases(client: TestClient) -> None:
    query = "{ " + " ".join(f"a{i}: contentInfo {{ version }}" for i in range(100)) + " }"
    assert first_error(client, query) == "100 aliases found. Allowed: 30"


def test_500_aliases_hit_the_token_limit(client: TestClient) -> None:
    query = "{ " + " ".join(f"a{i}: contentInfo {{ version }}" for i in range(500)) + " }"
    message = first_error(client, query)
    assert message == "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    still_answers(client)


def test_huge_first_nested_three_levels_is_too_costly(client: TestClient) -> None:
    query = (
        "{ treatments(first: 100000) { nodes { indications { treatments(first: 100000) "
        "{ nodes { category { treatments(first: 100000) { totalCount } } } } } } } }"
    )
    message = first_error(client, query)
    # 1 + 100000 * (1 + (1 + 10 * (1 + 100000 * (1 + (1 + (1 + 100000))))))): indications,
    # a list sized by the content, counts 10.
    assert message.startswith("Query cost 10000300001200001 exceeds the limit of 5000")
    still_answers(client)


def test_cost_counts_fragments_and_variables(client: TestClient) -> None:
    query = (
        "query($n: Int) { treatments(first: $n) { nodes { ...F } } } "
        "fragment F on Treatment { indications { treatments(first: 60) { nodes { slug } } } }"
    )
    # 1 + 100 (the variable's value) * (1 + 1 + 10 (indications) * (1 + 60 * (1 + 1)))
    assert first_error(client, query, n=100).startswith("Query cost 121201 exceeds the limit")
    # Left out, the page size is the default page of 20.
    assert first_error(client, query).startswith("Query cost 24241 exceeds the limit")


def test_cost_is_reported_in_extensions_when_asked(client: TestClient) -> None:
    response = client.post(
        "/graphql",
        json={"query": "{ treatments(first: 5) { nodes { slug } } }", "extensions": {"cost": True}},
    )
    assert response.json()["extensions"] == {"cost": 11}


@pytest.mark.parametrize("garbage", ["{" + "x(" * 5000, "☃ %$#@" * 1500, "\x00" * 10_000])
def test_garbage_is_a_syntax_error(client: TestClient, garbage: str) -> None:
    assert first_error(client, garbage).startswith("Syntax Error")
    still_answers(client)


def test_3mb_body_is_refused_before_parsing(client: TestClient) -> None:
    body = b'{"query": "' + b"a" * 3_000_000 + b'"}'
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {
        "errors": [{"message": "the request body is larger than the limit of 65536 bytes"}]
    }
    still_answers(client)


def test_limits_are_settings() -> None:
    with make_client(max_depth=2, max_cost=10) as strict:
        deep = '{ treatment(slug: "peel") { related { related { slug } } } }'
        assert first_error(strict, deep) == "'anonymous' exceeds maximum operation depth of 2"
        costly = "{ treatments(first: 11) { totalCount } }"
        assert first_error(strict, costly).startswith("Query cost 12 exceeds the limit of 10")


def test_introspection_off_hides_schema_and_suggestions() -> None:
    with make_client(introspection=False) as closed:
        message = first_error(closed, "{ __schema { types { name } } }")
        assert "introspection has been disabled" in message
        typo = first_error(closed, '{ treatmnt(slug: "peel") { title } }')
        assert typo == "Cannot query field 'treatmnt' on type 'Query'."
        still_answers(closed)
    with make_client() as open_:
        typo = first_error(open_, '{ treatmnt(slug: "peel") { title } }')
        assert "Did you mean 'treatment'" in typo


ORDER_BY = "query Q($o: [TreatmentOrder!]) { treatments(orderBy: $o, first: 1) { totalCount } }"
FILTER = "query Q($f: TreatmentFilter) { treatments(filter: $f, first: 1) { totalCount } }"


def test_introspection_off_hides_suggestions_in_variable_errors() -> None:
    with make_client(introspection=False) as closed:
        assert first_error(closed, ORDER_BY, o=[{"field": "TITEL"}]) == (
            "Variable '$o' has invalid value at [0].field: "
            "Value 'TITEL' does not exist in 'TreatmentOrderField' enum."
        )
        assert first_error(closed, FILTER, f={"categry": "x"}) == (
            "Variable '$f' has invalid value: Expected value of type 'TreatmentFilter' "
            "not to include unknown field 'categry', found: {'categry': 'x'}."
        )
        literal = '{ treatments(filter: {categry: "x"}, first: 1) { totalCount } }'
        assert first_error(closed, literal) == (
            "Expected value of type 'TreatmentFilter' not to include unknown field 'categry', "
            'found: { categry: "x" }.'
        )
    with make_client() as open_:
        assert first_error(open_, ORDER_BY, o=[{"field": "TITEL"}]).endswith(
            "Did you mean the enum value 'TITLE' or 'DATE'?"
        )
        assert "Did you mean 'category'?" in first_error(open_, FILTER, f={"categry": "x"})


def test_a_batch_costs_the_sum_of_its_operations() -> None:
    costly = "{ treatments(first: 100) { nodes { slug title } } }"  # 1 + 100 * 3 = 301
    with make_client(batch_limit=100) as batching:
        refused = batching.post("/graphql", json=[{"query": costly}] * 17)
        assert refused.status_code == 400
        assert refused.json() == {
            "errors": [
                {
                    "message": "the batch's operations cost 5117 together, over the limit of "
                    "5000 (CONTENTAPI_MAX_COST): send fewer or cheaper ones"
                }
            ]
        }
        # Operations that are refused on their own count nothing towards the sum.
        fits = batching.post("/graphql", json=[{"query": costly}] * 16 + [{"query": "{ x }"}])
        assert fits.status_code == 200
        answers = fits.json()
        assert len(answers) == 17
        assert all(len(a["data"]["treatments"]["nodes"]) == 3 for a in answers[:16])
        assert answers[16]["errors"][0]["message"] == "Cannot query field 'x' on type 'Query'."
