"""The `contentapi` command: check, build, serve, query and export-schema."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from contentapi.content.index import ContentIndex
from contentapi.content.locales import LocaleError, Locales
from contentapi.content.translations import Translations, site_locales
from contentapi.errors import SettingsError
from contentapi.http.persisted import load_allow_list
from contentapi.settings import SETTINGS, Setting, Settings, convert

F = TypeVar("F", bound=Callable[..., Any])


def _default_content() -> Path:
    """The bundled content/ when run from a checkout, else ./content."""
    bundled = Path(__file__).resolve().parent.parent / "content"
    return bundled if bundled.is_dir() and not Path("content").is_dir() else Path("content")


def _help(name: str) -> str:
    setting = next(s for s in SETTINGS if s.name == name)
    return f"{setting.help} [env: {setting.env}; default: {setting.default}]"


# An option given as empty, turning its feature off (None would mean "not given").
_OFF = object()


def _settings(**overrides: Any) -> Settings:
    environ = dict(os.environ)
    environ.setdefault("CONTENTAPI_CONTENT_DIR", str(_default_content()))
    off = {name: None for name, value in overrides.items() if value is _OFF}
    given = {name: value for name, value in overrides.items() if value is not _OFF}
    try:
        return Settings.from_env(environ, **given).replace(**off)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def _cpus() -> int:
    """The CPUs this process may run on (its affinity), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _processes_option(command: F) -> F:
    """--processes: how many processes parse pages (build, check), all CPUs by default."""
    return click.option(
        "--processes",
        type=click.IntRange(min=1),
        default=None,
        help="Processes that parse pages (a pool when there are many) [default: one per CPU"
        f" this process may run on: {_cpus()} here].",
    )(command)


def _load(settings: Settings, processes: int | None = None) -> ContentIndex:
    try:
        return ContentIndex.from_directory(
            settings.content_dir,
            processes or settings.workers,
            None,
            settings.ignore_patterns,
            settings.markdown,
        )
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(package_name="contentapi")
def cli() -> None:
    """Serve a folder of Markdown pages as a GraphQL content API."""


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


@cli.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@_processes_option
def check(directory: Path | None, strict: bool, processes: int | None) -> None:
    """Load every page under DIRECTORY (default ./content) and list what is wrong: errors
    (pages left out), then warnings (pictures missing, unreadable or over the pixel
    limit: their pages are served)."""
    settings = _settings(content_dir=directory or Path("content"))
    index = _load(settings, processes or _cpus())
    errors = [*index.errors, *_model_errors(settings, index)]
    for error in errors:
        click.echo(str(error))
    warnings = [*index.images.warnings, *_locale_warnings(settings, index)]
    for warning in warnings:
        click.echo(f"{warning} (warning)")
    pages = len(index.preview.treatments)
    click.echo(
        f"{_count(pages, 'page')}, {_count(len(errors), 'error')},"
        f" {_count(len(warnings), 'warning')}"
    )
    sys.exit(1 if errors or (strict and warnings) else 0)


def _model_errors(settings: Settings, index: ContentIndex) -> list[Any]:
    """The content model's own error, else its entries' (each `path:line: message`)."""
    from contentapi.content.contentmodel import ModelError, typed_view
    from contentapi.schema import schema_for

    try:
        schema_for(settings)
    except ModelError as exc:
        return [exc]
    typed = typed_view(index, index.preview)
    return list(typed.errors) if typed is not None else []


def _schema(settings: Settings) -> Any:
    """The schema of the content folder (with its content model); a model error is one line."""
    from contentapi.content.contentmodel import ModelError
    from contentapi.schema import schema_for

    try:
        return schema_for(settings)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc


def _locale_warnings(settings: Settings, index: ContentIndex) -> list[Any]:
    """Pages that lists in a locale leave out (a second page of one locale in a group, a
    locale the site lacks); none on a one-language site."""
    locales = _locales(settings)
    if not locales.tags:
        return []
    return Translations(index.preview.treatments, locales).warnings()


def _locales(settings: Settings) -> Locales:
    """The site's locales (CONTENTAPI_LOCALES, else Decap's i18n); a bad tag is one line."""
    try:
        return site_locales(settings.locale_tags, settings.content_dir, settings.model)
    except LocaleError as exc:
        raise click.ClickException(str(exc)) from exc


def _as_setting(setting: Setting, flag: str) -> Callable[[Any, Any, str | None], Any]:
    def parse(context: Any, parameter: Any, value: str | None) -> Any:
        if value is None:
            return None
        try:
            converted = convert(setting, value, flag)
        except SettingsError as exc:
            raise click.BadParameter(str(exc)) from exc
        return _OFF if converted is None else converted

    return parse


def _options_for(*names: str) -> Callable[[F], F]:
    """Click options for settings, each with its help, env var and default from the table."""

    def decorate(command: F) -> F:
        for name in reversed(names):
            setting = next(s for s in SETTINGS if s.name == name)
            flag = "--" + name.replace("_", "-")
            if isinstance(setting.default, bool):
                option = click.option(
                    f"{flag}/--no-{name.replace('_', '-')}", default=None, help=_help(name)
                )
            elif isinstance(setting.default, Path):
                # Read as the environment variable is: an empty cache folder means none.
                option = click.option(flag, callback=_as_setting(setting, flag), help=_help(name))
            else:
                option = click.option(flag, type=type(setting.default), help=_help(name))
            command = option(command)
        return command

    return decorate


@cli.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The index file to write (replaced whole; servers reading the old one keep it).",
)
@_options_for("ignore", "markdown", "cache_dir")
@_processes_option
def build(directory: Path | None, output: Path, processes: int | None, **options: Any) -> None:
    """Load every page under DIRECTORY (default ./content) and write the whole index
    (documents, bodies, pictures' metadata, relations, the search index) to one SQLite
    file that `serve --index` serves without parsing a page. Errors are listed, as
    `check` lists them; their pages are left out, the rest is built."""
    from contentapi.content.indexfile import build as build_index
    from contentapi.content.indexfile import loader_version

    settings = _settings(content_dir=directory or Path("content"), **options)
    try:
        built = build_index(
            settings.content_dir,
            output,
            processes or _cpus(),
            settings.cache_dir,
            settings.ignore_patterns,
            settings.markdown,
        )
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc}") from exc
    for problem in built.problems:
        click.echo(str(problem))
    click.echo(
        f"built {output}: {_count(built.pages, 'page')}, {_count(built.errors, 'error')},"
        f" {_count(built.warnings, 'warning')}; content version {built.content_version},"
        f" loader version {loader_version()}; {built.bytes:,} bytes in {built.seconds:.2f} s"
    )


@cli.command()
@_options_for(*(s.name for s in SETTINGS if s.name not in ("preview_token", "webhook_secret")))
@click.option(
    "--content", "content", type=click.Path(path_type=Path), help="Same as --content-dir."
)
@click.option(
    "--preview-token-env",
    metavar="NAME",
    help="Read the preview token from this environment variable "
    "[default: CONTENTAPI_PREVIEW_TOKEN].",
)
def serve(content: Path | None, preview_token_env: str | None, **options: Any) -> None:
    """Serve the content over GraphQL (GraphiQL at /graphql in a browser).

    Webhooks are signed with the secret in CONTENTAPI_WEBHOOK_SECRET, read from the
    environment only (an option would show it in the process list).
    """
    import uvicorn

    from contentapi.http.edges import EdgeLimits
    from contentapi.http.starting import log_config, uvicorn_options

    if content is not None:
        options["content_dir"] = content
    if preview_token_env:
        if preview_token_env not in os.environ:
            raise click.UsageError(f"--preview-token-env: ${preview_token_env} is not set")
        options["preview_token"] = os.environ[preview_token_env]
    settings = _settings(**options)
    if settings.persisted_queries:
        try:
            load_allow_list(Path(settings.persisted_queries))
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from exc
    if not settings.content_dir.is_dir():
        raise click.ClickException(
            f"content folder {str(settings.content_dir)!r} does not exist or is not a folder"
        )
    if settings.index:
        from contentapi.content.indexfile import CHECKED_ENV, checked_mark
        from contentapi.content.indexfile import check as check_index

        if not Path(settings.index).is_file():
            raise click.ClickException(f"index file {settings.index!r} does not exist")
        problem = check_index(
            Path(settings.index), settings.content_dir, settings.ignore_patterns, settings.markdown
        )
        if problem is not None:
            raise click.ClickException(problem)
        # Workers open the file checked here without walking the folder again.
        os.environ[CHECKED_ENV] = checked_mark(Path(settings.index))
    try:
        limits = EdgeLimits.from_settings(settings)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    _schema(settings)  # A wrong content model is one line here, not a worker's traceback.
    _locales(settings)
    # uvicorn's app factory (starting.py) reads the settings from the environment.
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        os.environ[setting.env] = "" if value is None else str(value)
    server_options = uvicorn_options(settings, limits)
    if settings.workers > 1:
        # The content loaded once and the workers forked from it (contentapi/http/forked.py).
        from contentapi.http.forked import serve_forked

        serve_forked(settings, server_options, log_config(settings.log_level))
        return
    uvicorn.run(
        "contentapi.http.starting:create_serving_app",
        factory=True,
        log_config=log_config(settings.log_level),
        **server_options,
    )


@cli.command("export-schema")
@click.option(
    "--content",
    "content",
    type=click.Path(path_type=Path),
    help="Content folder whose content model (Decap config.yml) to include (default ./content).",
)
def export_schema(content: Path | None) -> None:
    """Print the GraphQL schema (SDL), with the content folder's generated types."""
    click.echo(_schema(_settings(content_dir=content)).as_str())


@cli.command()
@click.argument("query")
@click.option("--variables", help="Variables as a JSON object.")
@click.option("--operation-name", help="Which operation of the document to run.")
@click.option("--content", "content", type=click.Path(path_type=Path), help="Content folder.")
@click.option("--preview", is_flag=True, help="Include drafts (as a preview request would).")
def query(
    query: str,
    variables: str | None,
    operation_name: str | None,
    content: Path | None,
    preview: bool,
) -> None:
    """Run one GraphQL QUERY offline and print the JSON result (exit 1 on errors)."""
    import orjson

    from contentapi.schema import Context

    try:
        values = orjson.loads(variables) if variables else None
    except orjson.JSONDecodeError as exc:
        raise click.UsageError(f"--variables is not valid JSON: {exc}") from exc
    if values is not None and not isinstance(values, dict):
        raise click.UsageError("--variables must be a JSON object")
    settings = _settings(content_dir=content)
    index = _load(settings)
    result = _schema(settings).execute_sync(
        query,
        variable_values=values,
        context_value=Context(
            index=index,
            preview=preview,
            public_url=settings.public_url,
            image_max_side=settings.image_max_side,
            locales=_locales(settings),
        ),
        operation_name=operation_name,
    )
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    click.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    sys.exit(1 if result.errors else 0)


@cli.command("settings")
def settings_table() -> None:
    """Print every setting as a Markdown table (the README's table is this output)."""
    click.echo("| Variable | Default | Meaning |")
    click.echo("|---|---|---|")
    for setting in SETTINGS:
        default = setting.default if setting.default != "" else "(empty)"
        click.echo(f"| `{setting.env}` | `{default}` | {setting.help} |")
