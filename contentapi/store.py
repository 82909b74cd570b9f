"""The index being served, swapped whole when content changes."""

from __future__ import annotations

import threading
from collections.abc import Callable

from contentapi.index import ContentIndex


class ContentStore:
    """Holds the current ContentIndex; a request reads it once and keeps that one."""

    def __init__(self, index: ContentIndex) -> None:
        self._current = index
        self._lock = threading.Lock()
        self._listeners: list[Callable[[ContentIndex], None]] = []

    @property
    def current(self) -> ContentIndex:
        """The index to answer with now."""
        return self._current

    def swap(self, index: ContentIndex) -> None:
        """Serve a new index from the next request on (one reference assignment: atomic)."""
        with self._lock:
            self._current = index
            listeners = list(self._listeners)
        for listener in listeners:
            listener(index)

    def on_swap(self, listener: Callable[[ContentIndex], None]) -> None:
        """Call listener with each new index."""
        self._listeners.append(listener)
