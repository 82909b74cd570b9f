"""Transformed pictures from a real server: two worker processes sharing one disk cache,
many identical requests at once, GraphQL answered while copies are being made, and a
restart that serves the copies kept without making them again."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from server import running_server

PAGE = "---\ntitle: Big\n---\n![Big](/img/big.jpg)\n"
QUERY = '{ treatment(slug: "big") { images { url(transform: {width: 320, format: WEBP}) } } }'


def make_content(root: Path) -> Path:
    content = root / "content"
    (content / "img").mkdir(parents=True)
    noise = Image.effect_noise((3000, 2000), 60).convert("RGB")
    noise.save(content / "img" / "big.jpg", quality=90)
    (content / "big.md").write_text(PAGE, encoding="utf-8")
    return content


def test_workers_share_copies_and_a_restart_keeps_them(tmp_path: Path) -> None:
    content = make_content(tmp_path)
    cache = tmp_path / "cache"
    images = cache / "images"
    args = ("--cache-dir", str(cache))
    with running_server(content, *args, "--workers", "2") as base:
        url = httpx.post(base + "/graphql", json={"query": QUERY}).json()["data"]
        path = url["treatment"]["images"][0]["url"]
        with ThreadPoolExecutor(16) as pool:
            # 24 identical requests over both workers, and GraphQL queries meanwhile.
            copies = list(pool.map(lambda _: httpx.get(base + path, timeout=60), range(24)))
            answers = list(
                pool.map(
                    lambda _: httpx.post(base + "/graphql", json={"query": QUERY}, timeout=60),
                    range(8),
                )
            )
            widths = list(
                pool.map(
                    lambda w: httpx.get(f"{base}/img/big.jpg?w={w}", timeout=60), range(100, 108)
                )
            )
        assert {response.status_code for response in copies} == {200}
        assert len({response.content for response in copies}) == 1
        assert {response.headers["etag"] for response in copies} == {copies[0].headers["etag"]}
        assert [answer.json()["data"] == url for answer in answers] == [True] * 8
        picture = Image.open(io.BytesIO(copies[0].content))
        assert (picture.format, picture.size) == ("WEBP", (320, 213))
        assert [Image.open(io.BytesIO(r.content)).width for r in widths] == list(range(100, 108))
    kept = {entry.name: os.stat(entry).st_ino for entry in images.iterdir()}
    # One file per distinct copy, whichever worker made it (nothing half-written left).
    assert sorted(name.rsplit(".", 1)[1] for name in kept) == ["jpg"] * 8 + ["webp"]
    with running_server(content, *args) as base:
        again = httpx.get(base + path)
        assert again.content == copies[0].content
        assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Served from the file kept: not made again (a new copy would be a new file).
    assert {entry.name: os.stat(entry).st_ino for entry in images.iterdir()} == kept
