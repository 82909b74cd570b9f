"""The index being served, swapped whole when content changes."""

from __future__ import annotations

from contentapi.content.index import ContentIndex


class ContentStore:
    """Holds the current ContentIndex; a request reads it once and keeps that one."""

    def __init__(self, index: ContentIndex) -> None:
        self._current = index

    @property
    def current(self) -> ContentIndex:
        """The index to answer with now."""
        return self._current

    def swap(self, index: ContentIndex) -> None:
        """Serve a new index from the next request on (one reference assignment: atomic).

        If the public pages are the same as before, so is their load time.
        """
        if index.public.version == self._current.public.version:
            index.public_loaded_at = self._current.public_loaded_at
        self._current = index
