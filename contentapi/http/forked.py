"""`contentapi serve --workers N` (N > 1): the content loaded once, the workers forked from it.

uvicorn's own workers are spawned processes (multiprocessing's spawn context): each
imports everything and loads the content itself, so at 10,000 pages two workers held
1.98x the memory of one (bench/load.py --index-only), and each read the files as they were
when it got to them (a page saved broken between two workers' loads was served by one
and missing from the other). Here gunicorn, the prefork server made for this, runs
uvicorn's own worker class (uvicorn-worker) with the app preloaded: the parent process
loads the content once, `gc.freeze()` moves what it made out of the cyclic collector's
reach (a collection in a worker would write to each object's header and so copy every
page of memory it shares) and gunicorn forks the workers, which share the parent's memory
until they write to it. Each worker runs the app's lifespan itself (the watcher, webhooks,
the access log) behind a LoadingApp, which logs it ready.

The port opens once the content is loaded: one worker (`--workers 1`, as deploy/ runs it)
answers `/healthz` during the load. A worker started again after a crash is forked from the
content as the parent loaded it: with --watch it loads the folder again (through the
warm-start cache), since the files may have changed since.

A built index file's SQLite connections, opened by the parent, are used by the workers as
they inherit them: the file is opened read-only and immutable, so SQLite takes no lock
and writes nothing, and it reads with pread (strace, SQLite 3.40), which moves no offset
that the processes share. Nothing in the parent has made a writable SQLite database by
then (the search index of a folder loaded cold is made on a worker's first search).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import uvicorn
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

from contentapi.content.index import ContentIndex
from contentapi.http.app import create_app
from contentapi.http.starting import LoadingApp
from contentapi.settings import Settings

log = logging.getLogger("contentapi")


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
    in the parent, through every middleware, as a client would.

    Measured (10,000 generated pages, a built index, 2 workers, 60 queries): the two
    workers' private memory after queries 25 MB each without, 17 MB each with it.
    """
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for query in _warm_queries(app.state.store.current):
            answer = await client.post("/graphql", json={"query": query})
            if answer.status_code != 200:
                log.warning("a warm-up query before forking answered %s", answer.status_code)


def _with_gunicorn_loggers(config: dict[str, Any], level: str) -> dict[str, Any]:
    """The logging config uvicorn.run is given, plus the parent's own logger (gunicorn's,
    which tells of workers started and ended) and a root logger, on uvicorn's handler."""
    loggers = {
        **config["loggers"],
        "gunicorn.error": {"level": level.upper(), "handlers": ["default"], "propagate": False},
    }
    return {**config, "loggers": loggers, "root": {"level": "WARNING", "handlers": ["default"]}}


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ForkingServer(BaseApplication):  # type: ignore[misc]
    """gunicorn's arbiter with `settings.workers` uvicorn workers forked from one load."""

    def __init__(
        self, settings: Settings, uvicorn_options: dict[str, Any], log_config: dict[str, Any]
    ) -> None:
        self._settings = settings
        self._log_config = log_config
        self._app: WorkerApp | None = None
        # The uvicorn settings each worker's Config is made with (as `uvicorn.run` takes
        # them when one process serves), its logging being gunicorn's.
        self._worker_options = {"loop": "auto", **uvicorn_options, "log_config": None}
        self._worker_class = type(
            "ContentWorker", (UvicornWorker,), {"CONFIG_KWARGS": self._worker_options}
        )
        super().__init__()

    def load_config(self) -> None:
        settings = self._settings
        options = {
            "bind": [_bind(settings.host, settings.port)],
            "workers": settings.workers,
            "worker_class": self._worker_class,
            "preload_app": True,
            "proc_name": "contentapi",
            # uvicorn's own graceful shutdown (timeout_graceful_shutdown) ends first.
            "graceful_timeout": 15,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": settings.log_level,
            "logconfig_dict": _with_gunicorn_loggers(self._log_config, settings.log_level),
            "post_fork": self._post_fork,
            # gunicorn 27's control socket (gunicornc) would be made in the home folder.
            "control_socket_disable": True,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> WorkerApp:
        """Runs once, in the parent, before any worker is forked."""
        try:
            app = create_app(self._settings)
        except Exception:
            log.critical("the content could not be loaded: stopping", exc_info=True)
            raise SystemExit(1) from None
        # What every worker would make for itself on its first requests, made once here
        # to be shared: uvicorn's protocol and loop modules, and what the first queries
        # compile, cache and allocate (see _warm_up).
        uvicorn.Config(app=app, **self._worker_options).load()
        asyncio.run(_warm_up(app))
        gc.collect()
        gc.freeze()
        self._app = WorkerApp(lambda: app)
        return self._app

    def _post_fork(self, arbiter: Any, worker: Any) -> None:
        # Ages 1..N are the first workers; a later one replaces a worker that ended.
        if worker.age > arbiter.num_workers and self._settings.watch:
            settings = self._settings
            assert self._app is not None, "gunicorn forks after loading the app"
            self._app.build = lambda: create_app(settings)


def serve_forked(
    settings: Settings, uvicorn_options: dict[str, Any], log_config: dict[str, Any]
) -> None:
    """Serve until stopped (SIGTERM or SIGINT to the parent)."""
    ForkingServer(settings, uvicorn_options, log_config).run()
