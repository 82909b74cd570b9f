"""A least-recently-used cache bounded by the bytes it really holds, keys included.

Shared by the HTTP caches (the fast lane's recordings, the endpoint's answers) and the
GraphQL parse cache, so it imports no web or GraphQL framework. A cache that counted only
its values grew without bound through its keys: unique 60 KB query strings took a worker
from 53 to 658 MB. Here every entry costs the length of its key, the size its owner gives
for the value, and ENTRY_OVERHEAD for the objects around them; keys are bytes, either the
request's own bytes (counted as they are) or a fixed-size `digest` of its parts.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

# What an entry holds besides its key's and value's bytes: the key's bytes object header
# (33), the ordered dict's slot, node and spare table room (about 100), the size kept per
# entry (28) and the tuple holding it (56), rounded up. tests/test_caching.py measures it.
ENTRY_OVERHEAD = 256
# Unless told otherwise, no entry may take more than this fraction of the whole budget.
DEFAULT_ENTRY_SHARE = 16


def digest(*parts: bytes) -> bytes:
    """A 32-byte key naming these parts in order (each length-prefixed: no two lists of
    parts run together into the same bytes)."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.digest()


def sized(data: bytes) -> bytes:
    """`data` as bytes that hold only their length, to keep. orjson's output keeps the
    buffer it was written into, 4 KB or more (4,097 bytes held for a 94-byte access line,
    tracemalloc): kept as it is, a cache counting len() would not see it, and half a
    second of queued access lines held 40 MB under load."""
    return bytes(memoryview(data))


class BoundedCache(Generic[V]):
    """Thread-safe LRU of bytes keys whose entries together cost at most `max_bytes`.

    An entry's cost is len(key) + the value's size (given by the caller of `put`) +
    ENTRY_OVERHEAD; one costing more than `max_entry_bytes` (by default a sixteenth of the
    budget) is not kept, so one huge answer cannot empty the cache. 0 bytes disables it.
    """

    def __init__(self, max_bytes: int, *, max_entry_bytes: int | None = None) -> None:
        if max_bytes < 0:
            raise ValueError(f"a cache cannot hold a negative number of bytes: {max_bytes}")
        self.max_bytes = max_bytes
        self.max_entry_bytes = (
            max_bytes // DEFAULT_ENTRY_SHARE if max_entry_bytes is None else max_entry_bytes
        )
        self._items: OrderedDict[bytes, tuple[V, int]] = OrderedDict()
        self._bytes_used = 0
        self._generation: Hashable = None
        self._lock = threading.Lock()

    def get(self, key: bytes) -> V | None:
        """The value kept under `key` (now the most recently used), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: bytes, value: V, value_bytes: int, generation: Hashable = None) -> bool:
        """Keep `value` under `key`, dropping the least recently used entries beyond the
        budget; False when it costs more than one entry may.

        `generation` (such as a content fingerprint) empties the cache when it differs
        from the one the entries were put with: their keys can never be asked for again.
        """
        cost = len(key) + value_bytes + ENTRY_OVERHEAD
        if cost > self.max_entry_bytes or cost > self.max_bytes:
            return False
        with self._lock:
            if generation != self._generation:
                self._items.clear()
                self._bytes_used = 0
                self._generation = generation
            if key in self._items:
                return True
            self._items[key] = (value, cost)
            self._bytes_used += cost
            while self._bytes_used > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes_used -= dropped
            return True

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
            self._bytes_used = 0

    @property
    def bytes_used(self) -> int:
        """What the entries kept now cost, in bytes (never more than max_bytes)."""
        return self._bytes_used

    def __len__(self) -> int:
        return len(self._items)
