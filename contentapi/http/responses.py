"""Whole-response caching: what the fast lane and the endpoint keep, in one byte budget,
and ETags derived from the bytes of the answer."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from contentapi.bounded import BoundedCache
from contentapi.http.headers import header_block
from contentapi.schema import keys

# Python objects around a kept answer or recording besides the bytes counted one by one:
# the object itself, its report or state dict with the operation name and cost, an ETag
# string. tests/test_caching.py measures both against tracemalloc.
ANSWER_OVERHEAD = 448
# Where an answer's report keeps the purge keys of what it holds (schema/keys.py).
PURGE_KEYS = "purge_keys"


def etag_for(media_type: str, body: bytes) -> str:
    """The ETag of a body sent as `media_type`: equal tags mean equal bytes.

    Weak (W/), because gzip and identity carry the same body under one tag, as RFC 9110
    allows a weak tag to; If-None-Match compares weakly, so revalidation still works.
    """
    digest = hashlib.sha256(media_type.encode())
    digest.update(b"\0")
    digest.update(body)
    return 'W/"' + digest.hexdigest()[:32] + '"'


class WireResponse(Response):
    """A response whose headers are given as they go on the wire: lower-case names,
    content-length and content-type among them (Starlette's own Response makes those from
    a dict of str, per request: 4.6 us of an answer the fast lane made in 75 us).

    So the fast lane sends the very headers the app would (GraphQLEndpoint.reply makes
    both); the middlewares add theirs as to any response.
    """

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.raw_headers = headers
        self.body = body
        self.background = None


@dataclass(slots=True)
class Answer:
    """A response body with its status, media type and the figures for the log; its
    gzipped copy and ETag are computed once, when first asked for."""

    status: int
    body: bytes
    media_type: str
    report: dict[str, Any]
    _gzipped: bytes | None = None
    _etag: str | None = None
    _purge: tuple[tuple[bytes, bytes], tuple[bytes, bytes]] | None = None

    def purge_headers(self) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
        """Surrogate-Key and Cache-Tag for the purge keys in the report (computed on first
        use, then kept: only a GET sends them, and a POST made both for nothing)."""
        if self._purge is None:
            found = self.report.get(PURGE_KEYS, ())
            self._purge = (
                (b"surrogate-key", keys.header_value(found, " ").encode("latin-1")),
                (b"cache-tag", keys.header_value(found, ",").encode("latin-1")),
            )
        return self._purge

    def gzipped(self) -> bytes:
        """The body compressed with gzip (computed on first use, then kept)."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped

    @property
    def etag(self) -> str:
        """etag_for this answer's media type and body (computed on first use, then kept)."""
        if self._etag is None:
            self._etag = etag_for(self.media_type, self.body)
        return self._etag

    def cost(self) -> int:
        """The bytes this answer may come to hold: its body, room for the gzipped copy
        (zlib's deflateBound: what cannot shrink grows by under a byte per 3 KB, plus
        about 40 bytes of framing), and the objects around them."""
        return 2 * len(self.body) + len(self.body) // 1024 + 64 + ANSWER_OVERHEAD


@dataclass(frozen=True, slots=True)
class Recording:
    """A response as the fast lane sent it: status, headers as they go on the wire, body,
    and what the access log wants."""

    status: int
    # The headers as they go on the wire, with the blank line after them: what the wire
    # replay sends with every request it answers, and what the express path makes (see
    # express.py) without a list of them.
    head: bytes
    body: bytes
    state: dict[str, Any]

    @classmethod
    def of(
        cls, status: int, headers: list[tuple[bytes, bytes]], body: bytes, state: dict[str, Any]
    ) -> Recording:
        """The recording of a response whose headers are a list (an ASGI message's)."""
        return cls(status, header_block(headers), body, state)

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as an ASGI message lists them, read back from the head (a header
        name holds no colon, a value no line break)."""
        lines = self.head.split(b"\r\n")[:-2]
        return [(name, value) for name, _, value in (line.partition(b": ") for line in lines)]

    def cost(self) -> int:
        """The bytes this recording holds: body, head and the objects around them."""
        return len(self.body) + len(self.head) + ANSWER_OVERHEAD


class ResponseCache(BoundedCache[Answer | Recording]):
    """The fast lane's recordings and the endpoint's answers in one LRU, so both together
    hold at most CONTENTAPI_RESPONSE_CACHE_BYTES; keys are domain-separated (the lane's
    start with LANE_KEY, the endpoint's are digests of ANSWER_KEY and the request) and
    every entry is put with the content fingerprint as its generation: a new index
    empties the cache."""

    LANE_KEY = b"lane\0"
    ANSWER_KEY = b"answer"

    def answer(self, key: bytes) -> Answer | None:
        """The endpoint's answer kept under `key`, or None."""
        found = self.get(key)
        return found if isinstance(found, Answer) else None

    def recording(self, key: bytes) -> Recording | None:
        """The fast lane's recording kept under `key`, or None."""
        found = self.get(key)
        return found if isinstance(found, Recording) else None
