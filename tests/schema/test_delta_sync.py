"""changes(since:): an app keeps an offline copy in step with deltas."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from contentapi.schema.relay import global_id
from contentapi.settings import Settings

from clients import make_client

TOKEN = "preview"
FIELDS = "id uri title html"


def page(title: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\nAbout {title}.\n"


def tid(key: str) -> str:
    return global_id("Treatment", key)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    (content / "alpha.md").write_text(page("Alpha"), encoding="utf-8")
    (content / "beta.md").write_text(page("Beta"), encoding="utf-8")
    (content / "secret.md").write_text(page("Secret", "draft: true\n"), encoding="utf-8")
    return content


def client_of(folder: Path, **changes: Any) -> TestClient:
    settings = Settings(
        content_dir=folder, watch=True, preview_token=TOKEN, cache_dir=folder.parent / "cache"
    )
    return make_client(settings, raise_server_exceptions=True, **changes)


@pytest.fixture
def client(folder: Path) -> Iterator[TestClient]:
    with client_of(folder) as client:
        yield client


def ask(client: TestClient, query: str, preview: bool = False, **variables: Any) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {TOKEN}"} if preview else {}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def version(client: TestClient, preview: bool = False) -> str:
    return str(ask(client, "{ contentInfo { version } }", preview)["contentInfo"]["version"])


def changes(client: TestClient, since: str, preview: bool = False) -> dict[str, Any]:
    query = "query($since: String!) { changes(since: $since) { version complete updated deleted } }"
    result: dict[str, Any] = ask(client, query, preview, since=since)["changes"]
    return result


def edit(client: TestClient, path: Path, text: str | None, preview: bool = False) -> str:
    """Change a file and wait for the server to serve the new version."""
    before = version(client, preview)
    if text is None:
        path.unlink()
    else:
        path.write_text(text, encoding="utf-8")
    deadline = time.monotonic() + 15
    while (now := version(client, preview)) == before:
        assert time.monotonic() < deadline, "the edit did not show up in time"
        time.sleep(0.05)
    return now


class App:
    """A mobile app's offline copy, kept by delta sync."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.version = ""
        self.copy: dict[str, dict[str, Any]] = {}

    def sync(self) -> dict[str, Any]:
        delta = changes(self.client, self.version)
        if not delta["complete"]:
            self.copy = {}
        query = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Treatment {{ {FIELDS} }} }} }}"
        for node in ask(self.client, query, ids=delta["updated"])["nodes"]:
            self.copy[node["id"]] = node
        for gone in delta["deleted"]:
            self.copy.pop(gone, None)
        self.version = delta["version"]
        return delta


def everything(client: TestClient) -> dict[str, dict[str, Any]]:
    nodes = ask(client, f"{{ treatments(first: 100) {{ nodes {{ {FIELDS} }} }} }}")
    return {node["id"]: node for node in nodes["treatments"]["nodes"]}


def test_an_app_keeps_its_copy_by_delta_sync(client: TestClient, folder: Path) -> None:
    app = App(client)
    full = app.sync()
    assert full == {
        "version": version(client),
        "complete": False,
        "updated": [tid("alpha"), tid("beta")],
        "deleted": [],
    }
    assert app.copy == everything(client)
    edit(client, folder / "alpha.md", page("Alpha edited"))
    edit(client, folder / "gamma.md", page("Gamma"))
    last = edit(client, folder / "beta.md", None)
    delta = app.sync()
    assert delta == {
        "version": last,
        "complete": True,
        "updated": [tid("alpha"), tid("gamma")],
        "deleted": [tid("beta")],
    }
    assert app.copy == everything(client)
    assert app.copy[tid("alpha")]["title"] == "Alpha edited"
    assert app.sync() == {"version": last, "complete": True, "updated": [], "deleted": []}


def test_drafts_change_only_with_the_preview_token(client: TestClient, folder: Path) -> None:
    public, preview = version(client), version(client, preview=True)
    edit(client, folder / "secret.md", page("Secret 2", "draft: true\n"), preview=True)
    assert changes(client, public) == {
        "version": public,
        "complete": True,
        "updated": [],
        "deleted": [],
    }
    assert changes(client, preview, preview=True) == {
        "version": version(client, preview=True),
        "complete": True,
        "updated": [tid("secret")],
        "deleted": [],
    }


def test_a_version_older_than_the_history_is_incomplete(folder: Path) -> None:
    with client_of(folder, changes_kept=1) as client:
        start = version(client)
        edit(client, folder / "alpha.md", page("Alpha 2"))
        edit(client, folder / "beta.md", page("Beta 2"))
        assert changes(client, start)["complete"] is False


def test_the_history_survives_a_restart(folder: Path) -> None:
    with client_of(folder) as client:
        start = version(client)
        edit(client, folder / "alpha.md", page("Alpha 2"))
    (folder / "beta.md").unlink()  # while the server is down
    with client_of(folder) as client:
        assert changes(client, start) == {
            "version": version(client),
            "complete": True,
            "updated": [tid("alpha")],
            "deleted": [tid("beta")],
        }
