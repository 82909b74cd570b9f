"""The JIT (schema/jit.py) answers exactly what graphql-core answers, or steps aside.

Differential: thousands of documents, generated from the schema by hypothesis-graphql and
by strategies of our own that reach the real pages (aliases, fragments, @skip/@include
with variables, abstract types, lists), are run through the JIT and through Strawberry
with graphql-core's own executor. Whenever the JIT answers, graphql-core answers the same
data with no error, and the purge keys are the fast executor's (and the plan that adds
no purge keys answers the same data).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
import hypothesis_graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from contentapi.content.index import ContentIndex
from contentapi.schema import Context, build_schema

FIXTURES = Path(__file__).parent.parent / "fixtures"
JIT = build_schema()
FAST = build_schema()
STANDARD = build_schema()
STANDARD.execution_context_class = StrawberryGraphQLCoreExecutionContext
INDEX = ContentIndex.from_directory(FIXTURES / "clinic")
SLUGS = sorted(treatment.slug for treatment in INDEX.public.treatments)
SCALARS = {
    "Date": st.dates().map(lambda day: graphql.StringValueNode(value=day.isoformat())),
    "DateTime": st.datetimes().map(lambda at: graphql.StringValueNode(value=at.isoformat())),
    "JSON": st.integers(-5, 5).map(lambda number: graphql.IntValueNode(value=str(number))),
}


@dataclass
class Tally:
    """How many documents the JIT answered, and how many graphql-core answered cleanly."""

    compiled: int = 0
    clean: int = 0


def compare(query: str, variables: dict[str, Any] | None, tally: Tally) -> None:
    """Run one document both ways; fail on any difference."""
    jit_context = Context(INDEX)
    answered = JIT.compiler.execute(query, variables, None, jit_context)
    standard = STANDARD.execute_sync(query, variable_values=variables, context_value=Context(INDEX))
    if not standard.errors:
        tally.clean += 1
    if answered is None:
        return
    tally.compiled += 1
    assert standard.errors is None, (query, variables, standard.errors)
    assert answered == {"data": standard.data}, (query, variables)
    fast_context = Context(INDEX)
    fast = FAST.execute_sync(query, variable_values=variables, context_value=fast_context)
    assert fast.errors is None
    assert jit_context.report.get("keys", set()) == fast_context.report.get("keys", set()), query
    assert jit_context.report["cost"] == fast_context.report["cost"]
    # The plan that adds no purge keys (for a POST's answer) answers the same.
    ready = JIT.compiler.ready(query, variables, None)
    assert ready is not None
    unkeyed_context = Context(INDEX)
    assert JIT.compiler.run(ready, unkeyed_context, keyed=False) == answered, query
    assert not unkeyed_context.report.get("keys"), query


def test_documents_generated_from_the_schema_get_graphql_cores_answers() -> None:
    tally = Tally()

    @settings(
        max_examples=1000,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(hypothesis_graphql.queries(JIT.as_str(), custom_scalars=SCALARS))
    def check(query: str) -> None:
        compare(query, None, tally)

    check()
    # Most generated documents ask for something graphql-core answers cleanly, and the JIT
    # takes most of those: it is tested on what it does, not on what it refuses.
    assert tally.clean >= 400
    assert tally.compiled >= 0.8 * tally.clean, (tally.compiled, tally.clean)


# Fields of a treatment, from leaves to lists and objects of other types.
TREATMENT_FIELDS = [
    "id",
    "title",
    "slug",
    "path",
    "summary",
    "html",
    "wordCount",
    "readingTimeMinutes",
    "date",
    "updatedAt",
    "frontMatter",
    "draft",
    "order",
    "__typename",
    "category { id name slug treatmentCount __typename }",
    "images { id src url alt title width height position srcSet placeholder }",
    # Arguments Strawberry converts (input objects, enums): the JIT converts them as it does.
    "images { src url(transform: {width: 64, height: 48, fit: COVER, format: WEBP}) }",
    "images { srcSet(widths: [32, 640], format: AVIF) url(transform: {quality: 50}) }",
    "coverImage { src alt treatment { slug } }",
    "coverImage { url(transform: {width: 100}) }",
    "indications { id name slug treatmentCount treatments { nodes { slug } } }",
    "tableOfContents { level title anchor }",
    "sections { heading { level title anchor } html text }",
    "related(first: 2) { slug title }",
    "excerpt(length: 40)",
    "linkedFrom { slug }",
]
names = st.from_regex(r"\A[a-z][a-zA-Z0-9]{0,6}\Z")


@st.composite
def selection(draw: st.DrawFn, fragments: list[str], directives: list[str]) -> str:
    """A selection of treatment fields, aliased, fragmented and conditioned at random."""
    parts = []
    chosen_fields = draw(st.lists(st.sampled_from(TREATMENT_FIELDS), min_size=1, max_size=6))
    for number, chosen in enumerate(chosen_fields):
        if chosen.startswith("__"):
            parts.append(chosen)
            continue
        if draw(st.integers(0, 3)) == 0:
            variable = f"$d{len(directives)}"
            directives.append(variable)
            kind = draw(st.sampled_from(["skip", "include"]))
            # After the name and arguments, before the sub-selection.
            where = chosen.find(" {")
            where = len(chosen) if where < 0 else where
            chosen = f"{chosen[:where]} @{kind}(if: {variable}){chosen[where:]}"
        if draw(st.booleans()):
            chosen = f"{draw(names)}{len(fragments)}_{number}: {chosen}"
        wrap = draw(st.integers(0, 4))
        if wrap == 0:
            chosen = f"... on Treatment {{ {chosen} }}"
        elif wrap == 1:
            name = f"F{len(fragments)}"
            fragments.append(f"fragment {name} on Treatment {{ {chosen} }}")
            chosen = f"...{name}"
        elif wrap == 2:
            chosen = f"... on Node {{ ... on Treatment {{ {chosen} }} }}"
        parts.append(chosen)
    return " ".join(parts)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A query over the real pages with its variables."""
    fragments: list[str] = []
    directives: list[str] = []
    roots = []
    variables: dict[str, Any] = {}
    for number in range(draw(st.integers(1, 3))):
        root = draw(
            st.sampled_from(
                ["treatment", "treatments", "node", "search", "slugVar", "ordered", "orderVar"]
            )
        )
        inner = draw(selection(fragments, directives))
        alias = f"r{number}: "
        if root == "treatment":
            roots.append(f'{alias}treatment(slug: "{draw(st.sampled_from(SLUGS))}") {{ {inner} }}')
        elif root == "slugVar":
            variables["slug"] = draw(st.sampled_from([*SLUGS, "no-such-page"]))
            roots.append(f"{alias}treatment(slug: $slug) {{ {inner} }}")
        elif root == "treatments":
            first = draw(st.integers(1, 5))
            roots.append(f"{alias}treatments(first: {first}) {{ totalCount nodes {{ {inner} }} }}")
        elif root == "ordered":
            field = draw(st.sampled_from(["TITLE", "DATE", "UPDATED_AT", "WORD_COUNT", "ORDER"]))
            direction = draw(st.sampled_from(["", ", direction: DESC", ", direction: ASC"]))
            where = draw(st.sampled_from(["", ', filter: {search: "skin"}', ", filter: {}"]))
            roots.append(
                f"{alias}treatments(first: 4, orderBy: [{{field: {field}{direction}}}]{where})"
                f" {{ nodes {{ {inner} }} }}"
            )
        elif root == "orderVar":
            variables["order"] = draw(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "field": st.sampled_from(["TITLE", "DATE", "WORD_COUNT"]),
                            "direction": st.sampled_from(["ASC", "DESC"]),
                        }
                    ),
                    max_size=2,
                )
            )
            roots.append(f"{alias}treatments(first: 3, orderBy: $order) {{ nodes {{ {inner} }} }}")
        elif root == "node":
            slug = draw(st.sampled_from([*SLUGS, "nope"]))
            node_id = base64.b64encode(f"Treatment:{slug}".encode()).decode()
            roots.append(
                f'{alias}node(id: "{node_id}") {{ __typename ... on Treatment {{ {inner} }} }}'
            )
        else:
            term = draw(st.sampled_from(["skin", "peel", "acne", "zzz"]))
            roots.append(
                f'{alias}search(query: "{term}", first: 3) {{ score treatment {{ {inner} }} }}'
            )
    definitions = [f"{name}: Boolean!" for name in directives]
    if "slug" in variables:
        definitions.append("$slug: String!")
    if "order" in variables:
        definitions.append("$order: [TreatmentOrder!]")
    for name in directives:
        variables[name[1:]] = draw(st.booleans())
    head = f"query({', '.join(definitions)})" if definitions else ""
    return f"{head} {{ {' '.join(roots)} }} {' '.join(fragments)}", variables


def test_documents_over_the_real_pages_get_graphql_cores_answers() -> None:
    tally = Tally()

    @settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
    @given(documents())
    def check(document: tuple[str, dict[str, Any]]) -> None:
        compare(*document, tally)

    check()
    assert tally.clean >= 900
    # Every one of them is a query the JIT compiles: all but those graphql-core refuses.
    assert tally.compiled == tally.clean


def test_a_null_in_a_non_null_field_leaves_the_request_to_graphql_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    query = '{ treatment(slug: "peel") { title slug } }'
    assert JIT.compiler.execute(query, None, None, Context(INDEX)) == {
        "data": {"treatment": {"title": "Chemical Peel", "slug": "peel"}}
    }
    kind = type(next(iter(INDEX.public.treatments)))
    monkeypatch.setattr(kind, "slug", property(lambda self: None))
    before = JIT.compiler.fallbacks.count
    assert JIT.compiler.execute(query, None, None, Context(INDEX)) is None
    assert JIT.compiler.fallbacks.count == before + 1
    # graphql-core bubbles the null up to the nullable treatment and reports it (masked:
    # a resolver broke its promise, which is the server's fault).
    result = STANDARD.execute_sync(query, context_value=Context(INDEX))
    assert result.data == {"treatment": None}
    assert [(error.message, error.path) for error in result.errors or []] == [
        ("Unexpected error.", ["treatment", "slug"])
    ]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ __schema { queryType { name } } }", "introspection"),
        ("mutation { __typename }", "a mutation"),
        ("query A { __typename } query B { __typename }", "no operation name"),
        ('{ treatment(slug: "peel") { ... @defer { title } } }', "@defer"),
    ],
)
def test_what_it_cannot_run_exactly_is_left_to_graphql_core(query: str, reason: str) -> None:
    before = JIT.compiler.fallbacks.count
    assert JIT.compiler.execute(query, None, None, Context(INDEX)) is None, reason
    assert JIT.compiler.fallbacks.count == before


def test_an_answer_over_the_byte_budget_is_left_to_graphql_core_which_refuses_it() -> None:
    from contentapi.schema import Limits
    from contentapi.settings import Settings

    limits = Limits.from_settings(Settings(max_response_bytes=1000))
    small = build_schema(limits)
    query = '{ treatment(slug: "mesotherapy") { html } }'
    assert small.compiler.execute(query, None, None, Context(INDEX)) is None
    assert small.compiler.fallbacks.count == 0  # the budget is foreseen, not a surprise
    assert small.execute_sync(query, context_value=Context(INDEX)).errors is not None


def test_plans_are_charged_the_documents_they_keep_alive() -> None:
    """Each plan holds its document's nodes (and through them every token and the query
    text): with unique long queries, the plan cache and the parse cache together stay
    within their budgets, measured by tracemalloc, not by their own accounting."""
    import gc
    import tracemalloc

    from contentapi.schema import Limits
    from contentapi.settings import Settings

    budget = 1_000_000
    small = build_schema(Limits.from_settings(Settings(parse_cache_bytes=budget)))
    queries = [f"{{ contentInfo {{ version }} }} #{n:05}" + "q" * 30_000 for n in range(200)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for query in queries:
            assert small.compiler.execute(query, None, None, Context(INDEX)) is not None
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert small.compiler.plans.bytes_used <= budget
    assert held < 2 * budget + 500_000, f"{held:,} bytes held for two caches of {budget:,}"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (
            '{ treatment(slug: "peel") { images { url(transform: {width: 10, fit: COVER}) } } }',
            None,
        ),
        (
            'query ($w: Int, $f: ImageFormat) { treatment(slug: "peel") { '
            "images { url(transform: {width: $w, format: $f}) srcSet(format: $f) } } }",
            {"w": 320, "f": "WEBP"},
        ),
        (
            "query ($t: ImageTransform) { treatments(first: 3) { nodes { "
            "coverImage { url(transform: $t) } } } }",
            {"t": {"width": 64, "height": 64, "fit": "CONTAIN", "quality": 40}},
        ),
        (
            "{ treatments(first: 3, orderBy: [{field: WORD_COUNT, direction: DESC}]) "
            "{ nodes { slug wordCount } } }",
            None,
        ),
        (
            'query ($o: [TreatmentOrder!]) { treatments(first: 5, filter: {search: "skin"}, '
            "orderBy: $o) { nodes { slug title } } }",
            {"o": [{"field": "TITLE", "direction": "DESC"}]},
        ),
    ],
)
def test_arguments_strawberry_converts_are_converted_as_it_does(
    query: str, variables: dict[str, Any] | None
) -> None:
    """Input objects and enums (image transforms, orderBy, filter) go through Strawberry's
    own convert_arguments: the JIT runs these and answers what graphql-core answers."""
    tally = Tally()
    compare(query, variables, tally)
    assert tally.compiled == tally.clean == 1


def test_a_ready_request_makes_its_plain_arguments_once() -> None:
    """Strings, numbers and booleans from the variables are made into the resolvers'
    arguments once per ready request; a list (which a resolver could change) or an
    argument Strawberry converts is made afresh on each run. Each answers as graphql-core
    does, run after run."""
    single = "query ($slug: String!, $n: Int) { treatment(slug: $slug) { slug } "
    single += "treatments(first: $n) { totalCount } }"
    listed = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    converted = "query ($f: TreatmentFilter) { treatments(filter: $f) { totalCount } }"
    ids = [base64.b64encode(f"Treatment:{SLUGS[0]}".encode()).decode()]
    cases = [
        (single, {"slug": SLUGS[1], "n": 2}, [{"slug": SLUGS[1]}, {"first": 2}]),
        (listed, {"ids": ids}, None),
        (converted, {"f": {"category": "skin"}}, None),
    ]
    for query, variables, made in cases:
        ready = JIT.compiler.ready(query, variables, None)
        assert ready is not None, query
        if made is None:
            assert ready.arguments is None, query
        else:
            assert ready.arguments is not None
            given = [
                {name: args[name] for name in want}
                for args, want in zip(ready.arguments, made, strict=True)
            ]
            assert given == made
        expected = STANDARD.execute_sync(
            query, variable_values=variables, context_value=Context(INDEX)
        )
        assert expected.errors is None
        for _ in range(2):
            assert JIT.compiler.run(ready, Context(INDEX)) == {"data": expected.data}
