"""Persisted queries: Apollo's automatic protocol (a bounded store) or a fixed allow-list."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson

from contentapi.errors import SettingsError

NOT_FOUND = "PersistedQueryNotFound"
MISMATCH = "PersistedQueryMismatch"
NOT_ALLOWED = "PersistedQueryNotAllowed"


class PersistedQueryError(Exception):
    """A persisted-query request that cannot be served; `code` is the protocol's name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sha256(query: str) -> str:
    """The hex SHA-256 of a query document, as Apollo clients compute it."""
    return hashlib.sha256(query.encode()).hexdigest()


def load_allow_list(path: Path) -> dict[str, str]:
    """A JSON file of allowed documents: {hash: query} or [query, ...]; hashes are checked."""
    try:
        data: Any = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SettingsError(f"cannot read persisted queries {str(path)!r}: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise SettingsError(f"persisted queries {str(path)!r} are not valid JSON: {exc}") from exc
    if isinstance(data, list) and all(isinstance(query, str) for query in data):
        return {sha256(query): query for query in data}
    if isinstance(data, dict) and all(isinstance(q, str) for q in data.values()):
        for key, query in data.items():
            if key != sha256(query):
                raise SettingsError(
                    f"persisted queries {str(path)!r}: {key!r} is not the SHA-256 of its query"
                )
        return dict(data)
    raise SettingsError(
        f"persisted queries {str(path)!r} must be a JSON object of hash -> query "
        "or a list of queries"
    )


class PersistedQueries:
    """Resolves queries sent by hash; learns new ones unless an allow-list is fixed."""

    def __init__(
        self,
        allow_list: dict[str, str] | None = None,
        max_count: int = 10_000,
        max_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.fixed = allow_list is not None
        self._queries: OrderedDict[str, str] = OrderedDict(allow_list or {})
        self._allowed_texts = set(self._queries.values())
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._bytes = sum(len(query) for query in self._queries.values())
        self._lock = threading.Lock()

    def resolve(self, query: str, extensions: dict[str, Any] | None) -> str:
        """The query to run for a request, or PersistedQueryError."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.fixed and query not in self._allowed_texts:
                raise PersistedQueryError(
                    NOT_ALLOWED, "Only persisted queries may run on this server."
                )
            return query
        if not isinstance(persisted, dict) or not isinstance(persisted.get("sha256Hash"), str):
            raise PersistedQueryError(
                NOT_FOUND, "extensions.persistedQuery needs a sha256Hash string"
            )
        digest = persisted["sha256Hash"].lower()
        if not query:
            with self._lock:
                found = self._queries.get(digest)
                if found is not None and not self.fixed:
                    self._queries.move_to_end(digest)
            if found is None:
                raise PersistedQueryError(NOT_FOUND, NOT_FOUND)
            return found
        if sha256(query) != digest:
            raise PersistedQueryError(MISMATCH, "provided sha does not match query")
        if self.fixed:
            if digest not in self._queries:
                raise PersistedQueryError(NOT_ALLOWED, "This query is not on the allow-list.")
            return query
        self._remember(digest, query)
        return query

    def _remember(self, digest: str, query: str) -> None:
        if len(query) > self.max_bytes:
            return
        with self._lock:
            if digest in self._queries:
                return
            self._queries[digest] = query
            self._bytes += len(query)
            while len(self._queries) > self.max_count or self._bytes > self.max_bytes:
                _, dropped = self._queries.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._queries)
