"""Fixtures of the HTTP tests."""

from __future__ import annotations

from typing import Any

import pytest

from contentapi.http.endpoint import GraphQLEndpoint


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request that reached the GraphQL endpoint (the lane answers the others)."""
    seen: list[str] = []
    original = GraphQLEndpoint.run

    async def counting(self: GraphQLEndpoint, request: Any, operation: Any, **kw: Any) -> Any:
        seen.append(operation.query)
        return await original(self, request, operation, **kw)

    monkeypatch.setattr(GraphQLEndpoint, "run", counting)
    return seen
