"""The app `serve` starts with (http/starting.py): alive while the content loads, then
the built app's, with its lifespan; a failed load stops the process."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from contentapi.http.app import create_app
from contentapi.http.starting import LOADING_MESSAGE, LoadingApp
from contentapi.settings import Settings

from clients import CLINIC

QUERY = {"query": '{ treatment(slug: "mesotherapy") { title } }'}


class HeldBuild:
    """create_app on the clinic, held until released, as a long load would be."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self) -> Starlette:
        self.started.set()
        assert self.release.wait(30), "the test never released the load"
        return create_app(self.settings)


def _wait_ready(client: TestClient) -> None:
    deadline = time.monotonic() + 30
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "not ready 30 s after the load was released"
        time.sleep(0.01)


def test_alive_while_loading_then_serving(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    build = HeldBuild(Settings(content_dir=CLINIC, cache_dir=None, access_log=str(log)))
    app = LoadingApp(
        build, on_failure=lambda: pytest.fail("the load did not fail"), hold_seconds=0.05
    )
    with TestClient(app) as client:
        assert build.started.wait(10)
        health = client.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert health.headers["cache-control"] == "no-store"
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()) == (503, {"status": "loading"})
        assert ready.headers["retry-after"] == "1"
        answer = client.post("/graphql", json=QUERY)
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.json() == {"errors": [{"message": LOADING_MESSAGE}]}
        assert client.get("/img/peel.jpg").status_code == 503
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/graphql"):
            pass
        assert closed.value.code == 1013
        assert not app.loaded
        build.release.set()
        _wait_ready(client)
        assert app.loaded
        assert client.get("/readyz").json()["status"] == "ready"
        answer = client.post("/graphql", json=QUERY)
        assert answer.json() == {"data": {"treatment": {"title": "Mesotherapy"}}}
    # The built app's lifespan ran inside this one's: its access log was opened and closed.
    assert '"path":"/graphql"' in log.read_text()


def test_a_request_while_loading_waits_for_the_content() -> None:
    build = HeldBuild(Settings(content_dir=CLINIC, cache_dir=None))
    app = LoadingApp(build, on_failure=lambda: pytest.fail("the load did not fail"))
    with TestClient(app) as client, ThreadPoolExecutor(1) as pool:
        assert build.started.wait(10)
        waiting = pool.submit(client.post, "/graphql", json=QUERY)
        time.sleep(0.3)
        # Held, not refused, while the probes answer at once.
        assert not waiting.done()
        assert client.get("/readyz").status_code == 503
        build.release.set()
        answer = waiting.result(timeout=30)
        assert answer.json() == {"data": {"treatment": {"title": "Mesotherapy"}}}


def test_a_failed_load_stops_the_process(caplog: pytest.LogCaptureFixture) -> None:
    stopped = threading.Event()

    def broken() -> Starlette:
        raise OSError("the disk went away")

    app = LoadingApp(broken, on_failure=stopped.set, hold_seconds=0.05)
    with caplog.at_level(logging.CRITICAL, logger="contentapi"), TestClient(app) as client:
        assert stopped.wait(10)
        # Never ready: alive only until the process stops.
        assert client.get("/readyz").status_code == 503
    assert "the content could not be loaded: stopping" in caplog.text
    assert "OSError: the disk went away" in caplog.text


def test_stopping_while_loading_does_not_wait_for_the_load() -> None:
    build = HeldBuild(Settings(content_dir=CLINIC, cache_dir=None))
    app = LoadingApp(build, on_failure=lambda: pytest.fail("the load did not fail"))
    started = time.monotonic()
    with TestClient(app) as client:
        assert build.started.wait(10)
        assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 10
    assert not app.loaded
    build.release.set()
