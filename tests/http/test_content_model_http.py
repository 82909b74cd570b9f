"""The bundled content's model over HTTP: a collection's entry is keyed for CDN purges by
its page's uri, as a treatment is, and its list by the kind of list it is."""

from __future__ import annotations

from pathlib import Path

from contentapi.schema.keys import document_key
from contentapi.settings import Settings

from clients import make_client

CONTENT = Path(__file__).resolve().parent.parent.parent / "content"
ANNA, JAMES = (document_key(f"/practitioners/{slug}/") for slug in ("anna-berg", "james-okafor"))


def test_entries_are_keyed_by_their_page() -> None:
    with make_client(Settings(content_dir=CONTENT, cache_dir=None)) as client:
        one = client.get(
            "/graphql", params={"query": '{ practitioner(slug: "anna-berg") { title } }'}
        )
        assert one.status_code == 200
        assert one.json() == {"data": {"practitioner": {"title": "Dr Anna Berg"}}}
        assert one.headers["surrogate-key"] == f"all {ANNA}"
        listed = client.get(
            "/graphql", params={"query": "{ practitionerCollection { nodes { slug } } }"}
        )
        assert listed.headers["surrogate-key"] == " ".join(["all", *sorted((ANNA, JAMES, "lists"))])
        ready = client.get("/readyz").json()
        assert ready["fastPathFallbacks"] == ready["jitFallbacks"] == 0
