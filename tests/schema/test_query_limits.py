"""Hostile documents are refused by limits whose own work is bounded, counted in calls.

Every document here was sent to a real server: each is refused (or answered) with work
that does not grow with what its fragment spreads, aliases and nested lists multiply.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contentapi.content.index import ContentIndex
from contentapi.schema import ContentSchema, Context, Limits, build_schema
from contentapi.schema.limits import MAX_REPEATS
from contentapi.settings import Settings

T = TypeVar("T")
SEED_ID = "VHJlYXRtZW50Om1lc290aGVyYXB5"  # Treatment:mesotherapy
# Python function calls graphql-core may make validating any document the limits let
# through: linear in its tokens (at most 2,000), 150 a token. Measured: 165 a token for
# GraphiQL's introspection query (27,333 calls), 275 for a short query asking for one
# field 20 times (23,083), 107 for the largest document hypothesis found (150,060);
# at the 3 to 5 million calls a second of a 2-core machine, 300,000 are 60 to 100 ms.
MAX_VALIDATION_CALLS = 150 * 2_000


@pytest.fixture(scope="module")
def schema() -> ContentSchema:
    return build_schema()


def calls(work: Callable[[], T]) -> tuple[int, T]:
    """How many Python and C functions `work` calls, and what it returns."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        result = work()
    finally:
        sys.setprofile(None)
    return count, result


def refusal(schema: ContentSchema, query: str, variables: dict[str, Any] | None = None) -> str:
    """The first error a document is refused with, checked to be found with work linear
    in its size (the limits pass makes about 3 calls a byte on 495 repeated fields)."""
    prepared = schema.preparer.parse(query)
    spent, (errors, _) = calls(lambda: schema.preparer.validate(prepared, variables))
    assert spent <= 4 * len(query), f"{spent} calls to refuse {len(query)} bytes"
    assert errors, "the document was accepted"
    return str(errors[0].message)


def run(schema: ContentSchema, index: ContentIndex, query: str, **variables: Any) -> dict[str, Any]:
    result = schema.execute_sync(
        query, variable_values=variables or None, context_value=Context(index=index)
    )
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [error.message for error in result.errors]
    return answer


def fragment_chain(levels: int, spreads: int) -> str:
    """query Q { ...F0 } fragment F0 on Query { ...F1 ...F1 } ... fragment Fn { __typename }"""
    parts = ["query Q { ...F0 }"]
    for level in range(levels):
        body = " ".join([f"...F{level + 1}"] * spreads)
        parts.append(f"fragment F{level} on Query {{ {body} }}")
    parts.append(f"fragment F{levels} on Query {{ __typename }}")
    return " ".join(parts)


def nested(field: str, depth: int, leaf: str = "slug") -> str:
    selection = leaf
    for _ in range(depth):
        selection = f"{field} {{ {selection} }}"
    return selection


def test_doubling_fragment_chain_is_refused_by_its_width(schema: ContentSchema) -> None:
    query = fragment_chain(20, 2)
    assert len(query) == 826
    assert refusal(schema, query) == (
        "'Q' collects 1048576 fields into one selection set (fragments expanded); the limit is 100"
    )


def test_tripling_fragment_chain_is_refused_by_its_width(schema: ContentSchema) -> None:
    assert refusal(schema, fragment_chain(12, 3)).startswith("'Q' collects 531441 fields")


def test_a_chain_that_fits_is_answered(schema: ContentSchema, seed_index: ContentIndex) -> None:
    # 2^6 = 64 copies of __typename: under the width limit, over the repeat limit.
    assert refusal(schema, fragment_chain(6, 2)).endswith(f"the limit is {MAX_REPEATS}")
    assert run(schema, seed_index, fragment_chain(4, 2)) == {"data": {"__typename": "Query"}}


def test_fields_repeated_495_times_are_refused_before_overlap_checks(
    schema: ContentSchema,
) -> None:
    query = "{ " + " ".join(["contentInfo { version }"] * 495) + " }"
    assert len(query) == 11_883
    assert refusal(schema, query) == (
        "'anonymous' collects 495 fields into one selection set (fragments expanded); "
        "the limit is 100"
    )


def test_fragments_no_operation_uses_are_refused_before_graphql_cores_rules(
    schema: ContentSchema,
) -> None:
    # Unused, so unmeasured: graphql-core's rules took 174,278 calls on this one (5,376 bytes).
    aliased = " ".join(f"a{i}: related {{ related {{ slug title }} }}" for i in range(8))
    unused = " ".join(
        f"fragment U{n} on Treatment {{ {aliased} {' '.join(['slug'] * 20)} }}" for n in range(12)
    )
    query = '{ treatment(slug: "mesotherapy") { ...Used } } fragment Used on Treatment { slug } '
    assert refusal(schema, query + unused) == "Fragment 'U0' is never used."
    prepared = schema.preparer.parse(query + unused)
    errors, _ = schema.preparer.validate(prepared, None)
    assert [error.message for error in errors] == [
        f"Fragment 'U{n}' is never used." for n in range(12)
    ]
    column = (query + unused).index("fragment U3") + 1
    assert [(place.line, place.column) for place in errors[3].locations or ()] == [(1, column)]


def test_nested_related_lists_cost_their_default_size(schema: ContentSchema) -> None:
    inner = nested("related", 8)
    aliases = " ".join(f'a{i}: treatment(slug: "mesotherapy") {{ {inner} }}' for i in range(6))
    query = "{ " + aliases + " }"
    # Each related list counts 5: 6 * (1 + 5 + 5^2 + ... + 5^8 + 5^8)
    assert refusal(schema, query).startswith("Query cost 2929692 exceeds the limit of 5000")


def test_nodes_cost_the_number_of_ids(schema: ContentSchema) -> None:
    ids = ", ".join(f'"{SEED_ID}"' for _ in range(100))
    query = "{ nodes(ids: [%s]) { ... on Treatment { %s } } }" % (ids, nested("related", 6))
    assert refusal(schema, query).startswith("Query cost 1953101 exceeds the limit of 5000")


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ('{ treatment(slug: "mesotherapy") { related { slug } } }', 1 + 1 + 5),
        ('{ treatment(slug: "mesotherapy") { related(first: 2) { slug } } }', 1 + 1 + 2),
        ('{ search(query: "skin") { snippet } }', 1 + 10),
        ('{ search(query: "skin", first: 3) { snippet } }', 1 + 3),
        ('{ treatment(slug: "mesotherapy") { images { src } indications { name } } }', 1 + 22),
        ("{ categories { name } }", 1 + 10),
        ('{ nodes(ids: ["a", "b", "c"]) { id } }', 1 + 3),
        ("{ treatments { nodes { slug } } }", 1 + 20 * 2),
        ("{ treatments(first: 5) { nodes { slug } edges { node { slug } } } }", 1 + 5 * 5),
    ],
)
def test_cost_of_every_kind_of_list(
    schema: ContentSchema, seed_index: ContentIndex, query: str, cost: int
) -> None:
    result = schema.execute_sync(
        query, context_value=Context(index=seed_index), operation_extensions={"cost": True}
    )
    assert result.errors is None
    assert result.extensions == {"cost": cost}


@pytest.mark.parametrize(
    ("variables", "cost"),
    [
        ({"n": 7}, 1 + 7 * 2),
        ({}, 1 + 12 * 2),  # the declared default
        ({"n": None}, 1 + 20 * 2),  # no page size: the default page
        ({"n": 100}, 1 + 100 * 2),
    ],
)
def test_page_sizes_given_by_variables_cost_their_value(
    schema: ContentSchema, seed_index: ContentIndex, variables: dict[str, Any], cost: int
) -> None:
    query = "query($n: Int = 12) { treatments(first: $n) { nodes { slug } } }"
    result = schema.execute_sync(
        query,
        variable_values=variables,
        context_value=Context(index=seed_index),
        operation_extensions={"cost": True},
    )
    assert result.errors is None
    assert result.extensions == {"cost": cost}


def test_a_variable_page_size_over_the_limit_is_refused(schema: ContentSchema) -> None:
    twice = "related { related { slug } }"
    query = (
        "query($n: Int, $ids: [ID!]!) { treatments(first: $n) { nodes { %s } } "
        "nodes(ids: $ids) { ... on Treatment { %s } } }" % (twice, twice)
    )
    assert schema.preparer.cost(query, None, {"n": 10, "ids": ["a"]}) == 321 + 32
    assert refusal(schema, query, {"n": 100, "ids": ["a"] * 100}).startswith(
        "Query cost 6302 exceeds the limit of 5000"
    )


def test_a_batch_of_costs_is_judged_per_operation_name(schema: ContentSchema) -> None:
    query = "query A { contentInfo { version } } query B { treatments(first: 9) { totalCount } }"
    assert schema.preparer.cost(query, "A", None) == 2
    assert schema.preparer.cost(query, "B", None) == 10
    assert schema.preparer.cost("{ nope }", None, None) is None


def test_an_int_literal_of_5000_digits_is_a_clean_error(
    schema: ContentSchema, seed_index: ContentIndex
) -> None:
    query = "{ treatments(first: %s) { totalCount } }" % ("9" * 5000)
    answer = run(schema, seed_index, query)
    assert answer["data"] is None
    assert answer["errors"] == [
        "Query cost 100000000001 exceeds the limit of 5000: ask for fewer items (first/last) "
        "or fewer nested lists."
    ]
    small = run(
        schema,
        seed_index,
        '{ treatment(slug: "mesotherapy") { excerpt(length: %s) } }' % ("9" * 5000),
    )
    assert small["data"] is None
    assert "Unexpected error." not in small["errors"]
    assert small["errors"][0].startswith("Expected value of type 'Int'")


@pytest.mark.parametrize(
    "key",
    [
        "mesotherapy/²",
        "mesotherapy/٠",
        "mesotherapy/00",
        "mesotherapy/01",
        "mesotherapy/" + "1" * 5000,
    ],
)
def test_image_ids_are_read_strictly(
    schema: ContentSchema, seed_index: ContentIndex, key: str
) -> None:
    import base64

    bad = base64.b64encode(f"Image:{key}".encode()).decode()
    good = base64.b64encode(b"Image:mesotherapy/0").decode()
    query = "query($id: ID!, $ids: [ID!]!) { node(id: $id) { id } nodes(ids: $ids) { id } }"
    answer = run(schema, seed_index, query, id=bad, ids=[good, bad])
    assert answer == {"data": {"node": None, "nodes": [{"id": good}, None]}}


@pytest.mark.parametrize("position", ["٠", "²", "00", "1" * 5000])
def test_cursors_are_read_strictly(
    schema: ContentSchema, seed_index: ContentIndex, position: str
) -> None:
    import base64

    cursor = base64.b64encode(f"cursor:{position}".encode()).decode()
    answer = run(
        schema, seed_index, "query($c: String) { treatments(after: $c) { totalCount } }", c=cursor
    )
    assert answer["data"] is None
    assert answer["errors"] == [f"'after' is not a valid cursor: {cursor[:60]!r}"]


@pytest.mark.parametrize(
    "query",
    [
        "{ treatments(first: 100) { nodes { html markdown } } }",
        # Introspection sends the operation down graphql-core's own path.
        "{ __schema { queryType { name } } treatments(first: 100) { nodes { html markdown } } }",
    ],
)
def test_an_answer_over_the_byte_budget_is_refused_while_built(
    seed_index: ContentIndex, query: str
) -> None:
    page = seed_index.public.by_slug["mesotherapy"]
    budget = len(page.html) + len(page.markdown) // 2
    small = build_schema(Limits.from_settings(Settings(max_response_bytes=budget)))
    answer = run(small, seed_index, query)
    assert answer == {
        "data": None,
        "errors": [
            f"The response would be larger than the limit of {budget} bytes "
            "(CONTENTAPI_MAX_RESPONSE_BYTES): ask for fewer items or fewer large fields."
        ],
    }
    roomy = build_schema(Limits.from_settings(Settings(max_response_bytes=budget * 3)))
    answered = run(roomy, seed_index, query)
    assert answered["data"]["treatments"]["nodes"][0]["html"] == page.html


# Documents of the shapes attackers use, grown at random: fragment graphs in which each
# fragment spreads later ones (any number of times), fans of aliases, lists nested in
# lists whose sizes come from defaults, and fields asked for many times over.
@st.composite
def hostile_documents(draw: st.DrawFn) -> str:
    levels = draw(st.integers(1, 25))
    fragments = []
    for level in range(levels):
        later = list(range(level + 1, levels + 1))
        spreads = draw(st.lists(st.sampled_from(later), min_size=0, max_size=4))
        depth = draw(st.integers(1, 4))
        fields = " ".join(
            draw(st.lists(st.sampled_from(["slug", "title", "id", "wordCount"]), max_size=3))
        )
        body = " ".join([f"...F{target}" for target in spreads] + [fields or "slug"])
        fan = draw(st.integers(1, 8))
        aliased = " ".join(f"a{i}: {nested('related', depth, body)}" for i in range(fan))
        repeats = " ".join(["slug"] * draw(st.integers(0, 30)))
        fragments.append(f"fragment F{level} on Treatment {{ {aliased} {repeats} }}")
    fragments.append(f"fragment F{levels} on Treatment {{ slug }}")
    root_fan = draw(st.integers(1, 6))
    roots = " ".join(f'r{i}: treatment(slug: "mesotherapy") {{ ...F0 }}' for i in range(root_fan))
    # Every fragment used (an unused one is refused before graphql-core's rules run).
    used = " ".join(f"...F{level}" for level in range(levels + 1))
    roots += f' all: treatment(slug: "mesotherapy") {{ {used} }}'
    return "{ " + roots + " } " + " ".join(fragments)


# Shrinking documents this large takes minutes: a failure is shown as generated.
@settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(document=hostile_documents())
def test_validation_work_stays_bounded_whatever_the_document(document: str) -> None:
    schema = build_schema()  # a cold cache: every document is validated from scratch
    try:
        prepared = schema.preparer.parse(document)
    except Exception:  # noqa: BLE001 - over the token limit: refused by the parser
        return
    spent, (errors, measures) = calls(lambda: schema.preparer.validate(prepared, None))
    assert spent <= MAX_VALIDATION_CALLS, (spent, [e.message for e in errors][:3])
    if not errors:
        (measure,) = measures.values()
        assert measure.cost <= 5000 and measure.depth <= 10 and measure.width <= 100
