"""`serve --workers 2`: the content loaded once by the parent, the workers forked from it."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx

from server import READY_LINE, started_server

QUERY = '{ treatment(slug: "page") { title } contentInfo { version } }'


def write(folder: Path, title: str) -> None:
    temporary = folder / ".page.tmp"
    temporary.write_text(f"---\ntitle: {title}\n---\n\nHelps with skin.\n", encoding="utf-8")
    os.replace(temporary, folder / "page.md")


def titles(url: str, times: int = 12) -> set[str]:
    """The titles served over `times` new connections (the kernel spreads them)."""
    found = set()
    for _ in range(times):
        with httpx.Client() as client:
            answer = client.post(url + "/graphql", json={"query": QUERY}).json()
        found.add(answer["data"]["treatment"]["title"])
    return found


def worker_pids(output: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"^process (\d+) ready: ", output, re.MULTILINE)]


def test_the_folder_is_loaded_once_and_each_worker_serves_it(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    write(content, "First")
    env = {"CONTENTAPI_CACHE_DIR": str(tmp_path / "cache")}
    with started_server(content, "--workers", "2", env=env) as server:
        assert titles(server.url) == {"First"}
        output = server.output()
        # The parent loaded the folder (its cache index written once), no worker did.
        assert output.count("wrote the cache folder's index") == 1, output
        pids = worker_pids(output)
        assert len(set(pids)) == 2 and server.process.pid not in pids, output
        for pid in pids:
            assert Path(f"/proc/{pid}/status").read_text().count(f"PPid:\t{server.process.pid}")
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_a_worker_started_again_under_watch_serves_the_files_as_they_are(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    write(content, "First")
    env = {"CONTENTAPI_CACHE_DIR": str(tmp_path / "cache")}
    with started_server(content, "--workers", "2", "--watch", env=env) as server:
        write(content, "Second")
        deadline = time.monotonic() + 30
        while titles(server.url) != {"Second"}:
            assert time.monotonic() < deadline, "the edit never reached both workers"
            time.sleep(0.2)
        # A crash: the parent forks a new worker from the content as it loaded it (First).
        os.kill(worker_pids(server.output())[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(READY_LINE.findall(server.output())) < 3:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        assert titles(server.url, 24) == {"Second"}
