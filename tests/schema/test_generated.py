"""The schema generated from a Decap CMS config.yml: the bundled content's model, and
the configs of two public Decap sites (tests/fixtures/decap-*, see their SOURCES), queried
as a frontend would, with the values their files hold."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from contentapi.content.contentmodel import ModelError, parse_model
from contentapi.content.index import ContentIndex
from contentapi.schema import ContentSchema, Context, build_schema, schema_for
from contentapi.schema.execution import fallbacks_of
from contentapi.schema.relay import global_id
from contentapi.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent.parent
FIXTURES = PROJECT / "tests" / "fixtures"


def served(root: Path, **settings: Any) -> tuple[ContentSchema, ContentIndex]:
    schema = schema_for(Settings(content_dir=root, **settings))
    return schema, ContentIndex.from_directory(root)


def run(
    schema: ContentSchema, index: ContentIndex, query: str, preview: bool = False
) -> dict[str, Any]:
    result = schema.execute_sync(query, context_value=Context(index=index, preview=preview))
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


@pytest.fixture(scope="module")
def clinic() -> tuple[ContentSchema, ContentIndex]:
    return served(PROJECT / "content")


def test_the_treatment_has_its_typed_fields_and_the_practitioners_pointing_at_it(
    clinic: tuple[ContentSchema, ContentIndex],
) -> None:
    data = run(
        *clinic,
        """{ treatment(slug: "mesotherapy") { title layout price duration sessions
              practitioners { slug }
              practitionersByTreatments { id title role since languages photo { src }
                treatments { slug } } } }""",
    )
    assert data == {
        "treatment": {
            "title": "Mesotherapy",
            "layout": "Skin Treatment",
            "price": None,
            "duration": None,
            "sessions": None,
            "practitioners": [],
            "practitionersByTreatments": [
                {
                    "id": global_id("Practitioner", "practitioners/anna-berg"),
                    "title": "Dr Anna Berg",
                    "role": "doctor",
                    "since": "2015-03-01",
                    "languages": ["English", "Swedish"],
                    "photo": None,
                    "treatments": [{"slug": "mesotherapy"}],
                },
                {
                    "id": global_id("Practitioner", "practitioners/james-okafor"),
                    "title": "James Okafor",
                    "role": "nurse",
                    "since": "2019-09-16",
                    "languages": ["English", "French"],
                    "photo": None,
                    "treatments": [{"slug": "mesotherapy"}],
                },
            ],
        }
    }


def test_practitioners_are_not_treatments(clinic: tuple[ContentSchema, ContentIndex]) -> None:
    data = run(
        *clinic,
        """{ treatments { totalCount nodes { slug } } contentInfo { treatmentCount }
             treatment(uri: "/practitioners/anna-berg/") { slug }
             other: treatment(slug: "anna-berg") { slug }
             treatmentCollection { totalCount nodes { slug } } }""",
    )
    assert data == {
        "treatments": {"totalCount": 1, "nodes": [{"slug": "mesotherapy"}]},
        "contentInfo": {"treatmentCount": 1},
        "treatment": None,
        "other": None,
        "treatmentCollection": {"totalCount": 1, "nodes": [{"slug": "mesotherapy"}]},
    }


def test_a_collection_filters_orders_and_pages(clinic: tuple[ContentSchema, ContentIndex]) -> None:
    data = run(
        *clinic,
        """{
          nurses: practitionerCollection(filter: {role: {eq: nurse}}) {
            totalCount nodes { slug } }
          newest: practitionerCollection(orderBy: [{field: SINCE, direction: DESC}], first: 1) {
            totalCount pageInfo { hasNextPage } nodes { slug } }
          before2018: practitionerCollection(filter: {since: {lt: "2018-01-01"}}) { nodes { slug } }
          named: practitionerCollection(filter: {title: {contains: "okafor"}}) { nodes { slug } }
          doing: practitionerCollection(filter: {treatments: {eq: "mesotherapy"}}) { totalCount }
          none: practitionerCollection(filter: {treatments: {in: ["peel"]}}) { totalCount }
          bySlug: practitioner(slug: "anna-berg") { title uri }
          byUri: practitioner(uri: "/practitioners/james-okafor/") { title }
          missing: practitioner(slug: "mesotherapy") { title }
        }""",
    )
    assert data == {
        "nurses": {"totalCount": 1, "nodes": [{"slug": "james-okafor"}]},
        "newest": {
            "totalCount": 2,
            "pageInfo": {"hasNextPage": True},
            "nodes": [{"slug": "james-okafor"}],
        },
        "before2018": {"nodes": [{"slug": "anna-berg"}]},
        "named": {"nodes": [{"slug": "james-okafor"}]},
        "doing": {"totalCount": 2},
        "none": {"totalCount": 0},
        "bySlug": {"title": "Dr Anna Berg", "uri": "/practitioners/anna-berg/"},
        "byUri": {"title": "James Okafor"},
        "missing": None,
    }


def test_ids_search_and_the_document_interface(clinic: tuple[ContentSchema, ContentIndex]) -> None:
    anna = global_id("Practitioner", "practitioners/anna-berg")
    data = run(
        *clinic,
        f"""{{
          node(id: "{anna}") {{ __typename ... on Practitioner {{ title role }} }}
          asTreatment: node(id: "{global_id("Treatment", "practitioners/anna-berg")}") {{ id }}
          search(query: "trained dermatology") {{ treatment {{ slug }}
            document {{ __typename slug ... on Practitioner {{ role }} }} }}
        }}""",
    )
    assert data == {
        "node": {"__typename": "Practitioner", "title": "Dr Anna Berg", "role": "doctor"},
        # The id change notifications give every page: the entry, as its own type.
        "asTreatment": {"id": anna},
        "search": [
            {
                "treatment": {"slug": "anna-berg"},
                "document": {"__typename": "Practitioner", "slug": "anna-berg", "role": "doctor"},
            }
        ],
    }


def test_typed_fields_run_on_the_fast_path(
    clinic: tuple[ContentSchema, ContentIndex], caplog: pytest.LogCaptureFixture
) -> None:
    schema, index = clinic
    with caplog.at_level(logging.DEBUG, logger="contentapi"):
        run(
            schema,
            index,
            """{ treatments { nodes { price duration practitioners { slug }
                   practitionersByTreatments { title role since languages } } }
                 practitionerCollection { nodes { id title role since languages
                   treatments { slug price } } } }""",
        )
    assert fallbacks_of(schema).count == 0
    assert not [m for m in caplog.messages if "fast path" in m]


def test_an_entry_that_breaks_the_model_is_reported_and_left_out(tmp_path: Path) -> None:
    root = Path(shutil.copytree(PROJECT / "content", tmp_path / "content"))
    (root / "practitioners" / "zoe.md").write_text(
        "---\ntitle: Zoe\nrole: surgeon\ntreatments: [mesotherapy]\n---\nZoe.\n"
    )
    (root / "practitioners" / "yan.md").write_text(
        "---\ntitle: Yan\nrole: nurse\ntreatments:\n  - mesotherapy\n  - peel\n---\nYan.\n"
    )
    schema, index = served(root)
    data = run(
        schema,
        index,
        "{ practitionerCollection { totalCount } contentErrors { path line message } }",
        preview=True,
    )
    assert data == {
        "practitionerCollection": {"totalCount": 2},
        "contentErrors": [
            {
                "path": "practitioners/yan.md",
                "line": 6,
                "message": "field treatments.1: 'peel' names no entry of 'treatments' (by "
                "{{slug}}) (collection 'practitioners' of admin/config.yml); left out of its "
                "collection",
            },
            {
                "path": "practitioners/zoe.md",
                "line": 3,
                "message": "field role: 'surgeon' is not one of the options doctor, nurse, "
                "aesthetician (collection 'practitioners' of admin/config.yml); left out of "
                "its collection",
            },
        ],
    }
    public = run(schema, index, "{ contentErrors { path } }")
    assert public == {"contentErrors": []}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "collections:\n  - {name: images, folder: pictures}\n",
            "admin/config.yml: collection 'images' (line 2) makes the name 'Image', a built-in "
            "name",
        ),
        (
            "collections:\n  - {name: post, folder: a}\n  - {name: posts, folder: b}\n",
            "admin/config.yml: collection 'posts' (line 3) makes the name 'Post', already made "
            "by collection 'post' (line 2)",
        ),
        (
            "collections:\n  - name: faqs\n    folder: faqs\n    fields:\n"
            "      - {name: the-answer}\n      - {name: the_answer}\n",
            "admin/config.yml:6: collection 'faqs': fields 'the-answer' and 'the_answer' both "
            "make the field 'theAnswer'",
        ),
    ],
    ids=["built-in type", "two collections", "two fields"],
)
def test_a_name_clash_is_an_error_at_start_up_naming_both(text: str, message: str) -> None:
    with pytest.raises(ModelError) as caught:
        build_schema(content_model=parse_model(text, "admin/config.yml"))
    assert str(caught.value) == message


def test_without_a_model_the_schema_is_the_one_before(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("---\ntitle: Page\n---\nText.\n")
    plain = build_schema().as_str()
    assert schema_for(Settings(content_dir=tmp_path)).as_str() == plain
    assert "type Practitioner" not in plain
    assert "treatmentCollection" not in plain


def test_a_treatments_collection_of_only_built_in_fields(tmp_path: Path) -> None:
    # Decap's smallest real config: a title and a body, both fields Treatment already has.
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "config.yml").write_text(
        "backend: {name: git-gateway}\nmedia_folder: img\ncollections:\n"
        "  - name: treatments\n    folder: .\n    fields:\n"
        "      - {name: title, widget: string}\n      - {name: body, widget: markdown}\n"
    )
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\nHello.\n")
    schema, index = served(tmp_path)
    assert "GeneratedTreatmentFields" not in schema.as_str()
    data = run(schema, index, "{ treatmentCollection { totalCount nodes { title text } } }")
    assert data == {
        "treatmentCollection": {"totalCount": 1, "nodes": [{"title": "A", "text": "Hello."}]}
    }


def test_a_public_gatsby_site(tmp_path: Path) -> None:
    schema, index = served(FIXTURES / "decap-gatsby")
    data = run(
        schema,
        index,
        """{ blogCollection(orderBy: [{field: DATE, direction: DESC}]) { totalCount
               nodes { slug title date description templateKey featuredpost
                 featuredimage { src alt } tags } }
             featured: blogCollection(filter: {featuredpost: {eq: true}}) { totalCount }
             contentErrors { path line message } }""",
        preview=True,
    )
    assert data["blogCollection"] == {
        "totalCount": 2,
        "nodes": [
            {
                "slug": "a-beginners-guide-to-brewing-with-chemex",
                "title": "A beginners’ guide to brewing with Chemex",
                "date": "2017-01-04",
                "description": "Brewing with a Chemex probably seems like a complicated, "
                "time-consuming ordeal, but once you get used to the process, it becomes a "
                "soothing ritual that's worth the effort every time.",
                "templateKey": "blog-post",
                "featuredpost": False,
                # The body's own picture of that source, with its alt.
                "featuredimage": {"src": "/img/chemex.jpg", "alt": "chemex"},
                "tags": ["brewing", "chemex"],
            },
            {
                "slug": "making-sense-of-the-scaas-new-flavor-wheel",
                "title": "Making sense of the SCAA’s new Flavor Wheel",
                "date": "2016-12-17",
                "description": "The Coffee Taster’s Flavor Wheel, the official resource used by "
                "coffee tasters, has been revised for the first time this year.",
                "templateKey": "blog-post",
                "featuredpost": False,
                "featuredimage": {"src": "/img/flavor_wheel.jpg", "alt": "flavor wheel"},
                "tags": ["flavor", "tasting"],
            },
        ],
    }
    # The third post has no featuredimage, which the config does not make optional.
    assert data["featured"] == {"totalCount": 0}
    assert data["contentErrors"] == [
        {
            "path": "src/pages/blog/"
            "2017-01-04-just-in-small-batch-of-jamaican-blue-mountain-in-store-next-week.md",
            "line": 1,
            "message": "field featuredimage: 'featuredimage' is required (collection 'blog' of "
            "static/admin/config.yml); left out of its collection",
        }
    ]
    sdl = schema.as_str()
    assert "  featuredpost: Boolean!\n" in sdl
    assert "  tags: [String!]!\n" in sdl
    assert "  blogCollection(\n" in sdl


def test_a_public_hugo_site_with_page_bundles_and_the_model_setting() -> None:
    root = FIXTURES / "decap-hugo"
    schema, index = served(root, model="site/static/admin/config.yml")
    data = run(
        schema,
        index,
        """{ postCollection(orderBy: [{field: TITLE}]) { totalCount
               nodes { slug path date description image { src } } }
             post(slug: "jamaica-blue") { title image { src } } }""",
    )
    assert data == {
        "postCollection": {
            "totalCount": 3,
            "nodes": [
                {
                    "slug": "brewing-chemex",
                    "path": "site/content/post/brewing-chemex/index.md",
                    "date": "2017-01-04",
                    "description": "Brewing with a Chemex probably seems like a complicated, "
                    "time-consuming ordeal, but once you get used to the process, it becomes a "
                    "soothing ritual that's worth the effort every time.",
                    "image": {"src": "/blog-chemex.jpg"},
                },
                {
                    "slug": "jamaica-blue",
                    "path": "site/content/post/jamaica-blue/index.md",
                    "date": "2017-01-04",
                    "description": "We’re proud to announce that we’ll be offering a small "
                    "batch of Jamaica Blue Mountain coffee beans in our store next week.",
                    "image": None,
                },
                {
                    "slug": "making-sense",
                    "path": "site/content/post/making-sense/index.md",
                    "date": "2016-12-17",
                    "description": "The Coffee Taster’s Flavor Wheel, the official resource "
                    "used by coffee tasters, has been revised for the first time this year.",
                    "image": {"src": "/blog-flavor_wheel.jpg"},
                },
            ],
        },
        "post": {
            "title": "Just in: small batch of Jamaican Blue Mountain in store next week",
            "image": None,
        },
    }
    # Without the setting, static/admin/config.yml under site/ is not where Decap looks.
    assert "postCollection" not in schema_for(Settings(content_dir=root)).as_str()


FAQ_CONFIG = """
media_folder: static/uploads
public_folder: /uploads
collections:
  - name: faq_items
    folder: faq
    fields:
      - {name: title, widget: string}
      - {name: answer, widget: markdown}
      - {name: kind, widget: hidden, default: faq}
      - {name: size, widget: select, options: ["1-2", "3+"]}
      - {name: sheet, widget: file, required: false}
      - name: author
        widget: object
        fields: [{name: name, widget: string}, {name: since, widget: number, required: false}]
      - name: links
        widget: list
        required: false
        fields: [{name: label, widget: string}, {name: url, widget: string}]
      - {name: scores, widget: list, field: {name: score, widget: number}, required: false}
      - {name: gallery, widget: list, field: {name: picture, widget: image}, required: false}
      - name: slides
        widget: list
        required: false
        fields:
          - {name: picture, widget: image}
          - {name: see, widget: relation, collection: faq_items, value_field: "{{slug}}",
             required: false}
      - {name: body, widget: markdown}
"""


def test_object_list_markdown_file_and_select_fields(tmp_path: Path) -> None:
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "config.yml").write_text(FAQ_CONFIG)
    (tmp_path / "faq").mkdir()
    (tmp_path / "faq" / "first.md").write_text(
        "---\ntitle: How long?\nanswer: About **an hour**, <script>x()</script>then rest.\n"
        "size: 1-2\nsheet: aftercare.pdf\nauthor: {name: Anna}\n"
        "links:\n  - {label: NHS, url: 'https://www.nhs.uk/'}\nscores: [4, 5]\n"
        "gallery: [/uploads/a.jpg, b.jpg]\nslides:\n  - {picture: /uploads/c.jpg, see: first}\n"
        "---\nBody.\n"
    )
    schema, index = served(tmp_path)
    sdl = schema.as_str()
    for line in (
        "type FaqItem implements Node & Document {",
        "  answer: Markdown!\n",
        "  kind: String!\n",
        "  size: String!\n",
        "  sheet: Image\n",
        "  author: FaqItemAuthor!\n",
        "  links: [FaqItemLinks!]!\n",
        "  scores: [Int!]!\n",
        "  gallery: [Image!]!\n",
        "  slides: [FaqItemSlides!]!\n",
        "  picture: String!\n",
        "  see: String\n",
        "  faqItem(\n",
        "  faqItemCollection(\n",
    ):
        assert line in sdl, line
    data = run(
        schema,
        index,
        """{ faqItem(slug: "first") { answer { markdown html text } kind size sheet { src }
               author { name since } links { label url } scores gallery { src }
               slides { picture see } } }""",
    )
    assert data == {
        "faqItem": {
            "answer": {
                "markdown": "About **an hour**, <script>x()</script>then rest.",
                "html": "<p>About <strong>an hour</strong>, then rest.</p>\n",
                "text": "About an hour, then rest.",
            },
            "kind": "faq",
            "size": "1-2",
            "sheet": {"src": "/uploads/aftercare.pdf"},
            "author": {"name": "Anna", "since": None},
            "links": [{"label": "NHS", "url": "https://www.nhs.uk/"}],
            "scores": [4, 5],
            "gallery": [{"src": "/uploads/a.jpg"}, {"src": "/uploads/b.jpg"}],
            # Inside list items, pictures and references are their values as written.
            "slides": [{"picture": "/uploads/c.jpg", "see": "first"}],
        }
    }


def test_a_relation_by_slug_takes_decaps_slug_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "config.yml").write_text(
        "collections:\n"
        "  - {name: posts, folder: _posts, fields: [{name: title}]}\n"
        "  - name: series\n    folder: series\n    fields:\n      - {name: title}\n"
        "      - {name: posts, widget: relation, collection: posts, value_field: '{{slug}}',"
        " multiple: true}\n"
    )
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_posts" / "2024-01-02-first.md").write_text("---\ntitle: First\n---\nA.\n")
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "intro.md").write_text(
        "---\ntitle: Intro\nposts: [2024-01-02-first]\n---\nB.\n"
    )
    schema, index = served(tmp_path)
    data = run(schema, index, '{ series(slug: "intro") { posts { slug title } } }')
    # Decap writes the file name, date and all; the post's slug here drops the date.
    assert data == {"series": {"posts": [{"slug": "first", "title": "First"}]}}
