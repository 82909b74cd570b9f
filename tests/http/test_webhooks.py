"""Webhooks: Standard Webhooks signatures, retries with backoff on 5xx and timeouts, none
on 4xx, order per target, a bounded queue, and serving untouched by a hanging target."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from contentapi.content.changes import Change
from contentapi.errors import SettingsError
from contentapi.http.access import AccessLog
from contentapi.http.webhooks import WebhookSender, backoff, message_id
from contentapi.schema.keys import document_key
from contentapi.schema.relay import global_id
from contentapi.settings import Settings

from clients import make_client

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


class Receiver:
    """A webhook target on 127.0.0.1: answers each request with the next reply of `replies`
    (a status, or "hang" to wait until released, or a float to sleep that long, then 200),
    then 200; keeps what it was sent."""

    def __init__(self, replies: list[int | str | float] | None = None) -> None:
        self.replies = list(replies or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    receiver.received.append((dict(self.headers.items()), body))
                    reply = receiver.replies.pop(0) if receiver.replies else 200
                if reply == "hang":
                    receiver.release.wait(30)
                    reply = 200
                elif isinstance(reply, float):
                    time.sleep(reply)
                    reply = 200
                self.send_response(int(reply))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ids(self) -> list[str]:
        with self.lock:
            return [headers["webhook-id"] for headers, _ in self.received]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(replies: list[int | str | float] | None = None) -> Receiver:
        made.append(Receiver(replies))
        return made[-1]

    yield make
    for one in made:
        one.close()


def change(n: int) -> Change:
    return Change(f"v{n - 1}", f"v{n}", (), (f"/page-{n}/",), (), "2026-01-01T00:00:00.000Z")


def sender(url: str, **options: Any) -> WebhookSender:
    options = {"backoff_base": 0.01, "backoff_cap": 0.05, **options}
    return WebhookSender([url], SECRET, **options)


def run(
    webhooks: WebhookSender, changes: list[Change], done: Callable[[], bool], settle: float = 0
) -> None:
    """Queue the changes, deliver until `done` (then `settle` seconds more), stop."""

    async def main() -> None:
        for one in changes:
            webhooks.notify(one)
        await webhooks.start()
        deadline = time.monotonic() + 10
        while not done():
            assert time.monotonic() < deadline, "the deliveries did not arrive in time"
            await asyncio.sleep(0.01)
        await asyncio.sleep(settle)
        await webhooks.stop()

    asyncio.run(main())


def access_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_delivery_is_signed_as_standard_webhooks_says(
    receiver: Callable[..., Receiver],
) -> None:
    target = receiver()
    one = Change("v1", "v2", ("/new/",), ("/a/",), ("/gone/",), "2026-01-01T00:00:00.000Z")
    run(sender(target.url), [one], lambda: len(target.received) == 1)
    headers, body = target.received[0]
    assert Webhook(SECRET).verify(body, headers) == {
        "type": "content.changed",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "data": {
            "version": "v2",
            "previousVersion": "v1",
            "created": [{"id": global_id("Treatment", "new"), "uri": "/new/"}],
            "updated": [{"id": global_id("Treatment", "a"), "uri": "/a/"}],
            "deleted": [{"id": global_id("Treatment", "gone"), "uri": "/gone/"}],
            "moved": [],
            "keys": [
                *sorted(document_key(uri) for uri in ("/new/", "/a/", "/gone/")),
                "categories",
                "images",
                "indications",
                "search",
                "treatments",
                "lists",
                "version",
            ],
        },
    }
    assert headers["webhook-id"] == message_id("v1", "v2")
    assert headers["content-type"] == "application/json"
    with pytest.raises(Exception, match="No matching signature"):
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(body, headers)


def test_the_id_comes_from_the_version_pair_alone() -> None:
    assert message_id("a", "b") == message_id("a", "b")
    assert message_id("a", "b") != message_id("b", "a")
    assert message_id(None, "b").startswith("msg_")


def test_a_5xx_is_retried_with_backoff_and_every_attempt_logged(
    receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    target = receiver([500, 503])
    access = AccessLog(str(tmp_path / "access.log"))
    access.open()
    webhooks = sender(target.url, access_log=access)
    # Settle: the last answer is logged after the receiver has seen the request.
    run(webhooks, [change(1)], lambda: len(target.received) == 3, settle=0.3)
    access.close()
    assert target.ids() == [message_id("v0", "v1")] * 3
    assert [
        (line["attempt"], line["status"]) for line in access_lines(tmp_path / "access.log")
    ] == [
        (1, 500),
        (2, 503),
        (3, 200),
    ]
    assert {line["webhook"] for line in access_lines(tmp_path / "access.log")} == {target.url}


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    for attempt, full in ((1, 1.0), (2, 2.0), (3, 4.0), (10, 60.0)):
        delay = backoff(attempt, 1.0, 60.0)
        assert full / 2 <= delay <= full


def test_a_4xx_is_not_retried(
    receiver: Callable[..., Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    target = receiver([400])
    with caplog.at_level(logging.WARNING, logger="contentapi.webhooks"):
        # The second message follows the first: a retry of the first would come before it.
        run(sender(target.url), [change(1), change(2)], lambda: len(target.received) == 2)
    assert target.ids() == [message_id("v0", "v1"), message_id("v1", "v2")]
    assert "answered 400" in caplog.text


def test_a_timeout_is_retried(receiver: Callable[..., Receiver], tmp_path: Path) -> None:
    target = receiver([1.0])
    access = AccessLog(str(tmp_path / "access.log"))
    access.open()
    webhooks = sender(target.url, access_log=access, timeout=0.2)
    run(webhooks, [change(1)], lambda: len(target.received) == 2, settle=0.3)
    access.close()
    lines = access_lines(tmp_path / "access.log")
    assert [(line["status"], line["error"]) for line in lines] == [(None, "timeout"), (200, None)]


def test_attempts_are_bounded(
    receiver: Callable[..., Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    target = receiver([500] * 10)
    with caplog.at_level(logging.WARNING, logger="contentapi.webhooks"):
        run(sender(target.url, attempts=3), [change(1)], lambda: "not delivered" in caplog.text)
    assert len(target.received) == 3
    assert "not delivered after 3 attempts" in caplog.text


def test_messages_go_one_at_a_time_in_order(receiver: Callable[..., Receiver]) -> None:
    target = receiver([500, 200, 502])
    changes = [change(n) for n in range(1, 6)]
    run(sender(target.url), changes, lambda: len(target.received) == 7)
    first, second = message_id("v0", "v1"), message_id("v1", "v2")
    rest = [message_id(f"v{n - 1}", f"v{n}") for n in range(3, 6)]
    assert target.ids() == [first, first, second, second, *rest]


def test_a_full_queue_drops_the_oldest_with_a_warning(
    receiver: Callable[..., Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    target = receiver(["hang"])
    webhooks = sender(target.url, queue=2)

    async def main() -> None:
        webhooks.notify(change(1))
        await webhooks.start()
        while not target.received:
            await asyncio.sleep(0.01)
        for n in range(2, 7):  # the first is being sent: five more into a queue of two
            webhooks.notify(change(n))
        target.release.set()
        while len(target.received) < 3:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        await webhooks.stop()

    with caplog.at_level(logging.WARNING, logger="contentapi.webhooks"):
        asyncio.run(main())
    assert target.ids() == [message_id(f"v{n - 1}", f"v{n}") for n in (1, 5, 6)]
    assert caplog.text.count("dropped the oldest") == 3


def page(title: str) -> str:
    return f"---\ntitle: {title}\n---\n\nAbout {title}.\n"


def test_an_edit_under_watch_is_sent_and_serving_goes_on_while_a_target_hangs(
    receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "alpha.md").write_text(page("Alpha"), encoding="utf-8")
    hanging, working = receiver(["hang"]), receiver()
    settings = Settings(
        content_dir=content,
        watch=True,
        cache_dir=None,
        webhooks=f"{hanging.url}, {working.url}",
        webhook_secret=SECRET,
    )
    with make_client(settings, raise_server_exceptions=True) as client:
        version = client.get("/readyz").json()["version"]
        (content / "alpha.md").write_text(page("Alpha edited"), encoding="utf-8")
        deadline = time.monotonic() + 15
        while not (working.received and hanging.received):
            assert time.monotonic() < deadline, "no webhook arrived"
            time.sleep(0.02)
        # The first target holds its request open: requests are still answered.
        for _ in range(20):
            answer = client.get(
                "/graphql", params={"query": '{ treatment(slug: "alpha") { title } }'}
            )
            assert answer.json() == {"data": {"treatment": {"title": "Alpha edited"}}}
        assert not hanging.release.is_set()
        headers, body = working.received[0]
        data = Webhook(SECRET).verify(body, headers)["data"]
        assert data["previousVersion"] == version
        assert data["updated"] == [{"id": global_id("Treatment", "alpha"), "uri": "/alpha/"}]
        assert headers["webhook-id"] == hanging.received[0][0]["webhook-id"]
        hanging.release.set()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"webhooks": "https://a.example/hook"}, "WEBHOOK_SECRET is empty"),
        ({"webhooks": "ftp://a.example/hook", "webhook_secret": SECRET}, "not a webhook URL"),
        ({"webhooks": "https://a.example/", "webhook_secret": "whsec_abc"}, "24 to 64"),
        ({"webhooks": "https://a.example/", "webhook_secret": "whsec_!!"}, "24 to 64"),
        (
            {"webhooks": "https://a.example/", "webhook_secret": SECRET, "webhook_attempts": 0},
            "at least 1",
        ),
    ],
)
def test_bad_webhook_settings_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings(**values)


def test_a_server_without_webhooks_never_imports_httpx() -> None:
    """httpx (with the rich and click of its command line) is about 4 MB of each
    worker's memory: only a server sending webhooks loads it."""
    script = (
        "import sys\n"
        "from contentapi.http.app import create_app\n"
        "from contentapi.settings import Settings\n"
        "from pathlib import Path\n"
        "create_app(Settings(content_dir=Path(sys.argv[1]), cache_dir=None))\n"
        "print(sorted(m for m in ('httpx', 'rich') if m in sys.modules))\n"
    )
    content = Path(__file__).resolve().parents[2] / "content"
    done = subprocess.run(
        [sys.executable, "-c", script, str(content)],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")},
    )
    assert done.stdout.strip() == "[]"
