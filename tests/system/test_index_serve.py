"""The real server (uvicorn, 2 workers) serving a built index file, read-only."""

from __future__ import annotations

import os
import subprocess
import sys
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
        assert server.output().count("serving 4 pages from index file") == 2
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.sqlite"]
