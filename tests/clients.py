"""The one way tests make an in-process client of the app (no server, no port)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from contentapi.http.app import create_app
from contentapi.settings import Settings

CLINIC = Path(__file__).resolve().parent / "fixtures" / "clinic"


def make_client(
    settings: Settings | None = None, *, raise_server_exceptions: bool = False, **changes: Any
) -> TestClient:
    """A TestClient of create_app: the settings given (by default the clinic fixture with
    no page cache), with `changes` applied. Use it in a `with` block, which runs the app's
    lifespan (access log, live reload)."""
    base = settings if settings is not None else Settings(content_dir=CLINIC, cache_dir=None)
    app = create_app(base.replace(**changes) if changes else base)
    return TestClient(app, raise_server_exceptions=raise_server_exceptions)
