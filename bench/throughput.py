"""HTTP benchmark: contentapi against a Node GraphQL server and a plain JSON endpoint.

    python bench/throughput.py [--pages 1000] [--duration 5] [--quick]

In one run, on a corpus generated into a temporary folder, it starts:

- ours (cached): `python -m contentapi serve --workers 1`, default settings;
- ours (uncached): the same with CONTENTAPI_RESPONSE_CACHE_BYTES=0 (no response cache);
- node: bench/peer/server.mjs, graphql-http + graphql-js over a JSON dump of the same pages;
- plain: bench/plain.py, Starlette answering our exact bytes for query (a) (the ceiling);

then drives each with wrk (2 threads, 64 connections, --latency) through four scenarios and
prints a Markdown table. It also times a cold and a warm-start index load (10,000 pages;
1,000 with --quick) and reads each server's peak RSS (VmHWM) after the run.

--quick (200 pages, 1 s per wrk run) is the CI smoke test: it exits 1 if a server did not
start, a response was wrong or any wrk run saw socket errors or non-2xx answers; the table is
printed all the same. Without wrk it exits 2. Load goes to 127.0.0.1 only.
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

OURS, UNCACHED, NODE, PLAIN = "ours", "ours-uncached", "node", "plain"
COLUMNS = {OURS: "ours (cached)", UNCACHED: "ours (uncached)", NODE: "node", PLAIN: "plain"}


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
        """VmHWM of the server process (the uvicorn or node process itself), in MB (10^6 B)."""
        if self.process is None or self.process.poll() is not None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
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
    everyone = (OURS, UNCACHED, NODE)
    return [
        Scenario("a", "(a) one treatment, same query", [body(QUERY_A % one)], (*everyone, PLAIN)),
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


def table(scenarios: Sequence[Scenario], results: dict[tuple[str, str], WrkResult]) -> str:
    """The summary: one row per scenario, one column per server, then the ratios."""
    head = [
        "scenario",
        *COLUMNS.values(),
        "cached / plain",
        "cached / node",
        "uncached / node",
    ]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in scenarios:
        got = {name: results.get((s.key, name)) for name in COLUMNS}
        cells = [
            s.title,
            *(_cell(got[name]) for name in COLUMNS),
            _ratio(got[OURS], got[PLAIN]),
            _ratio(got[OURS], got[NODE]),
            _ratio(got[UNCACHED], got[NODE]),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def details(scenarios: Sequence[Scenario], results: dict[tuple[str, str], WrkResult]) -> str:
    """Every wrk run: requests, non-2xx answers and socket errors."""
    rows = [
        "| scenario | server | requests | req/s | p50 ms | p99 ms | non-2xx | socket errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in scenarios:
        for name in s.targets:
            r = results.get((s.key, name))
            if r is None:
                continue
            sockets = ", ".join(f"{k} {v}" for k, v in r.socket_errors.items() if v) or "0"
            if r.failure:
                sockets += f" ({r.failure})"
            p50 = f"{r.p50_ms:.2f}" if r.p50_ms is not None else "?"
            p99 = f"{r.p99_ms:.2f}" if r.p99_ms is not None else "?"
            rows.append(
                f"| {s.key} | {COLUMNS[name]} | {r.requests} | {r.requests_per_second:,.0f} | "
                f"{p50} | {p99} | {r.non_2xx} | {sockets} |"
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


def ensure_peer_modules() -> str | None:
    """npm ci in bench/peer when its node_modules is missing; a problem or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if (PEER / "node_modules" / "graphql-http").is_dir():
        return None
    print("installing bench/peer's node modules (npm ci)...", flush=True)
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
        cwd=PEER,
        capture_output=True,
        text=True,
        check=False,
    )
    return None if done.returncode == 0 else f"npm ci failed: {done.stderr.strip()[-500:]}"


def make_servers(work: Path, content: Path, cache: Path) -> dict[str, Server]:
    """The four servers, each on a free port of 127.0.0.1, not started yet."""
    python = sys.executable
    serve = [python, "-m", "contentapi", "serve", "--content", str(content), "--workers", "1"]
    cached = {"CONTENTAPI_CACHE_DIR": str(cache)}
    commands = {
        OURS: (serve, server_env(**cached)),
        UNCACHED: (serve, server_env(**cached, CONTENTAPI_RESPONSE_CACHE_BYTES="0")),
        NODE: (
            ["node", str(PEER / "server.mjs"), "--data", str(work / "peer-data.json")],
            server_env(NODE_ENV="production"),
        ),
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
    return servers


def start_servers(servers: dict[str, Server], answer_a: bytes, work: Path) -> list[str]:
    """Start every server and wait until each is ready; what went wrong, if anything."""
    problem = ensure_peer_modules()
    to_start = [servers[OURS], servers[UNCACHED]]
    if problem:
        servers[NODE].failure = problem
    else:
        to_start.append(servers[NODE])
    for server in to_start:
        started = time.monotonic()
        server.start()
        server.wait_ready(started)
    # The ceiling answers exactly what ours answers to (a).
    if servers[OURS].failure is None:
        try:
            status, raw = fetch(servers[OURS].url, answer_a)
            if status != 200:
                raise RuntimeError(f"HTTP {status}")
            (work / "plain.json").write_bytes(raw)
            started = time.monotonic()
            servers[PLAIN].start()
            servers[PLAIN].wait_ready(started)
        except (OSError, RuntimeError) as exc:
            servers[PLAIN].failure = f"could not get our answer to (a): {exc}"
    else:
        servers[PLAIN].failure = "ours did not start, so there is no answer to serve"
    failures = []
    for server in servers.values():
        if server.failure:
            failure = f"{COLUMNS[server.name]} did not start: {server.failure}"
            if tail := server.log_tail():
                failure += "\n    " + tail.replace("\n", "\n    ")
            failures.append(failure)
    return failures


def drive(
    scenario: Scenario,
    servers: dict[str, Server],
    seconds: int,
    warm_up: bool,
    results: dict[tuple[str, str], WrkResult],
) -> list[str]:
    """Check the answers, then run wrk on each server of the scenario; what went wrong."""
    assert scenario.data is not None
    failures = []
    answers: dict[str, list[Any]] = {}
    for name in scenario.targets:
        server = servers[name]
        if server.failure:
            continue
        problem, answers[name] = check_answers(scenario, server)
        if problem:
            failures.append(f"{scenario.key} on {COLUMNS[name]}: {problem}")
            results[(scenario.key, name)] = WrkResult(failure="wrong answer")
            continue
        if warm_up:  # JIT, caches, connections: not counted
            run_wrk(server.url, scenario.script, scenario.data, 1)
        print(f"wrk {scenario.key} on {COLUMNS[name]}...", flush=True)
        result = run_wrk(server.url, scenario.script, scenario.data, seconds)
        results[(scenario.key, name)] = result
        if not result.ok:
            what = result.failure or (
                f"{result.non_2xx} non-2xx, socket errors {result.socket_errors}"
            )
            failures.append(f"{scenario.key} on {COLUMNS[name]}: {what}")
    if OURS in answers and NODE in answers:
        ours, node = answers[OURS], answers[NODE]
        # Search ranks differently (naive on Node), so only its shape must match.
        equal = same_shape(ours, node) if scenario.key == "d" else ours == node
        if not equal:
            failures.append(
                f"{scenario.key}: the Node peer's answer differs from ours "
                f"({json.dumps(ours)[:150]} vs {json.dumps(node)[:150]})"
            )
    return failures


def peer_versions() -> str:
    """The graphql-http and graphql versions bench/peer/package.json pins."""
    try:
        pinned = json.loads((PEER / "package.json").read_text())["dependencies"]
        return f"graphql-http {pinned['graphql-http']} + graphql {pinned['graphql']}"
    except (OSError, ValueError, KeyError):
        return "graphql-http + graphql"


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
    results: dict[tuple[str, str], WrkResult] = {}
    rss: dict[str, float | None] = {}
    with running(list(servers.values())):
        failures = start_servers(servers, scenarios[0].bodies[0], work)
        for scenario in scenarios:
            failures += drive(scenario, servers, args.duration, not args.quick, results)
        for name, server in servers.items():
            rss[name] = server.peak_rss_mb()

    print()
    print(
        f"## HTTP benchmark: {args.pages} pages ({len(slugs)} published), wrk -t{THREADS} "
        f"-c{CONNECTIONS} -d{args.duration}s --timeout {TIMEOUT}s, one process each"
    )
    print()
    print(table(scenarios, results))
    print()
    print(details(scenarios, results))
    print()
    print(
        f"- cold index load, {cold['pages']} pages, 1 worker: {cold['seconds']:.2f} s "
        f"(+ {cold['import_seconds']:.2f} s imports)"
    )
    print(f"- warm-start load (page cache filled), same pages: {warm['seconds']:.2f} s")
    for name, server in servers.items():
        ready = f"{server.ready_seconds:.2f} s" if server.ready_seconds is not None else "–"
        peak = f"{rss[name]:.0f} MB" if rss.get(name) is not None else "–"
        note = " (page cache already filled)" if name in (OURS, UNCACHED) else ""
        print(f"- {COLUMNS[name]}: ready after {ready}{note}, peak RSS {peak}")
    print(
        f"- node: {peer_versions()}, parsing and validating every request; its search is a "
        "naive substring match (scores and snippets differ from our FTS5/BM25)"
    )
    print(
        "- (b) on ours (cached): each slug misses the response cache once, then hits; "
        "ours (uncached) runs with CONTENTAPI_RESPONSE_CACHE_BYTES=0"
    )
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
        description="HTTP benchmark: contentapi vs a Node GraphQL server vs a plain endpoint."
    )
    parser.add_argument("--pages", type=int, default=None, help="corpus size (default 1000)")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run (5)")
    parser.add_argument(
        "--quick", action="store_true", help="CI smoke test: 200 pages, 1 s runs, < 60 s"
    )
    parser.add_argument("--helper", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.helper:
        return run_helper(args.helper)
    if args.pages is None:
        args.pages = 200 if args.quick else 1000
    if args.duration is None:
        args.duration = 1 if args.quick else 5
    if args.pages < 1 or args.duration < 1:
        parser.error("--pages and --duration must be at least 1")
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
