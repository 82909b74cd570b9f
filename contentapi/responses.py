"""Whole-response caching: a byte-bounded LRU and ETags, keyed by content version."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

V = TypeVar("V")


def etag_for(version: str, query: str, variables: Any, operation_name: str | None) -> str:
    """A strong ETag for a GET response: same content version and same request, same tag."""
    digest = hashlib.sha256()
    digest.update(version.encode())
    digest.update(b"\0" + query.encode())
    digest.update(b"\0" + orjson.dumps(variables, option=orjson.OPT_SORT_KEYS))
    digest.update(b"\0" + (operation_name or "").encode())
    return '"' + digest.hexdigest()[:32] + '"'


@dataclass(slots=True)
class Answer:
    """A response body with its status and the figures for the log; gzipped once if asked."""

    status: int
    body: bytes
    report: dict[str, Any]
    _gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        """The body compressed with gzip (computed on first use, then kept)."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


class ResponseCache(Generic[V]):
    """Least-recently-used responses up to a total size in bytes; 0 bytes disables it.

    Keys start with the content version: a new version empties the cache.
    """

    def __init__(self, max_bytes: int, sizeof: Callable[[V], int]) -> None:
        self.max_bytes = max_bytes
        self.sizeof = sizeof
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._size = 0
        self._version: object = None
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> V | None:
        """A cached value, or None."""
        with self._lock:
            if key[0] != self._version:
                return None
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: V) -> None:
        """Remember a value, dropping the least recently used beyond the size limit."""
        cost = self.sizeof(value) + 200
        if cost > self.max_bytes:
            return
        with self._lock:
            if key[0] != self._version:
                self._items.clear()
                self._size = 0
                self._version = key[0]
            if key in self._items:
                return
            self._items[key] = value
            self._size += cost
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= self.sizeof(dropped) + 200

    def __len__(self) -> int:
        return len(self._items)
