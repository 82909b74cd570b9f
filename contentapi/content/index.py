"""All pages of a content folder, cross-linked: lookups, relations, filters and search."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import secrets
import threading
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from contentapi.content.dialect import AUTO
from contentapi.content.images import ImageCatalog, MetaStore
from contentapi.content.load import load_all
from contentapi.content.model import (
    Category,
    ContentError,
    Image,
    Indication,
    Treatment,
    uri_of_key,
)
from contentapi.content.page import LOADER_VERSION
from contentapi.content.redirects import RedirectTable
from contentapi.content.redirects import conflicts as redirect_conflicts
from contentapi.content.search import Hit, SearchIndex

ORDER_FIELDS = ("TITLE", "DATE", "UPDATED_AT", "WORD_COUNT", "ORDER")


@dataclass(frozen=True, slots=True)
class TreatmentQuery:
    """Filters on treatments; all that are set must hold."""

    category: str | None = None
    indication: str | None = None
    indications_all: tuple[str, ...] | None = None
    search: str | None = None
    slugs: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Ordering:
    """One sort key: a field of ORDER_FIELDS and a direction."""

    field: str
    descending: bool = False


class AllImages(Sequence[Image]):
    """Every image of some treatments, in their order, made when asked for: pages keep
    their images packed."""

    def __init__(self, treatments: Sequence[Treatment]) -> None:
        self._treatments = treatments
        # Where each treatment's images end in the whole sequence.
        self._ends = array("q", itertools.accumulate(t.image_count for t in treatments))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    @overload
    def __getitem__(self, index: int) -> Image: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Image]: ...

    def __getitem__(self, index: int | slice) -> Image | Sequence[Image]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"image {index} of {len(self)}")
        owner = bisect.bisect_right(self._ends, index)
        start = self._ends[owner - 1] if owner else 0
        return self._treatments[owner].images[index - start]


class ContentView:
    """What one audience sees: published pages only, or drafts too (preview)."""

    def __init__(self, treatments: Sequence[Treatment], search: SearchIndex | None = None) -> None:
        """`treatments` in path order, their uris unique (ContentIndex.from_pages sees to it);
        `search` an index of them made already (a built index file's, see indexfile.py)."""
        self.treatments = tuple(treatments)
        self.by_uri = {t.uri: t for t in self.treatments}
        # Slugs need not be unique: the first page (by path) with each, and the uris of
        # every page sharing a slug with another (few, so kept apart).
        self.by_slug: dict[str, Treatment] = {}
        shared: dict[str, list[str]] = {}
        for treatment in self.treatments:
            first = self.by_slug.setdefault(treatment.slug, treatment)
            if first is not treatment:
                shared.setdefault(treatment.slug, [first.uri]).append(treatment.uri)
        self.shared_slugs = {slug: tuple(uris) for slug, uris in shared.items()}
        self.images = AllImages(self.treatments)
        self.indications = _merge_indications(self.treatments)
        self.categories = _merge_categories(self.treatments)
        self.version = _version(self.treatments)
        self._search = search
        self._related: dict[str, tuple[Treatment, ...]] = {}
        self._links: _Links | None = None
        self._by_title: tuple[Treatment, ...] | None = None
        self._redirects: RedirectTable | None = None
        self.indications_by_name = tuple(
            sorted(self.indications.values(), key=lambda i: (i.name.casefold(), i.slug))
        )
        self.categories_by_name = tuple(
            sorted(self.categories.values(), key=lambda c: (c.name.casefold(), c.slug))
        )

    @property
    def search_index(self) -> SearchIndex:
        """The FTS5 index, built on first use so loading stays fast."""
        if self._search is None:
            self._search = SearchIndex(self.treatments)
        return self._search

    def by_key(self, key: str) -> Treatment | None:
        """The treatment with this key of global ids (see model.page_key), or None."""
        return self.by_uri.get(uri_of_key(key))

    def by_unique_slug(self, slug: str) -> Treatment | None:
        """The one treatment with this slug; None when none has it or several do (their
        uris are in shared_slugs)."""
        return None if slug in self.shared_slugs else self.by_slug.get(slug)

    @property
    def redirects(self) -> RedirectTable:
        """The old paths of this view's pages (front matter), built on first use."""
        if self._redirects is None:
            self._redirects = RedirectTable(self.treatments)
        return self._redirects

    def image(self, uri: str, position: int) -> Image | None:
        """One image of one treatment (by uri), or None."""
        treatment = self.by_uri.get(uri)
        if treatment is None or not 0 <= position < treatment.image_count:
            return None
        return treatment.images[position]

    def search(self, query: str, limit: int | None = None) -> list[Hit]:
        """Ranked full-text hits."""
        return self.search_index.search(query, limit)

    def related(self, uri: str) -> tuple[Treatment, ...]:
        """Other treatments by how many indications they share (most first), ties by title
        (then slug, then uri).

        An unknown uri has no related treatments.
        """
        if uri not in self.by_uri:
            return ()
        if uri not in self._related:
            shared: dict[str, int] = {}
            for mention in self.by_uri[uri].indications:
                for other in self.indications[mention.slug].treatment_uris:
                    if other != uri:
                        shared[other] = shared.get(other, 0) + 1
            by_uri = self.by_uri
            ranked = sorted(shared, key=lambda u: (-shared[u], *by_title(by_uri[u])))
            self._related[uri] = tuple(by_uri[u] for u in ranked)
        return self._related[uri]

    def link_targets(self, treatment: Treatment) -> tuple[Treatment | None, ...]:
        """The page each link node of a treatment's mdast tree names (in document order),
        None where it names none this view holds: a draft is a link's page in the preview
        view only."""
        return self._linked.targets.get(treatment.uri, ())

    def links(self, treatment: Treatment) -> tuple[Treatment, ...]:
        """The other pages a treatment links to, in the order of its links, each once."""
        return self._linked.links.get(treatment.uri, ())

    def linked_from(self, treatment: Treatment) -> tuple[Treatment, ...]:
        """The other pages that link to a treatment, in path order."""
        return self._linked.linked_from.get(treatment.uri, ())

    @property
    def _linked(self) -> _Links:
        """Every page's links resolved against this view, on first use (two threads may
        both build it; either result is the same)."""
        if self._links is None:
            self._links = _Links(self.treatments, self.by_uri)
        return self._links

    @property
    def by_title(self) -> tuple[Treatment, ...]:
        """Treatments in the default order (title, then slug, then uri), sorted on first use."""
        if self._by_title is None:
            self._by_title = tuple(sorted(self.treatments, key=by_title))
        return self._by_title

    def find(
        self, query: TreatmentQuery | None = None, order: Sequence[Ordering] = ()
    ) -> list[Treatment]:
        """Treatments matching every filter, by `order` (ties by slug, then uri); by default
        by title, or by relevance when searching."""
        query = query or TreatmentQuery()
        if query.search is not None:
            hits = self.search_index.search(query.search, snippets=False)
            found = [self.by_uri[hit.uri] for hit in hits]
            found = [t for t in found if _matches(t, query)]
        elif query == _EVERYTHING:
            found = list(self.by_title)
        else:
            found = [t for t in self.by_title if _matches(t, query)]
        if not order:
            return found
        found.sort(key=lambda t: (t.slug, t.uri))
        for ordering in reversed(order):
            found = _sorted(found, ordering)
        return found


_EVERYTHING = TreatmentQuery()


class _Links:
    """The links between the pages of one view: what each link node names, each page's
    links (in order, without repeats, itself left out) and the pages linking to each."""

    def __init__(self, treatments: Sequence[Treatment], by_uri: dict[str, Treatment]) -> None:
        by_path = {treatment.path: treatment for treatment in treatments}
        self.targets: dict[str, tuple[Treatment | None, ...]] = {}
        self.links: dict[str, tuple[Treatment, ...]] = {}
        linked_from: dict[str, list[Treatment]] = {}
        for treatment in treatments:
            if not treatment.link_targets:
                continue
            # A target without a leading / is a file of the content folder (x.md).
            targets = tuple(
                (by_uri.get(target) if target.startswith("/") else by_path.get(target))
                if target
                else None
                for target in treatment.link_targets
            )
            self.targets[treatment.uri] = targets
            named = {t.uri: t for t in targets if t is not None and t.uri != treatment.uri}
            if named:
                self.links[treatment.uri] = tuple(named.values())
                for uri in named:
                    linked_from.setdefault(uri, []).append(treatment)
        self.linked_from = {uri: tuple(pages) for uri, pages in linked_from.items()}


def by_title(treatment: Treatment) -> tuple[str, str, str]:
    """The default order of treatments: title ignoring case, then slug, then uri (unique)."""
    return (treatment.title.casefold(), treatment.slug, treatment.uri)


def _matches(treatment: Treatment, query: TreatmentQuery) -> bool:
    """Every filter but search holds for the treatment."""
    if query.slugs is not None and treatment.slug not in query.slugs:
        return False
    if query.category is not None and (
        treatment.category is None or treatment.category.slug != query.category
    ):
        return False
    if query.indication is not None or query.indications_all is not None:
        needed = {*query.indications_all} if query.indications_all else set()
        if query.indication is not None:
            needed.add(query.indication)
        if not needed <= {mention.slug for mention in treatment.indications}:
            return False
    return True


class ContentIndex:
    """A loaded content folder: the public view, the preview view (built when first asked
    for, so a reload stays fast) and the errors."""

    def __init__(
        self,
        root: Path,
        public: ContentView,
        preview: Sequence[Treatment],
        errors: tuple[ContentError, ...],
        images: ImageCatalog | None = None,
        preview_search: SearchIndex | None = None,
    ) -> None:
        self.root = root
        self.public = public
        self.errors = errors
        # Every local picture's metadata, read at index time; its warnings (a picture
        # missing, unreadable or over the pixel limit) are not errors: pages are served.
        self.images = images if images is not None else ImageCatalog({})
        self.loaded_at = dt.datetime.now(dt.UTC)
        # When what the public sees last changed: a reload that changed only drafts keeps
        # the previous index's (see ContentStore.swap), so it cannot be told from outside.
        self.public_loaded_at = self.loaded_at
        # Unique per index: whatever was cached for another index is stale for this one.
        self.fingerprint = secrets.token_hex(8)
        self._preview_pages = preview
        # The preview view's search index when it is made already (a built index file's).
        self._preview_search = preview_search
        self._preview: ContentView | None = None
        self._lock = threading.Lock()

    @property
    def preview(self) -> ContentView:
        """Drafts included; built on first use."""
        if self._preview is None:
            with self._lock:
                if self._preview is None:
                    self._preview = ContentView(self._preview_pages, self._preview_search)
        return self._preview

    @property
    def preview_pages(self) -> Sequence[Treatment]:
        """Every page the preview view holds, drafts included, in path order."""
        return self._preview_pages

    @property
    def preview_version(self) -> str:
        """The preview view's version, without building that view."""
        if self._preview is not None:
            return self._preview.version
        return _version(self._preview_pages)

    def with_errors(self, extra: Iterable[ContentError]) -> ContentIndex:
        """The same pages with more errors reported first."""
        index = ContentIndex(
            self.root,
            self.public,
            self._preview_pages,
            (*extra, *self.errors),
            self.images,
            self._preview_search,
        )
        index._preview = self._preview
        index.public_loaded_at = self.public_loaded_at
        return index

    @classmethod
    def from_directory(
        cls,
        root: Path,
        workers: int = 1,
        cache_dir: Path | None = None,
        ignore: Sequence[str] = (),
        markdown: str = AUTO,
    ) -> ContentIndex:
        """Load every page under root; bad pages become errors, the rest is served (the
        arguments as load_all takes them)."""
        # load_all reads the pictures' metadata too, through the warm-start cache.
        return cls.from_pages(root, load_all(root, workers, cache_dir, ignore, markdown))

    @classmethod
    def from_pages(
        cls,
        root: Path,
        pages: Iterable[Treatment | ContentError],
        image_store: MetaStore | None = None,
    ) -> ContentIndex:
        """Cross-link loaded pages (in path order): a second page with a uri already taken
        becomes an error naming both files, drafts are kept aside. Slugs may repeat."""
        treatments: list[Treatment] = []
        errors: list[ContentError] = []
        first_path: dict[str, str] = {}
        pages = list(pages)
        # The public view never sees drafts, so a draft cannot shadow a published page there.
        public_uris: set[str] = set()
        public = []
        for page in pages:
            if isinstance(page, Treatment) and not page.draft and page.uri not in public_uris:
                public_uris.add(page.uri)
                public.append(page)
        for page in pages:
            if isinstance(page, ContentError):
                errors.append(page)
            elif page.uri in first_path:
                errors.append(
                    ContentError(
                        page.path,
                        None,
                        f"has the uri {page.uri!r}, already used by {first_path[page.uri]}: "
                        "only the first is served",
                    )
                )
            else:
                first_path[page.uri] = page.path
                treatments.append(page)
        errors.extend(redirect_conflicts(treatments))
        images = ImageCatalog.build(root, treatments, image_store)
        return cls(root, ContentView(public), treatments, tuple(errors), images)

    def view(self, preview: bool) -> ContentView:
        """The preview view (drafts included) or the public one."""
        return self.preview if preview else self.public

    def loaded_at_for(self, preview: bool) -> dt.datetime:
        """When what this audience sees was loaded."""
        return self.loaded_at if preview else self.public_loaded_at


def _sorted(treatments: list[Treatment], ordering: Ordering) -> list[Treatment]:
    # Missing values go last whichever the direction, so split them off first.
    def value(t: Treatment) -> object:
        if ordering.field == "TITLE":
            return t.title.casefold()
        if ordering.field == "DATE":
            return t.date
        if ordering.field == "UPDATED_AT":
            return t.updated_at
        if ordering.field == "WORD_COUNT":
            return t.word_count
        if ordering.field == "ORDER":
            return t.order
        raise ValueError(f"cannot order treatments by {ordering.field!r}")

    present = [t for t in treatments if value(t) is not None]
    missing = [t for t in treatments if value(t) is None]
    present.sort(key=value, reverse=ordering.descending)  # type: ignore[arg-type]
    return present + missing


def _merge_indications(treatments: Iterable[Treatment]) -> dict[str, Indication]:
    names: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for treatment in treatments:
        for mention in treatment.indications:
            names.setdefault(mention.slug, mention.name)
            members.setdefault(mention.slug, []).append(treatment.uri)
    return {slug: Indication(slug, names[slug], tuple(members[slug])) for slug in names}


def _merge_categories(treatments: Iterable[Treatment]) -> dict[str, Category]:
    names: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for treatment in treatments:
        if treatment.category is not None:
            names.setdefault(treatment.category.slug, treatment.category.name)
            members.setdefault(treatment.category.slug, []).append(treatment.uri)
    return {slug: Category(slug, names[slug], tuple(members[slug])) for slug in names}


def _version(treatments: Iterable[Treatment]) -> str:
    digest = hashlib.sha256(LOADER_VERSION.encode())
    for treatment in sorted(treatments, key=lambda t: t.path):
        digest.update(f"\0{treatment.path}\0{treatment.digest}".encode())
    return digest.hexdigest()[:16]
