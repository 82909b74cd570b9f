"""Webhooks: every public content change POSTed to the configured URLs, signed as the
Standard Webhooks specification says (webhook-id, webhook-timestamp, webhook-signature).

Delivery never holds up serving: each target has its own bounded queue (a full one drops
its oldest message, with a warning) and one task sending its messages one at a time, in
order. An attempt answered 5xx, timed out or cut off is tried again after an exponential
backoff with jitter, up to the attempts allowed; a 4xx (or a redirect: only the URLs
configured are ever contacted) is final. Every attempt is a line in the access log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from standardwebhooks import Webhook

from contentapi.content.changes import PUBLIC, Change
from contentapi.http.access import AccessLog
from contentapi.schema.changes import document_id
from contentapi.schema.keys import change_keys
from contentapi.settings import Settings

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("contentapi.webhooks")
EVENT_TYPE = "content.changed"
USER_AGENT = "contentapi-webhooks"


def message_id(previous: str | None, version: str) -> str:
    """The webhook-id of a change: the same on every replica that sees it, so receivers
    deduplicate by it (a replica's retry and another replica's send alike)."""
    pair = f"{previous or ''}\0{version}".encode()
    return "msg_" + hashlib.sha256(pair).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Message:
    """One change, ready to send: its id and its JSON body."""

    id: str
    body: str


def payload(change: Change, keys: Sequence[str] = ()) -> dict[str, Any]:
    """The change as a Standard Webhooks payload (type, timestamp, data); `keys` are the
    CDN purge keys it touches (see schema/keys.py)."""

    def documents(uris: Sequence[str]) -> list[dict[str, str]]:
        return [{"id": document_id(uri), "uri": uri} for uri in uris]

    return {
        "type": EVENT_TYPE,
        "timestamp": change.at,
        "data": {
            "version": change.version,
            "previousVersion": change.previous,
            "created": documents(change.created),
            "updated": documents(change.updated),
            "deleted": documents(change.deleted),
            "moved": [{"from": old, "to": new} for old, new in change.moved],
            "keys": list(keys),
        },
    }


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (from 1): doubling from
    `base`, at most `cap`, and jittered down by up to half so replicas spread out."""
    return float(min(cap, base * 2.0 ** (attempt - 1)) * (0.5 + random.random() / 2))


class _Target:
    """One URL: its queue and the task delivering it."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self.queue: deque[Message] = deque()
        self.size = max(size, 1)
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.dropped = 0


class WebhookSender:
    """Delivers changes to every target; `notify` only queues, never waits."""

    def __init__(
        self,
        urls: Sequence[str],
        secret: str,
        *,
        attempts: int = 5,
        timeout: float = 10.0,
        queue: int = 100,
        access_log: AccessLog | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
    ) -> None:
        self.webhook = Webhook(secret)
        self.attempts = max(attempts, 1)
        self.timeout = timeout
        self.access_log = access_log
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.targets = [_Target(url, queue) for url in urls]
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings, access_log: AccessLog) -> WebhookSender | None:
        """The sender CONTENTAPI_WEBHOOKS asks for, or None."""
        urls = settings.webhook_urls
        if not urls:
            return None
        return cls(
            urls,
            settings.webhook_secret,
            attempts=settings.webhook_attempts,
            timeout=float(settings.webhook_timeout),
            queue=settings.webhook_queue,
            access_log=access_log,
        )

    def listener(self, audience: str, change: Change) -> None:
        """A ChangeLog listener: public changes only (drafts are nobody else's business)."""
        if audience == PUBLIC:
            self.notify(change)

    def notify(self, change: Change) -> None:
        """Queue the change for every target (dropping a target's oldest when it is full)."""
        body = orjson.dumps(payload(change, change_keys(change.uris))).decode()
        message = Message(message_id(change.previous, change.version), body)
        for target in self.targets:
            if len(target.queue) >= target.size:
                dropped = target.queue.popleft()
                target.dropped += 1
                log.warning(
                    "webhook %s: %d messages waiting, the most kept "
                    "(CONTENTAPI_WEBHOOK_QUEUE): dropped the oldest, %s",
                    target.url,
                    len(target.queue) + 1,
                    dropped.id,
                )
            target.queue.append(message)
            target.ready.set()

    async def start(self) -> None:
        """Start one delivery task per target (messages queued before now go first)."""
        # Imported here, only when webhooks are configured: httpx (and the rich and click
        # its command line pulls in) took 4 MB of each worker (100 -> 96 MB RSS serving
        # 10,000 pages) and 90 ms of its start (python -X importtime).
        import httpx

        self._client = httpx.AsyncClient(
            timeout=self.timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: only these URLs are contacted
            headers={"user-agent": USER_AGENT},
        )
        for target in self.targets:
            target.task = asyncio.create_task(self._deliver_all(target))

    async def stop(self) -> None:
        """Stop delivering (what is still queued is dropped) and close the client."""
        for target in self.targets:
            if target.task is not None:
                target.task.cancel()
        for target in self.targets:
            if target.task is not None:
                try:
                    await target.task
                except asyncio.CancelledError:
                    pass
                target.task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _deliver_all(self, target: _Target) -> None:
        while True:
            while not target.queue:
                target.ready.clear()
                await target.ready.wait()
            await self._deliver(target, target.queue.popleft())

    async def _deliver(self, target: _Target, message: Message) -> bool:
        """Send one message until it is taken, refused or out of attempts."""
        import httpx  # imported by start(): a lookup in sys.modules

        assert self._client is not None
        for attempt in range(1, self.attempts + 1):
            now = dt.datetime.now(dt.UTC)
            headers = {
                "content-type": "application/json",
                "webhook-id": message.id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": self.webhook.sign(message.id, now, message.body),
            }
            started = time.perf_counter()
            status: int | None = None
            error = None
            try:
                response = await self._client.post(
                    target.url, content=message.body.encode(), headers=headers
                )
                status = response.status_code
            except httpx.TimeoutException:
                error = "timeout"
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            self._log(target, message, attempt, status, error, started)
            if status is not None and 200 <= status < 300:
                return True
            if status is not None and status < 500:
                log.warning(
                    "webhook %s answered %d to %s: not retried", target.url, status, message.id
                )
                return False
            if attempt < self.attempts:
                await asyncio.sleep(backoff(attempt, self.backoff_base, self.backoff_cap))
        log.warning(
            "webhook %s: %s not delivered after %d attempts", target.url, message.id, self.attempts
        )
        return False

    def _log(
        self,
        target: _Target,
        message: Message,
        attempt: int,
        status: int | None,
        error: str | None,
        started: float,
    ) -> None:
        if self.access_log is None:
            return
        self.access_log.write(
            {
                "method": "POST",
                "webhook": target.url,
                "webhook_id": message.id,
                "attempt": attempt,
                "status": status,
                "error": error,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            }
        )
