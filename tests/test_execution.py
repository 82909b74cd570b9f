"""The fast executor gives exactly graphql-core's results, and really is the path taken."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from strawberry.schema import schema_converter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from contentapi.index import ContentIndex
from contentapi.schema import Context, build_schema

FIXTURES = Path(__file__).parent / "fixtures"
FAST = build_schema()
STANDARD = build_schema()
STANDARD.execution_context_class = StrawberryGraphQLCoreExecutionContext
TREATMENT_ID = base64.b64encode(b"Treatment:mesotherapy").decode()

QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    (
        '{ treatment(slug: "mesotherapy") { id title slug path summary html text markdown '
        "wordCount readingTimeMinutes date updatedAt frontMatter draft order "
        "category { id name slug treatmentCount } images { id src url alt title width height "
        "position treatment { slug } } indications { id name slug treatmentCount } "
        "tableOfContents { level title anchor } "
        "sections { heading { level title anchor } html text } "
        "related(first: 3) { slug } excerpt(length: 50) } }",
        None,
    ),
    (
        "{ treatments(first: 10) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor "
        "endCursor } edges { cursor node { __typename slug title } } nodes { slug } } }",
        None,
    ),
    (
        "query($f: TreatmentFilter, $o: [TreatmentOrder!]) { treatments(filter: $f, orderBy: $o) "
        "{ nodes { slug date wordCount } } }",
        {"f": {"category": "skin-treatment"}, "o": [{"field": "WORD_COUNT", "direction": "DESC"}]},
    ),
    (
        '{ a: treatment(slug: "peel") { t: title ...F } b: treatment(slug: "nope") { title } } '
        "fragment F on Treatment { slug indications { ... on Indication { name } } }",
        None,
    ),
    (
        'query($skip: Boolean!) { treatment(slug: "peel") { title @skip(if: $skip) '
        "slug @include(if: $skip) } }",
        {"skip": True},
    ),
    (
        'query($skip: Boolean!) { treatment(slug: "peel") { title @skip(if: $skip) '
        "slug @include(if: $skip) } }",
        {"skip": False},
    ),
    (
        '{ node(id: "%s") { __typename id ... on Treatment { title } } '
        'nodes(ids: ["%s", "bad"]) { id } }' % (TREATMENT_ID, TREATMENT_ID),
        None,
    ),
    (
        "{ indications(first: 3, filter: {minTreatments: 2}) { totalCount nodes { name "
        "treatments { nodes { slug } } } } "
        "categories { name treatments(last: 1) { nodes { slug } } } "
        "images(first: 2) { nodes { src } } contentInfo { version treatmentCount } "
        "contentErrors { path } }",
        None,
    ),
    ('{ search(query: "skin", first: 3) { score snippet treatment { slug } } }', None),
    ("{ __typename treatments(first: 1) { __typename nodes { __typename } } }", None),
    # Errors: the fast path must step aside and graphql-core must answer as always.
    ("{ treatments(first: 1000) { totalCount } }", None),
    ('{ treatment(slug: "peel") { title excerpt(length: 0) } }', None),
    (
        '{ treatment(slug: "peel") { related(first: -1) { slug } } '
        "contentInfo { treatmentCount } }",
        None,
    ),
    ("{ __schema { queryType { name } } }", None),
]


@pytest.fixture(scope="module")
def index() -> ContentIndex:
    return ContentIndex.from_directory(FIXTURES / "clinic")


def run(schema: Any, index: ContentIndex, query: str, variables: dict[str, Any] | None) -> Any:
    """(data, formatted errors) of one query."""
    result = schema.execute_sync(query, variable_values=variables, context_value=Context(index))
    return result.data, [error.formatted for error in result.errors or []]


@pytest.mark.parametrize(("query", "variables"), QUERIES)
def test_fast_path_gives_graphql_cores_results(
    index: ContentIndex, query: str, variables: dict[str, Any] | None
) -> None:
    assert run(FAST, index, query, variables) == run(STANDARD, index, query, variables)


@pytest.mark.parametrize(("query", "variables"), QUERIES[:10])
def test_ordinary_queries_never_fall_back(
    index: ContentIndex,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the fast path fell back to graphql-core")

    monkeypatch.setattr(
        StrawberryGraphQLCoreExecutionContext, "execute_root_grouped_field_set", refuse
    )
    data, errors = run(FAST, index, query, variables)
    assert errors == []
    assert data


def test_compiled_operations_are_reused_and_stay_correct(index: ContentIndex) -> None:
    query = "query($s: String!) { treatment(slug: $s) { title indications { slug } } }"
    for slug in ("peel", "mesotherapy", "acupuncture", "nope", "peel"):
        variables = {"s": slug}
        assert run(FAST, index, query, variables) == run(STANDARD, index, query, variables)


def test_resolvers_taking_builtin_scalars_skip_strawberrys_argument_conversion(
    index: ContentIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    converted: list[object] = []
    real = schema_converter.convert_arguments

    def counting(*args: Any, **kwargs: Any) -> Any:
        converted.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(schema_converter, "convert_arguments", counting)
    query = (
        "query($s: String!, $n: Int) { treatment(slug: $s) { title related(first: 2) { slug } "
        "excerpt(length: 30) } treatments(first: $n) { nodes { slug } } }"
    )
    variables = {"s": "mesotherapy", "n": 2}
    fast = run(FAST, index, query, variables)
    assert converted == []
    assert fast == run(STANDARD, index, query, variables)
    assert fast[0]["treatment"]["title"] == "Mesotherapy"
    assert len(fast[0]["treatments"]["nodes"]) == 2
    # An input object or enum given as an argument still goes through Strawberry.
    filtered = '{ treatments(filter: {category: "skin-treatment"}) { nodes { slug } } }'
    assert run(FAST, index, filtered, None) == run(STANDARD, index, filtered, None)
    assert converted != []
