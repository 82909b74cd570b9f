"""The fast executor gives exactly graphql-core's results, and really is the path taken."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest
import strawberry
from strawberry.schema import schema_converter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from contentapi.content.index import ContentIndex, ContentView
from contentapi.schema import Context, build_schema
from contentapi.schema.execution import FastExecutionContext, fallbacks_of

FIXTURES = Path(__file__).parent.parent / "fixtures"
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


PLAIN = '{ treatment(slug: "peel") { title related { slug } } }'


def test_an_unforeseen_fallback_is_counted_once_and_logged_with_its_reason(
    index: ContentIndex, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    schema = build_schema()
    fallbacks = fallbacks_of(schema)
    assert run(schema, index, PLAIN, None)[1] == []
    assert fallbacks.count == 0

    def explode(self: ContentView, slug: str) -> None:
        raise RuntimeError("related is broken")

    monkeypatch.setattr(ContentView, "related", explode)
    with caplog.at_level(logging.DEBUG, logger="contentapi"):
        data, errors = run(schema, index, PLAIN, None)
    assert data == {"treatment": None}
    assert [error["message"] for error in errors] == ["Unexpected error."]
    assert fallbacks.count == 1
    assert (
        "fast path fell back to graphql-core (RuntimeError: related is broken); fallbacks so far: 1"
    ) in caplog.messages
    monkeypatch.undo()
    assert run(schema, index, PLAIN, None)[1] == []
    assert fallbacks.count == 1
    # Each schema counts its own.
    assert fallbacks_of(build_schema()).count == 0


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ __schema { queryType { name } } }", "_Introspection: introspection (__schema, __type)"),
        (
            "{ treatments(first: 1000) { totalCount } }",
            "QueryError: 'first' must be at most 100, got 1000",
        ),
    ],
)
def test_introspection_and_errors_in_the_answer_fall_back_uncounted(
    index: ContentIndex, caplog: pytest.LogCaptureFixture, query: str, reason: str
) -> None:
    schema = build_schema()
    with caplog.at_level(logging.DEBUG, logger="contentapi"):
        run(schema, index, query, None)
    assert fallbacks_of(schema).count == 0
    assert f"fast path left the operation to graphql-core, as always for {reason}" in (
        caplog.messages
    )


def test_a_resolver_reading_more_of_info_than_context_makes_the_fast_path_fall_back() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def context(self, info: strawberry.Info) -> str:
            return str(info.context)

        @strawberry.field
        def field_name(self, info: strawberry.Info) -> str:
            return info.field_name

    schema = strawberry.Schema(
        query=Query, execution_context_class=FastExecutionContext.budgeted(0)
    )
    fallbacks = fallbacks_of(schema)
    assert schema.execute_sync("{ context }", context_value="ctx").data == {"context": "ctx"}
    assert fallbacks.count == 0
    # graphql-core gives the answer, with a real Info.
    assert schema.execute_sync("{ fieldName }").data == {"fieldName": "fieldName"}
    assert fallbacks.count == 1


def test_fallbacks_of_refuses_a_schema_without_the_fast_path() -> None:
    with pytest.raises(TypeError, match="executes with .*StrawberryGraphQLCoreExecutionContext"):
        fallbacks_of(STANDARD)
