"""A real `contentapi serve` is alive (/healthz) from the moment its port opens and ready
(/readyz) once its content is loaded; in between, a query waits for the content."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from contentapi.http.starting import HOLD_SECONDS

from server import launched_server

PAGES = 1_000
QUERY = {"query": '{ treatment(slug: "page-999") { title } }'}
# Generous: a cold load of these pages takes a few seconds on 2 cores.
TIMEOUT = 180.0


def _write_pages(root: Path) -> None:
    body = "\n\n".join(
        [
            "A paragraph with *emphasis*, `code` and [a link](https://example.org/).",
            "- one\n- two\n- three",
            "```python\nprint('hello')\n```",
            "| a | b |\n|---|---|\n| 1 | 2 |",
        ]
        * 6
    )
    for number in range(PAGES):
        (root / f"page-{number}.md").write_text(
            f"---\ntitle: Page {number}\n---\n\n{body}\n", encoding="utf-8"
        )


def test_alive_before_ready_on_a_cold_start(tmp_path: Path) -> None:
    _write_pages(tmp_path)
    # No page cache: every page is parsed.
    with launched_server(tmp_path, env={"CONTENTAPI_CACHE_DIR": ""}) as server:
        url, process = server.url, server.process
        deadline = time.monotonic() + TIMEOUT
        while True:  # until the port is open
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, f"no answer after {TIMEOUT} s"
            try:
                health = httpx.get(url + "/healthz", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.02)
        ready = httpx.get(url + "/readyz", timeout=5)
        # Alive and loading as soon as it answers: the load takes seconds.
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert (ready.status_code, ready.json()) == (503, {"status": "loading"})
        # A query sent while loading waits for the content (up to HOLD_SECONDS), then is
        # served, or is told to come back if the load takes longer still.
        held = httpx.post(url + "/graphql", json=QUERY, timeout=HOLD_SECONDS + 10)
        if held.status_code == 200:
            assert held.json() == {"data": {"treatment": {"title": "Page 999"}}}
        else:
            assert (held.status_code, held.headers["retry-after"]) == (503, "1")
        while (ready := httpx.get(url + "/readyz", timeout=5)).status_code != 200:
            assert ready.json() == {"status": "loading"}
            assert httpx.get(url + "/healthz", timeout=5).status_code == 200
            assert time.monotonic() < deadline, f"not ready after {TIMEOUT} s"
            time.sleep(0.05)
        assert ready.json()["treatments"] == PAGES
        served = httpx.post(url + "/graphql", json=QUERY, timeout=5)
        assert served.json() == {"data": {"treatment": {"title": "Page 999"}}}
