"""Treatment.ast over HTTP: written from the stored JSON with the ids spliced in, the
same answer as the schema's tree of objects, public and with the preview token."""

from __future__ import annotations

from pathlib import Path

from contentapi.content.index import ContentIndex
from contentapi.schema import Context, build_schema
from contentapi.settings import Settings

from clients import make_client

LINKS = Path(__file__).parent.parent / "fixtures" / "links"
TOKEN = "s3cret-preview"
QUERY = "{ treatments(first: 20) { nodes { uri ast links { uri } linkedFrom { uri } } } }"


def test_the_served_tree_is_the_schemas_tree() -> None:
    index = ContentIndex.from_directory(LINKS)
    settings = Settings(content_dir=LINKS, preview_token=TOKEN, cache_dir=None)
    with make_client(settings) as client:
        for preview in (False, True):
            headers = {"authorization": f"Bearer {TOKEN}"} if preview else {}
            answer = client.post("/graphql", json={"query": QUERY}, headers=headers)
            assert answer.status_code == 200
            expected = build_schema().execute_sync(QUERY, context_value=Context(index, preview))
            assert expected.errors is None
            assert answer.json() == {"data": expected.data}
            uris = [node["uri"] for node in answer.json()["data"]["treatments"]["nodes"]]
            assert ("/draft/" in uris) is preview
            alpha = next(
                node
                for node in answer.json()["data"]["treatments"]["nodes"]
                if node["uri"] == "/a/"
            )
            draft_link = alpha["ast"]["children"][0]["children"][9]
            assert draft_link["url"] == "draft.md"
            assert ("data" in draft_link) is preview
