"""The same app under uvicorn (what `contentapi serve` runs) and under granian, uncached.

    python bench/servers.py [--pages 1000] [--duration 4] [--rounds 3] [--quick]

Two servers on one generated corpus, one process each, response caches off
(CONTENTAPI_RESPONSE_CACHE_BYTES=0) and load shedding off (CONTENTAPI_QUEUE_DEPTH=0, as
granian cannot run our shedding queue):

- uvicorn: `contentapi serve --workers 1` (httptools with our header limits, read timeouts
  and connection cap: contentapi/http/edges.py);
- granian: `granian --interface asgi --factory contentapi.http.starting:create_serving_app`,
  one worker, uvloop, HTTP/1, its header read timeout set to ours and the settings read
  from the same CONTENTAPI_* environment. granian's RSGI interface is not measured: the app
  is Starlette, which speaks ASGI only.

Each round drives one then the other (alternating which goes first) through (a) one
treatment and (c) a list of 50, with bench/tails.py's client (64 keep-alive connections in
a closed loop, every answer timed; wrk's latencies were wrong under this load, see there),
after a second of warm-up each. Printed: medians over rounds of answers a second, p50 and
p99, and granian / uvicorn. Every answer must be a 200 and both servers must answer the
same bytes, or the script exits 1. --quick (200 pages, one round of 1 s) is the CI smoke
run. Load goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, bench/ is on the path (as bench/load.py imports throughput).
import tails  # noqa: E402

FACTORY = "contentapi.http.starting:create_serving_app"


tp = tails.tp


def granian_command(port: int) -> list[str] | None:
    """granian's command line for the app, or None when granian is not installed."""
    granian = shutil.which("granian", path=str(Path(sys.executable).parent)) or shutil.which(
        "granian"
    )
    if granian is None:
        return None
    from contentapi.http.edges import EdgeLimits
    from contentapi.settings import Settings

    limits = EdgeLimits.from_settings(Settings())
    return [
        granian,
        "--interface",
        "asgi",
        "--factory",
        FACTORY,
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "1",
        "--http1-header-read-timeout",
        str(limits.header_timeout * 1000),
        "--log-level",
        "warning",
        "--host",
        tp.HOST,
        "--port",
        str(port),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Our app under uvicorn and under granian.")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200 pages, one round of 1 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.pages, args.duration, args.rounds = 200, 1.0, 1
    with tempfile.TemporaryDirectory(prefix="contentapi-servers-") as folder:
        work = Path(folder)
        content, cache = work / "content", work / "cache"
        tp.generate(content, args.pages)
        env = tp.server_env(
            CONTENTAPI_CONTENT_DIR=str(content),
            CONTENTAPI_CACHE_DIR=str(cache),
            CONTENTAPI_RESPONSE_CACHE_BYTES="0",
            CONTENTAPI_ACCESS_LOG="",
        )
        uvicorn_port, granian_port = tp.free_port(), tp.free_port()
        granian = granian_command(granian_port)
        if granian is None:
            print("error: granian is not installed (pip install -e '.[test]')")
            return 2
        serve = [sys.executable, "-m", "contentapi", "serve", "--workers", "1"]
        servers = {
            "uvicorn": tp.Server(
                "uvicorn",
                [*serve, "--host", tp.HOST, "--port", str(uvicorn_port)],
                env,
                work / "uvicorn.log",
                uvicorn_port,
            ),
            "granian": tp.Server("granian", granian, env, work / "granian.log", granian_port),
        }
        with tp.running(list(servers.values())):
            # One at a time: the second start reads the first's page cache, not the pages.
            for server in servers.values():
                server.start()
                if not server.wait_ready(time.monotonic()):
                    print(f"error: server {server.name}: {server.failure}\n{server.log_tail()}")
                    return 1
            first = tp.body("{ treatments(first: 1) { nodes { slug } } }")
            answer = json.loads(tp.fetch(servers["uvicorn"].url, first)[1])
            one = answer["data"]["treatments"]["nodes"][0]["slug"]
            scenarios = {
                "(a) one treatment": tp.body(tp.QUERY_A % one),
                "(c) list of 50": tp.body(tp.QUERY_C),
            }
            for title, request_body in scenarios.items():
                answers = {name: tp.fetch(s.url, request_body) for name, s in servers.items()}
                if answers["uvicorn"] != answers["granian"] or answers["uvicorn"][0] != 200:
                    print(f"error: {title}: the servers answered differently: {answers}")
                    return 1
            results: dict[tuple[str, str], list[Any]] = {}
            for title, request_body in scenarios.items():
                for server in servers.values():  # warm up: compiled queries, imports
                    tails.drive(server.port, tails.http_request(server.port, request_body), 1.0)
                for round_number in range(args.rounds):
                    order = list(servers) if round_number % 2 == 0 else list(servers)[::-1]
                    for name in order:
                        port = servers[name].port
                        request = tails.http_request(port, request_body)
                        run = tails.drive(port, request, args.duration)
                        results.setdefault((title, name), []).append(run)
                        print(f"{title}, {name}: {run.count()} answers", flush=True)
    failed = False
    print()
    print(
        f"## uvicorn and granian, our app, uncached, {tails.CONNECTIONS} connections, "
        f"{args.pages} pages: medians of {args.rounds} alternating rounds of {args.duration:g} s"
    )
    print()
    print("| scenario | server | answers/s | p50 ms | p99 ms | p99/p50 | granian / uvicorn |")
    print("|---|---|---|---|---|---|---|")
    for title in scenarios:
        rates = {}
        for name in servers:
            runs = results[(title, name)]
            if any(run.count() != run.count(200) or run.errors for run in runs):
                print(f"error: {title}, {name}: answers other than 200, or connections closed")
                failed = True
            quantiles = [q for run in runs if (q := run.quantiles(200)) is not None]
            p50 = statistics.median([q[0] for q in quantiles] or [0.0])
            p99 = statistics.median([q[1] for q in quantiles] or [0.0])
            rates[name] = statistics.median([run.count(200) / run.seconds for run in runs])
            ratio = f"{rates[name] / rates['uvicorn']:.2f}x" if name == "granian" else ""
            print(
                f"| {title} | {name} | {rates[name]:,.0f} | {p50:.1f} | {p99:.1f} "
                f"| {p99 / p50 if p50 else 0:.2f}x | {ratio} |"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
