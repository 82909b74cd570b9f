"""Redirects: front matter redirect_from (jekyll-redirect-from) and aliases (Hugo) on real
sites' pages, paths claimed twice, and pages renamed while served (--watch)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from contentapi.content.changes import CHANGES_FILE, ChangeLog
from contentapi.content.index import ContentIndex
from contentapi.content.page import redirect_paths
from contentapi.content.redirects import path_key
from contentapi.content.store import ContentStore
from contentapi.schema import Context, build_schema
from contentapi.settings import Settings

from clients import make_client

SITES = Path(__file__).parent.parent / "fixtures" / "sites"
SCHEMA = build_schema()
REDIRECT = "query($p: String!) { redirect(path: $p) { from to status } }"


def execute(
    index: ContentIndex, query: str, changes: ChangeLog | None = None, **variables: Any
) -> Any:
    result = SCHEMA.execute_sync(
        query, variable_values=variables or None, context_value=Context(index, changes=changes)
    )
    assert result.errors is None, result.errors
    return result.data


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_every_redirect_from_of_the_jekyll_docs_is_answered() -> None:
    index = ContentIndex.from_directory(SITES / "jekyll")
    assert index.errors == ()
    assert execute(index, "{ redirects { from to status } }")["redirects"] == [
        {"from": "/docs/extras/", "to": "/docs/", "status": 301},
        {"from": "/docs/home/", "to": "/docs/", "status": 301},
        {"from": "/docs/quickstart/", "to": "/docs/", "status": 301},
        # A string, not a list (_tutorials/index.md), and a path with no trailing /.
        {"from": "/tutorials/index.html", "to": "/tutorials/home/", "status": 301},
    ]
    for path, to in [
        ("/docs/home/", "/docs/"),
        ("/docs/home", "/docs/"),
        ("docs/quickstart/?utm=x#top", "/docs/"),
        ("/tutorials/index.html", "/tutorials/home/"),
    ]:
        assert execute(index, REDIRECT, p=path)["redirect"]["to"] == to
    # A page's own uri, and a path nothing names, are no redirects.
    assert execute(index, REDIRECT, p="/docs/")["redirect"] is None
    assert execute(index, REDIRECT, p="/docs/nowhere/")["redirect"] is None


def test_every_alias_of_the_hugo_docs_is_answered() -> None:
    index = ContentIndex.from_directory(SITES / "hugo" / "content" / "en")
    got = {r["from"]: r["to"] for r in execute(index, "{ redirects { from to } }")["redirects"]}
    assert got == {
        "/content/": "/content-management/",
        "/content/organization": "/content-management/",
        "/layout/functions/": "/functions/",
        "/templates/functions": "/functions/",
        "/variables/": "/methods/",
        "/variables/page/": "/methods/page/",
        "/variables/site/": "/methods/site/",
    }
    for path, to in got.items():
        assert execute(index, REDIRECT, p=path)["redirect"] == {
            "from": path,
            "to": to,
            "status": 301,
        }


@pytest.mark.parametrize(
    ("written", "uri", "paths"),
    [
        (("/old/",), "/new/", ("/old/",)),
        (("old.html",), "/blog/new/", ("/blog/old.html",)),  # Hugo: beside the page
        (("https://example.com/x/y/?a=1",), "/new/", ("/x/y/",)),
        (("/a//b/../c",), "/new/", ("/a/b/c",)),
        (("/new/", "/old", "/old"), "/new/", ("/old",)),  # its own uri, a repeat: dropped
    ],
)
def test_old_paths_are_site_paths(
    written: tuple[str, ...], uri: str, paths: tuple[str, ...]
) -> None:
    assert redirect_paths(written, uri) == paths


def test_paths_compare_without_trailing_slash_query_or_fragment() -> None:
    assert path_key("/old/") == path_key("/old") == path_key("old/?x=1#y") == "/old"
    assert path_key("/Old/") != path_key("/old/")


def test_a_path_claimed_twice_is_an_error_naming_both(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.md": "---\ntitle: A\nredirect_from: /old/\n---\n",
            "b.md": "---\ntitle: B\naliases: [/old]\n---\n",
            "c.md": "---\ntitle: C\nredirect_from: [/a/]\n---\n",
        },
    )
    index = ContentIndex.from_directory(tmp_path)
    assert [str(error) for error in index.errors] == [
        "b.md: redirects '/old' to '/b/', but a.md already redirects it to '/a/':"
        " only a.md's is served",
        "c.md: redirects '/a/' to '/c/', but that is the uri of a.md: the page is served"
        " there, not redirected",
    ]
    data = execute(index, "{ redirects { from to } }")
    assert data["redirects"] == [{"from": "/old/", "to": "/a/"}]


def test_a_redirect_of_the_wrong_type_names_its_line(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": "---\ntitle: A\naliases:\n  old: /x/\n---\n"})
    index = ContentIndex.from_directory(tmp_path)
    assert [str(error) for error in index.errors] == [
        "a.md:3: 'aliases' must be a site path or a list of them, not a mapping"
    ]


def test_a_drafts_old_path_is_not_public(tmp_path: Path) -> None:
    write(tmp_path, {"a.md": "---\ntitle: A\ndraft: true\nredirect_from: /old/\n---\n"})
    index = ContentIndex.from_directory(tmp_path)
    assert index.public.redirects.all() == []
    assert [r.to for r in index.preview.redirects.all()] == ["/a/"]


def test_a_renamed_page_keeps_its_old_uri_while_the_record_remembers(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write(content, {"a.md": "---\ntitle: A\n---\n", "b.md": "---\ntitle: B\n---\n"})
    store = ContentStore(ContentIndex.from_directory(content), ChangeLog(limit=3))
    # The slug edited: same file, new uri.
    write(content, {"a.md": "---\ntitle: A\nslug: alpha\n---\n"})
    store.swap(ContentIndex.from_directory(content))
    # The file moved unchanged: same bytes, new uri.
    (content / "b.md").rename(content / "beta.md")
    store.swap(ContentIndex.from_directory(content))
    # Renamed again: the first old uri follows it.
    write(content, {"a.md": "---\ntitle: A\nslug: first\n---\n"})
    store.swap(ContentIndex.from_directory(content))
    data = execute(store.current, "{ redirects { from to } }", store.changes)
    assert data["redirects"] == [
        {"from": "/a/", "to": "/first/"},
        {"from": "/alpha/", "to": "/first/"},
        {"from": "/b/", "to": "/beta/"},
    ]
    # A new page at an old uri is served there, not redirected.
    write(content, {"b.md": "---\ntitle: New B\n---\n"})
    store.swap(ContentIndex.from_directory(content))
    assert execute(store.current, REDIRECT, store.changes, p="/b/")["redirect"] is None
    # Three changes kept: the first rename is forgotten with its change.
    write(content, {"x.md": "---\ntitle: X\n---\n"})
    store.swap(ContentIndex.from_directory(content))
    data = execute(store.current, "{ redirects { from to } }", store.changes)
    assert data["redirects"] == [{"from": "/alpha/", "to": "/first/"}]


def test_renames_are_kept_across_a_restart(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write(content, {"a.md": "---\ntitle: A\n---\n"})
    log = ChangeLog.in_folder(tmp_path / "cache", content, 10)
    store = ContentStore(ContentIndex.from_directory(content), log)
    (content / "a.md").rename(content / "b.md")
    store.swap(ContentIndex.from_directory(content))
    log.flush()
    assert (tmp_path / "cache" / CHANGES_FILE).is_file()
    again = ChangeLog.in_folder(tmp_path / "cache", content, 10)
    assert again.moved() == {"/a/": "/b/"}
    assert again.moved(preview=True) == {"/a/": "/b/"}


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    content = tmp_path / "content"
    write(content, {"mesotherapy.md": "---\ntitle: Mesotherapy\n---\nText.\n"})
    settings = Settings(content_dir=content, watch=True, cache_dir=tmp_path / "cache")
    with make_client(settings, raise_server_exceptions=True) as client:
        yield client, content


def test_a_page_renamed_under_watch_redirects_from_its_old_uri(
    watched: tuple[TestClient, Path],
) -> None:
    client, content = watched
    (content / "mesotherapy.md").rename(content / "mesotherapy-london.md")
    query = {"query": '{ redirect(path: "/mesotherapy/") { to status } }'}
    deadline = time.monotonic() + 15
    while True:
        answer = client.post("/graphql", json=query).json()
        if answer["data"]["redirect"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert answer["data"]["redirect"] == {"to": "/mesotherapy-london/", "status": 301}


def test_a_record_written_before_renames_is_still_read(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write(content, {"a.md": "---\ntitle: A\n---\n"})
    record = {
        "format": 1,
        "root": str(content.resolve()),
        **{
            audience: {
                "version": "v2",
                "documents": {"/a/": "x"},
                "changes": [["v1", "v2", ["/a/"], [], [], "2026-01-01T00:00:00.000Z"]],
            }
            for audience in ("public", "preview")
        },
    }
    (tmp_path / CHANGES_FILE).write_text(json.dumps(record), encoding="utf-8")
    log = ChangeLog(10, tmp_path / CHANGES_FILE, content)
    assert [change.created for change in log.history()] == [("/a/",)]
    assert log.moved() == {}


def test_a_rename_is_told_in_the_change_its_webhook_and_subscription(tmp_path: Path) -> None:
    from contentapi.http.webhooks import payload
    from contentapi.schema.changes import ContentChange

    content = tmp_path / "content"
    write(content, {"a.md": "---\ntitle: A\n---\n", "b.md": "---\ntitle: B\n---\n"})
    log = ChangeLog()
    heard = []
    log.listen(lambda audience, change: heard.append((audience, change)))
    store = ContentStore(ContentIndex.from_directory(content), log)
    (content / "a.md").rename(content / "alpha.md")
    store.swap(ContentIndex.from_directory(content))
    public = heard[0][1]
    assert (public.created, public.deleted, public.moved) == (
        ("/alpha/",),
        ("/a/",),
        (("/a/", "/alpha/"),),
    )
    assert payload(public)["data"]["moved"] == [{"from": "/a/", "to": "/alpha/"}]
    told = ContentChange.of(public).moved
    assert [(r.from_, r.to, r.status) for r in told] == [("/a/", "/alpha/", 301)]
    # An edit that renames nothing moves nothing.
    write(content, {"b.md": "---\ntitle: B edited\n---\n"})
    store.swap(ContentIndex.from_directory(content))
    assert heard[-1][1].moved == ()
