"""Redirects: the old paths of pages (front matter redirect_from, as jekyll-redirect-from
reads it, and Hugo's aliases) and of pages renamed while served, each to where the page
lives now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from contentapi.content.model import ContentError, Treatment

# What a redirect answers: moved permanently, as both generators' redirect pages mean.
MOVED_PERMANENTLY = 301


@dataclass(frozen=True, slots=True)
class Redirect:
    """An old path and the uri of the page now there."""

    source: str
    to: str
    status: int = MOVED_PERMANENTLY


def path_key(path: str) -> str:
    """How paths are compared: without query, fragment and trailing '/', with a leading
    '/' (/old, /old/ and old/?x=1 are one path; case is kept, as servers keep it)."""
    path = path.split("#", 1)[0].split("?", 1)[0].strip()
    return "/" + "/".join(segment for segment in path.split("/") if segment)


class RedirectTable:
    """The redirects of some pages (in path order): the first page claiming a path keeps
    it, and no path is a page's own uri."""

    def __init__(self, treatments: Sequence[Treatment], moved: Iterable[Redirect] = ()) -> None:
        uris = {path_key(t.uri) for t in treatments}
        self.by_key: dict[str, Redirect] = {}
        for treatment in treatments:
            for source in treatment.redirect_from:
                key = path_key(source)
                if key not in uris and key not in self.by_key:
                    self.by_key[key] = Redirect(source, treatment.uri)
        # Uris of pages renamed while served, after front matter's: a path a page names
        # as its old one is that page's, whatever the change record remembers.
        by_uri = {t.uri for t in treatments}
        for redirect in moved:
            key = path_key(redirect.source)
            if key not in uris and key not in self.by_key and redirect.to in by_uri:
                self.by_key[key] = redirect

    def find(self, path: str) -> Redirect | None:
        """The redirect of an old path, or None."""
        return self.by_key.get(path_key(path))

    def all(self) -> list[Redirect]:
        """Every redirect, by old path."""
        return sorted(self.by_key.values(), key=lambda r: (r.source, r.to))


def conflicts(treatments: Sequence[Treatment]) -> list[ContentError]:
    """Errors for old paths claimed twice (naming both pages) and for old paths that are a
    page's own uri; `treatments` in path order, as the index serves them."""
    owners = {path_key(t.uri): t for t in treatments}
    claimed: dict[str, Treatment] = {}
    errors: list[ContentError] = []
    for treatment in treatments:
        for source in treatment.redirect_from:
            key = path_key(source)
            page = owners.get(key)
            if page is not None and page is not treatment:
                errors.append(
                    ContentError(
                        treatment.path,
                        None,
                        f"redirects {source!r} to {treatment.uri!r}, but that is the uri of"
                        f" {page.path}: the page is served there, not redirected",
                    )
                )
                continue
            first = claimed.setdefault(key, treatment)
            if first is not treatment:
                errors.append(
                    ContentError(
                        treatment.path,
                        None,
                        f"redirects {source!r} to {treatment.uri!r}, but {first.path} already"
                        f" redirects it to {first.uri!r}: only {first.path}'s is served",
                    )
                )
    return errors
