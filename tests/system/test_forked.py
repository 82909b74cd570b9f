"""`serve --workers 2`: the content loaded once by a process that serves too, the other
worker forked from it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from pathlib import Path

import httpx

from server import READY_LINE, started_server

ENDED = re.compile(
    r"worker process (\d+) ended \(.*?\) after [\d.]+ s: starting another in (\d+) s"
)
QUERY = '{ treatment(slug: "page") { title } contentInfo { version } }'


def write(folder: Path, title: str) -> None:
    temporary = folder / ".page.tmp"
    temporary.write_text(f"---\ntitle: {title}\n---\n\nHelps with skin.\n", encoding="utf-8")
    os.replace(temporary, folder / "page.md")


def folder_of_one_page(tmp_path: Path, title: str) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    write(content, title)
    return content


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


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie, ended but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_the_folder_is_loaded_once_and_each_worker_serves_it(tmp_path: Path) -> None:
    content = folder_of_one_page(tmp_path, "First")
    env = {"CONTENTAPI_CACHE_DIR": str(tmp_path / "cache")}
    with started_server(content, "--workers", "2", env=env) as server:
        assert titles(server.url) == {"First"}
        output = server.output()
        # One process loaded the folder (its cache index written once) and serves; the
        # other worker is its child.
        assert output.count("wrote the cache folder's index") == 1, output
        pids = worker_pids(output)
        assert len(set(pids)) == 2 and server.process.pid in pids, output
        (child,) = set(pids) - {server.process.pid}
        assert f"PPid:\t{server.process.pid}\n" in Path(f"/proc/{child}/status").read_text()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        # Both shut down gracefully (uvicorn's last line of a process).
        assert f"Finished server process [{child}]" in server.output()
        assert f"Finished server process [{server.process.pid}]" in server.output()
    assert not alive(child)


def test_a_worker_started_again_under_watch_serves_the_files_as_they_are(tmp_path: Path) -> None:
    content = folder_of_one_page(tmp_path, "First")
    env = {"CONTENTAPI_CACHE_DIR": str(tmp_path / "cache")}
    with started_server(content, "--workers", "2", "--watch", env=env) as server:
        write(content, "Second")
        deadline = time.monotonic() + 30
        while titles(server.url) != {"Second"}:
            assert time.monotonic() < deadline, "the edit never reached both workers"
            time.sleep(0.2)
        # A crash: the loading process starts another worker, which loads the files as
        # they are now (Second).
        (child,) = set(worker_pids(server.output())) - {server.process.pid}
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(READY_LINE.findall(server.output())) < 3:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        assert titles(server.url, 24) == {"Second"}


def test_the_workers_end_with_the_loading_process(tmp_path: Path) -> None:
    content = folder_of_one_page(tmp_path, "First")
    env = {"CONTENTAPI_CACHE_DIR": ""}
    with started_server(content, "--workers", "3", env=env) as server:
        assert titles(server.url) == {"First"}
        pids = set(worker_pids(server.output()))
        assert len(pids) == 3 and server.process.pid in pids
        # However the loading process ends (here it gets no chance to stop them), the
        # kernel stops its workers (PR_SET_PDEATHSIG): no worker is left holding the port.
        server.process.kill()
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in pids - {server.process.pid}):
            assert time.monotonic() < deadline, "a worker outlived the loading process"
            time.sleep(0.1)


def test_a_worker_that_cannot_load_is_started_again_ever_more_slowly(tmp_path: Path) -> None:
    content = folder_of_one_page(tmp_path, "First")
    env = {"CONTENTAPI_CACHE_DIR": ""}
    with started_server(content, "--workers", "2", env=env) as server:
        (child,) = set(worker_pids(server.output())) - {server.process.pid}
        # Each worker started from now on finds no folder to load, and stops.
        shutil.rmtree(content)
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(ENDED.findall(server.output())) < 4:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
        endings = ENDED.findall(server.output())[:4]
        assert endings[0] == (str(child), "1")
        assert [wait for _, wait in endings] == ["1", "2", "4", "8"]
        assert server.output().count("the content could not be loaded: stopping") >= 3
        # The loading process serves on, from what it loaded.
        assert titles(server.url, 4) == {"First"}
