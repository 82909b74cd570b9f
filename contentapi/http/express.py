"""The express answer: without a response cache, a request the fast lane kept ready
(lane.py) is answered by the JIT in one call, straight to the bytes that go on the wire.

The lane's JIT answer went through GraphQLEndpoint.compiled (its response-cache lookup,
an Answer), GraphQLEndpoint.reply (a list of headers, a dict of figures), headers.secured
(the security headers added by name) and a Recording encoding the list: about twenty
calls and a dozen objects per request around the generated code, each cheap alone and
together a fifth of an uncached single query. Here the head is made from two pieces
encoded once per kind of answer (the caching headers, then the media type and the
security headers) with what differs per answer between them (an ETag and purge keys for
a GET, gzip, the length). In process, through the protocol (bench/protocol.py's
requests, one process switching between both ways every batch, best of 15 batches):
(a) 37.5 -> 30.4 us, (b) 42.7 -> 34.9 us, (c) 182.9 -> 170.6 us, with byte-identical
answers. With a response cache the lane answers from it, and its misses go the long
way, which also keeps the endpoint's answer for the app's conditional requests.

The bytes are the app's: tests/http/test_lane.py holds the lane's answers equal to the
app's, headers in order, for GETs and POSTs, both media types, with and without gzip.
"""

from __future__ import annotations

import orjson

from contentapi.http.endpoint import GraphQLEndpoint
from contentapi.http.headers import API_SECURITY, header_lines
from contentapi.http.persisted import PersistedQueryError
from contentapi.http.protocol import GRAPHQL_RESPONSE, JSON, Operation
from contentapi.http.responses import PURGE_KEYS, Answer, Recording
from contentapi.http.state import COST, OPERATION
from contentapi.schema.jit import Ready


class Express:
    """The JIT's answers to requests kept ready, as Recordings (see the module)."""

    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint
        self.compiler = endpoint.schema.compiler
        self.gzip_min_size = endpoint.settings.gzip_min_size
        self.caching = {
            is_get: b"".join(header_lines(endpoint.cache_lines[False, is_get]))
            for is_get in (False, True)
        }
        self.typed = {
            kind: b"".join(header_lines([(b"content-type", kind.encode("latin-1")), *API_SECURITY]))
            + b"\r\n"
            for kind in (JSON, GRAPHQL_RESPONSE)
        }

    def answer(
        self, operation: Operation, ready: Ready, *, is_get: bool, kind: str, gzip: bool
    ) -> Recording | None:
        """The answer to a public request the JIT runs, made ready by `ready` (`gzip`:
        whether the request accepts it); None when the JIT leaves it to graphql-core, or
        for a persisted-query refusal: the app must answer it."""
        endpoint = self.endpoint
        try:
            if endpoint.resolve(operation) is not operation:
                return None  # another query text than the one made ready
        except PersistedQueryError:
            return None
        context = endpoint.context(endpoint.store.current, preview=False)
        # Only a GET's answer names the purge keys (Surrogate-Key, Cache-Tag).
        payload = self.compiler.run(ready, context, operation.extensions, keyed=is_get)
        if payload is None:
            return None
        report = context.report
        report[PURGE_KEYS] = report.pop("keys", ())
        # Sent once and dropped: not `sized` (no response cache counts them).
        answer = Answer(200, orjson.dumps(payload), kind, report)
        parts = [self.caching[is_get]]
        if is_get:
            etag = (b"etag", answer.etag.encode("latin-1"))
            parts += header_lines((*answer.purge_headers(), etag))
        sent = answer.body
        if gzip and len(sent) >= self.gzip_min_size:
            sent = answer.gzipped()
            parts.append(b"content-encoding: gzip\r\n")
        parts += (b"content-length: %d\r\n" % len(sent), self.typed[kind])
        name = report.get("operation") or operation.operation_name
        return Recording(200, b"".join(parts), sent, {OPERATION: name, COST: report.get("cost")})
