"""Exceptions raised deep in the loader and translated at the edges."""

from __future__ import annotations


class PageError(Exception):
    """A page cannot be served; `line` is 1-based within the file where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class SettingsError(Exception):
    """A setting was given a value it cannot take."""
