"""Live reload (--watch): edits show up, broken edits keep the last good page, bursts coalesce."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from contentapi.content.index import ContentIndex
from contentapi.content.reload import LiveIndex
from contentapi.settings import Settings

from clients import make_client

TOKEN = "preview"


def page(title: str, body: str = "Some text.", extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\n{body}\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    (content / "alpha.md").write_text(page("Alpha"), encoding="utf-8")
    (content / "beta.md").write_text(page("Beta"), encoding="utf-8")
    return content


@pytest.fixture
def client(folder: Path) -> Iterator[TestClient]:
    settings = Settings(
        content_dir=folder, watch=True, preview_token=TOKEN, cache_dir=folder.parent / "cache"
    )
    with make_client(settings, raise_server_exceptions=True) as client:
        yield client


def ask(client: TestClient, query: str) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query}, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def titles(client: TestClient) -> list[str]:
    data = ask(client, "{ treatments { nodes { title } } }")["data"]
    return [node["title"] for node in data["treatments"]["nodes"]]


def eventually(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the change did not show up in time")
        time.sleep(0.05)


def rebuilds(client: TestClient) -> int:
    return int(client.app.state.watcher.rebuilds)  # type: ignore[attr-defined]


def test_edit_add_delete_and_rename_show_up(client: TestClient, folder: Path) -> None:
    assert titles(client) == ["Alpha", "Beta"]
    (folder / "alpha.md").write_text(page("Alpha edited"), encoding="utf-8")
    eventually(lambda: titles(client) == ["Alpha edited", "Beta"])
    (folder / "sub").mkdir()
    (folder / "sub" / "gamma.md").write_text(page("Gamma"), encoding="utf-8")
    eventually(lambda: titles(client) == ["Alpha edited", "Beta", "Gamma"])
    (folder / "beta.md").unlink()
    eventually(lambda: titles(client) == ["Alpha edited", "Gamma"])
    (folder / "alpha.md").rename(folder / "delta.md")
    delta = '{ treatment(slug: "delta") { slug } }'
    eventually(lambda: ask(client, delta)["data"] == {"treatment": {"slug": "delta"}})
    assert ask(client, '{ treatment(slug: "alpha") { slug } }')["data"]["treatment"] is None


def test_broken_edit_keeps_last_good_version_until_fixed(client: TestClient, folder: Path) -> None:
    before = ask(client, "{ contentInfo { version } }")["data"]["contentInfo"]["version"]
    (folder / "alpha.md").write_text("---\ntitle: [broken\n---\n\nHalf-saved.\n", encoding="utf-8")
    eventually(lambda: ask(client, "{ contentErrors { path } }")["data"]["contentErrors"] != [])
    data = ask(client, "{ contentErrors { path line message } treatments { nodes { title } } }")
    assert data["data"]["treatments"]["nodes"] == [{"title": "Alpha"}, {"title": "Beta"}]
    [error] = data["data"]["contentErrors"]
    assert error["path"] == "alpha.md"
    assert error["line"] == 3
    assert "serving its last good version" in error["message"]
    version = ask(client, "{ contentInfo { version } }")["data"]["contentInfo"]["version"]
    assert version == before, "nothing served changed, so the version must not"
    (folder / "alpha.md").write_text(page("Alpha fixed"), encoding="utf-8")
    eventually(lambda: titles(client) == ["Alpha fixed", "Beta"])
    assert ask(client, "{ contentErrors { path } }")["data"]["contentErrors"] == []
    after = ask(client, "{ contentInfo { version } }")["data"]["contentInfo"]["version"]
    assert after != before


def test_a_burst_of_saves_is_one_rebuild(client: TestClient, folder: Path) -> None:
    start = rebuilds(client)
    for number in range(100):
        (folder / "alpha.md").write_text(page(f"Alpha {number}"), encoding="utf-8")
    eventually(lambda: titles(client) == ["Alpha 99", "Beta"])
    time.sleep(1.2)
    # One batch; a stalled scheduler on a busy machine may split it in two, never in 100.
    assert 1 <= rebuilds(client) - start <= 2


def test_same_bytes_saved_again_keep_the_version(client: TestClient, folder: Path) -> None:
    before = ask(client, "{ contentInfo { version } }")["data"]["contentInfo"]["version"]
    start = rebuilds(client)
    (folder / "beta.md").write_text(page("Beta"), encoding="utf-8")
    eventually(lambda: rebuilds(client) > start)
    assert ask(client, "{ contentInfo { version } }")["data"]["contentInfo"]["version"] == before


# ------------------------------------------- live updates see the folder as a full load does


def pages_and_errors(index: ContentIndex) -> tuple[list[tuple[str, str]], list[str]]:
    """What a user can tell two loads apart by: each page's path and title, each error."""
    pages = sorted((t.path, t.title) for t in index.preview.treatments)
    return pages, sorted(str(error) for error in index.errors)


def make_inside_link(root: Path, outside: Path) -> list[Path]:
    (root / "sub").mkdir()
    os.symlink("../beta.md", root / "sub" / "link.md")
    return [root / "sub" / "link.md"]


def make_outside_link(root: Path, outside: Path) -> list[Path]:
    os.symlink(outside / "secret.md", root / "secret.md")
    return [root / "secret.md"]


def make_dangling_link(root: Path, outside: Path) -> list[Path]:
    os.symlink("nowhere.md", root / "dangling.md")
    return [root / "dangling.md"]


def make_link_loop(root: Path, outside: Path) -> list[Path]:
    os.symlink("loop.md", root / "loop.md")
    return [root / "loop.md"]


def make_named_pipe(root: Path, outside: Path) -> list[Path]:
    os.mkfifo(root / "pipe.md")
    return [root / "pipe.md"]


def make_hidden_pages(root: Path, outside: Path) -> list[Path]:
    (root / ".hidden.md").write_text(page("Hidden file"), encoding="utf-8")
    (root / ".drafts").mkdir()
    (root / ".drafts" / "gamma.md").write_text(page("Hidden folder"), encoding="utf-8")
    return [root / ".hidden.md", root / ".drafts" / "gamma.md"]


def make_page_in_linked_folder(root: Path, outside: Path) -> list[Path]:
    (root / "real").mkdir()
    (root / "real" / "gamma.md").write_text(page("Gamma"), encoding="utf-8")
    os.symlink("real", root / "alias")
    # A watcher reports the real path; the page is also reachable through the link.
    return [root / "real" / "gamma.md", root / "alias" / "gamma.md"]


def make_other_suffix(root: Path, outside: Path) -> list[Path]:
    (root / "notes.txt").write_text(page("Notes"), encoding="utf-8")
    (root / "gamma.MARKDOWN").write_text(page("Gamma"), encoding="utf-8")
    return [root / "notes.txt", root / "gamma.MARKDOWN"]


def make_not_pages(root: Path, outside: Path) -> list[Path]:
    made = [root / "README.md", root / "_layouts" / "x.md", root / "node_modules" / "p" / "y.md"]
    for path in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page("Not a page"), encoding="utf-8")
    return made


def make_headless_bundle(root: Path, outside: Path) -> list[Path]:
    (root / "common" / "deeper").mkdir(parents=True)
    (root / "common" / "_index.md").write_text(
        page("Common", extra="cascade:\n  _build:\n    render: never\n"), encoding="utf-8"
    )
    (root / "common" / "snippet.md").write_text(page("Snippet"), encoding="utf-8")
    (root / "common" / "deeper" / "more.md").write_text(page("More"), encoding="utf-8")
    return [
        root / "common" / "_index.md",
        root / "common" / "snippet.md",
        root / "common" / "deeper" / "more.md",
    ]


def make_jekyll_draft(root: Path, outside: Path) -> list[Path]:
    (root / "_drafts").mkdir()
    (root / "_drafts" / "idea.md").write_text(page("Idea"), encoding="utf-8")
    return [root / "_drafts" / "idea.md"]


@pytest.mark.parametrize(
    "make",
    [
        make_inside_link,
        make_outside_link,
        make_dangling_link,
        make_link_loop,
        make_named_pipe,
        make_hidden_pages,
        make_page_in_linked_folder,
        make_other_suffix,
        make_not_pages,
        make_headless_bundle,
        make_jekyll_draft,
    ],
)
def test_a_live_update_loads_what_a_full_load_loads(
    folder: Path, tmp_path: Path, make: Callable[[Path, Path], list[Path]]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(page("Secret"), encoding="utf-8")
    live = LiveIndex.load(folder)
    changed = make(folder, outside)
    live.update(changed)
    assert pages_and_errors(live.index()) == pages_and_errors(ContentIndex.from_directory(folder))


def test_a_link_inside_the_root_is_served_after_a_live_update(folder: Path) -> None:
    live = LiveIndex.load(folder)
    (folder / "sub").mkdir()
    os.symlink("../beta.md", folder / "sub" / "link.md")
    live.update([folder / "sub" / "link.md"])
    index = live.index()
    assert index.errors == ()
    assert index.public.by_slug["link"].path == "sub/link.md"
    assert index.public.by_slug["link"].title == "Beta"


def test_an_edit_of_a_linked_page_reaches_its_link(folder: Path) -> None:
    (folder / "sub").mkdir()
    os.symlink("../beta.md", folder / "sub" / "link.md")
    live = LiveIndex.load(folder)
    (folder / "beta.md").write_text(page("Beta edited"), encoding="utf-8")
    # A watcher reports the file written, not the links that lead to it.
    live.update([folder.resolve() / "beta.md"])
    index = live.index()
    assert [(t.path, t.title) for t in index.public.treatments] == [
        ("alpha.md", "Alpha"),
        ("beta.md", "Beta edited"),
        ("sub/link.md", "Beta edited"),
    ]
    assert pages_and_errors(index) == pages_and_errors(ContentIndex.from_directory(folder))


@pytest.mark.parametrize(
    ("before", "after"),
    [("title: Bundle\n", "title: Bundle\nheadless: true\n"), ("headless: true\n", "title: B\n")],
)
def test_a_bundle_head_edit_decides_for_its_whole_folder(
    folder: Path, before: str, after: str
) -> None:
    bundle = folder / "bundle"
    (bundle / "deeper").mkdir(parents=True)
    (bundle / "index.md").write_text(f"---\n{before}---\n", encoding="utf-8")
    (bundle / "part.md").write_text(page("Part"), encoding="utf-8")
    (bundle / "deeper" / "more.md").write_text(page("More"), encoding="utf-8")
    live = LiveIndex.load(folder)
    (bundle / "index.md").write_text(f"---\n{after}---\n", encoding="utf-8")
    # A watcher reports the one file written.
    live.update([folder.resolve() / "bundle" / "index.md"])
    assert pages_and_errors(live.index()) == pages_and_errors(ContentIndex.from_directory(folder))
    served = [path for path, _ in pages_and_errors(live.index())[0]]
    headless = "headless" in after
    assert served == (
        ["alpha.md", "beta.md"]
        if headless
        else ["alpha.md", "beta.md", "bundle/deeper/more.md", "bundle/index.md", "bundle/part.md"]
    )


def test_a_live_update_skips_what_the_ignore_setting_names(folder: Path) -> None:
    live = LiveIndex.load(folder, ignore=("wip/", "beta.md"))
    assert [t.path for t in live.index().preview.treatments] == ["alpha.md"]
    (folder / "wip").mkdir()
    (folder / "wip" / "x.md").write_text(page("X"), encoding="utf-8")
    (folder / "gamma.md").write_text(page("Gamma"), encoding="utf-8")
    (folder / "beta.md").write_text(page("Beta edited"), encoding="utf-8")
    live.update([folder / "wip" / "x.md", folder / "gamma.md", folder / "beta.md"])
    assert [t.path for t in live.index().preview.treatments] == ["alpha.md", "gamma.md"]
