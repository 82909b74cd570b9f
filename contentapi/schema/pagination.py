"""Relay-style pagination over an ordered list: opaque cursors, first/after/last/before."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from contentapi.schema.errors import QueryError

T = TypeVar("T")
MAX_PAGE = 100
DEFAULT_PAGE = 20
_PREFIX = "cursor:"


# Positions in ids and cursors: no list here reaches a billion items.
_MAX_POSITION_DIGITS = 9


def parse_position(text: str) -> int | None:
    """A list position written as encode_cursor and global ids write it, else None.

    Only the canonical form: ASCII digits without leading zeros. str.isdigit() also
    accepts '²' (which int() refuses) and '٠' (which int() reads as 0, so another id
    would name the same image), and thousands of digits take int() long to read.
    """
    if (
        not text.isascii()
        or not text.isdigit()
        or len(text) > _MAX_POSITION_DIGITS
        or (text[0] == "0" and text != "0")
    ):
        return None
    return int(text)


def encode_cursor(offset: int) -> str:
    """An opaque cursor for a position in a list."""
    return base64.b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str, name: str) -> int:
    """The position a cursor stands for; a clear error if it is not one of ours."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    position = parse_position(text.removeprefix(_PREFIX)) if text.startswith(_PREFIX) else None
    if position is not None:
        return position
    raise QueryError(f"'{name}' is not a valid cursor: {cursor[:60]!r}")


def check_count(value: int | None, name: str) -> None:
    """Refuse negative page sizes and sizes over MAX_PAGE."""
    if value is None:
        return
    if value < 0:
        raise QueryError(f"'{name}' must not be negative, got {value}")
    if value > MAX_PAGE:
        raise QueryError(f"'{name}' must be at most {MAX_PAGE}, got {value}")


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    """A slice of a list with where it starts and what lies around it."""

    items: Sequence[T]
    start: int
    total: int
    has_previous: bool
    has_next: bool


def window(
    items: Sequence[T],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Window[T]:
    """Apply Relay's cursor algorithm; without first or last, DEFAULT_PAGE items."""
    check_count(first, "first")
    check_count(last, "last")
    total = len(items)
    start, end = 0, total
    if after is not None:
        start = min(max(decode_cursor(after, "after") + 1, 0), total)
    if before is not None:
        end = max(min(decode_cursor(before, "before"), total), start)
    if first is None and last is None:
        first = DEFAULT_PAGE
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    return Window(items[start:end], start, total, start > 0, end < total)
