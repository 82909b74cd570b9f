"""CDN purge keys: which parts of the content an answer holds, as short keys a CDN can
purge by (Fastly's Surrogate-Key, Cloudflare's Cache-Tag), and the keys a change touches.

An answer is tagged while it is built (see execution.py): a key per treatment it shows
(`t-` and a hash of its uri: the pictures of a page count as the page), a key per kind of
list it holds (a list or connection of treatments, search hits, indications, ...; an
indication or category counts as a list, its treatments and counts depend on other
pages), `version` for what changes with every change (contentInfo, changes), and always
`all`. A change purges its documents' keys, every list key and `version`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

SITE = "all"
"""On every answer: purging it purges everything."""
VERSION = "version"
"""On answers that change with every change (contentInfo, changes(since:))."""
OTHER_LIST = "lists"
"""Lists of any other kind of object."""
# The key of a list of these objects (a connection or edges of them count as one).
_LISTS = {
    "Treatment": "treatments",
    "SearchHit": "search",
    "Indication": "indications",
    "Category": "categories",
    "Image": "images",
}
LIST_KEYS = (*sorted(set(_LISTS.values())), OTHER_LIST)
# Objects tagged wherever they appear: what they show depends on other pages.
OBJECT_KEYS = {
    "Indication": "indications",
    "Category": "categories",
    "ContentInfo": VERSION,
    "ContentChanges": VERSION,
}
# Objects standing for a treatment: keyed by the uri of the page they show.
DOCUMENTS = frozenset({"Treatment", "Image"})
# Types generated from a content model (schema/generated.py adds their names): each of
# their objects is a page, keyed by its uri as a treatment is.
GENERATED_DOCUMENTS: set[str] = set()
MAX_HEADER = 4096
"""Longest Surrogate-Key / Cache-Tag value sent; an answer with more keys says `all`."""


# Every treatment and picture in an answer is tagged with its page's key, most of them on
# every request: a list of 50 hashed 150 uris (0.47 us each), kept 0.05 us, and
# bench/protocol.py's uncached (c) took 180 us instead of 204 (one process switching
# every batch, best of 15). At most this many, 142 bytes each (tracemalloc): 2.3 MB.
_DOCUMENT_KEYS_KEPT = 16384


@functools.lru_cache(maxsize=_DOCUMENT_KEYS_KEPT)
def document_key(uri: str) -> str:
    """The key of the treatment at `uri`: short, the same on every replica."""
    return "t-" + hashlib.sha256(uri.encode()).hexdigest()[:10]


def list_key(type_name: str) -> str:
    """The key of a list of objects of a type (XConnection and XEdge count as X)."""
    for suffix in ("Connection", "Edge"):
        if type_name.endswith(suffix) and type_name[: -len(suffix)] in _LISTS:
            type_name = type_name[: -len(suffix)]
    return _LISTS.get(type_name, OTHER_LIST)


def change_keys(uris: Iterable[str]) -> list[str]:
    """The keys to purge after a change touching these documents."""
    return [*sorted({document_key(uri) for uri in uris}), *LIST_KEYS, VERSION]


def header_value(keys: Iterable[str], separator: str) -> str:
    """The keys as a header value (`all` first), or `all` alone when they would be longer
    than MAX_HEADER."""
    value = separator.join([SITE, *sorted(set(keys) - {SITE})])
    return value if len(value) <= MAX_HEADER else SITE
