"""`contentapi serve --workers N` (N > 1): the content loaded once, by a process that then
serves as one of the N, the others forked from it.

uvicorn's own workers are spawned processes (multiprocessing's spawn context): each
imports everything and loads the content itself, so at 10,000 pages two workers held
1.98x the memory of one (bench/load.py --index-only), and each read the files as they were
when it got to them (a page saved broken between two workers' loads was served by one
and missing from the other). Forked from one load, the workers share its memory until
they write to it: `gc.freeze()` moves what the load made out of the cyclic collector's
reach first (a collection in a worker would write to each object's header and so copy
every page of memory it shares), and the warm-up queries answered before forking make
what every worker would make on its first requests (see _warm_up).

Why not gunicorn, the prefork server made for this (it served here before, running
uvicorn-worker with the app preloaded): its arbiter loads the content and then only
watches. A page both workers write to (reference counts, code objects the interpreter
specializes) is copied by each, and the arbiter's original is then mapped by it alone:
at 10,000 pages from a built index, after 60 queries, the arbiter held 27 MB no other
process mapped, and two workers' PSS was 130.7 MB against one worker's 90.6 (1.44x; the
issue asks for 1.3x). Freeing the content in the arbiter once it had forked made it
worse (58 MB private: freeing writes to every object). A loading process that serves
uses those pages itself: the same measurement, a prototype of this module, 112.3 MB
(1.24x); `bench/load.py --index-only` with this module, 109.1 against 88.0 MB (1.24x),
and 1.08x at 50,000 pages. gunicorn's arbiter cannot serve, so the supervision is written
here, small:

- The workers are forked before any event loop runs (forking a running uvloop would
  share its epoll and io_uring with the child), each told to stop when the loading
  process ends (PR_SET_PDEATHSIG), then the loading process serves on the same socket.
- A worker that ends while the server runs is replaced by a spawned process
  (`python -m contentapi.http.forked FD`, the socket inherited) that loads the content
  itself, from the folder as it is now (through the warm-start cache or a built index):
  a fork now would be of a running loop. One that ends within 30 s of its start is
  replaced after a wait that doubles each time (1 s, 2 s, ... 60 s): a worker that cannot
  load is not started again twice a second forever.
- SIGTERM or SIGINT to the loading process: uvicorn's graceful shutdown there, then
  SIGTERM to each worker (their own graceful shutdown), waited for, then exit 0. A
  signal to a worker stops that worker only (and it is replaced).

Each process runs the app's lifespan itself (the watcher, webhooks, the access log)
behind a LoadingApp, which logs it ready.

A built index file's SQLite connections, opened while loading, are used by the workers as
they inherit them: the file is opened read-only and immutable, so SQLite takes no lock
and writes nothing, and it reads with pread (strace, SQLite 3.40), which moves no offset
that the processes share. Nothing in the loading process has made a writable SQLite
database by then (the search index of a folder loaded cold is made on a first search).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import logging.config
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from contentapi.content.index import ContentIndex
from contentapi.http.app import create_app
from contentapi.http.edges import EdgeLimits
from contentapi.http.starting import LoadingApp, log_config, uvicorn_options
from contentapi.settings import Settings

log = logging.getLogger("contentapi")

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_STOP_SECONDS = 15  # past uvicorn's own graceful shutdown (timeout_graceful_shutdown)
_WATCH_SECONDS = 0.5  # how often the loading process looks for workers that ended
# A worker that ends sooner than this after it started is failing, not crashing once: each
# such end doubles the wait before the next one starts (from 1 s up to the longest), so a
# worker that cannot load (a folder gone, a broken file) is not started twice a second.
_SHORT_LIFE_SECONDS = 30.0
_LONGEST_WAIT_SECONDS = 60.0


class WorkerApp:
    """What each worker serves: the preloaded app behind a LoadingApp, made on the first
    event of the worker's own loop (anyio's events belong to a running loop)."""

    def __init__(self, build: Callable[[], Starlette]) -> None:
        self.build = build
        self._app: LoadingApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = LoadingApp(self.build)
        await self._app(scope, receive, send)


def _warm_queries(index: ContentIndex) -> list[str]:
    """A page by its slug with its body and pictures, a list, a search: what most requests
    ask, for the first page of the index."""
    queries = ["{ treatments(first: 50) { nodes { slug title summary } } }"]
    first = index.public.treatments[0] if index.public.treatments else None
    if first is not None:
        slug = orjson.dumps(first.slug).decode()
        word = orjson.dumps(first.title.split()[0] if first.title.split() else "a").decode()
        queries += [
            f"{{ treatment(slug: {slug}) {{ title summary html images {{ url width height }} }} }}",
            f"{{ search(query: {word}, first: 10) {{ treatment {{ slug title }} }} }}",
        ]
    return queries


async def _warm_up(app: Starlette) -> None:
    """Ask the app (its lifespan not started: no watcher, no webhooks) the warm queries
    before forking, through every middleware, as a client would.

    Measured (10,000 generated pages, a built index, 2 workers, 60 queries): the two
    workers' private memory after queries 25 MB each without, 17 MB each with it.
    """
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for query in _warm_queries(app.state.store.current):
            answer = await client.post("/graphql", json={"query": query})
            if answer.status_code != 200:
                log.warning("a warm-up query before forking answered %s", answer.status_code)


def _ignore_signal(signum: int, frame: object) -> None:
    """Where uvicorn's re-raised SIGTERM or SIGINT lands once it has shut down (its
    capture_signals raises the signal again with the handler it found): stopping is ours."""


def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    signal.signal(signal.SIGTERM, _ignore_signal)
    signal.signal(signal.SIGINT, _ignore_signal)
    server.run(sockets=[sock])


def _end_with_parent(parent: int) -> None:
    """Have the kernel stop this process when the loading process ends, however it ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it ended before the line above
        os._exit(0)


def _worker(config: uvicorn.Config, sock: socket.socket, parent: int) -> None:
    """A forked worker: serves until told to stop, then ends the process (never returns
    into the loading process's code)."""
    code = 1
    try:
        _end_with_parent(parent)
        _serve(uvicorn.Server(config), sock)
        code = 0
    except SystemExit as exc:  # uvicorn's own, a startup that failed: it logged why
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        log.critical("a worker stopped on an error", exc_info=True)
    finally:
        logging.shutdown()
        os._exit(code)


class _Workers:
    """The loading process's workers: replaced when one ends, stopped with the server."""

    def __init__(self, sock: socket.socket, server: uvicorn.Server) -> None:
        self.sock = sock
        self.server = server  # the loading process's own
        self.started: dict[int, float] = {}  # each running worker: when it started
        self.due: list[float] = []  # when each replacement still to start is to start
        self.wait = 0.0  # before the next replacement: grows while workers end quickly
        self.stopping = threading.Event()
        self.watcher = threading.Thread(target=self._watch, name="contentapi-workers", daemon=True)

    def add(self, pid: int) -> None:
        """Watch the worker `pid`, started now."""
        self.started[pid] = time.monotonic()

    def _watch(self) -> None:
        while not self.stopping.wait(_WATCH_SECONDS):
            # A Ctrl-C reaches every worker at once: the server is stopping, then.
            if self.server.should_exit:
                continue
            now = time.monotonic()
            for pid in list(self.started):
                try:
                    ended, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    ended, status = pid, 0
                if ended == 0:
                    continue
                lived = now - self.started.pop(pid)
                if lived >= _SHORT_LIFE_SECONDS:
                    self.wait = 0.0
                else:
                    self.wait = min(_LONGEST_WAIT_SECONDS, max(1.0, 2 * self.wait))
                log.warning(
                    "worker process %d ended (%s) after %.1f s: starting another in %.0f s",
                    pid,
                    _ending(status),
                    lived,
                    self.wait,
                )
                self.due.append(now + self.wait)
            for due in [due for due in self.due if due <= now]:
                self.due.remove(due)
                self.add(self._spawn())

    def _spawn(self) -> int:
        fd = str(self.sock.fileno())
        arguments = [sys.executable, "-m", "contentapi.http.forked", fd, str(os.getpid())]
        return os.posix_spawn(sys.executable, arguments, os.environ)

    def stop(self) -> None:
        self.stopping.set()
        self.watcher.join()
        for pid in self.started:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in self.started:
            if not _waited(pid, _STOP_SECONDS):
                log.warning("worker process %d did not stop in %d s: killed", pid, _STOP_SECONDS)
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _waited(pid: int, seconds: float) -> bool:
    """Whether the process ended (and was reaped) within `seconds`."""
    for _ in range(int(seconds / 0.05)):
        try:
            ended, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if ended:
            return True
        time.sleep(0.05)
    return False


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def serve_forked(
    settings: Settings, options: dict[str, Any], logging_config: dict[str, Any]
) -> None:
    """Serve until stopped (SIGTERM or SIGINT to the loading process), with uvicorn's
    `options` (starting.uvicorn_options) and `logging_config`."""
    logging.config.dictConfig(logging_config)
    try:
        app = create_app(settings)
    except Exception:
        log.critical("the content could not be loaded: stopping", exc_info=True)
        raise SystemExit(1) from None
    config = uvicorn.Config(
        app=WorkerApp(lambda: app), **{"loop": "auto", **options, "log_config": None}
    )
    # What every worker would make for itself on its first requests, made once here to
    # be shared: uvicorn's protocol and loop modules, and what the first queries compile,
    # cache and allocate (see _warm_up).
    config.load()
    asyncio.run(_warm_up(app))
    sock = config.bind_socket()
    # No thread writing the change record across the fork (see ChangeLog.flush).
    app.state.store.changes.flush()
    gc.collect()
    gc.freeze()
    parent = os.getpid()
    server = uvicorn.Server(config)
    workers = _Workers(sock, server)
    for _ in range(settings.workers - 1):
        pid = os.fork()
        if pid == 0:
            _worker(config, sock, parent)
        workers.add(pid)
    workers.watcher.start()
    try:
        _serve(server, sock)
    finally:
        workers.stop()


def _replacement(fd: int, parent: int) -> None:
    """A worker started again (see _Workers): the settings from the environment `serve`
    set, the content loaded here, the loading process's socket inherited as `fd`."""
    settings = Settings.from_env()
    logging.config.dictConfig(log_config(settings.log_level))
    options = uvicorn_options(settings, EdgeLimits.from_settings(settings))
    config = uvicorn.Config(
        app=WorkerApp(lambda: create_app(settings)),
        **{"loop": "auto", **options, "log_config": None},
    )
    _end_with_parent(parent)
    _serve(uvicorn.Server(config), socket.socket(fileno=fd))


if __name__ == "__main__":
    _replacement(int(sys.argv[1]), int(sys.argv[2]))
