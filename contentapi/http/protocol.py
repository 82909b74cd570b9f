"""GraphQL over HTTP: the shape of requests and error responses, and media types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Variables and extensions deeper than this are no honest request (and JSON encoders balk).
MAX_NESTING = 64
# Browsers send Accept headers of under 300 characters; a longer one is refused (431), so
# neither the negotiation cache nor any cache key holds megabytes of it.
MAX_ACCEPT_LENGTH = 4096


class RequestError(Exception):
    """A request that is not a GraphQL request we can run; answered with `status`."""

    def __init__(self, message: str, status: int = 400, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class Operation:
    """One GraphQL request as parsed from HTTP."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    # The id of a persisted document to run (Relay's doc_id, or documentId), if sent.
    document_id: str | None = None


def error_body(message: str, **extensions: Any) -> bytes:
    """A GraphQL-style JSON error document."""
    error: dict[str, Any] = {"message": message}
    if extensions:
        error["extensions"] = extensions
    return orjson.dumps({"errors": [error]})


def media_type(request: Request) -> str:
    """The response type the client asked for: graphql-response+json or plain JSON.

    Follows the Accept header's q-values (`;q=0` refuses a type). The new
    application/graphql-response+json is chosen only when named explicitly and
    liked at least as much as application/json; a missing Accept header, `*/*`
    and `application/*` get application/json, as the GraphQL-over-HTTP spec
    asks of servers during its watershed. Nothing acceptable: 406.
    """
    return media_type_for(request.headers.getlist("accept"))


def media_type_for(accept: Sequence[str]) -> str:
    """media_type for the values of every Accept header of a request, read as one list
    (RFC 9110 5.3: repeated fields are one comma-separated field), so the fast lane and
    the app read the same meaning. Longer than MAX_ACCEPT_LENGTH: 431."""
    field = ", ".join(accept).strip()
    if len(field) > MAX_ACCEPT_LENGTH:
        raise RequestError(
            f"the Accept header is {len(field)} characters long; "
            f"at most {MAX_ACCEPT_LENGTH} are accepted",
            status=431,
        )
    return negotiate(field)


@lru_cache(maxsize=256)
def negotiate(accept: str) -> str:
    """media_type for one Accept field (clients send few distinct ones: cached, and
    media_type_for passes none over MAX_ACCEPT_LENGTH, so the cache holds at most 1 MB)."""
    if not accept:
        return JSON
    ranges = _accept_ranges(accept)
    graphql_q, graphql_exact = _quality(ranges, GRAPHQL_RESPONSE)
    json_q, _ = _quality(ranges, JSON)
    if graphql_exact and graphql_q > 0 and graphql_q >= json_q:
        return GRAPHQL_RESPONSE
    if json_q > 0:
        return JSON
    if graphql_q > 0:
        return GRAPHQL_RESPONSE
    raise RequestError(
        f"cannot answer with any of the accepted types {accept[:100]!r}: "
        f"ask for {GRAPHQL_RESPONSE} or {JSON}",
        status=406,
    )


def prefers_html(accept: Sequence[str]) -> bool:
    """Whether the values of every Accept header of a request, read as one list, ask for
    a page rather than JSON: text/html named explicitly (a wildcard such as curl's `*/*`
    is not enough), with a q-value above 0 and no lower than either JSON type's."""
    field = ", ".join(accept).strip()
    # An overlong field is not a browser's: the JSON path refuses it (431).
    return len(field) <= MAX_ACCEPT_LENGTH and _prefers_html(field)


@lru_cache(maxsize=256)
def _prefers_html(accept: str) -> bool:
    ranges = _accept_ranges(accept)
    html_q, html_exact = _quality(ranges, "text/html")
    json_q = max(_quality(ranges, JSON)[0], _quality(ranges, GRAPHQL_RESPONSE)[0])
    return html_exact and html_q > 0 and html_q >= json_q


def accepts_gzip(accept_encoding: Sequence[str]) -> bool:
    """Whether the values of every Accept-Encoding header of a request, read as one list,
    accept gzip: `gzip` or `x-gzip` with a q-value above 0, or else `*` with one."""
    field = ", ".join(accept_encoding)
    if len(field) > MAX_ACCEPT_LENGTH:
        return _accepts_gzip(field)
    return _accepts_gzip_cached(field)


def _accepts_gzip(field: str) -> bool:
    gzip_quality: float | None = None
    any_quality: float | None = None
    for item in field.split(","):
        coding, *params = item.split(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            gzip_quality = max(gzip_quality or 0.0, _q_value(params))
        elif coding == "*":
            any_quality = _q_value(params)
    if gzip_quality is not None:
        return gzip_quality > 0
    return any_quality is not None and any_quality > 0


# Browsers send a handful of distinct values; at most 64 x MAX_ACCEPT_LENGTH are kept.
_accepts_gzip_cached = lru_cache(maxsize=64)(_accepts_gzip)


def _accept_ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q-values (malformed ones dropped)."""
    ranges = []
    for item in accept.split(","):
        kind, *params = item.split(";")
        kind = kind.strip().lower()
        if kind.count("/") != 1:
            continue
        ranges.append((kind, _q_value(params)))
    return ranges


def _q_value(params: Sequence[str]) -> float:
    """The q parameter among a list item's parameters: 1 when absent, 0 when malformed."""
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                quality = 0.0
    return quality


def _quality(ranges: list[tuple[str, float]], kind: str) -> tuple[float, bool]:
    """q-value the most specific matching range gives `kind`, and whether it named it exactly."""
    family = kind.split("/")[0] + "/*"
    best = (-1, 0.0)
    for candidate, quality in ranges:
        rank = {kind: 2, family: 1, "*/*": 0}.get(candidate, -1)
        if rank > best[0]:
            best = (rank, quality)
        elif rank == best[0] and rank >= 0:
            best = (rank, max(best[1], quality))
    return (best[1] if best[0] >= 0 else 0.0), best[0] == 2


def check_content_type(request: Request) -> None:
    """A POST body must be JSON in UTF-8 (the charset may be left out): 415 otherwise."""
    check_content_types(request.headers.getlist("content-type"))


def check_content_types(content_types: Sequence[str]) -> None:
    """check_content_type for the values of every Content-Type header of a request: a
    second one is refused (400), as two readers could each pick a different one."""
    if len(content_types) > 1:
        raise RequestError(
            f"a POST must carry one Content-Type header, not {len(content_types)}",
            status=400,
        )
    content_type = content_types[0] if content_types else ""
    if len(content_type) > 100:
        _check_content_type(content_type)
    else:
        _check_content_type_cached(content_type)


def _check_content_type(content_type: str) -> None:
    kind, *params = content_type.split(";")
    kind = kind.strip().lower()
    if kind != JSON:
        raise RequestError(
            f"POST bodies must be {JSON}, not {kind or 'untyped'!r}",
            status=415,
        )
    for param in params:
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise RequestError(
                f"POST bodies must be UTF-8 encoded, not {charset[:40]!r}",
                status=415,
            )


# Clients send one or two spellings of it: a refusal raises and is not kept, so this holds
# at most 16 acceptable values of 100 characters.
_check_content_type_cached = lru_cache(maxsize=16)(_check_content_type)


def error_response(request: Request, exc: RequestError) -> Response:
    """Answer a request error with a GraphQL-style body, in the negotiated media type if any."""
    try:
        kind = media_type(request)
    except RequestError:
        kind = JSON
    headers = {"vary": "Accept", **exc.headers}
    return Response(
        error_body(exc.message), status_code=exc.status, media_type=kind, headers=headers
    )


def refusal(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON error body that no cache keeps, for the file routes (pictures, media)."""
    return Response(
        error_body(message),
        status_code=status,
        media_type=JSON,
        headers={"cache-control": "no-store", **(headers or {})},
    )


def operation_from(params: Any, *, from_query_string: bool) -> Operation:
    """Check the shape of the request parameters (a JSON object or a query string)."""
    if not isinstance(params, dict):
        raise RequestError("the request body must be a JSON object with a 'query'")
    document_id = _document_id(params)
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        # A persisted query is named, not sent: by Apollo's extensions or by a document id.
        if query is None and ("extensions" in params or document_id is not None):
            query = ""
        else:
            raise RequestError("the request has no 'query' string")
    variables = _json_field(params, "variables", from_query_string)
    extensions = _json_field(params, "extensions", from_query_string)
    name = params.get("operationName")
    if name is not None and not isinstance(name, str):
        raise RequestError("'operationName' must be a string or null")
    return Operation(query, variables, name or None, extensions, document_id)


# Relay's network layers send `doc_id`; the GraphQL-over-HTTP persisted documents proposal
# names it `documentId`. Real ids are hashes (32 to 71 characters): longer is no id.
DOCUMENT_ID_KEYS = ("doc_id", "documentId")
MAX_DOCUMENT_ID_LENGTH = 256


def _document_id(params: dict[str, Any]) -> str | None:
    """The persisted document id a request names, if any (one of DOCUMENT_ID_KEYS)."""
    given = {key: params[key] for key in DOCUMENT_ID_KEYS if params.get(key) is not None}
    if not given:
        return None
    if len(given) > 1:
        raise RequestError("send a persisted document's id as 'doc_id' or 'documentId', not both")
    ((key, value),) = given.items()
    if not isinstance(value, str) or not 0 < len(value) <= MAX_DOCUMENT_ID_LENGTH:
        raise RequestError(
            f"{key!r} must be a persisted document's id: a string of 1 to "
            f"{MAX_DOCUMENT_ID_LENGTH} characters, not {value!r:.80}"
        )
    return value


def _json_field(params: dict[str, Any], key: str, from_query_string: bool) -> dict[str, Any] | None:
    value = params.get(key)
    if from_query_string and isinstance(value, str):
        if not value:
            return None
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise RequestError(f"'{key}' is not valid JSON") from None
    if value is not None and not isinstance(value, dict):
        raise RequestError(f"'{key}' must be a JSON object or null")
    if value and _depth(value) > MAX_NESTING:
        raise RequestError(f"'{key}' is nested more than {MAX_NESTING} levels deep")
    return value


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in a JSON value (iteratively: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_NESTING:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
    return deepest
