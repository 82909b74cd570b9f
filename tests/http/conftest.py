"""Fixtures of the HTTP tests."""

from __future__ import annotations

from typing import Any

import pytest

from contentapi.http.endpoint import GraphQLEndpoint
from contentapi.http.express import Express


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request that reached the GraphQL endpoint, through the app or answered by it in
    the fast lane (the lane replays the others)."""
    seen: list[str] = []
    original = GraphQLEndpoint.run
    original_compiled = GraphQLEndpoint.compiled

    async def counting(self: GraphQLEndpoint, request: Any, operation: Any, **kw: Any) -> Any:
        seen.append(operation.query)
        return await original(self, request, operation, **kw)

    def counting_compiled(self: GraphQLEndpoint, operation: Any, **kw: Any) -> Any:
        answer = original_compiled(self, operation, **kw)
        if answer is not None:  # else the app's run() is called, and counts it
            seen.append(operation.query)
        return answer

    original_express = Express.answer

    def counting_express(self: Express, operation: Any, ready: Any, **kw: Any) -> Any:
        found = original_express(self, operation, ready, **kw)
        if found is not None:
            seen.append(operation.query)
        return found

    monkeypatch.setattr(GraphQLEndpoint, "run", counting)
    monkeypatch.setattr(GraphQLEndpoint, "compiled", counting_compiled)
    monkeypatch.setattr(Express, "answer", counting_express)
    return seen
