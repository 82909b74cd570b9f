"""Serving a built index (CONTENTAPI_INDEX) over HTTP: the same answers as a load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contentapi.content.indexfile import build
from contentapi.settings import Settings

from clients import make_client

CLINIC = Path(__file__).parent.parent / "fixtures" / "clinic"
TOKEN = "s3cret-preview"
QUERIES = [
    '{ treatment(slug: "peel") { title html category { slug } images { src alt } } }',
    '{ search(query: "skin", first: 2) { treatment { slug } snippet score } }',
    "{ treatments(first: 10) { nodes { slug title summary indications { slug } } } }",
    '{ indication(slug: "hair-loss") { name treatments { slug } } }',
    "{ contentInfo { version } }",
]


def _answers(settings: Settings, preview: bool) -> list[Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"} if preview else {}
    with make_client(settings) as client:
        return [
            client.post("/graphql", json={"query": query}, headers=headers).json()
            for query in QUERIES
        ]


def test_a_built_index_answers_as_the_folder_does(tmp_path: Path) -> None:
    file = tmp_path / "index.sqlite"
    build(CLINIC, file)
    loaded = Settings(content_dir=CLINIC, cache_dir=None, preview_token=TOKEN)
    served = loaded.replace(index=str(file))
    for preview in (False, True):
        assert _answers(served, preview) == _answers(loaded, preview)
    first = _answers(served, False)
    assert first[0] == {
        "data": {
            "treatment": {
                "title": "Chemical Peel",
                "html": first[0]["data"]["treatment"]["html"],
                "category": {"slug": "skin-treatment"},
                "images": [{"src": "/img/peel.jpg", "alt": "Peel"}],
            }
        }
    }
    assert [hit["treatment"]["slug"] for hit in first[1]["data"]["search"]] == [
        "peel",
        "mesotherapy",
    ]


def test_readyz_counts_the_files_pages_and_drafts_stay_private(tmp_path: Path) -> None:
    file = tmp_path / "index.sqlite"
    build(CLINIC, file)
    settings = Settings(content_dir=CLINIC, cache_dir=None, preview_token=TOKEN, index=str(file))
    with make_client(settings) as client:
        ready = client.get("/readyz").json()
        assert ready["treatments"] == 3
        secret = '{ treatment(slug: "secret") { title } }'
        assert client.post("/graphql", json={"query": secret}).json() == {
            "data": {"treatment": None}
        }
        preview = client.post(
            "/graphql", json={"query": secret}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert preview.json() == {"data": {"treatment": {"title": "Secret Laser"}}}
