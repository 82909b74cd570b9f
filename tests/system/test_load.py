"""The real server (uvicorn, 2 workers, --watch) under concurrent queries while pages change."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from server import running_server

PAGES = 12
DURATION = 4.0
CONCURRENCY = 8
QUERIES = [
    "{ contentInfo { version } treatments(first: 50) { nodes { slug title summary } } }",
    '{ contentInfo { version } search(query: "generation", first: 50) '
    "{ treatment { slug title summary } } }",
    '{ contentInfo { version } treatments(filter: {indication: "shared"}) '
    "{ nodes { slug title summary } } }",
]


def write_page(folder: Path, number: int, generation: int) -> None:
    """Write atomically (temp file + rename), as editors and deploy tools do."""
    text = (
        f"---\ntitle: Page {number} gen {generation}\n---\n\n"
        f"Generation {generation} of page {number}.\n\n"
        "## Helps with:\n\n- Shared\n"
    )
    target = folder / f"page-{number:02d}.md"
    temporary = folder / f".page-{number:02d}.tmp"
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)


def consistent(treatments: list[dict[str, Any]]) -> None:
    for treatment in treatments:
        title = re.fullmatch(r"Page (\d+) gen (\d+)", treatment["title"])
        summary = re.fullmatch(r"Generation (\d+) of page (\d+)\.", treatment["summary"])
        assert title and summary, treatment
        assert title.group(2) == summary.group(1), f"a page mixes two versions: {treatment}"


async def fire(url: str, stop: float) -> list[tuple[int, dict[str, Any]]]:
    results: list[tuple[int, dict[str, Any]]] = []
    async with httpx.AsyncClient(timeout=10) as client:

        async def worker(offset: int) -> None:
            turn = offset
            while time.monotonic() < stop:
                query = QUERIES[turn % len(QUERIES)]
                turn += 1
                response = await client.post(url + "/graphql", json={"query": query})
                results.append((response.status_code, response.json()))

        await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
    return results


def test_concurrent_queries_during_edits_see_one_version_each(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    for number in range(PAGES):
        write_page(content, number, 0)
    env = {"CONTENTAPI_CACHE_DIR": str(tmp_path / "cache")}
    with running_server(content, "--workers", "2", "--watch", env=env) as url:
        stop_editing = threading.Event()
        edits = Counter[int]()

        def edit() -> None:
            generation = 0
            while not stop_editing.is_set():
                generation += 1
                for number in range(0, PAGES, 3):
                    write_page(content, number, generation)
                    edits[number] += 1
                # Page 1 is saved broken every other round: its last good version stays served.
                if generation % 2:
                    (content / "page-01.md").write_text("---\ntitle: [broken\n---\n")
                else:
                    write_page(content, 1, generation)
                time.sleep(0.3)

        editor = threading.Thread(target=edit)
        editor.start()
        try:
            results = asyncio.run(fire(url, time.monotonic() + DURATION))
        finally:
            stop_editing.set()
            editor.join()

    assert len(results) > 100, "the load test sent too few requests to mean anything"
    by_version: dict[tuple[str, str], Any] = {}
    versions = set()
    for status, body in results:
        assert status == 200, body
        assert "errors" not in body, body
        data = body["data"]
        version = data.pop("contentInfo")["version"]
        versions.add(version)
        treatments = (
            [hit["treatment"] for hit in data["search"]]
            if "search" in data
            else data["treatments"]["nodes"]
        )
        assert len(treatments) == PAGES
        consistent(treatments)
        key = (version, next(iter(data)))
        # The same content version always gives the same data, whichever worker answered.
        assert by_version.setdefault(key, data) == data
    assert len(versions) >= 2, "the edits never showed up while the load ran"
