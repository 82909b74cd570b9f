"""The site around the pages: sitemaps (sitemaps.org protocol, with hreflang alternates)
and an Atom feed, each written from the published pages and the site's URL.

Written as text, not through an XML library: each is a flat run of small elements whose
size must be counted as it is written (a sitemap file holds at most 50,000 URLs and
50 MB), and escaping is all the XML they need (xml.sax.saxutils, the standard library's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from contentapi.content.model import Treatment

# The protocol's limits per file (sitemaps.org, "Sitemap file location" and "Using
# Sitemap index files"): past either, URLs go into several files and an index.
MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_XHTML_NS = "http://www.w3.org/1999/xhtml"
_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_URLSET_OPEN = _HEAD + f'<urlset xmlns="{_SITEMAP_NS}" xmlns:xhtml="{_XHTML_NS}">\n'.encode()
_URLSET_CLOSE = b"</urlset>\n"

# A page's alternates: (hreflang, uri) of each of its translations, itself included.
Alternates = Callable[[Treatment], Sequence[tuple[str, str]]]


def page_url(site: str, uri: str) -> str:
    """The absolute URL of a uri under the site (non-ASCII and reserved characters
    percent-encoded, as a sitemap's loc must be)."""
    return site + quote(uri, safe="/:@!$&'()*+,;=-._~%")


def lastmod(treatment: Treatment) -> str | None:
    """W3C Datetime of a page's last change: its updated date-time, else its date."""
    if treatment.updated_at is not None:
        return treatment.updated_at.isoformat()
    return treatment.date.isoformat() if treatment.date is not None else None


@dataclass(frozen=True, slots=True)
class Sitemaps:
    """The sitemap files of a site: one urlset, or several and the index naming them."""

    files: tuple[bytes, ...]
    index: bytes | None

    @property
    def root(self) -> bytes:
        """What /sitemap.xml answers: the index when there are several files."""
        return self.index if self.index is not None else self.files[0]


def sitemaps(
    site: str,
    treatments: Sequence[Treatment],
    alternates: Alternates | None = None,
    part_url: Callable[[int], str] = lambda n: f"/sitemap-{n}.xml",
    max_urls: int | None = None,
    max_bytes: int | None = None,
) -> Sitemaps:
    """The sitemaps listing each page once (in the order given) with its lastmod and its
    alternates; split into files of at most `max_urls` URLs and `max_bytes` bytes, named
    by `part_url(n)` (n from 1) in a sitemap index, when one file cannot hold them."""
    max_urls = MAX_URLS if max_urls is None else max_urls
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    files: list[bytes] = []
    # The newest lastmod of each file's pages, for its entry in the index.
    newest: list[dt.datetime | None] = []
    chunks: list[bytes] = []
    latest: dt.datetime | None = None
    size = len(_URLSET_OPEN) + len(_URLSET_CLOSE)
    for treatment in treatments:
        entry = _url(site, treatment, alternates)
        if chunks and (len(chunks) >= max_urls or size + len(entry) > max_bytes):
            files.append(_URLSET_OPEN + b"".join(chunks) + _URLSET_CLOSE)
            newest.append(latest)
            chunks, size, latest = [], len(_URLSET_OPEN) + len(_URLSET_CLOSE), None
        chunks.append(entry)
        size += len(entry)
        moment = _moment(treatment)
        if moment is not None and (latest is None or moment > latest):
            latest = moment
    files.append(_URLSET_OPEN + b"".join(chunks) + _URLSET_CLOSE)
    newest.append(latest)
    if len(files) == 1:
        return Sitemaps(tuple(files), None)
    parts = []
    for number in range(1, len(files) + 1):
        when = newest[number - 1]
        modified = f"<lastmod>{_stamp(when)}</lastmod>" if when is not None else ""
        loc = escape(site + part_url(number))
        parts.append(f"<sitemap><loc>{loc}</loc>{modified}</sitemap>\n")
    index = (
        _HEAD
        + f'<sitemapindex xmlns="{_SITEMAP_NS}">\n'.encode()
        + "".join(parts).encode()
        + b"</sitemapindex>\n"
    )
    return Sitemaps(tuple(files), index)


def _url(site: str, treatment: Treatment, alternates: Alternates | None) -> bytes:
    parts = [f"<url><loc>{escape(page_url(site, treatment.uri))}</loc>"]
    modified = lastmod(treatment)
    if modified is not None:
        parts.append(f"<lastmod>{modified}</lastmod>")
    for hreflang, uri in alternates(treatment) if alternates is not None else ():
        parts.append(
            f'<xhtml:link rel="alternate" hreflang={quoteattr(hreflang)}'
            f" href={quoteattr(page_url(site, uri))}/>"
        )
    parts.append("</url>\n")
    return "".join(parts).encode()


def atom(
    site: str,
    title: str,
    treatments: Sequence[Treatment],
    loaded_at: dt.datetime,
    entries: int = 20,
    locale_of: Callable[[Treatment], str | None] | None = None,
) -> bytes:
    """An Atom feed (RFC 4287) of the `entries` newest pages: by updated date-time, else
    date; undated pages after the dated ones, updated when the content was loaded (the
    latest the server can vouch for)."""

    def when(treatment: Treatment) -> dt.datetime:
        if treatment.updated_at is not None:
            return _aware(treatment.updated_at)
        if treatment.date is not None:
            return dt.datetime.combine(treatment.date, dt.time(), dt.UTC)
        return loaded_at

    dated = [t for t in treatments if t.updated_at is not None or t.date is not None]
    undated = [t for t in treatments if t.updated_at is None and t.date is None]
    dated.sort(key=lambda t: (when(t), t.uri), reverse=True)
    newest = (dated + undated)[: max(entries, 0)]
    updated = max((when(t) for t in newest), default=loaded_at)
    home = site + "/"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>{escape(home)}</id>",
        f"<title>{escape(title)}</title>",
        f"<updated>{_stamp(updated)}</updated>",
        f'<link rel="alternate" href={quoteattr(home)}/>',
        f'<link rel="self" href={quoteattr(site + "/feed.xml")}/>',
        f"<author><name>{escape(title)}</name></author>",
    ]
    for treatment in newest:
        url = page_url(site, treatment.uri)
        locale = locale_of(treatment) if locale_of is not None else None
        lang = f" xml:lang={quoteattr(locale)}" if locale else ""
        lines.append(f"<entry{lang}>")
        lines.append(f"<id>{escape(url)}</id>")
        lines.append(f"<title>{escape(treatment.title)}</title>")
        lines.append(f'<link rel="alternate" href={quoteattr(url)}/>')
        lines.append(f"<updated>{_stamp(when(treatment))}</updated>")
        if treatment.date is not None:
            published = dt.datetime.combine(treatment.date, dt.time(), dt.UTC)
            lines.append(f"<published>{_stamp(published)}</published>")
        if treatment.category is not None:
            lines.append(
                f"<category term={quoteattr(treatment.category.slug)}"
                f" label={quoteattr(treatment.category.name)}/>"
            )
        if treatment.summary:
            lines.append(f"<summary>{escape(treatment.summary)}</summary>")
        lines.append("</entry>")
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode()


def _moment(treatment: Treatment) -> dt.datetime | None:
    """A page's last change as a date-time, to compare (a date is its midnight, UTC)."""
    if treatment.updated_at is not None:
        return _aware(treatment.updated_at)
    if treatment.date is not None:
        return dt.datetime.combine(treatment.date, dt.time(), dt.UTC)
    return None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    """An RFC 3339 date-time, as Atom requires (a zone always)."""
    return _aware(moment).isoformat().replace("+00:00", "Z")
