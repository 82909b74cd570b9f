"""HTTP benchmark: contentapi against Node GraphQL servers and plain pre-encoded endpoints.

    python bench/throughput.py [--pages 1000] [--duration 5] [--rounds 3] [--quick]

In one run, on a corpus generated into a temporary folder, it starts:

- ours (cached): `python -m contentapi serve --workers 1`, default settings;
- ours (uncached): the same with CONTENTAPI_RESPONSE_CACHE_BYTES=0 (no response cache);
- four Node peers, each serving bench/peer/schema.mjs (the same SDL and resolvers) over a
  JSON dump of the same pages, versions pinned in bench/peer/package.json and its lockfile:
  - node: bench/peer/server.mjs, graphql-http + graphql-js, nothing cached;
  - mercurius (jit): bench/peer/mercurius.mjs, Mercurius on Fastify with `jit: 1` and its
    default query cache (parsed, validated and JIT-compiled documents; not a response cache,
    and JIT needs it);
  - mercurius (jit + cache): the same plus mercurius-cache on the Query fields (Mercurius
    has no response cache; this resolver-result cache is the closest);
  - yoga (response cache): bench/peer/yoga.mjs, GraphQL Yoga 5 with
    @graphql-yoga/plugin-response-cache (@envelop/response-cache);
- plain: bench/plain.py, Starlette answering our exact bytes for query (a) (a ceiling);
- nginx: Debian's nginx, `daemon off`, one worker, on 127.0.0.1 only, answering the same
  bytes from a file, with a config generated into the temporary folder (the ceiling);

then drives each with wrk (2 threads, 64 connections, --latency) through four scenarios, in
interleaved rounds (each round runs every scenario on every server once, the order of the
servers turning each round), with a second of warm-up before each run, and prints Markdown
tables: per server the median req/s of the rounds with that run's p50 and p99, the ratios of
ours to each peer (cached / plain and / nginx, cached / node, uncached / node, uncached /
mercurius (jit), cached / mercurius (jit + cache), uncached / yoga), and every run. Every
Node peer must answer what ours answers (search: the same shape), nginx and plain our bytes.
It also times a cold and a warm-start index load (10,000 pages; 1,000 with --quick) and
reads each server's peak RSS (VmHWM; nginx: its worker's) after the run.

--quick (200 pages, one round of 1 s runs, no warm-up) is the CI smoke test: it exits 1 if
a server did not start, a response was wrong or any wrk run saw socket errors or non-2xx
answers; the tables are printed all the same. A missing peer (node, bench/peer's modules,
which it installs with `npm ci` when absent, or nginx) is skipped with a note, except under
CI=true, where it is a failure. Without wrk it exits 2. Load goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEER = BENCH / "peer"
HOST = "127.0.0.1"
THREADS = 2
CONNECTIONS = 64
VARY_SLUGS = 1000
START_TIMEOUT = 180.0
# wrk leaves answers slower than its timeout out of the latency figures: keep it well above
# the slowest p99 so the tail is measured, not dropped (a timeout still counts as an error).
TIMEOUT = 10

TREATMENT_FIELDS = "title summary html images { src width height alt } indications { name slug }"
QUERY_A = '{ treatment(slug: "%s") { ' + TREATMENT_FIELDS + " } }"
QUERY_B = "query ($slug: String!) { treatment(slug: $slug) { " + TREATMENT_FIELDS + " } }"
QUERY_C = (
    "{ treatments(first: 50) { nodes { title summary images { src } indications { name } } } }"
)
QUERY_D = '{ search(query: "skin", first: 10) { score snippet treatment { slug title } } }'

OURS, UNCACHED, PLAIN, NGINX = "ours", "ours-uncached", "plain", "nginx"
NODE, MERCURIUS, MERCURIUS_CACHED, YOGA = "node", "mercurius", "mercurius-cached", "yoga"
COLUMNS = {
    OURS: "ours (cached)",
    UNCACHED: "ours (uncached)",
    NODE: "node",
    MERCURIUS: "mercurius (jit)",
    MERCURIUS_CACHED: "mercurius (jit + cache)",
    YOGA: "yoga (response cache)",
    PLAIN: "plain",
    NGINX: "nginx",
}
# The Node peers: the script in bench/peer and its flags; all serve bench/peer/schema.mjs.
NODE_PEERS = {
    NODE: ["server.mjs"],
    MERCURIUS: ["mercurius.mjs"],
    MERCURIUS_CACHED: ["mercurius.mjs", "--resolver-cache"],
    YOGA: ["yoga.mjs"],
}
# What bench/peer/node_modules must hold for them (npm ci installs it from the lockfile).
PEER_PACKAGES = (
    "graphql",
    "graphql-http",
    "fastify",
    "mercurius",
    "mercurius-cache",
    "graphql-yoga",
    "@graphql-yoga/plugin-response-cache",
    "@envelop/response-cache",
)
# The ratios printed, (numerator, denominator): ours against each peer it is compared with.
RATIOS = (
    (OURS, PLAIN),
    (OURS, NGINX),
    (OURS, NODE),
    (UNCACHED, NODE),
    (UNCACHED, MERCURIUS),
    (OURS, MERCURIUS_CACHED),
    (UNCACHED, YOGA),
)


# --- Servers -------------------------------------------------------------------------------


@dataclass
class Server:
    """One server process under test, in its own process group."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    ready_seconds: float | None = None
    failure: str | None = None
    # Why it was left out (a missing optional peer, outside CI); never set under CI=true.
    skipped: str | None = None
    # Whose VmHWM peak_rss_mb reads: the process itself, or its first child (nginx's worker).
    rss_of_child: bool = False

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/graphql"

    def start(self) -> None:
        """Start the process; where its output goes is self.log."""
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, started: float, timeout: float = START_TIMEOUT) -> bool:
        """Poll GET /readyz (ours answers /healthz while still loading), or /healthz where
        there is no /readyz (the peers), until it answers 200; note the failure otherwise."""
        assert self.process is not None
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.failure = f"exited with {self.process.returncode} before it was ready"
                return False
            try:
                status, _ = fetch(f"http://{HOST}:{self.port}/readyz", timeout=2)
                if status == 404:
                    status, _ = fetch(f"http://{HOST}:{self.port}/healthz", timeout=2)
                if status == 200:
                    self.ready_seconds = time.monotonic() - started
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        self.failure = f"not ready after {timeout:.0f} s"
        return False

    def peak_rss_mb(self) -> float | None:
        """VmHWM of the server process (the uvicorn or node process itself; nginx's worker
        with rss_of_child), in MB (10^6 B)."""
        if self.process is None or self.process.poll() is not None:
            return None
        pid = self.process.pid
        try:
            if self.rss_of_child:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                if not children:
                    return None
                pid = int(children[0])
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError):
            return None
        found = re.search(r"^VmHWM:\s+(\d+)\s+kB", status, re.MULTILINE)
        return int(found.group(1)) * 1024 / 1e6 if found else None

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after 10 s."""
        process = self.process
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # stragglers in the group, if any
        except ProcessLookupError:
            pass
        process.wait()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, body: bytes | None = None, timeout: float = 30) -> tuple[int, bytes]:
    """(status, body) of a GET, or of a JSON POST when body is given; never through a proxy."""
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def running(servers: Sequence[Server]) -> Iterator[None]:
    """Stop every server on the way out, whatever happens (SIGTERM to us included)."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        for server in servers:
            server.stop()
        signal.signal(signal.SIGTERM, previous)


# --- wrk -----------------------------------------------------------------------------------


@dataclass
class WrkResult:
    """What one wrk run measured."""

    requests_per_second: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    failure: str | None = None

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    @property
    def ok(self) -> bool:
        return self.failure is None and self.errors == 0 and self.requests > 0


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not found:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * _UNITS_MS[found.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Read req/s, p50, p99, the request count, non-2xx and socket errors from wrk's report."""
    result = WrkResult()
    if found := re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE):
        result.requests_per_second = float(found.group(1))
    for percent, attribute in (("50", "p50_ms"), ("99", "p99_ms")):
        if found := re.search(rf"^\s+{percent}%\s+(\S+)", output, re.MULTILINE):
            setattr(result, attribute, _ms(found.group(1)))
    if found := re.search(r"^\s+(\d+) requests in ", output, re.MULTILINE):
        result.requests = int(found.group(1))
    if found := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        result.non_2xx = int(found.group(1))
    if found := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        names = ("connect", "read", "write", "timeout")
        result.socket_errors = {
            name: int(value) for name, value in zip(names, found.groups(), strict=True)
        }
    if result.requests_per_second == 0.0 or result.p50_ms is None:
        result.failure = "wrk printed no results"
    return result


def run_wrk(url: str, script: Path, data: Path, seconds: int) -> WrkResult:
    """One wrk run against url with a Lua script and its data file."""
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        f"--timeout={TIMEOUT}s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        str(data),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired:
        return WrkResult(failure="wrk did not finish in time")
    result = parse_wrk(done.stdout)
    if done.returncode != 0:
        result.failure = f"wrk exited with {done.returncode}: {done.stderr.strip()[:200]}"
    return result


# --- Scenarios -----------------------------------------------------------------------------


@dataclass
class Scenario:
    """A request mix: one body repeated (post.lua) or many in turn (vary.lua)."""

    key: str
    title: str
    bodies: list[bytes]
    targets: tuple[str, ...]
    data: Path | None = None

    @property
    def script(self) -> Path:
        return BENCH / ("post.lua" if len(self.bodies) == 1 else "vary.lua")


def body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def make_scenarios(slugs: Sequence[str], one: str) -> list[Scenario]:
    """The four scenarios; `one` is the slug of (a), `slugs` the ones (b) cycles through."""
    everyone = (OURS, UNCACHED, NODE, MERCURIUS, MERCURIUS_CACHED, YOGA)
    return [
        Scenario(
            "a", "(a) one treatment, same query", [body(QUERY_A % one)], (*everyone, PLAIN, NGINX)
        ),
        Scenario(
            "b",
            f"(b) one treatment, {len(slugs)} slugs in turn",
            [body(QUERY_B, {"slug": slug}) for slug in slugs],
            everyone,
        ),
        Scenario("c", "(c) list of 50", [body(QUERY_C)], everyone),
        Scenario("d", '(d) search "skin", 10 hits', [body(QUERY_D)], everyone),
    ]


def check_answers(scenario: Scenario, server: Server) -> tuple[str | None, list[Any]]:
    """Ask a few of the scenario's requests once: (a problem or None, the data answered)."""
    answers: list[Any] = []
    for request in scenario.bodies[:3]:
        try:
            status, raw = fetch(server.url, request)
        except OSError as exc:
            return f"request failed: {exc}", answers
        if status != 200:
            return f"HTTP {status}: {raw[:200]!r}", answers
        try:
            payload = json.loads(raw)
        except ValueError:
            return f"not JSON: {raw[:200]!r}", answers
        if payload.get("errors") or not payload.get("data"):
            return f"GraphQL errors: {json.dumps(payload)[:300]}", answers
        data = payload["data"]
        if not any(data.values()):
            return f"empty answer: {json.dumps(payload)[:300]}", answers
        answers.append(data)
    return None, answers


def same_shape(ours: Any, theirs: Any) -> bool:
    """Equal structure (keys, list lengths and value types), values aside."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same_shape(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(
            same_shape(a, b) for a, b in zip(ours, theirs, strict=True)
        )
    numbers = (int, float)
    return type(ours) is type(theirs) or (isinstance(ours, numbers) and isinstance(theirs, numbers))


# --- Helper commands, each in a fresh interpreter ------------------------------------------


def measure_load(content: Path, cache: Path) -> dict[str, Any]:
    """Time ContentIndex.from_directory (1 worker) with the page cache in `cache`."""
    started = time.perf_counter()
    from contentapi.content.index import ContentIndex

    imported = time.perf_counter()
    index = ContentIndex.from_directory(content, workers=1, cache_dir=cache)
    done = time.perf_counter()
    return {
        "seconds": done - imported,
        "import_seconds": imported - started,
        "pages": len(index.preview.treatments) + len(index.errors),
    }


def dump_peer_data(content: Path, cache: Path, target: Path) -> dict[str, Any]:
    """Write the public pages, in our default order, as the JSON the Node peer reads."""
    from contentapi.content.index import ContentIndex

    view = ContentIndex.from_directory(content, workers=1, cache_dir=cache).public
    treatments = []
    for t in view.find():
        category = view.categories.get(t.category.slug) if t.category else None
        treatments.append(
            {
                "slug": t.slug,
                "title": t.title,
                "summary": t.summary,
                "html": t.html,
                "text": t.text,
                "category": {"name": category.name, "slug": category.slug} if category else None,
                "images": [
                    {
                        "src": i.src,
                        "width": i.width,
                        "height": i.height,
                        "alt": i.alt,
                        "title": i.title,
                    }
                    for i in t.images
                ],
                # The merged names, as Treatment.indications shows them.
                "indications": [
                    {"name": view.indications[m.slug].name, "slug": m.slug} for m in t.indications
                ],
            }
        )
    target.write_text(json.dumps({"treatments": treatments}, ensure_ascii=False))
    return {"slugs": [t["slug"] for t in treatments]}


def helper(*args: str) -> dict[str, Any]:
    """Run this file's --helper in a fresh interpreter and return the JSON it prints."""
    done = subprocess.run(
        [sys.executable, __file__, "--helper", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"helper {args[0]} failed:\n{done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_helper(args: Sequence[str]) -> int:
    if args[0] == "load":
        result = measure_load(Path(args[1]), Path(args[2]))
    elif args[0] == "dump":
        result = dump_peer_data(Path(args[1]), Path(args[2]), Path(args[3]))
    else:
        raise SystemExit(f"unknown helper {args[0]!r}")
    print(json.dumps(result))
    return 0


def generate(target: Path, count: int) -> None:
    """bench/generate.py's generate(), seed 1 (loaded by path: bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(target, count, seed=1)


# --- Report --------------------------------------------------------------------------------


Runs = dict[tuple[str, str], list[WrkResult]]


def _cell(result: WrkResult | None) -> str:
    if result is None:
        return "–"
    if result.failure and result.requests == 0:
        return f"FAILED ({result.failure})"
    p50 = f"{result.p50_ms:.1f}" if result.p50_ms is not None else "?"
    p99 = f"{result.p99_ms:.1f}" if result.p99_ms is not None else "?"
    text = f"{result.requests_per_second:,.0f} req/s, p50 {p50} / p99 {p99} ms"
    if result.errors:
        text += f" ⚠ {result.errors} errors"
    return text


def _ratio(top: WrkResult | None, bottom: WrkResult | None) -> str:
    if top is None or bottom is None or not top.requests_per_second:
        return "–"
    if not bottom.requests_per_second:
        return "–"
    return f"{top.requests_per_second / bottom.requests_per_second:.2f}×"


def median_run(runs: Sequence[WrkResult]) -> WrkResult | None:
    """The run with the median req/s (the lower middle one of an even count), so its p50 and
    p99 are those of a real run; None for no runs."""
    if not runs:
        return None
    ranked = sorted(runs, key=lambda r: r.requests_per_second)
    return ranked[(len(ranked) - 1) // 2]


def medians(runs: Runs) -> dict[tuple[str, str], WrkResult]:
    found = {key: median_run(values) for key, values in runs.items()}
    return {key: value for key, value in found.items() if value is not None}


def _columns(servers: dict[str, Server]) -> list[str]:
    """The servers that ran (a skipped peer gets no column)."""
    return [name for name in COLUMNS if not servers[name].skipped]


def table(
    scenarios: Sequence[Scenario],
    results: dict[tuple[str, str], WrkResult],
    columns: Sequence[str] = tuple(COLUMNS),
) -> str:
    """One row per scenario, one column per server: req/s, p50 and p99 (of the median run)."""
    head = ["scenario", *(COLUMNS[name] for name in columns)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in scenarios:
        cells = [s.title, *(_cell(results.get((s.key, name))) for name in columns)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _ratio_name(name: str) -> str:
    return {OURS: "cached", UNCACHED: "uncached"}.get(name, COLUMNS[name])


def ratio_table(
    scenarios: Sequence[Scenario],
    results: dict[tuple[str, str], WrkResult],
    columns: Sequence[str] = tuple(COLUMNS),
) -> str:
    """One row per scenario, one column per ratio of RATIOS (req/s over req/s)."""
    ratios = [(top, bottom) for top, bottom in RATIOS if top in columns and bottom in columns]
    head = ["scenario", *(f"{_ratio_name(top)} / {_ratio_name(bot)}" for top, bot in ratios)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in scenarios:
        cells = [s.title]
        for top, bottom in ratios:
            cells.append(_ratio(results.get((s.key, top)), results.get((s.key, bottom))))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def details(scenarios: Sequence[Scenario], runs: Runs) -> str:
    """Every wrk run, round by round: requests, non-2xx answers and socket errors."""
    rows = [
        "| scenario | server | round | requests | req/s | p50 ms | p99 ms | non-2xx "
        "| socket errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scenarios:
        for name in s.targets:
            for number, r in enumerate(runs.get((s.key, name), []), 1):
                sockets = ", ".join(f"{k} {v}" for k, v in r.socket_errors.items() if v) or "0"
                if r.failure:
                    sockets += f" ({r.failure})"
                p50 = f"{r.p50_ms:.2f}" if r.p50_ms is not None else "?"
                p99 = f"{r.p99_ms:.2f}" if r.p99_ms is not None else "?"
                rows.append(
                    f"| {s.key} | {COLUMNS[name]} | {number} | {r.requests} | "
                    f"{r.requests_per_second:,.0f} | {p50} | {p99} | {r.non_2xx} | {sockets} |"
                )
    return "\n".join(rows)


# --- The run -------------------------------------------------------------------------------


def server_env(**extra: str) -> dict[str, str]:
    """This environment without any CONTENTAPI_* setting, with load shedding off, plus `extra`.

    Shedding is off unless `extra` turns it on: every bench's wrk holds more closed-loop
    connections than the default queue, and measures every request answered (a 503 is a
    wrk error); bench/tails.py measures shedding with CONTENTAPI_QUEUE_DEPTH of its own.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")}
    env["CONTENTAPI_QUEUE_DEPTH"] = "0"
    env.update(extra)
    return env


def in_ci() -> bool:
    """CI=true: a missing peer is then a failure, never a skip."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _missing_packages() -> list[str]:
    return [name for name in PEER_PACKAGES if not (PEER / "node_modules" / name).is_dir()]


def ensure_peer_modules() -> str | None:
    """npm ci in bench/peer when a package of its lockfile is missing; a problem or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not _missing_packages():
        return None
    if shutil.which("npm") is None:
        return f"bench/peer lacks {', '.join(_missing_packages())} and npm is not installed"
    print("installing bench/peer's node modules (npm ci)...", flush=True)
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
        cwd=PEER,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return f"npm ci failed: {done.stderr.strip()[-500:]}"
    if missing := _missing_packages():
        return f"bench/peer/node_modules lacks {', '.join(missing)} after npm ci"
    return None


def nginx_binary() -> str | None:
    """Debian's nginx: on PATH, or in /usr/sbin (often not on a user's PATH)."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def nginx_config(folder: Path, port: int, answer: Path) -> str:
    """One worker on 127.0.0.1:port answering POST /graphql with the bytes of `answer`.

    nginx's static module refuses POST with a 405, so /graphql answers 405 and error_page
    turns it into a 200 with an internal redirect (as a GET) to the file; the request body
    is discarded unread. Every path it writes is in `folder`."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# Generated by bench/throughput.py: the ceiling, our exact bytes for query (a).
{user}worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    server_tokens off;
{temp}
    keepalive_requests 1000000;
    keepalive_timeout 65s;
    sendfile on;
    tcp_nodelay on;
    open_file_cache max=16 inactive=1h;
    open_file_cache_valid 1h;
    server {{
        listen {HOST}:{port};
        location = /graphql {{
            error_page 405 =200 /answer.json;
            return 405;
        }}
        location = /answer.json {{
            internal;
            default_type application/json;
            etag off;
            alias {answer};
        }}
        location = /healthz {{
            default_type application/json;
            return 200 '{{"status":"ok"}}';
        }}
    }}
}}
"""


def make_servers(work: Path, content: Path, cache: Path) -> dict[str, Server]:
    """Every server, each on a free port of 127.0.0.1, not started yet."""
    python = sys.executable
    serve = [python, "-m", "contentapi", "serve", "--content", str(content), "--workers", "1"]
    cached = {"CONTENTAPI_CACHE_DIR": str(cache)}
    data = ["--data", str(work / "peer-data.json")]
    commands = {
        OURS: (serve, server_env(**cached)),
        UNCACHED: (serve, server_env(**cached, CONTENTAPI_RESPONSE_CACHE_BYTES="0")),
        **{
            name: (["node", str(PEER / script), *flags, *data], server_env(NODE_ENV="production"))
            for name, (script, *flags) in NODE_PEERS.items()
        },
        PLAIN: (
            [python, str(BENCH / "plain.py"), "--body", str(work / "plain.json")],
            server_env(),
        ),
    }
    servers: dict[str, Server] = {}
    for name, (command, env) in commands.items():
        port = free_port()
        servers[name] = Server(
            name, [*command, "--host", HOST, "--port", str(port)], env, work / f"{name}.log", port
        )
    folder, port = work / "nginx", free_port()
    folder.mkdir(exist_ok=True)
    (folder / "nginx.conf").write_text(nginx_config(folder, port, work / "plain.json"))
    nginx = [nginx_binary() or "nginx", "-p", str(folder), "-e", str(folder / "error.log")]
    servers[NGINX] = Server(
        NGINX,
        [*nginx, "-c", str(folder / "nginx.conf")],
        server_env(),
        work / "nginx.log",
        port,
        rss_of_child=True,
    )
    return servers


def _leave_out(server: Server, problem: str) -> None:
    """A missing peer: a failure under CI=true, else skipped with a note."""
    if in_ci():
        server.failure = f"{problem} (CI=true: a missing peer is a failure)"
    else:
        server.skipped = problem
        print(f"note: skipping {COLUMNS[server.name]}: {problem}", flush=True)


def start_servers(servers: dict[str, Server], answer_a: bytes, work: Path) -> list[str]:
    """Start every server and wait until each is ready; what went wrong, if anything."""
    problem = ensure_peer_modules()
    to_start = [servers[OURS], servers[UNCACHED]]
    for name in NODE_PEERS:
        if problem:
            _leave_out(servers[name], problem)
        else:
            to_start.append(servers[name])
    for server in to_start:
        started = time.monotonic()
        server.start()
        server.wait_ready(started)
    # The ceilings answer exactly what ours answers to (a).
    ceilings = [servers[PLAIN]]
    if nginx_binary() is None:
        _leave_out(servers[NGINX], "nginx is not installed (Debian/Ubuntu: apt-get install nginx)")
    else:
        ceilings.append(servers[NGINX])
    if servers[OURS].failure is None:
        try:
            status, expected = fetch(servers[OURS].url, answer_a)
            if status != 200:
                raise RuntimeError(f"HTTP {status}")
            (work / "plain.json").write_bytes(expected)
            for server in ceilings:
                started = time.monotonic()
                server.start()
                if server.wait_ready(started):
                    status, raw = fetch(server.url, answer_a)
                    if status != 200 or raw != expected:
                        server.failure = f"answers HTTP {status}, not our bytes: {raw[:200]!r}"
        except (OSError, RuntimeError) as exc:
            for server in ceilings:
                server.failure = server.failure or f"could not get our answer to (a): {exc}"
    else:
        for server in ceilings:
            server.failure = "ours did not start, so there is no answer to serve"
    failures = []
    for server in servers.values():
        if server.failure:
            failure = f"{COLUMNS[server.name]} did not start: {server.failure}"
            if tail := server.log_tail():
                failure += "\n    " + tail.replace("\n", "\n    ")
            failures.append(failure)
    return failures


def check_scenario(scenario: Scenario, servers: dict[str, Server], runs: Runs) -> list[str]:
    """Ask each server of the scenario a few of its requests; the Node peers must answer what
    ours answers (search: the same shape). A server answering wrong gets no wrk runs."""
    failures = []
    answers: dict[str, list[Any]] = {}
    for name in scenario.targets:
        server = servers[name]
        if server.failure or server.skipped:
            continue
        problem, answers[name] = check_answers(scenario, server)
        if problem:
            failures.append(f"{scenario.key} on {COLUMNS[name]}: {problem}")
            runs[(scenario.key, name)] = [WrkResult(failure="wrong answer")]
            del answers[name]
    if OURS in answers:
        ours = answers[OURS]
        for name in NODE_PEERS:
            if name not in answers:
                continue
            theirs = answers[name]
            # Search ranks differently (naive on Node), so only its shape must match.
            equal = same_shape(ours, theirs) if scenario.key == "d" else ours == theirs
            if not equal:
                failures.append(
                    f"{scenario.key}: {COLUMNS[name]}'s answer differs from ours "
                    f"({json.dumps(ours)[:150]} vs {json.dumps(theirs)[:150]})"
                )
                runs[(scenario.key, name)] = [WrkResult(failure="wrong answer")]
    return failures


def drive(
    scenario: Scenario,
    servers: dict[str, Server],
    seconds: int,
    warm_up: bool,
    runs: Runs,
    round_number: int = 0,
) -> list[str]:
    """One round of wrk runs of the scenario, on each of its servers whose answers were
    right; the order of the servers turns by one each round. What went wrong, if anything."""
    assert scenario.data is not None
    failures = []
    names = [
        name
        for name in scenario.targets
        if not servers[name].failure
        and not servers[name].skipped
        and not any(r.failure == "wrong answer" for r in runs.get((scenario.key, name), []))
    ]
    if names:
        turn = round_number % len(names)
        names = names[turn:] + names[:turn]
    for name in names:
        server = servers[name]
        if warm_up:  # JIT, caches, connections: not counted
            run_wrk(server.url, scenario.script, scenario.data, 1)
        print(f"wrk {scenario.key} on {COLUMNS[name]} (round {round_number + 1})...", flush=True)
        result = run_wrk(server.url, scenario.script, scenario.data, seconds)
        runs.setdefault((scenario.key, name), []).append(result)
        if not result.ok:
            what = result.failure or (
                f"{result.non_2xx} non-2xx, socket errors {result.socket_errors}"
            )
            where = f"{scenario.key} on {COLUMNS[name]} (round {round_number + 1})"
            if name not in (OURS, UNCACHED) and only_timed_out(result):
                # A peer answering every request right, some slower than wrk waits (2 s):
                # seen once in CI, Mercurius on (c) at a load average of 2.1, and not
                # again on the same code. Its figures still show it; ours never get this.
                print(f"note: {where}: {what}, not counted as a failure", flush=True)
                continue
            failures.append(f"{where}: {what}")
    return failures


def only_timed_out(result: WrkResult) -> bool:
    """Whether a run's only errors are wrk's timeouts: every answer a 2xx, no connection
    refused, reset or broken."""
    others = {kind: count for kind, count in result.socket_errors.items() if kind != "timeout"}
    return (
        result.failure is None
        and result.requests > 0
        and result.non_2xx == 0
        and not any(others.values())
    )


def peer_versions() -> dict[str, str]:
    """The versions bench/peer/package.json pins, by package."""
    try:
        pinned: dict[str, str] = json.loads((PEER / "package.json").read_text())["dependencies"]
        return pinned
    except (OSError, ValueError, KeyError):
        return {}


def nginx_version() -> str:
    binary = nginx_binary()
    if binary is None:
        return "nginx"
    done = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    found = re.search(r"nginx/(\S+)", done.stderr + done.stdout)
    return f"nginx {found.group(1)}" if found else "nginx"


def notes(servers: dict[str, Server], rss: dict[str, float | None]) -> list[str]:
    """The footnotes: start-up, memory, what each peer is."""
    lines = []
    for name, server in servers.items():
        if server.skipped:
            lines.append(f"- {COLUMNS[name]}: skipped ({server.skipped})")
            continue
        ready = f"{server.ready_seconds:.2f} s" if server.ready_seconds is not None else "–"
        peak = f"{rss[name]:.0f} MB" if rss.get(name) is not None else "–"
        note = " (page cache already filled)" if name in (OURS, UNCACHED) else ""
        note += " (its worker)" if server.rss_of_child else ""
        lines.append(f"- {COLUMNS[name]}: ready after {ready}{note}, peak RSS {peak}")
    v = peer_versions()

    def pin(*names: str) -> str:
        return " + ".join(f"{n} {v[n]}" if n in v else n for n in names)

    lines += [
        f"- node: {pin('graphql-http', 'graphql')} on node:http, parsing and validating every "
        "request. Every Node peer runs bench/peer/schema.mjs (same SDL and resolvers); its "
        "search is a naive substring match (scores and snippets differ from our FTS5/BM25)",
        f"- mercurius (jit): {pin('mercurius', 'fastify')}, `jit: 1` and its default `cache: "
        "true`, which is its query cache (parsed, validated and JIT-compiled documents, LRU of "
        "1024), not a response cache: JIT needs it (with `cache: false` nothing is compiled)",
        f"- mercurius (jit + cache): the same plus {pin('mercurius-cache')} on the Query "
        "fields (treatment, treatments, search), results cached by arguments: Mercurius has no "
        "response cache, this is the closest; the fields below and serialisation still run",
        f"- yoga (response cache): {pin('graphql-yoga', '@graphql-yoga/plugin-response-cache')}"
        f" ({pin('@envelop/response-cache')}), global session, on node:http",
        f"- nginx: {nginx_version()} (Debian), worker_processes 1, access_log off, answering "
        "our exact bytes for (a) from a file (like plain, which is Starlette + uvicorn)",
        "- (b) on ours (cached), mercurius (jit + cache) and yoga: each slug misses the cache "
        "once, then hits; ours (uncached) runs with CONTENTAPI_RESPONSE_CACHE_BYTES=0",
    ]
    return lines


def bench(args: argparse.Namespace, work: Path) -> int:
    """The whole run; 0 if every server started and every answer and wrk run was clean."""
    began = time.monotonic()
    load_before = os.getloadavg()

    # Index load times, on their own corpus, before any server runs.
    load_pages = 1000 if args.quick else 10_000
    print(f"generating {load_pages} pages for the load timing...", flush=True)
    generate(work / f"load-{load_pages}", load_pages)
    cold = helper("load", str(work / f"load-{load_pages}"), str(work / "load-cache"))
    warm = helper("load", str(work / f"load-{load_pages}"), str(work / "load-cache"))

    content, cache = work / "content", work / "cache"
    print(f"generating {args.pages} pages for the servers...", flush=True)
    generate(content, args.pages)
    # Also fills the page cache the servers share, so they start warm.
    dump = helper("dump", str(content), str(cache), str(work / "peer-data.json"))
    slugs: list[str] = dump["slugs"]
    if not slugs:
        print("error: the generated corpus has no published pages", file=sys.stderr)
        return 1
    scenarios = make_scenarios(slugs[:VARY_SLUGS], slugs[len(slugs) // 2])
    for scenario in scenarios:
        scenario.data = work / f"bodies-{scenario.key}.txt"
        scenario.data.write_bytes(b"\n".join(scenario.bodies) + b"\n")

    servers = make_servers(work, content, cache)
    runs: Runs = {}
    rss: dict[str, float | None] = {}
    with running(list(servers.values())):
        failures = start_servers(servers, scenarios[0].bodies[0], work)
        for scenario in scenarios:
            failures += check_scenario(scenario, servers, runs)
        # Interleaved: each round runs every scenario on every server once.
        for round_number in range(args.rounds):
            for scenario in scenarios:
                failures += drive(
                    scenario, servers, args.duration, not args.quick, runs, round_number
                )
        for name, server in servers.items():
            rss[name] = server.peak_rss_mb()

    results = medians(runs)
    columns = _columns(servers)
    rounds = f"median of {args.rounds} interleaved rounds" if args.rounds > 1 else "one round"
    print()
    print(
        f"## HTTP benchmark: {args.pages} pages ({len(slugs)} published), wrk -t{THREADS} "
        f"-c{CONNECTIONS} -d{args.duration}s --timeout {TIMEOUT}s, one process each, {rounds}"
    )
    print()
    print(table(scenarios, results, columns))
    print()
    print(f"Ratios of req/s ({rounds}):")
    print()
    print(ratio_table(scenarios, results, columns))
    print()
    print(details(scenarios, runs))
    print()
    print(
        f"- cold index load, {cold['pages']} pages, 1 worker: {cold['seconds']:.2f} s "
        f"(+ {cold['import_seconds']:.2f} s imports)"
    )
    print(f"- warm-start load (page cache filled), same pages: {warm['seconds']:.2f} s")
    for line in notes(servers, rss):
        print(line)
    load_after = os.getloadavg()
    print(
        f"- total time {time.monotonic() - began:.0f} s on {os.cpu_count()} CPUs; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after (other work skews the numbers)"
    )
    if failures:
        print()
        print("FAILURES:")
        for failure in failures:
            print(f"- {failure}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="HTTP benchmark: contentapi vs Node GraphQL servers vs plain endpoints."
    )
    parser.add_argument("--pages", type=int, default=None, help="corpus size (default 1000)")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run (5)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (3)")
    parser.add_argument(
        "--quick", action="store_true", help="CI smoke test: 200 pages, 1 s runs, one round"
    )
    parser.add_argument("--helper", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.helper:
        return run_helper(args.helper)
    if args.pages is None:
        args.pages = 200 if args.quick else 1000
    if args.duration is None:
        args.duration = 1 if args.quick else 5
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.pages < 1 or args.duration < 1 or args.rounds < 1:
        parser.error("--pages, --duration and --rounds must be at least 1")
    if shutil.which("wrk") is None:
        print(
            "error: wrk is not installed; install it (Debian/Ubuntu: apt-get install wrk) "
            "and run again",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="contentapi-http-bench-") as work:
        try:
            return bench(args, Path(work))
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
