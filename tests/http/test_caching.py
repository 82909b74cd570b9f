"""HTTP caches hold what they count, keyed by what shapes the answer: the bounded LRU, the
fast lane and the response cache in one byte budget, repeated headers, ETags."""

from __future__ import annotations

import asyncio
import shutil
import tracemalloc
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from contentapi.bounded import ENTRY_OVERHEAD, BoundedCache, digest
from contentapi.content.index import ContentIndex
from contentapi.http.app import create_app
from contentapi.http.protocol import JSON, MAX_ACCEPT_LENGTH, negotiate
from contentapi.http.responses import Answer, Recording, ResponseCache
from contentapi.settings import Settings

from expected import READYZ_KEYS

CLINIC = Path(__file__).parent.parent / "fixtures" / "clinic"
PEEL = '{ treatment(slug: "peel") { title } }'
# Over the 1,024-byte gzip threshold.
LARGE = '{ treatment(slug: "mesotherapy") { html text } }'
TOKEN = "t0ken"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    def json(self) -> Any:
        return orjson.loads(self.body)


def call(
    app: Starlette,
    method: str,
    params: dict[str, str] | None = None,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    path: str = "/graphql",
) -> Reply:
    """One request with exactly these headers (an HTTP client would add its own)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": urllib.parse.urlencode(params or {}).encode(),
        "headers": [(b"host", b"testserver")]
        + [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        + ([(b"content-length", str(len(body)).encode())] if body else []),
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return Reply(
        start["status"],
        [(name.decode("latin-1"), value.decode("latin-1")) for name, value in start["headers"]],
        b"".join(m.get("body", b"") for m in sent[1:]),
    )


def post(app: Starlette, query: str, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    has_type = any(name == "content-type" for name, _ in headers)
    typed = headers if has_type else [("content-type", JSON), *headers]
    return call(app, "POST", headers=typed, body=orjson.dumps({"query": query}))


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(CLINIC, folder)
    return folder


def make_app(content: Path, tmp_path: Path, **settings: Any) -> Starlette:
    return create_app(
        Settings(
            content_dir=content,
            preview_token=TOKEN,
            cache_dir=tmp_path / "cache",
            access_log="",
            **settings,
        )
    )


@pytest.fixture
def app(content: Path, tmp_path: Path) -> Starlette:
    return make_app(content, tmp_path)


def cache_of(app: Starlette) -> ResponseCache:
    cache = app.state.endpoint.cache
    assert isinstance(cache, ResponseCache)
    return cache


def edit_draft(app: Starlette, content: Path, old: str, new: str) -> None:
    """Change the draft page and serve the folder anew, as --watch would."""
    page = content / "secret.md"
    page.write_text(page.read_text().replace(old, new))
    app.state.store.swap(ContentIndex.from_directory(content))


# The bounded LRU


def test_every_entry_costs_its_key_its_value_and_the_overhead() -> None:
    cache = BoundedCache[str](10_000, max_entry_bytes=10_000)
    assert cache.put(b"k" * 1000, "v", 10)
    assert cache.bytes_used == 1000 + 10 + ENTRY_OVERHEAD
    assert cache.put(b"short", "w", 0)
    assert cache.bytes_used == 1000 + 10 + 5 + 2 * ENTRY_OVERHEAD
    assert len(cache) == 2
    assert cache.get(b"k" * 1000) == "v"
    assert cache.get(b"other") is None


def test_least_recently_used_entries_go_first_and_the_budget_holds() -> None:
    cache = BoundedCache[int](10 * (100 + ENTRY_OVERHEAD), max_entry_bytes=10_000)
    for number in range(10):
        cache.put(b"%100d" % number, number, 0)
    assert len(cache) == 10
    assert cache.get(b"%100d" % 0) == 0  # now the most recently used
    cache.put(b"%100d" % 10, 10, 0)
    assert cache.get(b"%100d" % 1) is None
    assert cache.get(b"%100d" % 0) == 0
    assert len(cache) == 10
    assert cache.bytes_used == cache.max_bytes


def test_an_entry_over_the_entry_limit_is_not_kept() -> None:
    cache = BoundedCache[str](16_000)
    assert cache.max_entry_bytes == 1_000
    assert cache.put(b"k", "small", 1_000 - 1 - ENTRY_OVERHEAD)
    assert not cache.put(b"k" * 2, "large", 1_000 - 1 - ENTRY_OVERHEAD)
    assert not cache.put(b"x" * 2_000, "large key", 0)
    assert (len(cache), cache.bytes_used) == (1, 1_000)
    assert not BoundedCache[str](0).put(b"k", "v", 0)


def test_a_new_generation_empties_the_cache() -> None:
    cache = BoundedCache[str](10_000)
    cache.put(b"a", "old", 0, "index-1")
    cache.put(b"b", "new", 0, "index-2")
    assert (cache.get(b"a"), cache.get(b"b"), len(cache)) == (None, "new", 1)
    cache.clear()
    assert (len(cache), cache.bytes_used) == (0, 0)


def test_digests_are_32_bytes_and_do_not_run_parts_together() -> None:
    assert len(digest(b"x" * 100_000)) == 32
    assert digest(b"ab", b"c") != digest(b"a", b"bc")
    assert digest(b"ab", b"c") == digest(b"ab", b"c")


def test_entry_costs_cover_the_memory_entries_really_hold() -> None:
    """tracemalloc's count of what many small entries hold (where overhead dominates),
    against what the cache says they cost."""
    cache = ResponseCache(1 << 30)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(2_000):
            body = b'{"data":{"treatment":{"title":"Peel %05d"}}}' % number
            # Fresh objects, as Starlette and the middleware make them for each response.
            headers = [
                (name.encode(), value.encode())
                for name, value in [
                    ("content-length", str(len(body))),
                    ("content-type", JSON),
                    ("cache-control", "no-store"),
                    ("vary", "Authorization, Accept, Accept-Encoding"),
                    ("x-content-type-options", "nosniff"),
                    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
                    ("referrer-policy", "no-referrer"),
                    ("x-frame-options", "DENY"),
                ]
            ]
            recording = Recording.of(200, headers, body, {"operation": "Peel", "cost": number})
            key = ResponseCache.LANE_KEY + b"Pj-" + b"%032d" % number + b"%0200d" % number
            assert cache.put(key, recording, recording.cost(), "index")
            answer = Answer(200, body[:], JSON, {"cost": number, "operation": "Peel"})
            answer.gzipped()
            assert answer.etag.startswith('W/"')
            assert cache.put(digest(b"%d" % number), answer, answer.cost(), "index")
            del body, headers, recording, answer, key
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(cache) == 4_000
    assert held <= cache.bytes_used
    # Honest, not wildly generous either.
    assert cache.bytes_used <= 2 * held


# One byte budget for the fast lane and the response cache


def test_unique_long_query_strings_stay_within_the_budget(
    content: Path, tmp_path: Path, calls: list[str]
) -> None:
    budget = 1536 * 1024
    app = make_app(content, tmp_path, response_cache_bytes=budget)
    cache = cache_of(app)
    queries = [f"{{ __typename }} # {number:05d} {'x' * 60_000}" for number in range(40)]
    for query in queries:
        reply = call(app, "GET", {"query": query})
        assert reply.status == 200
        assert reply.json() == {"data": {"__typename": "Query"}}
        assert cache.bytes_used <= budget
    # 40 keys of 60 KB are 2.4 MB: the oldest recordings were dropped to stay within 1.5 MB.
    assert len(cache) < 2 * 40
    assert len(calls) == 40
    call(app, "GET", {"query": queries[-1]})
    assert len(calls) == 40  # replayed by the fast lane
    call(app, "GET", {"query": queries[0]})
    assert len(calls) == 41  # long gone


def test_long_accept_headers_are_refused_and_never_kept(app: Starlette, calls: list[str]) -> None:
    cache = cache_of(app)
    negotiated = negotiate.cache_info().currsize
    for number in range(20):
        accept = f"application/json, text/x-{number}-" + "a" * (1024 * 1024)
        reply = post(app, PEEL, [("accept", accept)])
        assert reply.status == 431
        assert reply.header("content-type") == JSON
        assert reply.json() == {
            "errors": [
                {
                    "message": f"the Accept header is {len(accept)} characters long; "
                    f"at most {MAX_ACCEPT_LENGTH} are accepted"
                }
            ]
        }
    assert (len(cache), cache.bytes_used) == (0, 0)
    assert negotiate.cache_info().currsize == negotiated


def test_distinct_accept_headers_meaning_the_same_share_one_entry(
    app: Starlette, calls: list[str]
) -> None:
    cache = cache_of(app)
    first = post(app, PEEL, [("accept", "application/json")])
    kept = (len(cache), cache.bytes_used)
    assert kept[0] == 2  # the lane's recording and the endpoint's answer
    for number in range(50):
        accept = f"application/json, text/x-{number}-" + "a" * 3000
        reply = post(app, PEEL, [("accept", accept)])
        assert (reply.status, reply.body) == (200, first.body)
        assert reply.header("content-type") == JSON
    assert (len(cache), cache.bytes_used) == kept
    assert len(calls) == 1


# Repeated headers are read the way the app reads them


def test_a_gzip_body_is_never_replayed_to_a_client_that_did_not_offer_gzip(
    app: Starlette,
) -> None:
    tricky = post(app, LARGE, [("accept-encoding", "gzip"), ("accept-encoding", "")])
    assert tricky.header("content-encoding") == "gzip"
    for _ in range(2):
        plain = post(app, LARGE)
        assert plain.status == 200
        assert plain.header("content-encoding") is None
        assert plain.json()["data"]["treatment"]["html"].startswith("<")
    refused = post(app, LARGE, [("accept-encoding", "gzip;q=0, identity")])
    assert refused.header("content-encoding") is None


def test_graphql_response_json_is_never_replayed_to_a_client_that_did_not_ask(
    app: Starlette,
) -> None:
    tricky = post(app, PEEL, [("accept", "application/graphql-response+json"), ("accept", "")])
    assert tricky.header("content-type") == "application/graphql-response+json"
    for _ in range(2):
        plain = post(app, PEEL)
        assert plain.header("content-type") == JSON
        assert plain.json() == {"data": {"treatment": {"title": "Chemical Peel"}}}


def test_repeated_content_types_are_refused_and_text_plain_stays_415(app: Starlette) -> None:
    twice = post(app, PEEL, [("content-type", JSON), ("content-type", "text/plain")])
    assert twice.status == 400
    assert twice.json() == {
        "errors": [{"message": "a POST must carry one Content-Type header, not 2"}]
    }
    for _ in range(2):
        plain = post(app, PEEL, [("content-type", "text/plain")])
        assert plain.status == 415
        assert plain.json() == {
            "errors": [{"message": "POST bodies must be application/json, not 'text/plain'"}]
        }


# ETags name the bytes sent


def get(app: Starlette, query: str, *headers: tuple[str, str], **params: str) -> Reply:
    return call(app, "GET", {"query": query, **params}, headers)


def test_the_etag_is_weak_shared_by_encodings_and_revalidates_across_them(
    app: Starlette,
) -> None:
    plain = get(app, LARGE)
    packed = get(app, LARGE, ("accept-encoding", "gzip"))
    assert packed.header("content-encoding") == "gzip"
    etag = plain.header("etag")
    assert etag is not None and etag.startswith('W/"') and len(etag) == 2 + 2 + 32
    assert packed.header("etag") == etag
    assert packed.header("vary") == "Authorization, Accept, Accept-Encoding"
    again = get(app, LARGE, ("accept-encoding", "gzip"), ("if-none-match", etag))
    assert (again.status, again.body, again.header("etag")) == (304, b"", etag)
    strong_form = etag.removeprefix("W/")
    assert get(app, LARGE, ("if-none-match", f'"x", {strong_form}')).status == 304


def test_media_types_have_their_own_etags(app: Starlette) -> None:
    as_json = get(app, PEEL)
    typed = get(app, PEEL, ("accept", "application/graphql-response+json"))
    assert as_json.body == typed.body
    assert as_json.header("etag") != typed.header("etag")
    crossed = get(
        app,
        PEEL,
        ("accept", "application/graphql-response+json"),
        ("if-none-match", str(as_json.header("etag"))),
    )
    assert crossed.status == 200
    assert crossed.header("content-type") == "application/graphql-response+json"


def test_asking_for_the_cost_changes_the_etag(app: Starlette) -> None:
    plain = get(app, PEEL)
    costed = get(
        app, PEEL, ("if-none-match", str(plain.header("etag"))), extensions='{"cost": true}'
    )
    assert costed.status == 200
    assert costed.json() == {
        "data": {"treatment": {"title": "Chemical Peel"}},
        "extensions": {"cost": 2},
    }
    assert costed.header("etag") != plain.header("etag")


def test_a_304_only_confirms_the_bytes_the_client_holds(app: Starlette, content: Path) -> None:
    """After a draft-only edit, whatever contentInfo answers, a stale tag gets no 304."""
    query = "{ contentInfo { version treatmentCount loadedAt } }"
    first = get(app, query)
    edit_draft(app, content, "not announced yet", "announced soon")
    fresh = get(app, query)
    revalidated = get(app, query, ("if-none-match", str(first.header("etag"))))
    same_bytes = fresh.body == first.body
    assert (revalidated.status == 304) == same_bytes
    assert (fresh.header("etag") == first.header("etag")) == same_bytes


def test_a_draft_only_edit_changes_no_public_answer_or_etag(app: Starlette, content: Path) -> None:
    queries = [
        PEEL,
        "{ treatments(first: 10) { nodes { slug title } } }",
        "{ contentInfo { version } }",
    ]
    before = [get(app, query) for query in queries]
    edit_draft(app, content, "title: Secret Laser", "title: Secret Laser II")
    for query, old in zip(queries, before, strict=True):
        etag = str(old.header("etag"))
        new = get(app, query)
        assert (new.body, new.header("etag")) == (old.body, etag)
        assert get(app, query, ("if-none-match", etag)).status == 304


def test_loaded_at_does_not_reveal_a_draft_only_edit(app: Starlette, content: Path) -> None:
    query = "{ contentInfo { loadedAt } }"
    before = get(app, query).json()
    edit_draft(app, content, "not announced yet", "announced soon")
    assert get(app, query).json() == before
    editor = get(app, query, ("authorization", f"Bearer {TOKEN}")).json()
    assert editor["data"]["contentInfo"]["loadedAt"] > before["data"]["contentInfo"]["loadedAt"]


# /readyz


def test_readyz_reveals_no_draft_only_change(app: Starlette, content: Path) -> None:
    before = call(app, "GET", path="/readyz")
    assert sorted(before.json()) == READYZ_KEYS
    edit_draft(app, content, "draft: true", "draft: true\ndate: [unclosed")
    after = call(app, "GET", path="/readyz")
    assert after.body == before.body
    editor = call(app, "GET", path="/readyz", headers=[("authorization", f"Bearer {TOKEN}")])
    assert editor.json()["errors"] == 2  # broken.md and now secret.md


def test_a_recording_gives_back_the_headers_it_was_made_of() -> None:
    """The lane replays a recording to ASGI as a header list read back from its head."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
        (b"x-empty", b""),
        (b"x-odd", b"a: b"),
    ]
    recording = Recording.of(200, headers, b"{}", {})
    assert recording.head == b"".join(b"%s: %s\r\n" % header for header in headers) + b"\r\n"
    assert recording.headers == headers
    assert Recording.of(204, [], b"", {}).headers == []
