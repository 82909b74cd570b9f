"""Persisted queries: Apollo's automatic protocol (a bounded store) or a fixed allow-list
(Apollo's manifest, Relay's persisted map, or a list), named by hash or document id."""

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


# The hashes an allow-list map's ids may be: Apollo's SHA-256 and what relay-compiler's
# persistConfig writes (its "algorithm": MD5 by default, SHA1 or SHA256), as hex.
ID_HASHES = (hashlib.sha256, hashlib.md5, hashlib.sha1)
APOLLO_MANIFEST = "apollo-persisted-query-manifest"
# The GraphQL-over-HTTP persisted documents proposal prefixes a SHA-256 documentId.
DOCUMENT_ID_PREFIX = "sha256:"


def load_allow_list(path: Path) -> dict[str, str]:
    """A JSON file of allowed documents, as {id: query} (every id a key of the result).

    Three shapes: Apollo's persisted query manifest (`"format":
    "apollo-persisted-query-manifest"`, whose ids are taken as written: by default the
    SHA-256 of the body, but its createOperationId may make any); a map of id -> query
    whose every id is the SHA-256, MD5 or SHA-1 hex of its query (Relay's persisted map,
    or Apollo's APQ hashes); or a list of queries, each known by its SHA-256.
    """
    try:
        data: Any = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SettingsError(f"cannot read persisted queries {str(path)!r}: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise SettingsError(f"persisted queries {str(path)!r} are not valid JSON: {exc}") from exc
    if isinstance(data, list) and all(isinstance(query, str) for query in data):
        return {sha256(query): query for query in data}
    if isinstance(data, dict) and "format" in data:
        return _apollo_manifest(path, data)
    if isinstance(data, dict) and all(isinstance(q, str) for q in data.values()):
        allowed = {}
        for key, query in data.items():
            key_hash = key.lower()
            if not any(make(query.encode()).hexdigest() == key_hash for make in ID_HASHES):
                raise SettingsError(
                    f"persisted queries {str(path)!r}: {key!r} is not the "
                    "SHA-256, MD5 or SHA-1 hex of its query"
                )
            allowed[key_hash] = query
        return allowed
    raise SettingsError(
        f"persisted queries {str(path)!r} must be Apollo's persisted query manifest, "
        "a JSON object of id -> query or a list of queries"
    )


def _apollo_manifest(path: Path, manifest: dict[str, Any]) -> dict[str, str]:
    """The {id: body} of an Apollo persisted query manifest, each entry checked."""
    where = f"persisted queries {str(path)!r}"
    if manifest.get("format") != APOLLO_MANIFEST:
        raise SettingsError(
            f"{where}: format {manifest.get('format')!r} is not {APOLLO_MANIFEST!r}"
        )
    if manifest.get("version") != 1:
        raise SettingsError(
            f"{where}: Apollo manifest version {manifest.get('version')!r} is not 1, "
            "the only version this server reads"
        )
    operations = manifest.get("operations")
    if not isinstance(operations, list):
        raise SettingsError(f"{where}: 'operations' must be a list, not {operations!r:.60}")
    allowed: dict[str, str] = {}
    for number, operation in enumerate(operations, start=1):
        if not (
            isinstance(operation, dict)
            and isinstance(operation.get("id"), str)
            and operation["id"]
            and isinstance(operation.get("body"), str)
        ):
            raise SettingsError(
                f"{where}: operation {number} needs an 'id' and a 'body' string, "
                f"not {operation!r:.80}"
            )
        known = allowed.setdefault(operation["id"], operation["body"])
        if known != operation["body"]:
            raise SettingsError(f"{where}: id {operation['id']!r} is given to two different bodies")
    return allowed


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

    def resolve(
        self, query: str, extensions: dict[str, Any] | None, document_id: str | None = None
    ) -> str:
        """The query to run for a request, or PersistedQueryError.

        A stored document is named by Apollo's `extensions.persistedQuery.sha256Hash` or
        by `document_id` (Relay's `doc_id`, or the persisted documents proposal's
        `documentId`, whose `sha256:` prefix is dropped).
        """
        persisted = (extensions or {}).get("persistedQuery")
        if document_id is not None:
            wanted = document_id.removeprefix(DOCUMENT_ID_PREFIX)
        elif persisted is not None:
            if not isinstance(persisted, dict) or not isinstance(persisted.get("sha256Hash"), str):
                raise PersistedQueryError(
                    NOT_FOUND, "extensions.persistedQuery needs a sha256Hash string"
                )
            wanted = persisted["sha256Hash"]
        else:
            if self.fixed and query not in self._allowed_texts:
                raise PersistedQueryError(
                    NOT_ALLOWED, "Only persisted queries may run on this server."
                )
            return query
        key, found = self._lookup(wanted)
        if not query:
            if found is not None:
                return found
            if document_id is None:
                # Apollo's clients read this exact message as "send the query text too".
                raise PersistedQueryError(NOT_FOUND, NOT_FOUND)
            raise PersistedQueryError(
                NOT_FOUND, f"no persisted document has the id {document_id[:100]!r}"
            )
        if self.fixed:
            # The list's own text decides: its ids need not be hashes (Apollo manifests).
            if found is None:
                raise PersistedQueryError(NOT_ALLOWED, "This query is not on the allow-list.")
            if found != query:
                raise PersistedQueryError(MISMATCH, "provided id does not match query")
            return query
        if sha256(query) != key:
            raise PersistedQueryError(MISMATCH, "provided sha does not match query")
        self._remember(key, query)
        return query

    def _lookup(self, wanted: str) -> tuple[str, str | None]:
        """The key `wanted` is stored under (as sent, else in lower case: hex ids are kept
        in lower case) and its query, or None; a hit moves to the young end of the store."""
        with self._lock:
            for key in (wanted, wanted.lower()):
                found = self._queries.get(key)
                if found is not None:
                    if not self.fixed:
                        self._queries.move_to_end(key)
                    return key, found
        return wanted.lower(), None

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
