"""The hostile internet: issue 11's requests replayed against a real `contentapi serve` worker.

Each attack must be answered with a 4xx (or, for header floods, 431 or a closed connection)
within ATTACK_SECONDS, while GET /healthz is answered meanwhile, and the worker's resident
memory must stay under RSS_LIMIT (well under the Kubernetes manifest's 512 MiB). A memory soak
sends unique requests for SOAK_SECONDS and asserts that memory levels off.

Loopback only. Normal requests go through httpx, malformed and slow ones through raw sockets.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson
import pytest

from server import ROOT, ServerProcess, started_server

pytestmark = pytest.mark.system

T = TypeVar("T")

ATTACK_SECONDS = 1.0  # generous: every refusal should take milliseconds
HEALTH_SECONDS = 1.0
RSS_LIMIT = 400 * 1000 * 1000  # bytes; the Kubernetes manifest allows 512 MiB
# Short read timeouts, so that the slow-client tests take seconds (the defaults are 10/10/5).
HEADER_TIMEOUT = 2
BODY_TIMEOUT = 2
KEEP_ALIVE_TIMEOUT = 2
TIMEOUT_SLACK = 1.0  # how much later than its timeout a slow connection may be cut off
MAX_HEADER_BYTES = 65536  # the default of CONTENTAPI_MAX_HEADER_BYTES
MAX_HEADERS = 100  # the default of CONTENTAPI_MAX_HEADERS
BATCH_LIMIT = 100
SOAK_SECONDS = 60.0
SOAK_MAX_REQUESTS = 200_000
SOAK_CLIENTS = 2
SOAK_SAMPLE_SECONDS = 3.0
SOAK_WARM_UP_SECONDS = 9.0
SOAK_GROWTH_ALLOWANCE = 8 * 1000 * 1000  # bytes the last third may peak above the first
EXTRA_PAGES = 20
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Words with which an error names the limit it enforces.
NAMES_A_LIMIT = re.compile(r"limit|maximum|allowed|at most|too (many|large|long|deep)", re.I)
INDICATIONS = ["Facelift", "Hair loss", "Cellulite", "Neck rejuvenation"]


# The server


def write_content(target: Path) -> Path:
    """The bundled content/ plus EXTRA_PAGES pages sharing its indications (so `related`
    returns its default 5 everywhere)."""
    shutil.copytree(ROOT / "content", target)
    for number in range(EXTRA_PAGES):
        indications = "\n".join(f"  - {name}" for name in INDICATIONS)
        (target / f"treatment-{number:02}.md").write_text(
            f"---\ntitle: Treatment {number:02}\ncategory: Skin Treatment\n"
            f"indications:\n{indications}\n---\n\n"
            f"Treatment {number:02} helps the skin.\n\n"
            f'<img src="/img/t{number}.jpg" alt="T{number}" width="640" height="480">\n'
        )
    return target


@dataclass
class Worker:
    """One `contentapi serve` worker for the module, restarted when an attack left it stuck."""

    content: Path
    stack: ExitStack = field(default_factory=ExitStack)
    current: ServerProcess | None = None

    def start(self) -> ServerProcess:
        environment = {
            "CONTENTAPI_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
            "CONTENTAPI_BODY_TIMEOUT": str(BODY_TIMEOUT),
            "CONTENTAPI_KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE_TIMEOUT),
            "CONTENTAPI_BATCH_LIMIT": str(BATCH_LIMIT),
            "CONTENTAPI_ACCESS_LOG": "",
            "CONTENTAPI_CACHE_DIR": str(self.content.parent / "cache"),
        }
        self.current = self.stack.enter_context(started_server(self.content, env=environment))
        children = Path(f"/proc/{self.current.process.pid}/task/{self.current.process.pid}")
        assert (children / "children").read_text() == "", "uvicorn runs in a child process"
        return self.current

    def healthy(self) -> bool:
        assert self.current is not None
        try:
            answered = httpx.get(self.current.url + "/healthz", timeout=HEALTH_SECONDS)
        except httpx.HTTPError:
            return False
        return answered.status_code == 200 and self.current.rss_bytes() < RSS_LIMIT

    def restart(self) -> ServerProcess:
        assert self.current is not None
        self.current.process.kill()  # a worker stuck in a request would not hear SIGTERM
        self.stack.close()
        self.stack = ExitStack()
        return self.start()


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    folder = tmp_path_factory.mktemp("hostile")
    worker = Worker(write_content(folder / "content"))
    worker.start()
    try:
        yield worker
    finally:
        worker.stack.close()


@pytest.fixture
def server(worker: Worker) -> ServerProcess:
    """The module's worker, healthy: restarted if an earlier attack left it stuck or swollen."""
    assert worker.current is not None
    return worker.current if worker.healthy() else worker.restart()


# Sending requests


@dataclass(frozen=True)
class Answer:
    """What came back on a raw connection: a response, or None when it was closed first."""

    status: int | None
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        return values[0] if values else None

    def json(self) -> Any:
        body = gzip.decompress(self.body) if self.header("content-encoding") else self.body
        return orjson.loads(body)


CLOSED = Answer(None, [], b"")


def read_answer(sock: socket.socket) -> Answer:
    """Read one HTTP/1.1 response (with Content-Length) or note that the server closed."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return CLOSED
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = [
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines)
        ]
        length = int(dict(headers).get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except (ConnectionResetError, BrokenPipeError):
        return CLOSED
    return Answer(int(status_line.split()[1]), headers, body[:length])


def raw_request(
    server: ServerProcess, request: bytes, *, timeout: float = ATTACK_SECONDS + 2
) -> Answer:
    """Send request bytes as they are and read the answer (or see the connection closed)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (ConnectionResetError, BrokenPipeError):
            return CLOSED
        return read_answer(sock)


def http_request(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes = b"",
) -> bytes:
    """An HTTP/1.1 request with exactly these header lines (repeats and empty values kept)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" if value else f"{name}:" for name, value in headers]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def post_graphql(
    server: ServerProcess, payload: Any, *, timeout: float = ATTACK_SECONDS + 2
) -> httpx.Response:
    """POST a GraphQL request asking for graphql-response+json (so a refusal is a 4xx)."""
    try:
        return httpx.post(
            server.url + "/graphql",
            content=orjson.dumps(payload),
            headers={"content-type": "application/json", "accept": GRAPHQL_RESPONSE},
            timeout=timeout,
        )
    except httpx.TimeoutException:
        pytest.fail(f"the request was not answered within {timeout} s")


def while_healthy(server: ServerProcess, attack: Callable[[], T]) -> tuple[T, float]:
    """Run attack in a thread while GET /healthz is asked; returns its result and seconds."""
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        future = pool.submit(attack)
        try:
            health = httpx.get(server.url + "/healthz", timeout=HEALTH_SECONDS)
        except httpx.TimeoutException:
            pytest.fail(f"GET /healthz was not answered within {HEALTH_SECONDS} s meanwhile")
        assert health.status_code == 200
        result = future.result()
        return result, time.monotonic() - started


def assert_memory_bounded(server: ServerProcess) -> None:
    rss = server.rss_bytes()
    assert rss < RSS_LIMIT, f"worker RSS {rss / 1e6:.0f} MB, the bound is {RSS_LIMIT / 1e6:.0f}"


def assert_refused(server: ServerProcess, payload: Any) -> str:
    """POST payload: refused with a 4xx naming a limit, quickly, the worker healthy meanwhile."""
    response, seconds = while_healthy(server, lambda: post_graphql(server, payload))
    assert 400 <= response.status_code < 500, response.text[:500]
    assert seconds < ATTACK_SECONDS, f"refused after {seconds:.2f} s"
    message = str(response.json()["errors"][0]["message"])
    assert NAMES_A_LIMIT.search(message), f"the error does not name a limit: {message!r}"
    assert_memory_bounded(server)
    return message


def global_id(kind: str, key: str) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


# 1. Exponential validation through fragment spreads


def spread_chain(levels: int, spreads: int) -> str:
    """query { ...F0 }, each fragment spreading the next `spreads` times, the last a leaf."""
    fragments = [
        f"fragment F{level} on Query {{ {' '.join([f'...F{level + 1}'] * spreads)} }}"
        for level in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Query {{ __typename }}")
    return "query Q { ...F0 } " + " ".join(fragments)


def test_doubled_fragment_chain_21_levels_is_refused_fast(server: ServerProcess) -> None:
    query = spread_chain(21, 2)
    assert len(query) < 1000
    assert_refused(server, {"query": query})


def test_tripled_fragment_chain_12_levels_is_refused_fast(server: ServerProcess) -> None:
    assert_refused(server, {"query": spread_chain(12, 3)})


def test_a_new_comment_does_not_repeat_the_fragment_attack(server: ServerProcess) -> None:
    for number in range(5):
        assert_refused(server, {"query": f"# attempt {number}\n" + spread_chain(21, 2)})


# 2. Cost of lists with a default size


def nested_related(depth: int) -> str:
    return "related { " * depth + "slug" + " }" * depth


def test_related_8_deep_with_6_aliases_is_refused_by_cost(server: ServerProcess) -> None:
    aliases = " ".join(f"a{n}: {nested_related(8)}" for n in range(6))
    query = '{ treatment(slug: "mesotherapy") { %s } }' % aliases
    assert len(query) < 1000
    assert_refused(server, {"query": query})


def test_nodes_with_100_ids_and_related_6_deep_is_refused_by_cost(
    server: ServerProcess,
) -> None:
    slugs = ["mesotherapy", *(f"treatment-{n:02}" for n in range(EXTRA_PAGES))]
    ids = [global_id("Treatment", slug) for slug in itertools.islice(itertools.cycle(slugs), 100)]
    query = "{ nodes(ids: %s) { ... on Treatment { %s } } }" % (
        orjson.dumps(ids).decode(),
        nested_related(6),
    )
    assert_refused(server, {"query": query})


# 3. Quadratic overlap checking


def test_495_repeated_selections_are_refused_fast(server: ServerProcess) -> None:
    query = "{ " + "contentInfo { version } " * 495 + "}"
    assert_refused(server, {"query": query})


# 4. Memory through cache keys


def test_unique_60_kb_query_strings_leave_memory_bounded(server: ServerProcess) -> None:
    def send_all() -> list[int]:
        statuses = []
        with httpx.Client(timeout=ATTACK_SECONDS + 2) as client:
            for number in range(200):
                comment = f"{number:08}" + "x" * 60_000
                target = "/graphql?query=" + quote("{ contentInfo { version } } #" + comment)
                statuses.append(client.get(server.url + target).status_code)
        return statuses

    statuses, _ = while_healthy(server, send_all)
    assert set(statuses) <= {200, 400, 413, 414, 431}, statuses
    assert_memory_bounded(server)


def test_1_mb_accept_headers_are_refused(server: ServerProcess) -> None:
    def send_all() -> list[Answer]:
        answers = []
        for number in range(60):
            accept = f"application/json, text/x-{number}-" + "a" * 1_000_000
            request = http_request("GET", "/graphql?query=%7B__typename%7D", [("Accept", accept)])
            answers.append(raw_request(server, request))
        return answers

    answers, seconds = while_healthy(server, send_all)
    assert {answer.status for answer in answers} <= {431, None}
    assert seconds < ATTACK_SECONDS * 60
    assert_memory_bounded(server)


# 5. Header limits and timeouts


def test_a_64_mb_header_is_refused_four_at_once(server: ServerProcess) -> None:
    request = http_request("GET", "/healthz", [("X-Big", "a" * 64_000_000)])

    def flood() -> list[Answer]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda _: raw_request(server, request), range(4)))

    answers, seconds = while_healthy(server, flood)
    assert {answer.status for answer in answers} <= {431, None}
    assert seconds < ATTACK_SECONDS * 4
    assert_memory_bounded(server)


def test_headers_just_over_the_size_limit_get_431_naming_it(server: ServerProcess) -> None:
    request = http_request("GET", "/healthz", [("X-Big", "a" * MAX_HEADER_BYTES)])
    answer, seconds = while_healthy(server, lambda: raw_request(server, request))
    assert answer.status == 431
    message = f"the request's headers are larger than the limit of {MAX_HEADER_BYTES} bytes"
    assert answer.json() == {"errors": [{"message": message}]}
    assert answer.header("connection") == "close"
    assert seconds < ATTACK_SECONDS


def test_headers_under_the_size_limit_are_served(server: ServerProcess) -> None:
    request = http_request("GET", "/healthz", [("X-Big", "a" * (MAX_HEADER_BYTES - 200))])
    answer = raw_request(server, request)
    assert (answer.status, answer.json()) == (200, {"status": "ok"})


def test_one_header_too_many_gets_431_naming_the_limit(server: ServerProcess) -> None:
    # Host and Connection are two of them.
    headers = [(f"X-{number}", "a") for number in range(MAX_HEADERS - 1)]
    answer = raw_request(server, http_request("GET", "/healthz", headers))
    assert answer.status == 431
    assert answer.json() == {
        "errors": [{"message": f"the request has more than the limit of {MAX_HEADERS} headers"}]
    }
    answer = raw_request(server, http_request("GET", "/healthz", headers[:-1]))
    assert answer.status == 200


def trickle(
    server: ServerProcess, start: bytes, drip: bytes, seconds: float
) -> tuple[Answer, float]:
    """Send start, then drip every 0.2 s until the server answers or closes (or seconds pass)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=0.2) as sock:
        began = time.monotonic()
        sock.sendall(start)
        while time.monotonic() - began < seconds:
            try:
                sock.sendall(drip)
                if sock.recv(1, socket.MSG_PEEK) == b"":
                    return CLOSED, time.monotonic() - began
                sock.settimeout(2)
                return read_answer(sock), time.monotonic() - began
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return CLOSED, time.monotonic() - began
        pytest.fail(f"the connection was still open after {seconds} s")


def test_slowloris_headers_are_cut_off_after_the_header_timeout(server: ServerProcess) -> None:
    def attack() -> tuple[Answer, float]:
        start = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        return trickle(server, start, b"X-a: b\r\n", HEADER_TIMEOUT + 5)

    (answer, seconds), _ = while_healthy(server, attack)
    assert HEADER_TIMEOUT - 0.5 < seconds < HEADER_TIMEOUT + TIMEOUT_SLACK
    assert answer.status == 408
    message = f"the request's headers did not arrive within the limit of {HEADER_TIMEOUT} s"
    assert answer.json() == {"errors": [{"message": message}]}


def test_many_slowloris_connections_at_once_are_all_cut_off(server: ServerProcess) -> None:
    start = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"

    def one() -> tuple[Answer, float]:
        return trickle(server, start, b"X-a: b\r\n", HEADER_TIMEOUT + 5)

    def attack() -> list[tuple[Answer, float]]:
        with ThreadPoolExecutor(50) as pool:
            return list(pool.map(lambda _: one(), range(50)))

    results, _ = while_healthy(server, attack)
    assert all(seconds < HEADER_TIMEOUT + TIMEOUT_SLACK for _, seconds in results)
    assert {answer.status for answer, _ in results} <= {408, None}
    assert_memory_bounded(server)


def test_slowloris_body_is_cut_off_after_the_body_timeout(server: ServerProcess) -> None:
    start = http_request("POST", "/graphql", [("Content-Type", "application/json")], b"").replace(
        b"Content-Length: 0", b"Content-Length: 1000"
    )

    (answer, seconds), _ = while_healthy(
        server, lambda: trickle(server, start, b" ", BODY_TIMEOUT + 5)
    )
    assert BODY_TIMEOUT - 0.5 < seconds < BODY_TIMEOUT + TIMEOUT_SLACK
    assert answer.status == 408
    message = f"the request's body did not arrive within the limit of {BODY_TIMEOUT} s"
    assert answer.json() == {"errors": [{"message": message}]}


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closes sock, failing if it is still open after `seconds`."""
    began = time.monotonic()
    sock.settimeout(seconds)
    try:
        assert sock.recv(1) == b""
    except TimeoutError:
        pytest.fail(f"the idle connection was still open after {seconds} s")
    except ConnectionResetError:
        pass
    return time.monotonic() - began


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        seconds = closed_within(sock, KEEP_ALIVE_TIMEOUT + TIMEOUT_SLACK)
    assert seconds > KEEP_ALIVE_TIMEOUT - 0.5


def test_blank_lines_do_not_keep_an_idle_connection_open(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        began = time.monotonic()
        while time.monotonic() - began < KEEP_ALIVE_TIMEOUT - 0.5:
            sock.sendall(b"\r\n")
            time.sleep(0.2)
        closed_within(sock, TIMEOUT_SLACK + 0.5)


@pytest.mark.parametrize(
    ("path", "key"),
    # The app's answer, and one the protocol itself writes (the wire replay, lane.py).
    [("/healthz", "status"), ("/graphql?query={contentInfo{version}}", "data")],
)
def test_a_connection_idle_after_a_response_is_closed(
    server: ServerProcess, path: str, key: str
) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert key in read_answer(sock).json()
        seconds = closed_within(sock, KEEP_ALIVE_TIMEOUT + TIMEOUT_SLACK)
    assert seconds > KEEP_ALIVE_TIMEOUT - 0.5


def test_keep_alive_requests_within_the_timeouts_are_all_served(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        for _ in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_answer(sock).json() == {"status": "ok"}
            time.sleep(KEEP_ALIVE_TIMEOUT / 2)


# 8. Caches that answer the wrong client


PAGE_QUERY = "/graphql?query=" + quote('{ treatment(slug: "mesotherapy") { html } }')


def test_a_repeated_accept_encoding_does_not_replay_gzip(server: ServerProcess) -> None:
    trick = [("Accept-Encoding", "gzip"), ("Accept-Encoding", "")]
    for _ in range(3):
        raw_request(server, http_request("GET", PAGE_QUERY, trick))
    answer = raw_request(server, http_request("GET", PAGE_QUERY, [("Accept-Encoding", "")]))
    assert answer.status == 200
    assert answer.header("content-encoding") is None
    assert orjson.loads(answer.body)["data"]["treatment"]["html"]


def test_a_repeated_accept_does_not_replay_graphql_response_json(server: ServerProcess) -> None:
    trick = [("Accept", GRAPHQL_RESPONSE), ("Accept", "")]
    for _ in range(3):
        raw_request(server, http_request("GET", PAGE_QUERY, trick))
    answer = raw_request(server, http_request("GET", PAGE_QUERY, []))
    assert answer.status == 200
    assert answer.header("content-type") == "application/json"


def test_a_repeated_content_type_does_not_let_text_plain_through(server: ServerProcess) -> None:
    body = orjson.dumps({"query": "{ contentInfo { treatmentCount } }"})
    trick = [("Content-Type", "application/json"), ("Content-Type", "text/plain")]
    for _ in range(3):
        raw_request(server, http_request("POST", "/graphql", trick, body))
    answer = raw_request(server, http_request("POST", "/graphql", [trick[1]], body))
    assert answer.status == 415


NODE_QUERY = "query N($id: ID!) { node(id: $id) { id } }"
NODES_QUERY = "query N($ids: [ID!]!) { nodes(ids: $ids) { id } }"
NOT_CANONICAL_IMAGE_IDS = [
    "SW1hZ2U6bWVzb3RoZXJhcHkvwrI=",  # Image:mesotherapy/² (str.isdigit is true)
    global_id("Image", "mesotherapy/\u0660"),  # an Arabic-Indic zero
    global_id("Image", "mesotherapy/00"),
    global_id("Image", "mesotherapy/" + "1" * 5000),
]


@pytest.mark.parametrize(
    "image_id", NOT_CANONICAL_IMAGE_IDS, ids=["superscript", "arabic", "00", "5000"]
)
def test_a_non_canonical_image_id_is_no_node(server: ServerProcess, image_id: str) -> None:
    response = post_graphql(server, {"query": NODE_QUERY, "variables": {"id": image_id}})
    assert (response.status_code, response.json()) == (200, {"data": {"node": None}})
    good = global_id("Image", "mesotherapy/0")
    response = post_graphql(server, {"query": NODES_QUERY, "variables": {"ids": [good, image_id]}})
    assert (response.status_code, response.json()) == (
        200,
        {"data": {"nodes": [{"id": good}, None]}},
    )


# 9. Smaller ones


def test_an_int_literal_with_5000_digits_is_refused(server: ServerProcess) -> None:
    query = "{ treatments(first: %s) { totalCount } }" % ("9" * 5000)
    response, seconds = while_healthy(server, lambda: post_graphql(server, {"query": query}))
    assert 400 <= response.status_code < 500, response.text[:300]
    assert seconds < ATTACK_SECONDS
    assert "Unexpected error." not in response.text
    assert "Traceback" not in server.output()


def test_a_batch_costs_the_sum_of_its_operations(server: ServerProcess) -> None:
    operation = {
        "query": "{ treatments(first: 100) { nodes { slug title summary } } }",
        "extensions": {"cost": True},
    }
    single = post_graphql(server, operation)
    assert single.status_code == 200 and "errors" not in single.json(), single.text[:300]
    assert_refused(server, [operation] * BATCH_LIMIT)


def test_graphiql_html_varies_on_accept_and_has_cache_control(server: ServerProcess) -> None:
    response = httpx.get(server.url + "/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "accept" in response.headers.get("vary", "").lower()
    assert response.headers.get("cache-control")


# The memory soak


def soak_client(server: ServerProcess, client_number: int, stop: threading.Event) -> int:
    """Unique query strings, Accept headers and bodies in turn, until stop; returns count."""
    sent = 0
    with httpx.Client(base_url=server.url, timeout=5) as client:
        while not stop.is_set() and sent < SOAK_MAX_REQUESTS // SOAK_CLIENTS:
            unique = f"{client_number}-{sent:09}"
            match sent % 3:
                case 0:
                    query = "{ contentInfo { version } } #" + unique + "q" * 30_000
                    response = client.get("/graphql", params={"query": query})
                case 1:
                    accept = f"application/json, text/x-{unique};q=0.1" + ", a/b;q=0.1" * 80
                    response = client.get(
                        "/graphql",
                        params={"query": "{ contentInfo { version } }"},
                        headers={"accept": accept},
                    )
                case _:
                    query = "{ contentInfo { treatmentCount } } #" + unique + "b" * 12_000
                    response = client.post("/graphql", json={"query": query})
            assert response.status_code < 500, response.text[:300]
            sent += 1
    return sent


def test_memory_levels_off_under_unique_requests(server: ServerProcess) -> None:
    stop = threading.Event()
    samples: list[tuple[float, int]] = []
    with ThreadPoolExecutor(SOAK_CLIENTS) as pool:
        clients = [pool.submit(soak_client, server, n, stop) for n in range(SOAK_CLIENTS)]
        began = time.monotonic()
        try:
            while time.monotonic() - began < SOAK_SECONDS and not any(c.done() for c in clients):
                time.sleep(SOAK_SAMPLE_SECONDS)
                rss = server.rss_bytes()
                samples.append((time.monotonic() - began, rss))
                assert rss < RSS_LIMIT, (
                    f"worker RSS {rss / 1e6:.0f} MB after {samples[-1][0]:.0f} s"
                )
        finally:
            stop.set()
        sent = sum(client.result() for client in clients)
    assert sent > 1000, f"only {sent} requests in {SOAK_SECONDS} s"
    after_warm_up = [rss for at, rss in samples if at > SOAK_WARM_UP_SECONDS]
    third = len(after_warm_up) // 3
    first, last = max(after_warm_up[:third]), max(after_warm_up[-third:])
    trace = ", ".join(f"{at:.0f}s {rss / 1e6:.0f}MB" for at, rss in samples)
    assert last <= first + SOAK_GROWTH_ALLOWANCE, f"memory still rising: {trace}"
