"""Image benchmark: the three ratios of the Images issue, measured side by side in one run.

    python bench/images.py [--duration 3] [--pairs 5] [--rounds 7] [--quick]

On a content folder generated into a temporary folder (a 4,000x3,000 JPEG drawn with
Pillow, and 60 pages each with a 400x300 picture of its own), it measures:

1. served: a cached transform (the 4,000x3,000 JPEG as an 800 px WebP, already in the disk
   cache) from `contentapi serve --workers 1`, against a plain Starlette app answering a
   `FileResponse` of the same bytes (this script with --plain); wrk, GET, 2 threads, 64
   connections. Goal: ours / plain >= 0.8.
2. cold: that transform made each time (CONTENTAPI_IMAGE_CACHE_BYTES=0: nothing kept),
   requested one at a time from the server, against Pillow's own open, thumbnail, save of
   the same file as WebP at the same quality, in this process; the two interleaved over
   --rounds rounds, medians. Goal: ours / Pillow <= 1.2 (nothing wasted around the library).
3. metadata: `treatments(first: 50)` with `images { srcSet placeholder }` against the same
   list with `images { src }`, from a server with its response caches off (each query
   executed, not replayed); wrk, POST. Goal: with / without >= 0.9 (metadata is read, not
   computed, per request).

wrk runs of the two sides alternate (--pairs of them, --duration seconds each) and the
ratio is the median of the pairs' ratios, as other work on the machine would otherwise
land on one side; the table shows the middle pair's runs.

--quick (one pair of 1 s wrk runs, 3 rounds) is a smoke run: it exits 1 if a server did
not start, an answer was wrong or wrk saw errors. Without wrk it exits 2. Load goes to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"
BIG = "/img/big.jpg"
TRANSFORM = "?w=800&fm=webp"
QUALITY = 80
PAGES = 60
# bench/throughput.py's list (c), its pictures with their sizes, and then with the metadata.
LIST = (
    "{ treatments(first: 50) { nodes { title summary images { src width height alt%s }"
    " indications { name } } } }"
)
WITH_META = LIST % " srcSet placeholder"
WITHOUT_META = LIST % ""


sys.path.insert(0, str(BENCH))
import throughput as tp  # noqa: E402 - a sibling script (bench/ is not a package)


def make_content(root: Path) -> Path:
    """The benchmark's content: one big photo, PAGES pages with a small picture each."""
    from PIL import Image, ImageDraw

    content = root / "content"
    (content / "img").mkdir(parents=True)
    # Gradients and shapes, so the JPEG is photo-sized (a flat picture would be tiny).
    big = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    draw = ImageDraw.Draw(big)
    for step in range(0, 4000, 160):
        draw.ellipse((step, step % 3000, step + 600, step % 3000 + 400), fill=(step % 255, 90, 160))
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")
    Image.blend(big, noise, 0.25).save(content / "img" / "big.jpg", quality=90)
    for number in range(PAGES):
        small = Image.new("RGB", (400, 300), (number * 4 % 255, 120, 200 - number * 3))
        ImageDraw.Draw(small).rectangle((40, 40, 200 + number, 220), fill=(250, 240, 10))
        small.save(content / "img" / f"p{number}.jpg", quality=85)
        (content / f"page-{number}.md").write_text(
            f"---\ntitle: Page {number}\n---\n![Picture {number}](/img/p{number}.jpg)\n\nText.\n",
            encoding="utf-8",
        )
    return content


def serve(work: Path, name: str, content: Path, cache: Path, **env: str) -> Any:
    """`contentapi serve --workers 1` on content, started and ready."""
    port = tp.free_port()
    command = [sys.executable, "-m", "contentapi", "serve", "--content", str(content)]
    command += ["--workers", "1", "--host", HOST, "--port", str(port)]
    settings = {"CONTENTAPI_CACHE_DIR": str(cache), "CONTENTAPI_ACCESS_LOG": "", **env}
    server = tp.Server(name, command, tp.server_env(**settings), work / f"{name}.log", port)
    started = time.monotonic()
    server.start()
    server.wait_ready(started)
    return server


def plain(work: Path, file: Path) -> Any:
    """This script with --plain: FileResponse of `file` at BIG."""
    port = tp.free_port()
    command = [sys.executable, str(Path(__file__)), "--plain", str(file)]
    command += ["--host", HOST, "--port", str(port)]
    server = tp.Server("plain", command, tp.server_env(), work / "plain.log", port)
    started = time.monotonic()
    server.start()
    server.wait_ready(started)
    return server


def wrk_get(url: str, seconds: int) -> Any:
    """One wrk run of GETs of url."""
    command = ["wrk", f"-t{tp.THREADS}", f"-c{tp.CONNECTIONS}", f"-d{seconds}s"]
    command += [f"--timeout={tp.TIMEOUT}s", "--latency", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    result = tp.parse_wrk(done.stdout)
    if done.returncode != 0:
        result.failure = f"wrk exited with {done.returncode}: {done.stderr.strip()[:200]}"
    return result


def wrk_post(url: str, query: str, work: Path, seconds: int) -> Any:
    data = work / f"body-{abs(hash(query))}.json"
    data.write_bytes(json.dumps({"query": query}).encode())
    return tp.run_wrk(url, BENCH / "post.lua", data, seconds)


def pillow_once(data: bytes) -> bytes:
    """Pillow's own way: open, thumbnail to 800 px, save as WebP."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.thumbnail((800, 800))
    out = io.BytesIO()
    image.save(out, "WEBP", quality=QUALITY)
    return out.getvalue()


def cold(base: str, data: bytes, rounds: int) -> tuple[float, float, tuple[int, int]]:
    """Median seconds of a cold transform served and of Pillow's own, interleaved."""
    from PIL import Image

    ours: list[float] = []
    pillows: list[float] = []
    size = (0, 0)
    for _ in range(rounds):
        started = time.perf_counter()
        status, body = tp.fetch(base + BIG + TRANSFORM)
        ours.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"the cold transform answered {status}: {body[:200]!r}")
        size = Image.open(io.BytesIO(body)).size
        started = time.perf_counter()
        pillow_once(data)
        pillows.append(time.perf_counter() - started)
    return statistics.median(ours), statistics.median(pillows), size


def paired(ours: list[Any], theirs: list[Any]) -> tuple[Any, Any, str]:
    """The runs of the middle pair and the median of the pairs' ratios: each pair ran
    back to back, so load from other processes on the machine hits both sides alike."""
    ratios = [
        a.requests_per_second / b.requests_per_second if b.requests_per_second else 0.0
        for a, b in zip(ours, theirs, strict=True)
    ]
    middle = sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]
    return ours[middle], theirs[middle], f"{statistics.median(ratios):.2f}×"


def run(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    seconds = 1 if args.quick else args.duration
    pairs = 1 if args.quick else args.pairs
    rounds = 3 if args.quick else args.rounds
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="contentapi-bench-images-") as folder:
        work = Path(folder)
        content = make_content(work)
        ours = serve(work, "ours", content, work / "cache")
        uncached = serve(
            work,
            "uncached",
            content,
            work / "cache-cold",
            CONTENTAPI_IMAGE_CACHE_BYTES="0",
            CONTENTAPI_RESPONSE_CACHE_BYTES="0",
        )
        servers = [ours, uncached]
        with tp.running(servers):
            for server in servers:
                if server.failure:
                    failures.append(f"{server.name}: {server.failure}\n{server.log_tail()}")
            if failures:
                print("\n".join(failures), file=sys.stderr)
                return 1
            base = f"http://{HOST}:{ours.port}"
            status, copy = tp.fetch(base + BIG + TRANSFORM)
            if status != 200:
                print(f"the transform answered {status}: {copy[:300]!r}", file=sys.stderr)
                return 1
            (work / "copy.webp").write_bytes(copy)
            baseline = plain(work, work / "copy.webp")
            servers.append(baseline)
            if baseline.failure:
                print(f"plain: {baseline.failure}\n{baseline.log_tail()}", file=sys.stderr)
                return 1
            _, plain_bytes = tp.fetch(f"http://{HOST}:{baseline.port}{BIG}")
            if plain_bytes != copy:
                failures.append("the plain server's bytes differ from ours")
            # 1. served, interleaved: ours, plain, ours, plain.
            served: dict[str, list[Any]] = {"ours": [], "plain": []}
            for _ in range(pairs):
                served["ours"].append(wrk_get(base + BIG + TRANSFORM, seconds))
                served["plain"].append(wrk_get(f"http://{HOST}:{baseline.port}{BIG}", seconds))
            best_ours, best_plain, served_ratio = paired(served["ours"], served["plain"])
            # 2. cold.
            cold_base = f"http://{HOST}:{uncached.port}"
            data = (content / "img" / "big.jpg").read_bytes()
            tp.fetch(cold_base + BIG + TRANSFORM)  # first request: imports, version hash
            ours_s, pillow_s, size = cold(cold_base, data, rounds)
            if size != (800, 600):
                failures.append(f"the cold transform made {size}, not (800, 600)")
            # 3. metadata, interleaved.
            graphql = f"{cold_base}/graphql"
            for query in (WITH_META, WITHOUT_META):
                status, answer = tp.fetch(graphql, json.dumps({"query": query}).encode())
                found = json.loads(answer)
                nodes = found.get("data", {}).get("treatments", {}).get("nodes", [])
                if status != 200 or "errors" in found or len(nodes) != 50:
                    failures.append(f"the list answered {status}: {answer[:300]!r}")
                elif query == WITH_META and not all(
                    n["images"][0]["srcSet"] and n["images"][0]["placeholder"] for n in nodes
                ):
                    failures.append("the list's pictures have no srcSet or placeholder")
            lists: dict[str, list[Any]] = {"with": [], "without": []}
            for _ in range(pairs):
                lists["with"].append(wrk_post(graphql, WITH_META, work, seconds))
                lists["without"].append(wrk_post(graphql, WITHOUT_META, work, seconds))
            best_with, best_without, list_ratio = paired(lists["with"], lists["without"])
    rows = [
        "| measure | ours | baseline | ratio | goal |",
        "|---|---|---|---|---|",
        f"| cached 800 px WebP of a 4,000x3,000 JPEG served vs FileResponse of its bytes "
        f"({len(copy):,} B) | {tp._cell(best_ours)} | {tp._cell(best_plain)} | "
        f"{served_ratio} | >= 0.8 |",
        f"| cold transform to 800 px WebP, served, vs Pillow open-thumbnail-save "
        f"(median of {rounds}) | {ours_s * 1000:.1f} ms | {pillow_s * 1000:.1f} ms | "
        f"{ours_s / pillow_s:.2f}× | <= 1.2 |",
        f"| list of 50 with srcSet and placeholder vs without (response caches off) | "
        f"{tp._cell(best_with)} | {tp._cell(best_without)} | "
        f"{list_ratio} | >= 0.9 |",
    ]
    print("\n".join(rows))
    for result in [*served["ours"], *served["plain"], *lists["with"], *lists["without"]]:
        if not result.ok:
            failures.append(f"a wrk run failed: {result.failure or result.errors} errors")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    return 0


def serve_plain(file: Path, host: str, port: int) -> int:
    """The baseline of (1): Starlette's FileResponse of `file` at BIG, under uvicorn."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    async def picture(request: Request) -> Response:
        return FileResponse(file, media_type="image/webp")

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    app = Starlette(routes=[Route(BIG, picture), Route("/healthz", healthz)])
    uvicorn.run(
        app, host=host, port=port, log_level="warning", access_log=False, server_header=False
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--pairs", type=int, default=5, help="wrk runs of each side, alternating")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the cold transform")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--plain", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--host", default=HOST, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=8003, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain is not None:
        return serve_plain(args.plain, args.host, args.port)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
