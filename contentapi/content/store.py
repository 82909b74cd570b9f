"""The index being served, swapped whole when content changes."""

from __future__ import annotations

from contentapi.content.changes import ChangeLog
from contentapi.content.index import ContentIndex


class ContentStore:
    """Holds the current ContentIndex; a request reads it once and keeps that one.

    `changes` records what each new index changed (see changes.py); it sees the first
    index now, so a start on files changed since the last run is a change too.
    """

    def __init__(self, index: ContentIndex, changes: ChangeLog | None = None) -> None:
        self._current = index
        self.changes = changes if changes is not None else ChangeLog()
        self.changes.observe(index)

    @property
    def current(self) -> ContentIndex:
        """The index to answer with now."""
        return self._current

    def swap(self, index: ContentIndex) -> None:
        """Serve a new index from the next request on (one reference assignment: atomic),
        then record what it changed.

        If the public pages are the same as before, so is their load time.
        """
        if index.public.version == self._current.public.version:
            index.public_loaded_at = self._current.public_loaded_at
        self._current = index
        self.changes.observe(index)
