"""GET /sitemap.xml (and /sitemap-N.xml past the protocol's limits) and GET /feed.xml,
made from the published pages and CONTENTAPI_SITE_URL.

Drafts never appear, whatever the request carries: a sitemap and a feed are for search
engines and readers. Each answer is made once per content version (the store's index)
and carries a strong ETag of its bytes, so it follows the content and revalidates (304).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from contentapi.content.index import ContentIndex, ContentView
from contentapi.content.locales import Locales
from contentapi.content.model import Treatment
from contentapi.content.sitemap import Alternates, Sitemaps, atom, sitemaps
from contentapi.content.store import ContentStore
from contentapi.content.translations import Translations, translations_of
from contentapi.http.headers import names_etag
from contentapi.http.protocol import refusal
from contentapi.settings import Settings

_XML = "application/xml"
_ATOM = "application/atom+xml"


@dataclass(frozen=True, slots=True)
class _Made:
    sitemaps: Sitemaps
    feed: bytes


class SiteFiles:
    """The sitemap and feed routes of one app."""

    def __init__(self, store: ContentStore, settings: Settings, locales: Locales) -> None:
        self.store = store
        self.site = settings.site
        self.entries = settings.feed_entries
        self.max_age = settings.cache_max_age
        self.locales = locales
        self._made: weakref.WeakKeyDictionary[ContentIndex, _Made] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    async def sitemap(self, request: Request) -> Response:
        """The sitemap, or the sitemap index when there are several."""
        made = self._current()
        if made is None:
            return _not_configured()
        return self._answer(request, made.sitemaps.root, _XML)

    async def sitemap_part(self, request: Request) -> Response:
        """One sitemap of several (/sitemap-1.xml, ...)."""
        made = self._current()
        if made is None:
            return _not_configured()
        number = request.path_params["number"]
        if made.sitemaps.index is None or not 1 <= number <= len(made.sitemaps.files):
            return refusal(404, f"no sitemap {request.url.path}")
        return self._answer(request, made.sitemaps.files[number - 1], _XML)

    async def feed(self, request: Request) -> Response:
        """The Atom feed of the newest pages."""
        made = self._current()
        if made is None:
            return _not_configured()
        return self._answer(request, made.feed, _ATOM)

    def _current(self) -> _Made | None:
        if not self.site:
            return None
        index = self.store.current
        with self._lock:
            made = self._made.get(index)
            if made is None:
                made = self._made[index] = self._make(index)
        return made

    def _make(self, index: ContentIndex) -> _Made:
        view = index.public
        translations = (
            translations_of(view, view.treatments, self.locales) if self.locales.tags else None
        )
        ordered = sorted(view.treatments, key=lambda t: t.uri)
        return _Made(
            sitemaps(self.site, ordered, _alternates(translations)),
            atom(
                self.site,
                _title(view, self.site),
                view.treatments,
                index.public_loaded_at,
                self.entries,
                (lambda t: translations.locale.get(t.uri)) if translations is not None else None,
            ),
        )

    def _answer(self, request: Request, body: bytes, media_type: str) -> Response:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"etag": etag, "cache-control": f"public, max-age={self.max_age}"}
        if names_etag(request.headers.getlist("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)


def _alternates(translations: Translations | None) -> Alternates | None:
    """Each page's translations as hreflang alternates (itself included, and x-default
    for the default locale's), none for a page without translations."""
    if translations is None:
        return None

    def alternates(treatment: Treatment) -> list[tuple[str, str]]:
        pages = translations.translations(treatment)
        if len(pages) < 2:
            return []
        found = [(translations.locale[page.uri] or "", page.uri) for page in pages]
        default = translations.locales.default
        found += [("x-default", uri) for locale, uri in found if locale == default]
        return [(locale, uri) for locale, uri in found if locale]

    return alternates


def _title(view: ContentView, site: str) -> str:
    home = view.by_uri.get("/")
    return home.title if home is not None else (urlsplit(site).hostname or site)


def _not_configured() -> Response:
    return refusal(404, "no sitemap or feed: CONTENTAPI_SITE_URL is not set")
