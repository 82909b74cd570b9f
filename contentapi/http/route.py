"""The /graphql route: GraphiQL for browsers, GraphQL over HTTP for everyone else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from contentapi.http.endpoint import GraphQLEndpoint
from contentapi.http.headers import read_body
from contentapi.http.protocol import (
    Operation,
    RequestError,
    check_content_type,
    error_response,
    operation_from,
    prefers_html,
)
from contentapi.settings import Settings

GRAPHIQL = Path(__file__).parent.parent / "static" / "graphiql" / "index.html"


class GraphQLRoute:
    """Reads a request into operations (query string, JSON body or a batch) and hands them
    to the endpoint; every request error becomes a GraphQL-style JSON answer."""

    def __init__(self, endpoint: GraphQLEndpoint, settings: Settings) -> None:
        self.endpoint = endpoint
        self.settings = settings

    async def handle(self, request: Request) -> Response:
        """The answer to one request to /graphql."""
        try:
            if request.method in ("GET", "HEAD"):
                return await self.get(request)
            return await self.post(request)
        except RequestError as exc:
            return error_response(request, exc)

    async def get(self, request: Request) -> Response:
        """A query in the query string, or GraphiQL for a browser asking for a page."""
        if not request.query_params and prefers_html(request.headers.getlist("accept")):
            if self.settings.graphiql:
                # The same URL answers JSON to other Accept headers.
                return FileResponse(
                    GRAPHIQL, headers={"vary": "Accept", "cache-control": "no-cache"}
                )
            raise RequestError("GraphiQL is turned off; send a query", status=400)
        operation = operation_from(dict(request.query_params), from_query_string=True)
        return await self.endpoint.run(request, operation, is_get=True)

    async def post(self, request: Request) -> Response:
        """A JSON body: one operation, or a batch (a JSON array) where batches are on."""
        check_content_type(request)
        body = await read_body(request, self.settings.max_body_bytes)
        try:
            params = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RequestError(f"the request body is not valid JSON: {exc}") from None
        if isinstance(params, list):
            operations = _batch(params, self.settings.batch_limit)
            return await self.endpoint.run_batch(request, operations)
        operation = operation_from(params, from_query_string=False)
        return await self.endpoint.run(request, operation, is_get=False)


def _batch(params: list[Any], limit: int) -> list[Operation]:
    if limit == 0:
        raise RequestError("batched requests (a JSON array) are turned off on this server")
    if not 1 <= len(params) <= limit:
        raise RequestError(f"a batch must hold 1 to {limit} operations, not {len(params)}")
    return [operation_from(item, from_query_string=False) for item in params]
