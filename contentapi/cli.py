"""The `contentapi` command: check, serve, query and export-schema."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from contentapi.errors import SettingsError
from contentapi.index import ContentIndex
from contentapi.settings import SETTINGS, Settings


def _default_content() -> Path:
    """The bundled content/ when run from a checkout, else ./content."""
    bundled = Path(__file__).resolve().parent.parent / "content"
    return bundled if bundled.is_dir() and not Path("content").is_dir() else Path("content")


def _help(name: str) -> str:
    setting = next(s for s in SETTINGS if s.name == name)
    return f"{setting.help} [env: {setting.env}; default: {setting.default}]"


def _settings(**overrides: Any) -> Settings:
    environ = dict(os.environ)
    environ.setdefault("CONTENTAPI_CONTENT_DIR", str(_default_content()))
    try:
        return Settings.from_env(environ, **overrides)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def _load(settings: Settings) -> ContentIndex:
    try:
        return ContentIndex.from_directory(
            settings.content_dir, workers=settings.workers, cache_dir=None
        )
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(package_name="contentapi")
def cli() -> None:
    """Serve a folder of Markdown pages as a GraphQL content API."""


@cli.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def check(directory: Path | None) -> None:
    """Load every page under DIRECTORY (default ./content) and list what is wrong."""
    index = _load(_settings(content_dir=directory or Path("content")))
    for error in index.errors:
        click.echo(str(error))
    pages = len(index.preview.treatments)
    noun = "page" if pages == 1 else "pages"
    click.echo(f"{pages} {noun}, {len(index.errors)} errors")
    sys.exit(1 if index.errors else 0)
