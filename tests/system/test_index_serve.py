"""The real server serving a built index file, read-only: two workers, and --watch."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server import ROOT, started_server

CLINIC = ROOT / "tests" / "fixtures" / "clinic"


def test_two_workers_serve_one_built_file_without_parsing(tmp_path: Path) -> None:
    out = tmp_path / "site.sqlite"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "contentapi",
            "build",
            str(CLINIC),
            "-o",
            str(out),
            "--cache-dir",
            "",
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    os.chmod(out, 0o444)  # read-only: the server never writes it
    before = out.read_bytes()
    env = {"CONTENTAPI_CACHE_DIR": ""}
    with started_server(CLINIC, "--index", str(out), "--workers", "2", env=env) as server:
        search = '{ search(query: "skin", first: 5) { treatment { slug } } }'
        for _ in range(6):  # connections spread over both workers
            answer = httpx.post(server.url + "/graphql", json={"query": search}).json()
            slugs = [hit["treatment"]["slug"] for hit in answer["data"]["search"]]
            assert slugs == ["peel", "mesotherapy"]
        peel = httpx.post(
            server.url + "/graphql",
            json={"query": '{ treatment(slug: "peel") { title wordCount } }'},
        ).json()
        assert peel == {"data": {"treatment": {"title": "Chemical Peel", "wordCount": 9}}}
        # Opened once, by the process that serves too, before the other worker was forked.
        output = server.output()
        assert output.count("serving 4 pages from index file") == 1
        ready = re.findall(r"^process (\d+) ready: content version (\w+), 4 pages", output, re.M)
        assert len({pid for pid, _ in ready}) == 2, output
        assert len({version for _, version in ready}) == 1, output
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.sqlite"]


def test_watch_over_a_built_index_serves_an_edit(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CLINIC, content)
    out = tmp_path / "site.sqlite"
    subprocess.run(
        [sys.executable, "-m", "contentapi", "build", str(content), "-o", str(out)]
        + ["--cache-dir", ""],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    env = {"CONTENTAPI_CACHE_DIR": ""}
    query = '{ search(query: "zebra", first: 5) { treatment { slug title } } }'
    with started_server(content, "--index", str(out), "--watch", env=env) as server:
        first = httpx.post(server.url + "/graphql", json={"query": query}).json()
        assert first == {"data": {"search": []}}
        page = content / "peel.md"
        page.write_text(page.read_text().replace("outer layer", "zebra layer"))
        deadline = time.monotonic() + 15
        while True:
            answer = httpx.post(server.url + "/graphql", json={"query": query}).json()
            if answer["data"]["search"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert answer == {
            "data": {"search": [{"treatment": {"slug": "peel", "title": "Chemical Peel"}}]}
        }
        assert "serving 4 pages from index file" in server.output()


def test_forked_workers_record_an_edit_and_stop(tmp_path: Path) -> None:
    """The change record is written by a thread of its own: two workers forked after the
    start's record was written each record the edit they reload, and stop promptly."""
    content = tmp_path / "content"
    shutil.copytree(CLINIC, content)
    cache = tmp_path / "cache"
    env = {"CONTENTAPI_CACHE_DIR": str(cache)}
    query = '{ treatment(slug: "peel") { title } }'
    with started_server(content, "--workers", "2", "--watch", env=env) as server:
        page = content / "peel.md"
        page.write_text(page.read_text().replace("title: Chemical Peel", "title: Zebra Peel"))
        deadline = time.monotonic() + 15
        titles: set[str] = set()
        while titles != {"Zebra Peel"} and time.monotonic() < deadline:
            # New connections spread over both workers: each must serve the edit.
            titles = {
                httpx.post(server.url + "/graphql", json={"query": query}).json()["data"][
                    "treatment"
                ]["title"]
                for _ in range(6)
            }
            time.sleep(0.2)
        assert titles == {"Zebra Peel"}
        stopping = time.monotonic()
        server.process.terminate()
        assert server.process.wait(timeout=15) == 0, server.output()
        assert time.monotonic() - stopping < 10
    (record,) = cache.rglob("changes.json")
    written = json.loads(record.read_bytes())
    assert [change[3] for change in written["public"]["changes"]] == [["/peel/"]]
