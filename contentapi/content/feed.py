"""The live change feed: every recorded change handed to each open subscription of its
audience, each subscription with a small queue of its own (a slow reader loses its oldest
events, never holds up the others), and limits on how many are open."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from contentapi.content.changes import PREVIEW, PUBLIC, Change

log = logging.getLogger("contentapi")
# Events waiting for one slow subscriber before its oldest is dropped.
_QUEUE = 16


class FeedFull(Exception):
    """A subscription over a limit; the message names it."""


@dataclass(eq=False, slots=True)
class _Subscriber:
    audience: str
    client: str
    # The loop reading the queue: changes from another thread or loop are handed over
    # through it (an asyncio queue is not thread-safe).
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(_QUEUE))

    def put(self, change: Change) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._put(change)
            return
        try:
            self.loop.call_soon_threadsafe(self._put, change)
        except RuntimeError:
            pass  # its loop is closed: the subscription is over

    def _put(self, change: Change) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            log.warning("a subscriber of %s is slow: dropped its oldest change", self.client)
        self.queue.put_nowait(change)


class ChangeFeed:
    """Fans recorded changes out to subscriptions; at most `total` open at once, and
    `per_client` from one client (its address)."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client = per_client
        self.total = total
        self._subscribers: set[_Subscriber] = set()
        self._by_client: dict[str, int] = {}

    @property
    def open(self) -> int:
        """How many subscriptions are open."""
        return len(self._subscribers)

    def listener(self, audience: str, change: Change) -> None:
        """A ChangeLog listener (called on the event loop, as reloads swap there)."""
        for subscriber in list(self._subscribers):
            if subscriber.audience == audience:
                subscriber.put(change)

    @contextmanager
    def subscribe(self, preview: bool, client: str) -> Iterator[asyncio.Queue[Change]]:
        """A queue of the changes the audience sees, open until the block ends; FeedFull
        when a limit is reached."""
        if len(self._subscribers) >= self.total:
            raise FeedFull(
                f"this server has {self.total} subscriptions open, the most it keeps "
                "(CONTENTAPI_SUBSCRIPTIONS_MAX): try again later"
            )
        if self._by_client.get(client, 0) >= self.per_client:
            raise FeedFull(
                f"this client has {self.per_client} subscriptions open, the most one client "
                "may (CONTENTAPI_SUBSCRIPTIONS_PER_CLIENT): close one first"
            )
        subscriber = _Subscriber(PREVIEW if preview else PUBLIC, client)
        self._subscribers.add(subscriber)
        self._by_client[client] = self._by_client.get(client, 0) + 1
        try:
            yield subscriber.queue
        finally:
            self._subscribers.discard(subscriber)
            left = self._by_client[client] - 1
            if left:
                self._by_client[client] = left
            else:
                del self._by_client[client]
