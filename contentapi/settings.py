"""Settings: declared once as a table that drives CONTENTAPI_* variables, --help and the README."""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pathspec import GitIgnoreSpec

from contentapi.content.locales import LocaleError, Locales
from contentapi.errors import SettingsError

ENV_PREFIX = "CONTENTAPI_"
# What frontends send across origins besides the body's type: the preview token, ETag
# revalidation, Apollo Client's client awareness, Sentry's and W3C trace propagation.
DEFAULT_CORS_HEADERS = (
    "Content-Type",
    "Authorization",
    "If-None-Match",
    "apollographql-client-name",
    "apollographql-client-version",
    "sentry-trace",
    "baggage",
    "traceparent",
)
# RFC 9110 5.6.2: a field name is a token.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HOST = re.compile(r"[a-z0-9.-]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Setting:
    """One row of the settings table."""

    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return ENV_PREFIX + self.name.upper()


def _setting(default: Any, help: str) -> Any:
    """A field of Settings with its help text."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of a contentapi process; built once and passed down.

    This class is the settings table: each field's default and help drive the
    CONTENTAPI_* variables, the CLI's --help and the README's table.
    """

    content_dir: Path = _setting(Path("content"), "Folder of Markdown pages to serve.")
    ignore: str = _setting(
        "", "Comma-separated gitignore-style patterns of content paths that are not pages."
    )
    host: str = _setting("127.0.0.1", "Address to listen on.")
    port: int = _setting(8000, "Port to listen on.")
    workers: int = _setting(
        1, "Server processes: more than 1 are forked from one load; also its parsing processes."
    )
    preview_token: str = _setting(
        "", "Bearer token that shows drafts and content errors; empty: never."
    )
    watch: bool = _setting(False, "Reload content when files change.")
    cache_dir: Path | None = _setting(
        Path(".contentapi-cache"), "Folder for the warm-start page cache; empty: no cache."
    )
    index: str = _setting(
        "",
        "Index file made by `contentapi build` to serve, read-only, instead of parsing the"
        " content folder; empty: the cache folder's own (made after a load).",
    )
    changes_kept: int = _setting(
        100,
        "Content changes kept (in memory and the cache folder) for changes(since:) and restarts.",
    )
    markdown: str = _setting(
        "auto",
        "Markdown dialect: auto (from the site's generator configuration), commonmark or kramdown.",
    )
    model: str = _setting(
        "",
        "Decap CMS config.yml declaring the content model (relative to the content folder);"
        " empty: admin/, static/admin/ or public/admin/config.yml there, if any.",
    )
    treatments_collection: str = _setting(
        "treatments", "The content model's collection served as Treatment (with its typed fields)."
    )
    introspection: bool = _setting(True, "Allow schema introspection (and field suggestions).")
    graphiql: bool = _setting(True, "Serve GraphiQL to browsers at GET /graphql.")
    cors_origins: str = _setting(
        "", "Comma-separated origins (scheme://host[:port]) allowed by CORS; empty: none."
    )
    cors_allow_headers: str = _setting(
        ", ".join(DEFAULT_CORS_HEADERS),
        "Comma-separated request headers pages on allowed origins may send.",
    )
    cors_allow_credentials: bool = _setting(
        False, "Let pages on allowed origins send cookies (CORS credentials)."
    )
    public_url: str = _setting("", "Base URL used to make absolute image URLs (Image.url).")
    site_url: str = _setting(
        "",
        "The site's public URL (https://www.example.com): /sitemap.xml and /feed.xml give"
        " each page's uri under it; empty: those two answer 404.",
    )
    feed_entries: int = _setting(20, "Pages in /feed.xml, newest first.")
    locales: str = _setting(
        "",
        "Comma-separated BCP 47 locales of the site, the default first (en,de,fr); empty:"
        " Decap's config.yml i18n locales, else Hugo's languages, if any, else one language.",
    )
    image_max_side: int = _setting(
        4000, "Largest width or height of a transformed picture, in pixels (w, h beyond: 400)."
    )
    image_quality: int = _setting(
        80, "Quality (1 to 100) of JPEG, WebP and AVIF copies of pictures when q is not given."
    )
    image_cache_bytes: int = _setting(
        256 * 1024 * 1024,
        "Disk for transformed pictures (the cache folder's images/), in bytes; 0: none kept.",
    )
    image_workers: int = _setting(
        2, "Pictures transformed at once per server process (threads off the event loop)."
    )
    max_depth: int = _setting(10, "Deepest query accepted.")
    max_aliases: int = _setting(30, "Most aliases accepted in one query.")
    max_tokens: int = _setting(2000, "Most tokens accepted in one query document.")
    max_cost: int = _setting(
        5000, "Highest query cost accepted (each field 1, times the size of its lists)."
    )
    max_fields: int = _setting(
        100, "Most fields in one selection set, fragments expanded (checked before overlaps)."
    )
    max_response_bytes: int = _setting(
        8 * 1024 * 1024, "Largest answer built, in bytes; a query needing more is refused."
    )
    parse_cache_bytes: int = _setting(
        16 * 1024 * 1024, "Memory for parsed and validated query documents, in bytes."
    )
    max_body_bytes: int = _setting(65536, "Largest request body accepted, in bytes.")
    max_header_bytes: int = _setting(
        65536, "Largest request line and headers together, in bytes (431 beyond)."
    )
    max_headers: int = _setting(100, "Most header lines accepted in one request (431 beyond).")
    header_timeout: int = _setting(
        10, "Seconds a request's headers may take to arrive, from its first byte (408 beyond)."
    )
    body_timeout: int = _setting(
        10, "Seconds a request's body may take to arrive, once its headers are in (408 beyond)."
    )
    keep_alive_timeout: int = _setting(
        5, "Seconds a connection may stay idle, before its first request or between requests."
    )
    max_connections: int = _setting(
        1000, "Most open connections per server process; more are answered 503 and closed."
    )
    queue_depth: int = _setting(
        16,
        "Requests a server process holds at once, running or waiting (health probes and"
        " streams aside); more are answered 503 with Retry-After: 1 at once; 0: no limit.",
    )
    batch_limit: int = _setting(
        0, "Most operations in one batched (JSON array) request; 0: no batching."
    )
    cache_max_age: int = _setting(
        60, "max-age in seconds for Cache-Control on GET query responses."
    )
    response_cache_bytes: int = _setting(32 * 1024 * 1024, "Memory for cached responses, in bytes.")
    persisted_queries: str = _setting(
        "", "File of allowed query documents: Apollo's manifest, Relay's id->query map, or a list."
    )
    webhooks: str = _setting(
        "", "Comma-separated URLs told of every content change (Standard Webhooks); empty: none."
    )
    webhook_secret: str = _setting(
        "", "Secret signing webhooks: whsec_ and 24 to 64 base64 bytes; needed with WEBHOOKS."
    )
    webhook_attempts: int = _setting(
        5, "Most attempts per webhook message (retried on 5xx and timeouts, with backoff)."
    )
    webhook_timeout: int = _setting(10, "Seconds a webhook target may take to answer.")
    webhook_queue: int = _setting(
        100, "Webhook messages waiting per target; past it the oldest is dropped (logged)."
    )
    subscriptions_max: int = _setting(
        1000, "Most contentChanged subscriptions open at once per server process."
    )
    subscriptions_per_client: int = _setting(
        10, "Most contentChanged subscriptions open at once from one client address."
    )
    subscription_keep_alive: int = _setting(
        15, "Seconds between keep-alive comments on an idle graphql-sse stream."
    )
    gzip_min_size: int = _setting(1024, "Compress responses at least this large, in bytes.")
    examples: bool = _setting(False, "Serve the example frontend at /examples/.")
    log_level: str = _setting("info", "Log level: debug, info, warning or error.")
    access_log: str = _setting(
        "-", "Access log (a JSON line per request): - for stderr, a file path, or empty: off."
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from CONTENTAPI_* variables, then explicit overrides (None means unset)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.env in environ:
                values[setting.name] = convert(setting, environ[setting.env], setting.env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        if self.markdown.strip().lower() not in ("auto", "commonmark", "kramdown"):
            raise SettingsError(
                f"{ENV_PREFIX}MARKDOWN {self.markdown!r} is not a Markdown dialect: use auto,"
                " commonmark or kramdown"
            )
        # CORS values are first read when the app is built: checked here, so a bad one is
        # refused as the settings are read, before any content is loaded.
        origins = self.origins
        for name, value, least, most in (
            ("IMAGE_MAX_SIDE", self.image_max_side, 1, 100_000),
            ("IMAGE_QUALITY", self.image_quality, 1, 100),
            ("IMAGE_WORKERS", self.image_workers, 1, 256),
            ("QUEUE_DEPTH", self.queue_depth, 0, 1_000_000),
        ):
            if not least <= value <= most:
                raise SettingsError(
                    f"{ENV_PREFIX}{name} must be from {least} to {most}, not {value}"
                )
        _header_names(self.cors_allow_headers)
        _ignore_patterns(self.ignore)
        self.site  # noqa: B018 - checked here, as the settings are read
        self.locale_tags  # noqa: B018 - checked here, as the settings are read
        self.webhook_urls  # noqa: B018 - checked here, as the settings are read
        if self.webhooks.strip() and not self.webhook_secret:
            raise SettingsError(
                f"{ENV_PREFIX}WEBHOOKS names targets but {ENV_PREFIX}WEBHOOK_SECRET is empty: "
                'every delivery is signed; make a secret with `python -c "import base64, '
                "secrets; print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\"`"
            )
        if self.webhook_secret:
            _webhook_secret(self.webhook_secret)
        if self.webhook_attempts < 1:
            raise SettingsError(f"{ENV_PREFIX}WEBHOOK_ATTEMPTS must be at least 1")
        if self.subscription_keep_alive < 1:
            raise SettingsError(f"{ENV_PREFIX}SUBSCRIPTION_KEEP_ALIVE must be at least 1")
        if self.cors_allow_credentials and "*" in origins:
            raise SettingsError(
                f"{ENV_PREFIX}CORS_ALLOW_CREDENTIALS is on with {ENV_PREFIX}CORS_ORIGINS "
                f"{self.cors_origins!r}: every site could send requests carrying its "
                "visitors' cookies; name the origins instead of '*'"
            )

    @property
    def origins(self) -> list[str]:
        """CORS origins as a list, each as browsers send it in Origin (see _origin)."""
        return [_origin(item) for item in _items(self.cors_origins)]

    @property
    def ignore_patterns(self) -> tuple[str, ...]:
        """CONTENTAPI_IGNORE's gitignore-style patterns, each checked to be one."""
        return _ignore_patterns(self.ignore)

    @property
    def site(self) -> str:
        """CONTENTAPI_SITE_URL without a trailing /, checked to be an http(s) URL with a
        host ('' when not set)."""
        written = self.site_url.strip()
        if not written:
            return ""
        parts = urlsplit(written)
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or parts.query:
            raise SettingsError(
                f"{ENV_PREFIX}SITE_URL {written!r} is not a site URL: write http:// or"
                " https:// and a host, e.g. 'https://www.example.com'"
            )
        return written.rstrip("/")

    @property
    def locale_tags(self) -> tuple[str, ...]:
        """CONTENTAPI_LOCALES as standard BCP 47 tags, the default first."""
        try:
            return Locales.parse(self.locales, f"{ENV_PREFIX}LOCALES").tags
        except LocaleError as exc:
            raise SettingsError(str(exc)) from None

    @property
    def webhook_urls(self) -> list[str]:
        """CONTENTAPI_WEBHOOKS as a list, each checked to be an http(s) URL with a host."""
        return [_webhook_url(item) for item in _items(self.webhooks)]

    @property
    def allowed_headers(self) -> list[str]:
        """The request headers CORS lets pages on allowed origins send."""
        return _header_names(self.cors_allow_headers)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)


def _items(listed: str) -> list[str]:
    """The non-empty items of a comma-separated setting, without surrounding spaces."""
    return [item.strip() for item in listed.split(",") if item.strip()]


def _origin(written: str) -> str:
    """An allowed origin as browsers send it in the Origin header: scheme, host and a
    port other than the scheme's default, lower-cased, no trailing slash. CORS compares
    origins as exact strings, so `https://A.example/` or `https://a.example:443` would
    otherwise refuse every request; anything but an origin is refused."""
    if written == "*":
        return written
    parts = urlsplit(written)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""  # lower-cased by urlsplit; IPv6 loses its brackets
    try:
        port = parts.port
    except ValueError:
        port = -1
    if scheme not in _DEFAULT_PORTS:
        reason = "it needs http:// or https://"
    elif "@" in parts.netloc:
        reason = "an origin names no user or password"
    elif not host:
        reason = "it names no host"
    elif not (_HOST.fullmatch(host) or ":" in host):
        reason = "a host is ASCII letters, digits, dots and hyphens; IDNs in xn-- form"
    elif port in (-1, 0) or parts.netloc.endswith(":"):
        reason = "its port is not a number from 1 to 65535"
    elif parts.path not in ("", "/") or parts.query or parts.fragment or written[-1] in "?#":
        reason = "an origin has no path, query or fragment"
    else:
        if ":" in host:
            host = f"[{host}]"
        if port is None or port == _DEFAULT_PORTS[scheme]:
            return f"{scheme}://{host}"
        return f"{scheme}://{host}:{port}"
    raise SettingsError(
        f"{ENV_PREFIX}CORS_ORIGINS holds {written!r}, which is not an origin ({reason}): "
        "write scheme://host[:port], e.g. 'https://www.example.com'"
    )


def _webhook_url(written: str) -> str:
    parts = urlsplit(written)
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or parts.fragment:
        raise SettingsError(
            f"{ENV_PREFIX}WEBHOOKS holds {written!r}, which is not a webhook URL: write "
            "http:// or https://, a host and a path, e.g. 'https://build.example.com/hooks/content'"
        )
    return written


def _webhook_secret(secret: str) -> bytes:
    """The key a Standard Webhooks secret (whsec_ + base64) stands for."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        key = b""
    if not 24 <= len(key) <= 64:
        raise SettingsError(
            f"{ENV_PREFIX}WEBHOOK_SECRET is not a Standard Webhooks secret: write whsec_ "
            "and 24 to 64 random bytes in base64"
        )
    return key


def _header_names(listed: str) -> list[str]:
    """The header names of CONTENTAPI_CORS_ALLOW_HEADERS, each checked to be one."""
    names = _items(listed)
    for name in names:
        if not _HEADER_NAME.fullmatch(name):
            raise SettingsError(
                f"{ENV_PREFIX}CORS_ALLOW_HEADERS holds {name!r}, which is not a header "
                "name (letters, digits and !#$%&'*+-.^_`|~ only)"
            )
    return names


def _ignore_patterns(listed: str) -> tuple[str, ...]:
    """The patterns of CONTENTAPI_IGNORE, each checked to be a gitignore pattern."""
    patterns = tuple(_items(listed))
    for pattern in patterns:
        try:
            GitIgnoreSpec.from_lines([pattern])
        except ValueError as exc:
            raise SettingsError(
                f"{ENV_PREFIX}IGNORE holds {pattern!r}, which is not a gitignore-style "
                f"pattern ({exc}): write e.g. 'drafts/', '*.draft.md' or '/notes.md'"
            ) from None
    return patterns


def convert(setting: Setting, raw: str, source: str) -> Any:
    """Parse a text value for a setting, naming the source and the bad value on failure."""
    kind = type(setting.default)
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{source} must be true or false, not {raw!r}")
    if kind is int:
        try:
            number = int(raw.strip())
        except ValueError:
            raise SettingsError(f"{source} must be a whole number, not {raw!r}") from None
        if number < 0:
            raise SettingsError(f"{source} must not be negative, not {raw!r}")
        return number
    if isinstance(setting.default, Path):
        if not raw.strip():
            if setting.name in _MAY_BE_EMPTY:
                return None
            raise SettingsError(f"{source} must name a folder, not {raw!r}")
        return Path(raw)
    return raw


# Folder settings whose empty value turns the feature off.
_MAY_BE_EMPTY = frozenset({"cache_dir"})


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.default, f.metadata["help"]) for f in dataclasses.fields(Settings)
)
