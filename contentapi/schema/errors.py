"""Errors a client caused: shown to it as they are (all others are masked)."""

from __future__ import annotations


class QueryError(Exception):
    """A request asked for something it cannot have; the message is safe to show."""
