"""uri, coverImage, treatment(slug:, uri:) and global ids where slugs repeat."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from contentapi.content.index import ContentIndex
from contentapi.schema import Context, build_schema

FIXTURES = Path(__file__).parent.parent / "fixtures"
SCHEMA = build_schema()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def execute(index: ContentIndex, query: str, **variables: Any) -> tuple[Any, list[str]]:
    result = SCHEMA.execute_sync(
        query, variable_values=variables or None, context_value=Context(index)
    )
    return result.data, [error.message for error in result.errors or []]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> ContentIndex:
    root = tmp_path_factory.mktemp("site")
    files = {
        "_index.md": "---\ntitle: Home\n---\n![home](/home.png)\n",
        "solo.md": "---\ntitle: Solo\nlayout: Laser\n---\nAlone.\n",
        "methods/page/Params.md": "---\ntitle: Page params\nlayout: Laser\n---\n![p](/p.png)\n",
        "methods/site/Params.md": (
            "---\ntitle: Site params\nimage: /cover.jpg\nalt: The cover\n---\n![s](/s.png)\n"
        ),
        "blog/post-name/index.md": "---\ntitle: A post\npermalink: /2020/a-post\n---\nText.\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    index = ContentIndex.from_directory(root)
    assert index.errors == ()
    return index


def test_uri_and_slug_of_every_page(site: ContentIndex) -> None:
    data, errors = execute(site, "{ treatments { nodes { slug uri path } } }")
    assert errors == []
    assert data["treatments"]["nodes"] == [
        {"slug": "post-name", "uri": "/2020/a-post/", "path": "blog/post-name/index.md"},
        {"slug": "index", "uri": "/", "path": "_index.md"},
        {"slug": "params", "uri": "/methods/page/params/", "path": "methods/page/Params.md"},
        {"slug": "params", "uri": "/methods/site/params/", "path": "methods/site/Params.md"},
        {"slug": "solo", "uri": "/solo/", "path": "solo.md"},
    ]


def test_treatment_by_uri(site: ContentIndex) -> None:
    data, errors = execute(site, '{ treatment(uri: "/methods/site/params/") { title } }')
    assert (data, errors) == ({"treatment": {"title": "Site params"}}, [])
    data, errors = execute(site, '{ treatment(uri: "/") { title } }')
    assert (data, errors) == ({"treatment": {"title": "Home"}}, [])
    data, errors = execute(site, '{ treatment(uri: "/methods/site/params") { title } }')
    assert (data, errors) == ({"treatment": None}, [])


def test_treatment_by_a_slug_one_page_has(site: ContentIndex) -> None:
    data, errors = execute(site, '{ treatment(slug: "solo") { uri } }')
    assert (data, errors) == ({"treatment": {"uri": "/solo/"}}, [])
    data, errors = execute(site, '{ treatment(slug: "nothing") { uri } }')
    assert (data, errors) == ({"treatment": None}, [])


def test_treatment_by_a_slug_several_pages_have_lists_their_uris(site: ContentIndex) -> None:
    data, errors = execute(site, '{ treatment(slug: "params") { uri } }')
    assert data == {"treatment": None}
    assert errors == [
        "2 treatments have the slug 'params': ask for one by uri "
        "(/methods/page/params/, /methods/site/params/)"
    ]


def test_treatment_needs_exactly_one_of_slug_and_uri(site: ContentIndex) -> None:
    data, errors = execute(site, "{ treatment { uri } }")
    assert (data, errors) == (
        {"treatment": None},
        ["treatment needs exactly one of 'slug' and 'uri', got neither"],
    )
    data, errors = execute(site, '{ treatment(slug: "solo", uri: "/solo/") { uri } }')
    assert (data, errors) == (
        {"treatment": None},
        ["treatment needs exactly one of 'slug' and 'uri', got both"],
    )


def test_ids_are_unique_where_slugs_repeat_and_node_finds_them(site: ContentIndex) -> None:
    data, errors = execute(
        site, "{ treatments { nodes { uri id images { id src } coverImage { id } } } }"
    )
    assert errors == []
    got = {node["uri"]: node for node in data["treatments"]["nodes"]}
    expected_ids = {
        "/solo/": "Treatment:solo",  # at the top of the folder: its slug, as before
        "/": "Treatment:/",
        "/methods/page/params/": "Treatment:methods/page/params",
        "/methods/site/params/": "Treatment:methods/site/params",
        "/2020/a-post/": "Treatment:2020/a-post",
    }
    assert {uri: node["id"] for uri, node in got.items()} == {
        uri: b64(key) for uri, key in expected_ids.items()
    }
    assert got["/methods/site/params/"]["images"] == [
        {"id": b64("Image:methods/site/params/0"), "src": "/cover.jpg"},
        {"id": b64("Image:methods/site/params/1"), "src": "/s.png"},
    ]
    assert got["/"]["images"] == [{"id": b64("Image://0"), "src": "/home.png"}]
    ids = [node["id"] for node in got.values()]
    ids += [image["id"] for node in got.values() for image in node["images"]]
    found, errors = execute(
        site,
        """query($ids: [ID!]!) { nodes(ids: $ids) { id
             ... on Treatment { uri } ... on Image { src treatment { uri } } } }""",
        ids=[*ids, b64("Treatment:params"), b64("Image:params/0"), b64("Image:/0")],
    )
    assert errors == []
    assert [node and node["id"] for node in found["nodes"]] == [*ids, None, None, None]
    assert found["nodes"][len(got)] == {
        "id": b64("Image://0"),
        "src": "/home.png",
        "treatment": {"uri": "/"},
    }


def test_cover_image(site: ContentIndex) -> None:
    data, errors = execute(
        site, "{ treatments { nodes { uri coverImage { src alt position treatment { uri } } } } }"
    )
    assert errors == []
    covers = {node["uri"]: node["coverImage"] for node in data["treatments"]["nodes"]}
    assert covers == {
        "/2020/a-post/": None,
        "/": {"src": "/home.png", "alt": "home", "position": 0, "treatment": {"uri": "/"}},
        "/methods/page/params/": {
            "src": "/p.png",
            "alt": "p",
            "position": 0,
            "treatment": {"uri": "/methods/page/params/"},
        },
        "/methods/site/params/": {
            "src": "/cover.jpg",
            "alt": "The cover",
            "position": 0,
            "treatment": {"uri": "/methods/site/params/"},
        },
        "/solo/": None,
    }


def test_members_of_a_category_with_a_repeated_slug(site: ContentIndex) -> None:
    data, errors = execute(
        site, '{ category(slug: "laser") { treatmentCount treatments { nodes { uri } } } }'
    )
    assert errors == []
    assert data["category"] == {
        "treatmentCount": 2,
        "treatments": {"nodes": [{"uri": "/methods/page/params/"}, {"uri": "/solo/"}]},
    }


def test_seed_keeps_its_pinned_ids(seed_index: ContentIndex) -> None:
    data, errors = execute(
        seed_index,
        '{ treatment(slug: "mesotherapy") { id uri coverImage { id src } images { id } } }',
    )
    assert errors == []
    assert data["treatment"] == {
        "id": "VHJlYXRtZW50Om1lc290aGVyYXB5",
        "uri": "/mesotherapy/",
        "coverImage": {
            "id": b64("Image:mesotherapy/0"),
            "src": "/img/pages/mesotherapy_london.jpg",
        },
        "images": [{"id": b64("Image:mesotherapy/0")}, {"id": b64("Image:mesotherapy/1")}],
    }


def test_a_slug_shared_by_many_lists_ten_uris_and_counts_the_rest(tmp_path: Path) -> None:
    for folder in "abcdefghijkl":
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.md").write_text(f"---\ntitle: X {folder}\n---\nX\n")
    index = ContentIndex.from_directory(tmp_path)
    data, errors = execute(index, '{ treatment(slug: "x") { uri } }')
    assert data == {"treatment": None}
    assert errors == [
        "12 treatments have the slug 'x': ask for one by uri (/a/x/, /b/x/, /c/x/, /d/x/, "
        "/e/x/, /f/x/, /g/x/, /h/x/, /i/x/, /j/x/ and 2 more)"
    ]
