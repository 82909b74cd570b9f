"""An edit under --watch, followed by the real clients against a real server: the npm
packages graphql-sse (distinct connections mode) and graphql-ws (graphql-transport-ws),
run by tests/subscriptions/follow.mjs (packages from its package-lock.json, installed by
`make test`), a Standard Webhooks receiver on 127.0.0.1, and changes(since:)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from contentapi.schema.relay import global_id

from server import running_server

ROOT = Path(__file__).resolve().parent.parent.parent
NODE_DIR = ROOT / "tests" / "subscriptions"
REQUIRED_PACKAGES = ("graphql", "graphql-sse", "graphql-ws", "ws")
SECRET = "whsec_" + base64.b64encode(bytes(range(32, 64))).decode()
TOKEN = "system-preview"


def _node() -> str:
    """Path of node, with tests/subscriptions' packages installed (else skip; fail under CI)."""
    found = shutil.which("node")
    missing = [
        name
        for name in REQUIRED_PACKAGES
        if not (NODE_DIR / "node_modules" / name / "package.json").is_file()
    ]
    if found is not None and not missing:
        return found
    problem = (
        "node is not installed"
        if found is None
        else f"tests/subscriptions/node_modules lacks {', '.join(missing)} (`npm ci` was not run)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem}: CI must install it (`make node-deps` runs npm ci there)")
    pytest.skip(f"{problem}: run `make test`, which installs the npm packages")


class Receiver:
    """A webhook target on 127.0.0.1 answering 200, noting when each delivery arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append((time.time(), dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    one = Receiver()
    yield one
    one.server.shutdown()
    one.server.server_close()


def page(title: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\nAbout {title}.\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    (content / "alpha.md").write_text(page("Alpha"), encoding="utf-8")
    (content / "beta.md").write_text(page("Beta"), encoding="utf-8")
    (content / "secret.md").write_text(page("Secret", "draft: true\n"), encoding="utf-8")
    return content


def ask(url: str, query: str, preview: bool = False, **variables: Any) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {TOKEN}"} if preview else {}
    body = {"query": query, "variables": variables}
    response = httpx.post(url + "/graphql", json=body, headers=headers, timeout=10)
    data: dict[str, Any] = response.json()["data"]
    return data


def version(url: str, preview: bool = False) -> str:
    return str(ask(url, "{ contentInfo { version } }", preview)["contentInfo"]["version"])


class Follower:
    """follow.mjs running: both clients subscribed once it says it is ready."""

    def __init__(self, url: str, events: int, token: str = "") -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")}
        self.process = subprocess.Popen(
            [_node(), "follow.mjs", url, str(events), *([token] if token else [])],
            cwd=NODE_DIR,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert json.loads(line or "null") == {"ready": True}, line + self.process.stderr.read()

    def events(self) -> dict[str, tuple[float, dict[str, Any]]]:
        """The events by client, with when each arrived (seconds since the epoch)."""
        stdout, stderr = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, stderr
        lines = [json.loads(line) for line in stdout.splitlines()]
        return {line["client"]: (line["at"], line["event"]) for line in lines}


def doc(key: str) -> dict[str, str]:
    return {"id": global_id("Treatment", key), "uri": f"/{key}/"}


def test_an_edit_reaches_sse_websocket_and_webhook_within_a_second(
    folder: Path, receiver: Receiver, tmp_path: Path
) -> None:
    env = {
        "CONTENTAPI_PREVIEW_TOKEN": TOKEN,
        "CONTENTAPI_WEBHOOKS": receiver.url,
        "CONTENTAPI_WEBHOOK_SECRET": SECRET,
        "CONTENTAPI_CACHE_DIR": str(tmp_path / "cache"),
    }
    with running_server(folder, "--watch", env=env) as url:
        before = version(url)
        follower = Follower(url, 1)
        (folder / "alpha.md").write_text(page("Alpha edited"), encoding="utf-8")
        edited = time.time()
        events = follower.events()
        after = version(url)
        expected = {
            "version": after,
            "previousVersion": before,
            "created": [],
            "updated": [doc("alpha")],
            "deleted": [],
        }
        assert {name: event for name, (_, event) in events.items()} == {
            "sse": expected,
            "ws": expected,
        }
        deadline = time.monotonic() + 5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        arrived, headers, body = receiver.received[0]
        delivered = Webhook(SECRET).verify(body, headers)["data"]
        assert (delivered["previousVersion"], delivered["version"]) == (before, after)
        assert delivered["updated"] == [doc("alpha")]
        latencies = {name: at - edited for name, (at, _) in events.items()}
        latencies["webhook"] = arrived - edited
        print("edit to event, seconds:", {k: round(v, 3) for k, v in latencies.items()})
        assert all(latency < 1.0 for latency in latencies.values()), latencies
        query = "query($s: String!) { changes(since: $s) { version complete updated deleted } }"
        assert ask(url, query, s=before)["changes"] == {
            "version": after,
            "complete": True,
            "updated": [doc("alpha")["id"]],
            "deleted": [],
        }


def test_a_draft_edit_reaches_only_followers_with_the_token(folder: Path) -> None:
    env = {"CONTENTAPI_PREVIEW_TOKEN": TOKEN, "CONTENTAPI_CACHE_DIR": ""}
    with running_server(folder, "--watch", env=env) as url:
        public = version(url)
        plain = Follower(url, 1)
        previewing = Follower(url, 1, TOKEN)
        (folder / "secret.md").write_text(page("Secret 2", "draft: true\n"), encoding="utf-8")
        for _, event in previewing.events().values():
            assert event["updated"] == [doc("secret")]
        (folder / "beta.md").unlink()
        # The public followers' one event is the deletion: the draft's edit never came.
        for _, event in plain.events().values():
            assert (event["previousVersion"], event["deleted"]) == (public, [doc("beta")])


def test_an_idle_sse_stream_is_kept_alive(folder: Path) -> None:
    env = {"CONTENTAPI_CACHE_DIR": "", "CONTENTAPI_SUBSCRIPTION_KEEP_ALIVE": "1"}
    with running_server(folder, "--watch", env=env) as url:
        body = {"query": "subscription { contentChanged { version } }"}
        headers = {"accept": "text/event-stream"}
        started = time.monotonic()
        with httpx.stream(
            "POST", url + "/graphql/stream", json=body, headers=headers, timeout=10
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line == ": ping":
                    break
        assert time.monotonic() - started < 5
