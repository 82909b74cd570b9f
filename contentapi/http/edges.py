"""HTTP edges: header size and count limits, read timeouts and a connection cap for uvicorn.

uvicorn's default HTTP protocol (httptools) has no header limit and no read timeout at all
(uvicorn 0.54, httptools 0.9, measured against `contentapi serve` on 127.0.0.1):

- a 64 MB header was read whole and answered 200 (5.7 s), and llhttp keeps no bound of its
  own: httptools accumulates a header's name and value in Python until the value ends;
- a client trickling a header line every 0.5 s, or sending nothing after connecting, was
  still connected after 8 s, and would have been forever: `timeout_keep_alive` is only armed
  once a response is complete, and any byte received (even the blank lines llhttp skips
  before a request) cancels it;
- `limit_concurrency` is checked only once a request's headers are complete, so it bounds
  running tasks, not connections holding half-read headers.

uvicorn's h11 protocol is no better: `h11_max_incomplete_event_size` bounds only the bytes
waiting for an incomplete event, so a 100 KB header that arrives in one read passes (it did),
it answers 400 rather than 431, and it has the same timeouts as httptools.

So the limits live here, in a subclass of uvicorn's httptools protocol (a pure ASGI
middleware runs only after the headers have been read and cannot close a connection that
never finishes its headers). It keeps httptools' parser and its speed: with wrk (2 threads,
64 connections, 5 s, loopback) on a cached query, `contentapi serve` answered 21,000-25,800
req/s with uvicorn's stock httptools protocol and 22,400-24,600 with this one, three runs each
on a shared 2-core machine (uvicorn's h11 protocol: about 6,000); feeding one keep-alive GET
through the protocol alone takes 16.7 us against 13.9 us (best of 15 runs).

- Header bytes are counted as they arrive, before they reach the parser, so no connection
  holds more than `max_header_bytes` of an unfinished header block (plus at most the one read
  in which a body ends and the next request's headers begin); the parser's callbacks count
  the same bytes exactly, and the number of header lines. Either limit is answered 431.
- A request's headers must arrive within `header_timeout` seconds of its first byte and its
  body within `body_timeout` seconds of its headers, else 408 (or a plain close when a
  response is already on its way); a connection with no request under way is closed after
  `keep_alive_timeout` seconds, from the moment it is accepted as well as between requests.
- Past `max_connections` open connections a new one is answered 503 and closed at once.
- Each request's task is counted in the process's RequestQueue while it runs; past
  `queue_depth` held, a request is marked to be shed (503 + Retry-After, see shedding.py).
- A GET or short POST to /graphql that the fast lane has recorded, or whose query the JIT
  runs, is answered here, from the parser's callback, with no request cycle or task
  (lane.WireReplay, found in the lifespan state the loaded app fills): such answers are
  most of a content API's traffic, and uvicorn's machinery around the app cost more than
  the app's replay.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from typing import Any, cast

import httptools
import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from contentapi.errors import SettingsError
from contentapi.http.headers import header_lines
from contentapi.http.shedding import RequestQueue
from contentapi.http.state import WIRE_REPLAY
from contentapi.settings import ENV_PREFIX, Settings

# What a header line costs beyond its name and value: ": " and CRLF.
HEADER_LINE_OVERHEAD = 4
BLANK_LINE = b"\r\n\r\n"


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    """The limits one connection is held to; from the settings of the same names."""

    max_header_bytes: int
    max_headers: int
    header_timeout: int
    body_timeout: int
    keep_alive_timeout: int
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeLimits:
        """The limits, each checked to be at least 1 (0 would refuse or close everything)."""
        values = {name: getattr(settings, name) for name in cls.__dataclass_fields__}
        for name, value in values.items():
            if value < 1:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be at least 1, not {value!r}")
        return cls(**values)


def protocol_factory(limits: EdgeLimits, queue_depth: int = 0) -> type[asyncio.Protocol]:
    """What to pass as uvicorn's `http`: the guarded protocol bound to these limits, and
    to a queue of `queue_depth` requests (0: no shedding).

    uvicorn calls it as it calls a protocol class (config, server_state, app_state as
    keywords). A partial of a module-level class pickles, so it reaches every worker
    process, each unpickling a queue of its own shared by all its connections.
    """
    return cast(
        type[asyncio.Protocol],
        functools.partial(GuardedHttpToolsProtocol, limits=limits, queue=RequestQueue(queue_depth)),
    )


@dataclass(slots=True)
class _Held:
    """A request held back from the app (GuardedHttpToolsProtocol._hold): what the replay
    read in its headers, its body as it comes, and whether the connection is to stay open
    after it (a shutdown turns that off)."""

    facts: Any
    body: list[bytes] = field(default_factory=list)
    keep_alive: bool = True


class _HeaderLimitExceeded(Exception):
    """Raised from a parser callback to stop parsing a request that broke a header limit."""


def _refusal(status: int, reason: bytes, message: str) -> bytes:
    """A complete HTTP/1.1 response that closes the connection, with a GraphQL-style body."""
    body = orjson.dumps({"errors": [{"message": message}]})
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header limits, read timeouts and a connection cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: EdgeLimits,
        queue: RequestQueue | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self.queue = queue if queue is not None else RequestQueue(0)
        # uvicorn's own idle timer (armed after each response) uses the same setting.
        self.timeout_keep_alive = limits.keep_alive_timeout
        self.reading_headers = False
        self.reading_body = False
        self.header_bytes = 0  # raw bytes of this request's header block seen so far
        self.counted_header_bytes = 0  # the same, as the parser's callbacks report them
        self.header_count = 0
        self.last_bytes = b""  # the end of the previous read, for a blank line split in two
        # One timer per connection, re-armed lazily: a request only writes down when its
        # headers or body must be in (timers armed and cancelled twice a request cost 10%).
        self.read_deadline: float | None = None  # loop time; None: not reading a request
        self.deadline_timer: asyncio.TimerHandle | None = None
        # A request held back from the app until its body is in, to be answered by the wire
        # replay if it can be (see _hold).
        self.held: _Held | None = None
        self.encoded_defaults: tuple[object, bytes] = (None, b"")  # see _default_head

    # Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self.logger.warning(
                "Refused a connection: %d are open, the limit (%sMAX_CONNECTIONS).",
                len(self.connections),
                ENV_PREFIX,
            )
            transport.write(
                _refusal(
                    503,
                    b"Service Unavailable",
                    f"too many open connections: the limit is {self.limits.max_connections}",
                )
            )
            transport.close()
            return
        super().connection_made(transport)
        self._arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.held = None
        self._cancel_read_deadline()
        if self.deadline_timer is not None:
            self.deadline_timer.cancel()
            self.deadline_timer = None
        self._unset_keepalive_if_required()
        if self.transport is None:  # refused in connection_made: uvicorn never saw it
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Unlike uvicorn, data alone does not cancel the idle timer: blank lines before a
        # request would keep a connection forever. A request beginning does (on_message_begin).
        if self.reading_headers or not self.reading_body:
            self.header_bytes += self._header_part(data)
            if self.header_bytes > self.limits.max_header_bytes:
                self._refuse_headers(self._size_message())
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeaderLimitExceeded):
                self._refuse_headers(str(exc.__context__))
                return
            self._invalid_request()
        except httptools.HttpParserError:
            self._invalid_request()
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _header_part(self, data: bytes) -> int:
        """How many bytes of `data` belong to the header block being read."""
        if not self.reading_headers:
            data = data.lstrip(b"\r\n")  # llhttp skips blank lines before a request
        carried = self.last_bytes
        joined = carried + data if carried else data
        end = joined.find(BLANK_LINE)
        if end < 0:
            self.last_bytes = joined[1 - len(BLANK_LINE) :]
            return len(data)
        self.last_bytes = b""
        return max(0, end + len(BLANK_LINE) - len(carried))

    def _invalid_request(self) -> None:
        self._cancel_read_deadline()
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def _size_message(self) -> str:
        return (
            f"the request's headers are larger than the limit of "
            f"{self.limits.max_header_bytes} bytes"
        )

    def _refuse_headers(self, message: str) -> None:
        self.logger.warning("Refused a request: %s.", message)
        self._close_with(431, b"Request Header Fields Too Large", message)

    def _close_with(self, status: int, reason: bytes, message: str) -> None:
        """Answer with `status` if no other response can be on the wire, then close."""
        self._cancel_read_deadline()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self.held is not None:
            answer = True  # held (see _hold): no cycle, and nothing of its answer sent
        elif self.reading_body:
            # self.cycle is this request's: answer unless the app already has.
            answer = not cycle.response_started
            if not cycle.response_complete:
                # The app may still be waiting for the body: it now sees a disconnect.
                cycle.disconnected = True
                cycle.message_event.set()
        else:
            # self.cycle, if any, is the previous request's: answer once it is done.
            answer = cycle is None or cycle.response_complete
        if answer:
            self.transport.write(_refusal(status, reason, message))
        self.transport.close()

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._unset_keepalive_if_required()
        self.reading_headers = True
        self.reading_body = False
        self.counted_header_bytes = 0
        self.header_count = 0
        self._set_read_deadline(self.limits.header_timeout)

    # The header callbacks run for every line of every request: they call uvicorn's own
    # by name rather than through super(), and check inline (0.4 us a line less, in process).

    def on_url(self, url: bytes) -> None:
        self.counted_header_bytes += len(url)
        if self.counted_header_bytes > self.limits.max_header_bytes:
            raise _HeaderLimitExceeded(self._size_message())
        HttpToolsProtocol.on_url(self, url)

    def on_header(self, name: bytes, value: bytes) -> None:
        limits = self.limits
        self.header_count += 1
        if self.header_count > limits.max_headers:
            raise _HeaderLimitExceeded(
                f"the request has more than the limit of {limits.max_headers} headers"
            )
        self.counted_header_bytes += len(name) + len(value) + HEADER_LINE_OVERHEAD
        if self.counted_header_bytes > limits.max_header_bytes:
            raise _HeaderLimitExceeded(self._size_message())
        HttpToolsProtocol.on_header(self, name, value)

    def on_headers_complete(self) -> None:
        self.reading_headers = False
        self.reading_body = True
        self.header_bytes = 0
        self.last_bytes = b""
        self._set_read_deadline(self.limits.body_timeout)
        if not self._hold():
            super().on_headers_complete()

    def _hold(self) -> bool:
        """Hold the request back until its body is in, to be answered by the wire replay
        (on_message_complete), before uvicorn makes its request cycle: a GET or a short
        POST to the GraphQL path over HTTP/1.1 keep-alive, with no earlier request of the
        connection still running (uvicorn queues those behind it). True: held.

        Without a cycle, an answered request costs no RequestResponseCycle, asyncio.Event,
        body copies or event signals; one the replay does not answer gets its cycle from
        uvicorn's on_headers_complete once its body is in (_release). Held this way rather
        than with its cycle made (bench/protocol.py's requests, one process switching
        between both protocols every batch, best of 15): uncached (a) 29.4 -> 25.3 us, (b)
        34.7 -> 31.9; cached (a) 10.6 -> 9.2, (b) 11.7 -> 10.1, (c) 12.6 -> 10.6."""
        replay = self.app_state.get(WIRE_REPLAY)
        previous = self.cycle
        parser = self.parser
        if (
            replay is None
            or (previous is not None and not previous.response_complete)
            or self.root_path
            or parser.should_upgrade()
            or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive()
        ):
            return False
        url = httptools.parse_url(self.url)
        if url.path != replay.path_bytes:
            return False
        scope = self.scope
        scope["method"] = parser.get_method().decode("ascii")
        scope["path"] = replay.path
        scope["raw_path"] = url.path
        scope["query_string"] = url.query or b""
        facts = replay.wanted(scope)
        if facts is None:
            return False
        self.held = _Held(facts)
        return True

    def on_body(self, body: bytes) -> None:
        held = self.held
        if held is None:
            super().on_body(body)
        else:
            # At most the replay's body limit: its Content-Length said so (see wanted).
            held.body.append(body)

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        # Where uvicorn starts a request, pipelined or not; the queue counts it from here.
        super()._start_asgi_task(cycle, cast(Any, self.queue.admit(cycle.scope, app)))

    def on_message_complete(self) -> None:
        self.reading_body = False
        self._cancel_read_deadline()
        held = self.held
        if held is None:
            super().on_message_complete()
            return
        self.held = None
        body = b"".join(held.body)
        # A shutdown since its headers (see shutdown) leaves it to the app, after whose
        # answer uvicorn closes the connection.
        answer = (
            self.app_state[WIRE_REPLAY].answer(self.scope, held.facts, body, self.queue)
            if held.keep_alive
            else None
        )
        if answer is None:
            self._release(body, held.keep_alive)
            return
        status, head, sent = answer
        self.transport.writelines((STATUS_LINE[status], self._default_head(), head, sent))
        self.on_response_complete()

    def _release(self, body: bytes, keep_alive: bool) -> None:
        """Hand a held request, body and all, to the app: uvicorn makes its cycle as it
        would have from its headers (which the parser still has) and starts its task."""
        HttpToolsProtocol.on_headers_complete(self)
        cycle = self.cycle
        cycle.body = bytearray(body)
        cycle.more_body = False
        if not keep_alive:
            cycle.keep_alive = False
        # As uvicorn's own on_message_complete: the app, waiting in receive() once it
        # runs, must see the body end.
        cycle.message_event.set()

    def shutdown(self) -> None:
        if self.held is not None:
            # uvicorn's own would close the connection (its cycle, the previous request's,
            # is complete) and drop the held request: the app answers it, then closes.
            self.held.keep_alive = False
            return
        super().shutdown()

    def _default_head(self) -> bytes:
        """uvicorn's default headers (the Date, which its server renews every second) as
        they go on the wire, encoded once per list it makes."""
        defaults = self.server_state.default_headers
        if self.encoded_defaults[0] is not defaults:
            self.encoded_defaults = (defaults, b"".join(header_lines(defaults)))
        return self.encoded_defaults[1]

    def on_response_complete(self) -> None:
        # uvicorn's own, but for its keep-alive timer: the wait for the next request is the
        # connection's one deadline too (uvloop's call_later and cancel, once a request,
        # took 1.9 us).
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif not (self.reading_headers or self.reading_body):
            # Else the next request is already being read (pipelined): its deadline holds.
            self._arm_idle_timer()

    # Timers

    def _arm_idle_timer(self) -> None:
        """Close the connection if no request begins within the keep-alive timeout."""
        self._set_read_deadline(self.timeout_keep_alive)

    def _set_read_deadline(self, seconds: int) -> None:
        self.read_deadline = deadline = self.loop.time() + seconds
        timer = self.deadline_timer
        if timer is not None and timer.when() <= deadline:
            return  # it fires first and re-arms for the rest
        if timer is not None:
            timer.cancel()
        self.deadline_timer = self.loop.call_at(deadline, self._deadline_reached)

    def _cancel_read_deadline(self) -> None:
        self.read_deadline = None

    def _deadline_reached(self) -> None:
        self.deadline_timer = None
        if self.read_deadline is None or self.transport.is_closing():
            return
        if self.read_deadline > self.loop.time():
            self.deadline_timer = self.loop.call_at(self.read_deadline, self._deadline_reached)
        elif self.reading_headers:
            self._header_timed_out()
        elif self.reading_body:
            self._body_timed_out()
        else:
            self.timeout_keep_alive_handler()  # uvicorn's: it closes the connection

    def _header_timed_out(self) -> None:
        self.logger.warning("Closed a connection: headers not received in time.")
        self._close_with(
            408,
            b"Request Timeout",
            f"the request's headers did not arrive within the limit of "
            f"{self.limits.header_timeout} s",
        )

    def _body_timed_out(self) -> None:
        if self.flow.read_paused:
            # We stopped reading (the app is busy or a pipelined request waits), not the
            # client: its time starts again when we read.
            self._set_read_deadline(self.limits.body_timeout)
            return
        self.logger.warning("Closed a connection: request body not received in time.")
        self._close_with(
            408,
            b"Request Timeout",
            f"the request's body did not arrive within the limit of {self.limits.body_timeout} s",
        )
