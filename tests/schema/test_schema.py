"""The GraphQL schema run in-process over fixture content: every query of the contract."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from contentapi.content.index import ContentIndex
from contentapi.schema import Context, build_schema

from expected import SEED_INDICATIONS

FIXTURES = Path(__file__).parent.parent / "fixtures"
SCHEMA = build_schema()


@pytest.fixture(scope="module")
def clinic() -> ContentIndex:
    return ContentIndex.from_directory(FIXTURES / "clinic")


def run(index: ContentIndex, query: str, preview: bool = False, **variables: Any) -> dict[str, Any]:
    result = SCHEMA.execute_sync(
        query, variable_values=variables or None, context_value=Context(index, preview)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def errors_of(index: ContentIndex, query: str) -> list[str]:
    result = SCHEMA.execute_sync(query, context_value=Context(index))
    assert result.errors, "expected errors"
    return [error.message for error in result.errors]


def test_seed_treatment_exact_values(clinic: ContentIndex) -> None:
    data = run(
        clinic,
        """{ treatment(slug: "mesotherapy") {
            title slug path summary category { name slug treatmentCount }
            images { src width height alt title position }
            indications { name slug }
            tableOfContents { level title anchor }
            wordCount readingTimeMinutes frontMatter date updatedAt } }""",
    )["treatment"]
    assert data["title"] == "Mesotherapy"
    assert data["slug"] == "mesotherapy"
    assert data["path"] == "mesotherapy.md"
    assert data["summary"].startswith("Homeopathic mesotherapy is a treatment")
    assert data["category"] == {
        "name": "Skin Treatment",
        "slug": "skin-treatment",
        "treatmentCount": 2,
    }
    assert data["images"] == [
        {
            "src": "/img/pages/mesotherapy_london.jpg",
            "width": 400,
            "height": 300,
            "alt": "and another sample image",
            "title": "Liona XXX",
            "position": 0,
        },
        {
            "src": "/img/pages/mesotherapy_london2.jpg",
            "width": 400,
            "height": 300,
            "alt": "a sample image",
            "title": "At international homeopathic conference 2017",
            "position": 1,
        },
    ]
    assert [(i["name"], i["slug"]) for i in data["indications"]] == SEED_INDICATIONS
    assert data["tableOfContents"] == [
        {"level": 4, "title": "The Method", "anchor": "the-method"},
        {
            "level": 5,
            "title": "Mesotherapy also can help with:",
            "anchor": "mesotherapy-also-can-help-with",
        },
    ]
    assert data["readingTimeMinutes"] == 2
    assert data["frontMatter"] == {"title": "Mesotherapy", "layout": "Skin Treatment"}
    assert data["date"] is None and data["updatedAt"] is None


def test_dates_and_front_matter_are_json(clinic: ContentIndex) -> None:
    acupuncture = run(clinic, '{ treatment(slug: "acupuncture") { date frontMatter } }')
    assert acupuncture["treatment"]["date"] == "2024-03-01"
    assert acupuncture["treatment"]["frontMatter"]["date"] == "2024-03-01"
    peel = run(clinic, '{ treatment(slug: "peel") { updatedAt summary } }')["treatment"]
    assert peel["updatedAt"] == "2025-01-02T10:00:00+00:00"
    assert peel["summary"] == "A gentle peel that renews the skin."


def test_shared_indication_lists_every_treatment(clinic: ContentIndex) -> None:
    data = run(
        clinic,
        """{ indication(slug: "hair-loss") { name treatmentCount
             treatments { totalCount nodes { slug } } } }""",
    )["indication"]
    assert data == {
        "name": "Hair loss",
        "treatmentCount": 2,
        "treatments": {
            "totalCount": 2,
            "nodes": [{"slug": "acupuncture"}, {"slug": "mesotherapy"}],
        },
    }


def test_drafts_are_invisible_without_preview(clinic: ContentIndex) -> None:
    query = """{ treatment(slug: "secret") { title }
        treatments(first: 100) { totalCount nodes { slug } }
        indication(slug: "secret-indication") { name }
        hair: indication(slug: "hair-loss") { treatmentCount }
        category(slug: "lasers") { name }
        search(query: "laser") { treatment { slug } }
        contentInfo { treatmentCount indicationCount categoryCount imageCount }
        node(id: "%s") { id }
        contentErrors { path } }""" % base64.b64encode(b"Treatment:secret").decode()
    public = run(clinic, query)
    assert public["treatment"] is None
    assert [n["slug"] for n in public["treatments"]["nodes"]] == [
        "acupuncture",
        "peel",
        "mesotherapy",
    ]
    assert public["indication"] is None
    assert public["hair"] == {"treatmentCount": 2}
    assert public["category"] is None
    assert public["search"] == []
    assert public["contentInfo"] == {
        "treatmentCount": 3,
        "indicationCount": 13,
        "categoryCount": 2,
        "imageCount": 4,
    }
    assert public["node"] is None
    assert public["contentErrors"] == []

    preview = run(clinic, query, preview=True)
    assert preview["treatment"] == {"title": "Secret Laser"}
    assert preview["treatments"]["totalCount"] == 4
    assert preview["indication"] == {"name": "Secret indication"}
    assert preview["hair"] == {"treatmentCount": 3}
    assert preview["category"] == {"name": "Lasers"}
    assert preview["search"] == [{"treatment": {"slug": "secret"}}]
    assert preview["contentInfo"]["treatmentCount"] == 4
    assert preview["node"] is not None
    assert preview["contentErrors"] == [{"path": "broken.md"}]


def test_filters_combine_with_and(clinic: ContentIndex) -> None:
    def slugs(filter_: str) -> list[str]:
        data = run(clinic, "{ treatments(filter: %s) { nodes { slug } } }" % filter_)
        return [node["slug"] for node in data["treatments"]["nodes"]]

    assert slugs('{category: "skin-treatment"}') == ["peel", "mesotherapy"]
    assert slugs('{indication: "cellulite"}') == ["peel", "mesotherapy"]
    assert slugs('{indicationsAll: ["cellulite", "hair-loss"]}') == ["mesotherapy"]
    assert slugs('{category: "body", indication: "cellulite"}') == []
    assert slugs('{slugs: ["peel", "acupuncture", "nope"]}') == ["acupuncture", "peel"]
    assert slugs('{search: "needles"}') == ["acupuncture"]
    assert slugs('{search: "skin", category: "skin-treatment"}') == ["peel", "mesotherapy"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("{field: TITLE}", ["acupuncture", "peel", "mesotherapy"]),
        ("{field: TITLE, direction: DESC}", ["mesotherapy", "peel", "acupuncture"]),
        ("{field: ORDER}", ["peel", "acupuncture", "mesotherapy"]),
        ("{field: ORDER, direction: DESC}", ["acupuncture", "peel", "mesotherapy"]),
        ("{field: DATE}", ["acupuncture", "mesotherapy", "peel"]),
        ("{field: UPDATED_AT, direction: DESC}", ["peel", "acupuncture", "mesotherapy"]),
        ("{field: WORD_COUNT}", ["peel", "acupuncture", "mesotherapy"]),
    ],
)
def test_every_order_field(clinic: ContentIndex, order: str, expected: list[str]) -> None:
    data = run(clinic, "{ treatments(orderBy: [%s]) { nodes { slug } } }" % order)
    assert [node["slug"] for node in data["treatments"]["nodes"]] == expected


def test_cursor_pagination_forward_and_back(clinic: ContentIndex) -> None:
    query = """query($after: String, $before: String, $first: Int, $last: Int) {
      treatments(first: $first, after: $after, last: $last, before: $before) {
        totalCount edges { cursor node { slug } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    first = run(clinic, query, first=2)["treatments"]
    assert [e["node"]["slug"] for e in first["edges"]] == ["acupuncture", "peel"]
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    second = run(clinic, query, first=2, after=first["pageInfo"]["endCursor"])["treatments"]
    assert [e["node"]["slug"] for e in second["edges"]] == ["mesotherapy"]
    assert second["pageInfo"]["hasNextPage"] is False
    assert second["pageInfo"]["hasPreviousPage"] is True
    back = run(clinic, query, last=1, before=second["pageInfo"]["startCursor"])["treatments"]
    assert [e["node"]["slug"] for e in back["edges"]] == ["peel"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 101", "'first' must be at most 100, got 101"),
        ("last: 1000", "'last' must be at most 100, got 1000"),
        ("first: -1", "'first' must not be negative, got -1"),
        ('after: "bm9wZQ=="', "'after' is not a valid cursor"),
    ],
)
def test_bad_page_arguments_are_clear_errors(
    clinic: ContentIndex, arguments: str, message: str
) -> None:
    messages = errors_of(clinic, "{ treatments(%s) { totalCount } }" % arguments)
    assert any(m.startswith(message) for m in messages), messages


def test_node_ids_resolve_every_type(clinic: ContentIndex) -> None:
    data = run(
        clinic,
        """{ treatment(slug: "mesotherapy") { id images { id } indications { id }
             category { id } } }""",
    )["treatment"]
    ids = [
        data["id"],
        data["images"][1]["id"],
        data["indications"][0]["id"],
        data["category"]["id"],
    ]
    nodes = run(
        clinic,
        """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
             ... on Treatment { slug } ... on Image { src } ... on Indication { slug }
             ... on Category { slug } } }""",
        ids=[*ids, "unknown", base64.b64encode(b"Treatment:nope").decode()],
    )["nodes"]
    assert nodes == [
        {"__typename": "Treatment", "id": ids[0], "slug": "mesotherapy"},
        {"__typename": "Image", "id": ids[1], "src": "/img/pages/mesotherapy_london2.jpg"},
        {"__typename": "Indication", "id": ids[2], "slug": "facelift"},
        {"__typename": "Category", "id": ids[3], "slug": "skin-treatment"},
        None,
        None,
    ]
    assert ids[0] == base64.b64encode(b"Treatment:mesotherapy").decode()


def test_related_ranked_by_shared_indications_then_title(clinic: ContentIndex) -> None:
    data = run(clinic, '{ treatment(slug: "mesotherapy") { related { slug } } }')
    # acupuncture shares Hair loss; peel shares Cellulite: one each, so by title.
    assert data["treatment"]["related"] == [{"slug": "acupuncture"}, {"slug": "peel"}]
    one = run(clinic, '{ treatment(slug: "mesotherapy") { related(first: 1) { slug } } }')
    assert one["treatment"]["related"] == [{"slug": "acupuncture"}]


def test_excerpt_cuts_at_a_word_boundary(clinic: ContentIndex) -> None:
    data = run(clinic, '{ treatment(slug: "mesotherapy") { a: excerpt(length: 30) b: excerpt } }')
    assert data["treatment"]["a"] == "Homeopathic mesotherapy is a…"
    assert data["treatment"]["b"] == (
        "Homeopathic mesotherapy is a treatment to improve the condition of the skin and to "
        "combat cellulites, hair loss and many others. This method helps skin look…"
    )
    short = run(clinic, '{ treatment(slug: "secret") { excerpt } }', preview=True)
    assert short["treatment"]["excerpt"] == "A laser treatment that is not announced yet."


def test_search_prefix_snippet_and_hostile_input(clinic: ContentIndex) -> None:
    hits = run(clinic, '{ search(query: "meso") { score snippet treatment { slug } } }')["search"]
    assert [hit["treatment"]["slug"] for hit in hits] == ["mesotherapy"]
    assert "<mark>" in hits[0]["snippet"]
    assert hits[0]["score"] > 0
    for hostile in ['"', "AND", "*", "NEAR(", "((", "a" * 10_000, "<script>"]:
        run(clinic, "query($q: String!) { search(query: $q) { snippet } }", q=hostile)


def test_indications_filter_and_order(clinic: ContentIndex) -> None:
    data = run(
        clinic,
        """{ all: indications(first: 3) { totalCount nodes { name } }
             hair: indications(filter: {nameContains: "HAIR"}) { nodes { slug } }
             shared: indications(filter: {minTreatments: 2}) { nodes { slug } } }""",
    )
    assert data["all"] == {
        "totalCount": 13,
        "nodes": [{"name": "Acne scars"}, {"name": "Back pain"}, {"name": "Cellulite"}],
    }
    assert data["hair"] == {"nodes": [{"slug": "hair-loss"}]}
    assert data["shared"] == {"nodes": [{"slug": "cellulite"}, {"slug": "hair-loss"}]}


def test_categories_and_images(clinic: ContentIndex) -> None:
    data = run(
        clinic,
        """{ categories { name slug treatmentCount treatments { nodes { slug } } }
             images(first: 10) { totalCount nodes { src position treatment { slug } } } }""",
    )
    assert data["categories"] == [
        {
            "name": "Body",
            "slug": "body",
            "treatmentCount": 1,
            "treatments": {"nodes": [{"slug": "acupuncture"}]},
        },
        {
            "name": "Skin Treatment",
            "slug": "skin-treatment",
            "treatmentCount": 2,
            "treatments": {"nodes": [{"slug": "peel"}, {"slug": "mesotherapy"}]},
        },
    ]
    assert data["images"]["nodes"] == [
        {"src": "/img/acupuncture.jpg", "position": 0, "treatment": {"slug": "acupuncture"}},
        {
            "src": "/img/pages/mesotherapy_london.jpg",
            "position": 0,
            "treatment": {"slug": "mesotherapy"},
        },
        {
            "src": "/img/pages/mesotherapy_london2.jpg",
            "position": 1,
            "treatment": {"slug": "mesotherapy"},
        },
        {"src": "/img/peel.jpg", "position": 0, "treatment": {"slug": "peel"}},
    ]


def test_image_url_uses_the_public_url(clinic: ContentIndex) -> None:
    result = SCHEMA.execute_sync(
        '{ treatment(slug: "peel") { images { url } } }',
        context_value=Context(clinic, public_url="https://cdn.example.org/"),
    )
    assert result.data == {
        "treatment": {"images": [{"url": "https://cdn.example.org/img/peel.jpg"}]}
    }


def test_same_files_give_same_version_and_ids(clinic: ContentIndex) -> None:
    again = ContentIndex.from_directory(FIXTURES / "clinic")
    query = '{ contentInfo { version } treatment(slug: "peel") { id } }'
    assert run(clinic, query) == run(again, query)


def test_cost_is_reported_when_asked(clinic: ContentIndex) -> None:
    result = SCHEMA.execute_sync(
        "{ treatments(first: 10) { nodes { title } } }",
        context_value=Context(clinic),
        operation_extensions={"cost": True},
    )
    assert result.errors is None
    assert result.extensions == {"cost": 1 + 10 * 2}
