"""contentChanged over WebSocket (graphql-transport-ws), in process: events per change,
drafts only with the preview token, limits per client and in total. graphql-sse and the
real JS clients are in tests/system/test_subscriptions.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from contentapi.schema.relay import global_id
from contentapi.settings import Settings

from clients import make_client

TOKEN = "preview"
SUBSCRIPTION = (
    "subscription { contentChanged { version previousVersion"
    " created { id uri } updated { id uri } deleted { id uri } } }"
)
Socket = Any


def page(title: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\nAbout {title}.\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    (content / "alpha.md").write_text(page("Alpha"), encoding="utf-8")
    (content / "secret.md").write_text(page("Secret", "draft: true\n"), encoding="utf-8")
    return content


def client_of(folder: Path, **changes: Any) -> TestClient:
    settings = Settings(content_dir=folder, watch=True, preview_token=TOKEN, cache_dir=None)
    return make_client(settings, raise_server_exceptions=True, **changes)


@pytest.fixture
def client(folder: Path) -> Iterator[TestClient]:
    with client_of(folder) as client:
        yield client


@contextmanager
def subscribed(
    client: TestClient, payload: dict[str, str] | None = None, path: str = "/graphql"
) -> Iterator[Socket]:
    with client.websocket_connect(path, subprotocols=["graphql-transport-ws"]) as socket:
        socket.send_json({"type": "connection_init", "payload": payload or {}})
        assert socket.receive_json() == {"type": "connection_ack"}
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        # A query on the same socket answers once the subscription is in place.
        socket.send_json(
            {"id": "2", "type": "subscribe", "payload": {"query": "{ contentInfo { version } }"}}
        )
        assert socket.receive_json()["id"] == "2"
        assert socket.receive_json() == {"id": "2", "type": "complete"}
        yield socket


def version(client: TestClient, preview: bool = False) -> str:
    headers = {"authorization": f"Bearer {TOKEN}"} if preview else {}
    body = client.post("/graphql", json={"query": "{ contentInfo { version } }"}, headers=headers)
    return str(body.json()["data"]["contentInfo"]["version"])


def event(socket: Socket) -> dict[str, Any]:
    message = socket.receive_json()
    assert message["id"] == "1" and message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]["contentChanged"]
    return data


def doc(key: str) -> dict[str, str]:
    return {"id": global_id("Treatment", key), "uri": f"/{key}/"}


def test_an_edit_reaches_a_websocket_subscriber(client: TestClient, folder: Path) -> None:
    before = version(client)
    with subscribed(client) as socket:
        (folder / "beta.md").write_text(page("Beta"), encoding="utf-8")
        (folder / "alpha.md").unlink()
        change = event(socket)
        if change["deleted"] == []:  # the watcher saw the two in two bursts
            change = {**change, "deleted": event(socket)["deleted"]}
        assert change["previousVersion"] == before
        assert change["created"] == [doc("beta")]
        assert change["deleted"] == [doc("alpha")]


def test_drafts_reach_only_subscribers_with_the_token(client: TestClient, folder: Path) -> None:
    public = version(client)
    with (
        subscribed(client) as plain,
        subscribed(client, {"authorization": f"Bearer {TOKEN}"}) as preview,
    ):
        (folder / "secret.md").write_text(page("Secret 2", "draft: true\n"), encoding="utf-8")
        assert event(preview)["updated"] == [doc("secret")]
        (folder / "alpha.md").write_text(page("Alpha 2"), encoding="utf-8")
        # The public subscriber's first event is the public edit: the draft's never came.
        first = event(plain)
        assert (first["previousVersion"], first["updated"]) == (public, [doc("alpha")])
        assert event(preview)["updated"] == [doc("alpha")]


def test_the_token_in_a_header_shows_drafts_too(client: TestClient, folder: Path) -> None:
    with client.websocket_connect(
        "/graphql/stream",
        subprotocols=["graphql-transport-ws"],
        headers={"authorization": f"Bearer {TOKEN}"},
    ) as socket:
        socket.send_json({"type": "connection_init", "payload": {}})
        socket.receive_json()
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        socket.send_json(
            {"id": "2", "type": "subscribe", "payload": {"query": "{ contentInfo { version } }"}}
        )
        assert socket.receive_json()["id"] == "2"
        socket.receive_json()
        (folder / "secret.md").unlink()
        assert event(socket)["deleted"] == [doc("secret")]


def refused(client: TestClient) -> str:
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        socket.send_json({"type": "connection_init", "payload": {}})
        socket.receive_json()
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        message = socket.receive_json()
        assert message["payload"]["data"] is None
        return str(message["payload"]["errors"][0]["message"])


@pytest.mark.parametrize(
    ("limits", "named"),
    [
        ({"subscriptions_per_client": 1}, "CONTENTAPI_SUBSCRIPTIONS_PER_CLIENT"),
        ({"subscriptions_max": 1}, "CONTENTAPI_SUBSCRIPTIONS_MAX"),
    ],
)
def test_subscriptions_are_limited(folder: Path, limits: dict[str, int], named: str) -> None:
    with client_of(folder, **limits) as client:
        with subscribed(client):
            assert named in refused(client)
            assert client.app.state.feed.open == 1  # type: ignore[attr-defined]
        # Closed: its place is free again.
        with subscribed(client):
            assert client.app.state.feed.open == 1  # type: ignore[attr-defined]


def test_another_subprotocol_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/graphql", subprotocols=["nonsense"]) as socket:
            socket.receive_json()


def test_a_subscription_over_plain_graphql_says_where_streams_are(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": SUBSCRIPTION})
    assert response.status_code == 400
    assert "/graphql/stream" in response.json()["errors"][0]["message"]


def test_a_query_over_sse_is_answered_as_events(client: TestClient) -> None:
    response = client.post(
        "/graphql/stream",
        json={"query": "{ contentInfo { treatmentCount } }"},
        headers={"accept": "text/event-stream"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache, no-transform"
    assert response.text == (
        'event: next\r\ndata: {"data":{"contentInfo":{"treatmentCount":1}}}\r\n\r\n'
        "event: complete\r\ndata: \r\n\r\n"
    )


def test_a_stream_request_body_over_the_limit_is_refused(folder: Path) -> None:
    with client_of(folder, max_body_bytes=1000) as client:
        query = "{ contentInfo { version } }" + " " * 2000
        response = client.post(
            "/graphql/stream", json={"query": query}, headers={"accept": "text/event-stream"}
        )
        assert response.status_code == 413
        assert response.json() == {
            "errors": [{"message": "the request body is larger than the limit of 1000 bytes"}]
        }
