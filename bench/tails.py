"""Tail latency under 64 connections, uncached: load shedding off (queue depth 0) and on.

    python bench/tails.py [--pages 1000] [--duration 4] [--rounds 3] [--depth 16]

Two servers on the same generated corpus, both `contentapi serve --workers 1` with
CONTENTAPI_RESPONSE_CACHE_BYTES=0: one with CONTENTAPI_QUEUE_DEPTH=0 (no shedding), one
with --depth. Each round drives one then the other (alternating which goes first) through
(a) one treatment and (c) a list of 50, and the figures printed are medians over rounds.

The client is this script, not wrk: 64 keep-alive connections on one selector thread, each
sending its next request as soon as the last answer is read (a closed loop, as wrk's), and
timing every request from its write to the end of its answer's body. wrk 4.1 was tried
first and its latencies cannot be right under this load: at 598 req/s over 64 connections
it reported an average of 313 ms (Little's law allows at most 107 ms) and a p99 of 2.69 s,
while the server itself timed every request from its arrival to its last byte at under
200 ms. Answers are split by status: p50/p99 of the 200s, of everything, and how many were
503 (each checked to carry Retry-After). Load goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import selectors
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
CONNECTIONS = 64


def _throughput() -> ModuleType:
    """bench/throughput.py (bench/ is not a package): its Server, corpus and queries."""
    spec = importlib.util.spec_from_file_location("bench_throughput", BENCH / "throughput.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tp = _throughput()


@dataclass
class Run:
    """What one run measured: latencies in seconds by status, and 503s without Retry-After."""

    seconds: float
    latencies: dict[int, list[float]] = field(default_factory=dict)
    no_retry_after: int = 0
    errors: int = 0

    def count(self, status: int | None = None) -> int:
        if status is None:
            return sum(len(v) for v in self.latencies.values())
        return len(self.latencies.get(status, []))

    def quantiles(self, status: int | None = None) -> tuple[float, float] | None:
        """(p50, p99) in ms, of one status or of all."""
        if status is None:
            values = [x for v in self.latencies.values() for x in v]
        else:
            values = self.latencies.get(status, [])
        if len(values) < 2:
            return None
        q = statistics.quantiles(values, n=100, method="inclusive")
        return q[49] * 1000, q[98] * 1000


class _Connection:
    """One keep-alive connection of the closed loop."""

    def __init__(self, request: bytes) -> None:
        self.sock: socket.socket | None = None
        self.request = request
        self.buffer = bytearray()
        self.started = 0.0

    def open(self, port: int) -> socket.socket:
        sock = socket.create_connection((tp.HOST, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self.sock = sock
        return sock

    def send(self) -> None:
        assert self.sock is not None
        self.buffer.clear()
        self.started = time.perf_counter()
        self.sock.sendall(self.request)

    def answer(self) -> tuple[int, bytes] | None:
        """(status, head) once a whole answer is in the buffer, else None."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).lower()
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if len(self.buffer) < end + 4 + length:
            return None
        return int(head.split(b" ", 2)[1]), head


def drive(port: int, request: bytes, seconds: float) -> Run:
    """64 connections in a closed loop for `seconds`; every answer timed."""
    selector = selectors.DefaultSelector()
    connections = [_Connection(request) for _ in range(CONNECTIONS)]
    for connection in connections:
        selector.register(connection.open(port), selectors.EVENT_READ, connection)
    run = Run(seconds)
    deadline = time.perf_counter() + seconds
    for connection in connections:
        connection.send()
    open_count = len(connections)
    while open_count and time.perf_counter() < deadline:
        for key, _ in selector.select(timeout=0.5):
            connection = key.data
            try:
                data = key.fileobj.recv(262144)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            if not data:
                run.errors += 1
                selector.unregister(key.fileobj)
                open_count -= 1
                continue
            connection.buffer += data
            found = connection.answer()
            if found is None:
                continue
            status, head = found
            run.latencies.setdefault(status, []).append(time.perf_counter() - connection.started)
            if status == 503 and b"\r\nretry-after: 1" not in head:
                run.no_retry_after += 1
            if time.perf_counter() < deadline:
                connection.send()
    for connection in connections:
        assert connection.sock is not None
        connection.sock.close()
    selector.close()
    return run


def http_request(port: int, body: bytes) -> bytes:
    return (
        b"POST /graphql HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
        b"Accept: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (tp.HOST.encode(), port, len(body), body)
    )


def _ms(pair: tuple[float, float] | None, index: int) -> float | None:
    return None if pair is None else pair[index]


def _median(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.1f}" if known else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Tail latency with load shedding off and on.")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--depth", type=int, default=16, help="CONTENTAPI_QUEUE_DEPTH when on")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="contentapi-tails-") as folder:
        work = Path(folder)
        content, cache = work / "content", work / "cache"
        tp.generate(content, args.pages)
        python = sys.executable
        serve = [python, "-m", "contentapi", "serve", "--content", str(content), "--workers", "1"]
        servers: dict[str, Any] = {}
        for name, depth in (("off", 0), ("on", args.depth)):
            port = tp.free_port()
            env = tp.server_env(
                CONTENTAPI_CACHE_DIR=str(cache),
                CONTENTAPI_RESPONSE_CACHE_BYTES="0",
                CONTENTAPI_ACCESS_LOG="",
                CONTENTAPI_QUEUE_DEPTH=str(depth),
            )
            command = [*serve, "--host", tp.HOST, "--port", str(port)]
            servers[name] = tp.Server(name, command, env, work / f"{name}.log", port)
        with tp.running(list(servers.values())):
            for server in servers.values():
                server.start()
                if not server.wait_ready(time.monotonic()):
                    print(f"error: server {server.name}: {server.failure}\n{server.log_tail()}")
                    return 1
            first = tp.body("{ treatments(first: 1) { nodes { slug } } }")
            one = json.loads(tp.fetch(servers["off"].url, first)[1])["data"]["treatments"]["nodes"][
                0
            ]["slug"]
            scenarios = {
                "(a) one treatment": tp.body(tp.QUERY_A % one),
                "(c) list of 50": tp.body(tp.QUERY_C),
            }
            results: dict[tuple[str, str], list[Run]] = {}
            for title, request_body in scenarios.items():
                for server in servers.values():  # warm up: parse caches, imports
                    drive(server.port, http_request(server.port, request_body), 1.0)
                for round_number in range(args.rounds):
                    order = list(servers) if round_number % 2 == 0 else list(servers)[::-1]
                    for name in order:
                        port = servers[name].port
                        run = drive(port, http_request(port, request_body), args.duration)
                        results.setdefault((title, name), []).append(run)
                        print(f"{title}, shedding {name}: {run.count()} answers", flush=True)
    print()
    print(
        f"## Tail latency, uncached, {CONNECTIONS} connections, {args.pages} pages: "
        f"medians of {args.rounds} alternating rounds of {args.duration:g} s"
    )
    print()
    print(
        "| scenario | shedding | 200/s | p50 ms (200) | p99 ms (200) | p99/p50 | 503/s "
        "| p50 ms (all) | p99 ms (all) | 503 without Retry-After | closed |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for title in scenarios:
        for name in servers:
            runs = results[(title, name)]
            ok = [r.quantiles(200) for r in runs]
            every = [r.quantiles() for r in runs]
            p50 = statistics.median([q[0] for q in ok if q is not None] or [0.0])
            p99 = statistics.median([q[1] for q in ok if q is not None] or [0.0])
            label = "off" if name == "off" else f"on (depth {args.depth})"
            ok_rate = statistics.median([r.count(200) / r.seconds for r in runs])
            shed_rate = statistics.median([r.count(503) / r.seconds for r in runs])
            print(
                f"| {title} | {label} | {ok_rate:,.0f} | {p50:.1f} | {p99:.1f} "
                f"| {p99 / p50 if p50 else 0:.2f}x | {shed_rate:,.0f} "
                f"| {_median([_ms(q, 0) for q in every])} | {_median([_ms(q, 1) for q in every])} "
                f"| {sum(r.no_retry_after for r in runs)} | {sum(r.errors for r in runs)} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
