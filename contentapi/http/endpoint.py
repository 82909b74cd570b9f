"""Running GraphQL operations for HTTP requests: persisted queries, caching, execution."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from contentapi.bounded import BoundedCache, digest, sized
from contentapi.content.index import ContentIndex
from contentapi.content.store import ContentStore
from contentapi.content.translations import site_locales
from contentapi.http.headers import names_etag
from contentapi.http.persisted import (
    MISMATCH,
    NOT_ALLOWED,
    NOT_FOUND,
    PersistedQueries,
    PersistedQueryError,
    load_allow_list,
)
from contentapi.http.protocol import (
    GRAPHQL_RESPONSE,
    Operation,
    RequestError,
    accepts_gzip,
    error_body,
    media_type,
)
from contentapi.http.responses import PURGE_KEYS, Answer, ResponseCache, WireResponse
from contentapi.http.state import COST, JIT_TRIED, OPERATION, REPLAYABLE
from contentapi.schema import ContentSchema, Context
from contentapi.schema.jit import Ready
from contentapi.settings import Settings

log = logging.getLogger("contentapi")
NO_SUBSCRIPTIONS = (
    "subscriptions are not served by plain requests to /graphql: subscribe over GraphQL "
    "over Server-Sent Events (graphql-sse, distinct connections) at /graphql/stream, or "
    "over WebSocket (graphql-transport-ws) at /graphql"
)
_CODES = {
    NOT_FOUND: "PERSISTED_QUERY_NOT_FOUND",
    MISMATCH: "PERSISTED_QUERY_MISMATCH",
    NOT_ALLOWED: "PERSISTED_QUERY_NOT_ALLOWED",
}


def carries_preview_token(headers: Mapping[str, str], token: str) -> bool:
    """True when `Authorization: Bearer <token>` is sent (compared in constant time); an empty
    token is never carried. Drafts' pages and their images are shown on this test alone."""
    header = headers.get("authorization", "")
    if not token or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), token.encode())


class GraphQLEndpoint:
    """Runs operations against the current index; caches whole responses per content index.

    `cache` also holds the fast lane's recordings (create_app hands it to FastLane): one
    budget of CONTENTAPI_RESPONSE_CACHE_BYTES for both, keys and all.
    """

    def __init__(self, schema: ContentSchema, store: ContentStore, settings: Settings):
        self.schema = schema
        self.store = store
        self.settings = settings
        self.cache = ResponseCache(settings.response_cache_bytes)
        self.locales = site_locales(settings.locale_tags, settings.content_dir, settings.model)
        allow_list = None
        if settings.persisted_queries:
            allow_list = load_allow_list(Path(settings.persisted_queries))
        self.persisted = PersistedQueries(allow_list)
        # The fast lane's requests made ready for the JIT, by their bytes (see lane.py).
        self.ready_requests = BoundedCache[tuple[Operation, Ready]](settings.parse_cache_bytes)
        self.cache_lines = self._cache_header_lines()

    def is_preview(self, request: Request) -> bool:
        """True when the request carries the configured preview token."""
        return carries_preview_token(request.headers, self.settings.preview_token)

    async def run(self, request: Request, operation: Operation, *, is_get: bool) -> Response:
        """Execute (or serve from cache) and answer with the negotiated media type."""
        kind = media_type(request)
        preview = self.is_preview(request)
        index = self.store.current
        try:
            operation = self.resolve(operation)
        except PersistedQueryError as exc:
            body = error_body(exc.message, code=_CODES[exc.code])
            headers = {"cache-control": "no-store", "vary": "Accept"}
            return Response(body, status_code=200, media_type=kind, headers=headers)
        jit = not getattr(request.state, JIT_TRIED, False)
        answer = await self._answer(index, operation, preview, is_get, kind, jit=jit)
        status, wire_headers, sent, figures = self.reply(
            answer,
            operation,
            preview=preview,
            is_get=is_get,
            if_none_match=request.headers.getlist("if-none-match"),
            accept_encoding=request.headers.getlist("accept-encoding"),
        )
        for name, value in figures.items():
            setattr(request.state, name, value)
        return WireResponse(status, wire_headers, sent)

    def ready(self, operation: Operation) -> Ready | None:
        """The JIT's Ready for an operation sent as it is run (not a persisted query, which
        a request names rather than sends), or None."""
        if operation.document_id is not None or not operation.query:
            return None
        return self.schema.compiler.ready(
            operation.query, operation.variables, operation.operation_name
        )

    def compiled(
        self, operation: Operation, *, is_get: bool, kind: str, ready: Ready | None = None
    ) -> Answer | None:
        """The answer to a public (not preview) request, from the cache or the JIT alone
        (schema/jit.py; `ready` as self.ready made it for this operation); None when
        neither has it, or for a persisted-query miss: run() must answer it. (Without a
        response cache, the fast lane answers a request it kept ready by express.py.)"""
        try:
            resolved = self.resolve(operation)
        except PersistedQueryError:
            return None
        if resolved is not operation:
            operation, ready = resolved, None
        index = self.store.current
        key = self._key(index, operation, False, is_get, kind) if self.cache.max_bytes else b""
        cached = self.cache.answer(key) if key else None
        if cached is None:
            context = self.context(index, preview=False)
            compiler = self.schema.compiler
            payload = (
                compiler.execute(
                    operation.query,
                    operation.variables,
                    operation.operation_name,
                    context,
                    operation.extensions,
                )
                if ready is None
                else compiler.run(ready, context, operation.extensions)
            )
            if payload is None:
                return None
            cached = self._answered(context, payload, 200, kind)
            if key:
                self.cache.put(key, cached, cached.cost(), index.fingerprint)
        return cached

    def reply(
        self,
        answer: Answer,
        operation: Operation,
        *,
        preview: bool,
        is_get: bool,
        if_none_match: list[str],
        accept_encoding: list[str],
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, dict[str, Any]]:
        """The HTTP response carrying an answer, with its cache headers, as its status,
        headers as they go on the wire and body: what the app sends (as a WireResponse)
        and the fast lane answers the same request with; and what the request's state is
        to hold of it (the access log's figures and, unless a 304, whether it may be
        replayed: state.py's names). A dict rather than the request's State: the lane's
        answers have none, and making one cost them a microsecond."""
        headers = [*self.cache_lines[preview, is_get]]
        figures: dict[str, Any] = {
            OPERATION: answer.report.get("operation") or operation.operation_name,
            COST: answer.report.get("cost"),
        }
        if is_get and not preview:
            etag = answer.etag
            headers += (
                # What a CDN may purge this answer by (see schema/keys.py).
                *answer.purge_headers(),
                # From the bytes sent (before gzip) and their media type: a 304 only ever
                # confirms a body the client already holds, byte for byte.
                (b"etag", etag.encode("latin-1")),
            )
            if answer.status == 200 and names_etag(if_none_match, etag):
                return 304, headers, b"", figures
        # The same request bytes will get the same answer until the content changes.
        figures[REPLAYABLE] = answer.status == 200 and not preview
        body = answer.body
        if len(body) >= self.settings.gzip_min_size and accepts_gzip(accept_encoding):
            body = answer.gzipped()
            headers.append((b"content-encoding", b"gzip"))
        headers += (
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", answer.media_type.encode("latin-1")),
        )
        return answer.status, headers, body, figures

    async def run_batch(self, request: Request, operations: list[Operation]) -> Response:
        """Run a batched POST: a JSON array of results in request order (never cached by HTTP)."""
        kind = media_type(request)
        preview = self.is_preview(request)
        index = self.store.current
        resolved: list[Operation | PersistedQueryError] = []
        for operation in operations:
            try:
                resolved.append(self.resolve(operation))
            except PersistedQueryError as exc:
                resolved.append(exc)
        self._check_batch_cost([op for op in resolved if isinstance(op, Operation)])
        bodies = []
        for item in resolved:
            if isinstance(item, PersistedQueryError):
                bodies.append(error_body(item.message, code=_CODES[item.code]))
            else:
                bodies.append((await self._answer(index, item, preview, False, kind)).body)
        headers = {"cache-control": "private, no-store" if preview else "no-store"}
        return Response(b"[" + b",".join(bodies) + b"]", media_type=kind, headers=headers)

    def _check_batch_cost(self, operations: list[Operation]) -> None:
        """A batch costs the sum of its operations: refused whole, before any runs, when
        that is over the limit (operations that would be refused alone count nothing)."""
        preparer = self.schema.preparer
        total = 0
        for operation in operations:
            cost = preparer.cost(operation.query, operation.operation_name, operation.variables)
            total += cost or 0
        if total > self.settings.max_cost:
            raise RequestError(
                f"the batch's operations cost {total} together, over the limit of "
                f"{self.settings.max_cost} (CONTENTAPI_MAX_COST): send fewer or cheaper ones"
            )

    def resolve(self, operation: Operation) -> Operation:
        """The operation to run for a request: itself, or with the persisted query it names
        (PersistedQueryError: none, or one it may not run)."""
        query = self.persisted.resolve(operation.query, operation.extensions, operation.document_id)
        return operation if query == operation.query else replace(operation, query=query)

    async def _answer(
        self,
        index: ContentIndex,
        operation: Operation,
        preview: bool,
        is_get: bool,
        kind: str,
        *,
        jit: bool = True,
    ) -> Answer:
        key = self._key(index, operation, preview, is_get, kind)
        cached = self.cache.answer(key)
        if cached is None:
            cached = await self._execute(index, operation, preview, is_get, kind, jit=jit)
            if cached.status == 200:
                self.cache.put(key, cached, cached.cost(), index.fingerprint)
        return cached

    @staticmethod
    def _key(
        index: ContentIndex, operation: Operation, preview: bool, is_get: bool, kind: str
    ) -> bytes:
        """A digest of everything that shapes the answer: 32 bytes, however long the query."""
        return digest(
            ResponseCache.ANSWER_KEY,
            index.fingerprint.encode(),
            operation.query.encode(),
            orjson.dumps(operation.variables, option=orjson.OPT_SORT_KEYS),
            (operation.operation_name or "").encode(),
            b"1" if operation.operation_name is None else b"0",
            orjson.dumps(operation.extensions, option=orjson.OPT_SORT_KEYS),
            bytes((preview, is_get)),
            kind.encode(),
        )

    def context(self, index: ContentIndex, preview: bool) -> Context:
        """The context one request's resolvers are given."""
        return Context(
            index=index,
            preview=preview,
            public_url=self.settings.public_url,
            image_max_side=self.settings.image_max_side,
            changes=self.store.changes,
            locales=self.locales,
            json_fragments=True,  # the payload is written with orjson.dumps
        )

    async def _execute(
        self,
        index: ContentIndex,
        operation: Operation,
        preview: bool,
        is_get: bool,
        kind: str,
        *,
        jit: bool = True,
    ) -> Answer:
        allowed = {OperationType.QUERY} if is_get else {OperationType.QUERY, OperationType.MUTATION}
        context = self.context(index, preview)
        compiled = None
        if jit:
            compiled = self.schema.compiler.execute(
                operation.query,
                operation.variables,
                operation.operation_name,
                context,
                operation.extensions,
            )
        if compiled is not None:
            return self._answered(context, compiled, 200, kind)
        try:
            result = await self.schema.execute(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=operation.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type == OperationType.SUBSCRIPTION:
                # Over any method: streams have routes of their own (see streams.py).
                raise RequestError(NO_SUBSCRIPTIONS) from None
            raise RequestError(
                f"{exc.operation_type.value} operations are only allowed over POST",
                status=405,
                headers={"allow": "POST"},
            ) from None
        except CannotGetOperationTypeError as exc:
            raise RequestError(exc.as_http_error_reason()) from None
        except MissingQueryError:
            raise RequestError("the request has no 'query' string") from None
        # No data and only errors without a path: the operation never ran (a syntax,
        # validation or variable error), so the response has no `data` entry and
        # graphql-response+json answers 400. Once execution started, `data` is there,
        # even as null (a field error that reached a non-null root field).
        errors = result.errors or []
        request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
        payload: dict[str, Any] = {}
        if errors:
            payload["errors"] = [error.formatted for error in errors]
        if not request_error:
            payload["data"] = result.data
        if result.extensions:
            payload["extensions"] = result.extensions
        status = 400 if request_error and kind == GRAPHQL_RESPONSE else 200
        return self._answered(context, payload, status, kind)

    @staticmethod
    def _answered(context: Context, payload: dict[str, Any], status: int, kind: str) -> Answer:
        """The answer with this payload, and the purge keys of what it holds."""
        # Made into headers when a GET is answered (see Answer.purge_headers).
        context.report[PURGE_KEYS] = context.report.pop("keys", ())
        # Sized: the response cache counts len(body).
        return Answer(status, sized(orjson.dumps(payload)), kind, context.report)

    def _cache_header_lines(self) -> dict[tuple[bool, bool], tuple[tuple[bytes, bytes], ...]]:
        """The caching headers of an answer by (preview, is_get), encoded once."""
        vary = (b"vary", b"Authorization, Accept, Accept-Encoding")
        public = f"public, max-age={self.settings.cache_max_age}".encode("latin-1")
        return {
            (True, True): ((b"cache-control", b"private, no-store"), vary),
            (True, False): ((b"cache-control", b"private, no-store"), vary),
            (False, False): ((b"cache-control", b"no-store"), vary),
            (False, True): ((b"cache-control", public), vary),
        }
