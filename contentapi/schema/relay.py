"""Relay: global ids, the Node interface, connections with page info and cursors, and
pagination over an ordered list (first/after/last/before), with one base64 codec for ids
and cursors alike."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry

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
    return _encode(f"{_PREFIX}{offset}")


def decode_cursor(cursor: str, name: str) -> int:
    """The position a cursor stands for; a clear error if it is not one of ours."""
    text = _decode(cursor) or ""
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


def global_id(kind: str, key: str) -> str:
    """A Relay global id: base64 of 'Type:key', the same on every replica."""
    return _encode(f"{kind}:{key}")


def parse_global_id(value: str) -> tuple[str, str] | None:
    """(type name, key) of a global id, or None if it is not one."""
    kind, _, key = (_decode(value) or "").partition(":")
    return (kind, key) if key else None


def _encode(text: str) -> str:
    """The opaque form of an id or a cursor."""
    return base64.b64encode(text.encode()).decode()


def _decode(value: str) -> str | None:
    """What _encode made `value` from, or None if it did not."""
    try:
        return base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None


_GLOBAL_ID = "Global id of this {kind}, the same on every replica: node(id:) fetches it again."


def global_id_field(resolver: Any, kind: str) -> Any:
    return strawberry.field(resolver=resolver, description=_GLOBAL_ID.format(kind=kind))


@strawberry.interface(
    description=(
        "An object with a global id: Treatment, Image, Indication or Category. "
        "node(id:) and nodes(ids:) fetch any of them by id."
    )
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="Global id of the object, the same on every replica: node(id:) fetches it."
    )


# The pagination arguments of every connection field, described once.
PageFirst = Annotated[
    int | None,
    strawberry.argument(
        description=(
            "Take the first N items (0 to 100) after the `after` cursor, or from the start. "
            "Without first or last, a page holds 20 items."
        )
    ),
]


PageAfter = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "Cursor of an item (edges.cursor, or pageInfo.endCursor for the next page): "
            "the page starts just after it."
        )
    ),
]


PageLast = Annotated[
    int | None,
    strawberry.argument(
        description="Take the last N items (0 to 100) before the `before` cursor, or from the end."
    ),
]


PageBefore = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "Cursor of an item (edges.cursor, or pageInfo.startCursor for the page before): "
            "the page ends just before it."
        )
    ),
]


@strawberry.type(description="Where a page of a connection stands in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when items follow this page: ask again with after: endCursor."
    )
    has_previous_page: bool = strawberry.field(
        description="True when items come before this page: ask again with before: startCursor."
    )
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first item on this page; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item on this page; null when the page is empty."
    )


@strawberry.type(description="One item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description=(
            "Opaque position of the item in the list: pass it as after: or before: to page "
            "from here. It is a position, not the item: once the content changes it may "
            "point at another item."
        )
    )
    node: T = strawberry.field(description="The item itself.")


@strawberry.type(
    description=(
        "One page of a list, Relay style: the items (as edges with cursors, or as plain "
        "nodes), where the page stands, and how long the whole list is."
    )
)
class Connection(Generic[T]):
    window: strawberry.Private[Window[Any]]

    @strawberry.field(description="The items on this page, in list order, each with its cursor.")
    def edges(self) -> list[Edge[T]]:
        start = self.window.start
        return [
            Edge(cursor=encode_cursor(start + i), node=n) for i, n in enumerate(self.window.items)
        ]

    @strawberry.field(
        description="The items on this page, in list order, without cursors (edges { node })."
    )
    def nodes(self) -> list[T]:
        return list(self.window.items)

    @strawberry.field(
        description="Whether items come before and after this page, and the cursors to get them."
    )
    def page_info(self) -> PageInfo:
        found, start = len(self.window.items), self.window.start
        return PageInfo(
            has_next_page=self.window.has_next,
            has_previous_page=self.window.has_previous,
            start_cursor=encode_cursor(start) if found else None,
            end_cursor=encode_cursor(start + found - 1) if found else None,
        )

    @strawberry.field(description="How many items the whole list holds, every page together.")
    def total_count(self) -> int:
        return self.window.total


def connect(
    items: Sequence[Any],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Any:
    """A Connection over items (typed Any: the same object serves every node type)."""
    return Connection(window=window(items, first, after, last, before))
