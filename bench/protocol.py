"""In-process benchmark: wrk's requests for bench/throughput.py's scenarios fed to our HTTP
protocol (contentapi/http/edges.py) with no socket, so the server's own Python per request
is measured without the kernel's loopback path or wrk sharing the CPUs.

One process, one keep-alive connection, the app made by create_app and its lifespan run
(as `contentapi serve` does), the protocol given each request's bytes as one read, as wrk
sends them; its answers go to a transport that keeps the last one. For each scenario it
prints microseconds per request with the response caches on and off
(CONTENTAPI_RESPONSE_CACHE_BYTES=0, as bench/throughput.py's "ours (uncached)"), and
checks that both answered 200 with the same body. The best of 9 batches: this machine's
speed moves by a third from minute to minute (the median of 5 batches of (a) went from
26.6 to 38.9 us between two runs of the same code), and a batch is slowed by what else
runs, never sped up. Under wrk, a figure here is about half
to two thirds of the server CPU a response costs (the rest is the kernel's): see the
README's Performance section.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402
from throughput import QUERY_A, QUERY_B, QUERY_C, QUERY_D, body  # noqa: E402
from uvicorn.config import Config  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from contentapi.http.app import create_app  # noqa: E402
from contentapi.http.edges import EdgeLimits, GuardedHttpToolsProtocol  # noqa: E402
from contentapi.http.shedding import RequestQueue  # noqa: E402
from contentapi.http.state import WIRE_REPLAY  # noqa: E402
from contentapi.settings import Settings  # noqa: E402

BATCHES = 9
VARIED_SLUGS = 940


class Transport:
    """What the protocol writes to: the bytes of the last answer, nothing sent."""

    def __init__(self) -> None:
        self.last = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.last = data

    def writelines(self, parts: Iterable[bytes]) -> None:
        self.last = b"".join(parts)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def request(payload: bytes) -> bytes:
    """A POST as bench/post.lua has wrk send it."""
    return (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
        b"Accept: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload)
    ) + payload


def scenarios(slugs: list[str]) -> dict[str, list[bytes]]:
    one = slugs[len(slugs) // 2]
    return {
        "(a) one treatment": [request(body(QUERY_A % one))],
        f"(b) {len(slugs[:VARIED_SLUGS])} slugs in turn": [
            request(body(QUERY_B, {"slug": slug})) for slug in slugs[:VARIED_SLUGS]
        ],
        "(c) list of 50": [request(body(QUERY_C))],
        '(d) search "skin"': [request(body(QUERY_D))],
    }


def answer_body(response: bytes) -> bytes:
    head, _, sent = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        raise SystemExit(f"not answered 200: {head[:200]!r}")
    return sent


def settings_for(content: Path, cache: Path, cached: bool) -> Settings:
    """The server's settings, as bench/throughput.py's "ours" (cached) or "ours (uncached)"."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")}
    environ.update(
        CONTENTAPI_CONTENT_DIR=str(content),
        CONTENTAPI_CACHE_DIR=str(cache),
        CONTENTAPI_QUEUE_DEPTH="0",
        CONTENTAPI_LOG_LEVEL="warning",
        CONTENTAPI_ACCESS_LOG=os.devnull,
    )
    if not cached:
        environ["CONTENTAPI_RESPONSE_CACHE_BYTES"] = "0"
    return Settings.from_env(environ)


def prime(content: Path, cache: Path) -> None:
    """Load the pages once, so the servers measured open the cache folder's index, as
    bench/throughput.py's do. The first load writes that index in a thread of its own
    after the app is made: measured while it ran, (a) took 44-60 us against 25-30."""
    create_app(settings_for(content, cache, cached=False))
    for thread in threading.enumerate():
        if thread.name == "contentapi-index-writer":
            thread.join()


async def measure(content: Path, cache: Path, count: int, cached: bool) -> dict[str, Any]:
    """Microseconds per request and the last body of each scenario."""
    settings = settings_for(content, cache, cached)
    app = create_app(settings)
    results: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        replay = app.state.wire_replay
        config = Config(app=app, log_level="warning", access_log=False)
        config.load()
        protocol = GuardedHttpToolsProtocol(
            config,
            ServerState(),
            {WIRE_REPLAY: replay},
            limits=EdgeLimits.from_settings(settings),
            queue=RequestQueue(0),
        )
        transport = Transport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        slugs = sorted(t.slug for t in replay.store.current.public.treatments)
        for name, requests in scenarios(slugs).items():
            for sent in requests * 2:  # compiled (and recorded) on the way
                protocol.data_received(sent)
                answer_body(transport.last)
            before = replay.replayed
            figures = []
            total = max(count, len(requests))
            for _ in range(BATCHES):
                gc.collect()
                start = time.perf_counter()
                for i in range(total):
                    protocol.data_received(requests[i % len(requests)])
                figures.append((time.perf_counter() - start) / total * 1e6)
            if replay.replayed - before != BATCHES * total:
                raise SystemExit(f"{name}: some requests went to the app, not the protocol")
            results[name] = (min(figures), answer_body(transport.last))
        if transport.closed:
            raise SystemExit("the protocol closed the connection")
        protocol.connection_lost(None)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="corpus size (1000)")
    parser.add_argument("--count", type=int, default=5000, help="requests per batch (5000)")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 200 pages, 200")
    args = parser.parse_args()
    pages, count = (200, 200) if args.quick else (args.pages, args.count)
    with tempfile.TemporaryDirectory() as folder:
        content, cache = Path(folder) / "pages", Path(folder) / "cache"
        generate.generate(content, pages)
        prime(content, cache)
        uncached = asyncio.run(measure(content, cache, count, cached=False))
        cached = asyncio.run(measure(content, cache, count, cached=True))
    print(f"{pages} pages, best of {BATCHES} batches of {count}, microseconds per request")
    print(f"{'scenario':28} {'uncached':>9} {'cached':>8}")
    for name, (uncached_us, uncached_body) in uncached.items():
        cached_us, cached_body = cached[name]
        if orjson.loads(uncached_body) != orjson.loads(cached_body):
            raise SystemExit(f"{name}: the cached answer differs from the uncached one")
        print(f"{name:28} {uncached_us:9.1f} {cached_us:8.1f}")


if __name__ == "__main__":
    main()
