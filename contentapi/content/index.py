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

from contentapi.bounded import BoundedCache, digest
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
from contentapi.content.redirects import RedirectTable
from contentapi.content.redirects import conflicts as redirect_conflicts
from contentapi.content.search import Hit, SearchIndex
from contentapi.content.version import LOADER_VERSION

ORDER_FIELDS = ("TITLE", "DATE", "UPDATED_AT", "WORD_COUNT", "ORDER")
# The pages of each order and each filter asked for, kept per view (8 bytes a page: 80 KB
# for every page of 10,000); no one list may take more than a quarter of it.
LISTS_KEPT_BYTES = 4 * 1024 * 1024


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

    def with_treatments(self, treatments: Sequence[Treatment]) -> AllImages:
        """The images of `treatments`, which have as many images each as this one's."""
        images = AllImages.__new__(AllImages)
        images._treatments = treatments
        images._ends = self._ends  # never changed once made
        return images

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
        self._version_total = _version_total(self.treatments)
        self.version = _version_text(*self._version_total)
        # Each page's position, made when an update needs it, kept while uris keep theirs.
        self._positions: dict[str, int] | None = None
        self._search = search
        self._related: dict[str, tuple[Treatment, ...]] = {}
        self._indications_of: dict[str, tuple[Treatment, tuple[Indication, ...]]] = {}
        self._links: _Links | None = None
        self._by_title: tuple[Treatment, ...] | None = None
        self._lists = _lists_kept()
        self._redirects: RedirectTable | None = None
        self.indications_by_name = tuple(
            sorted(self.indications.values(), key=lambda i: (i.name.casefold(), i.slug))
        )
        self.categories_by_name = tuple(
            sorted(self.categories.values(), key=lambda c: (c.name.casefold(), c.slug))
        )

    def updated(self, treatments: Sequence[Treatment]) -> ContentView:
        """The view of `treatments`, which hold the same uris in the same order as this
        view's and differ only in some pages' content (an edit), made by the work those
        pages need: lookups, members of their indications and category, the version, the
        default order and the search index patched, not made again. Anything else
        (pages added, removed, moved, a slug or title changed) is a new view."""
        treatments = tuple(treatments)
        old = self.treatments
        if len(treatments) != len(old):
            return ContentView(treatments)
        changed = [i for i, (a, b) in enumerate(zip(old, treatments, strict=True)) if a is not b]
        if not changed:
            return self
        pairs = [(old[i], treatments[i]) for i in changed]
        if not all(_same_place(a, b) for a, b in pairs):
            return ContentView(treatments)
        return self._patched(treatments, changed, pairs)

    def replaced(self, pairs: Sequence[tuple[Treatment, Treatment]]) -> ContentView:
        """This view with each page `pairs[i][0]` it holds replaced by `pairs[i][1]`, an
        edit of it that keeps its place (see _same_place): updated without looking at the
        other pages at all (live reload of files edited in place)."""
        listed = list(self.treatments)
        rows = []
        for a, b in pairs:
            row = self._position(a.uri)
            assert listed[row] is a, f"{a.path} is not this view's page"
            listed[row] = b
            rows.append(row)
        return self._patched(tuple(listed), rows, list(pairs))

    def _patched(
        self,
        treatments: tuple[Treatment, ...],
        changed: list[int],
        pairs: list[tuple[Treatment, Treatment]],
    ) -> ContentView:
        view = object.__new__(ContentView)
        view.treatments = treatments
        view.by_uri = self.by_uri.copy()
        view.by_slug = self.by_slug.copy()
        for a, b in pairs:
            view.by_uri[b.uri] = b
            if view.by_slug.get(b.slug) is a:
                view.by_slug[b.slug] = b
        view.shared_slugs = self.shared_slugs
        view.images = (
            self.images.with_treatments(treatments)
            if all(a.image_count == b.image_count for a, b in pairs)
            else AllImages(treatments)
        )
        view.indications = self._patched_indications(view, pairs)
        view.categories = self._patched_categories(view, pairs)
        view._positions = self._positions  # made by the patches if they needed it
        view._version_total = _replaced_total(self._version_total, pairs)
        view.version = _version_text(*view._version_total)
        view._search = (
            self._search.updated(changed, pairs, treatments) if self._search is not None else None
        )
        view._related = {}
        view._indications_of = {}
        view._links = None
        view._by_title = None
        if self._by_title is not None:
            # Titles, slugs and uris are the same: each page keeps its place.
            ordered = list(self._by_title)
            for a, b in pairs:
                place = bisect.bisect_left(ordered, by_title(a), key=by_title)
                ordered[place] = b
            view._by_title = tuple(ordered)
        view._lists = _lists_kept()  # an edit may move a page in any order or filter
        view._redirects = None
        view.indications_by_name = tuple(
            sorted(view.indications.values(), key=lambda i: (i.name.casefold(), i.slug))
        )
        view.categories_by_name = tuple(
            sorted(view.categories.values(), key=lambda c: (c.name.casefold(), c.slug))
        )
        return view

    def _position(self, uri: str) -> int:
        if self._positions is None:
            self._positions = {t.uri: i for i, t in enumerate(self.treatments)}
        return self._positions[uri]

    def _members(self, members: tuple[str, ...], uri: str, keep: bool) -> tuple[str, ...]:
        """`members` (uris in path order) with `uri` in its place or without it."""
        if (uri in members) == keep:
            return members
        if not keep:
            return tuple(member for member in members if member != uri)
        listed = list(members)
        at = bisect.bisect_left(listed, self._position(uri), key=self._position)
        listed.insert(at, uri)
        return tuple(listed)

    def _patched_indications(
        self, view: ContentView, pairs: list[tuple[Treatment, Treatment]]
    ) -> dict[str, Indication]:
        indications = self.indications.copy()
        for a, b in pairs:
            for slug in {m.slug for m in a.indications} | {m.slug for m in b.indications}:
                before = indications.get(slug)
                keep = any(m.slug == slug for m in b.indications)
                members = self._members(before.treatment_uris if before else (), b.uri, keep)
                if not members:
                    indications.pop(slug, None)
                    continue
                first = view.by_uri[members[0]]
                name = next(m.name for m in first.indications if m.slug == slug)
                indications[slug] = Indication(slug, name, members)
        return indications

    def _patched_categories(
        self, view: ContentView, pairs: list[tuple[Treatment, Treatment]]
    ) -> dict[str, Category]:
        categories = self.categories.copy()
        for a, b in pairs:
            slugs = {c.slug for c in (a.category, b.category) if c is not None}
            for slug in slugs:
                before = categories.get(slug)
                keep = b.category is not None and b.category.slug == slug
                members = self._members(before.treatment_uris if before else (), b.uri, keep)
                if not members:
                    categories.pop(slug, None)
                    continue
                first = view.by_uri[members[0]].category
                assert first is not None
                categories[slug] = Category(slug, first.name, members)
        return categories

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

    def indications_of(self, treatment: Treatment) -> tuple[Indication, ...]:
        """The view's Indication for each of the treatment's mentions, in its order: made
        once a page and kept with the view (at most one entry a page). Made on each
        request, a list of 50 pages of 12 mentions spent 2 us a page on it (in process)."""
        found = self._indications_of.get(treatment.uri)
        if found is not None and found[0] is treatment:
            return found[1]
        merged = self.indications
        indications = tuple([merged[mention.slug] for mention in treatment.indications])
        self._indications_of[treatment.uri] = (treatment, indications)
        return indications

    def members(self, uris: tuple[str, ...]) -> tuple[Treatment, ...]:
        """The treatments at these uris (an indication's or a category's, in any locale) in
        the default order: sorted on first use and kept with the view's lists. Sorted on
        each request, the largest indication of 10,000 generated pages (293 of them) took
        197 us; kept, 17 us, most of it the key (in process, one view)."""
        key = digest(b"members", "\0".join(uris).encode())
        found = self._lists.get(key)
        if found is None:
            found = tuple(sorted([self.by_uri[uri] for uri in uris], key=by_title))
            self._lists.put(key, found, 8 * len(found))
        return found

    def find(
        self, query: TreatmentQuery | None = None, order: Sequence[Ordering] = ()
    ) -> Sequence[Treatment]:
        """Treatments matching every filter, by `order` (ties by slug, then uri); by default
        by title, or by relevance when searching."""
        query = query or TreatmentQuery()
        if query.search is None:
            return self._listed(query, tuple(order))
        hits = self.search_index.search(query.search, snippets=False)
        found = [self.by_uri[hit.uri] for hit in hits]
        found = [t for t in found if _matches(t, query)]
        if not order:
            return found
        found.sort(key=lambda t: (t.slug, t.uri))
        for ordering in reversed(order):
            found = _sorted(found, ordering)
        return found

    def _listed(self, query: TreatmentQuery, order: tuple[Ordering, ...]) -> tuple[Treatment, ...]:
        """The pages matching `query` (no search) by `order`, else by title: made on their
        first use and kept, and every page unfiltered in the default order is by_title
        itself. Measured: treatments(first: 20, orderBy: [{field: DATE, direction: DESC}])
        sorted every page again on each request (70% of its time), a category's list
        filtered every page (2.1 ms at 10,000 pages against 0.85 at 1,000, over the app in
        process), and copying the whole list for each page of 50 referenced every page, so
        that a forked worker (sharing its parent's pages until it writes to them) copied
        all of them (10,000 pages: 520 pages of memory that held Treatments alone)."""
        if not order and query == _EVERYTHING:
            return self.by_title
        key = repr((query, order)).encode()
        found = self._lists.get(key)
        if found is None:
            if query != _EVERYTHING:
                # Filtering a total order keeps it: the pages that match, in its order.
                everything = self._listed(_EVERYTHING, order)
                found = tuple(t for t in everything if _matches(t, query))
            else:
                listed = sorted(self.treatments, key=lambda t: (t.slug, t.uri))
                for ordering in reversed(order):
                    listed = _sorted(listed, ordering)
                found = tuple(listed)
            self._lists.put(key, found, 8 * len(found))
        return found


_EVERYTHING = TreatmentQuery()


def _lists_kept() -> BoundedCache[tuple[Treatment, ...]]:
    return BoundedCache(LISTS_KEPT_BYTES, max_entry_bytes=LISTS_KEPT_BYTES // 4)


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


def _same_place(a: Treatment, b: Treatment) -> bool:
    """Whether `b`, an edit of `a`, keeps its place in a view: uri, slug, title and path
    (each naming one mention once)."""
    return (
        a.uri == b.uri
        and a.slug == b.slug
        and a.title == b.title
        and a.path == b.path
        and not _repeats_a_mention(a)
        and not _repeats_a_mention(b)
    )


def _repeats_a_mention(treatment: Treatment) -> bool:
    """Whether a page names one indication twice (its uri is then twice a member)."""
    slugs = [mention.slug for mention in treatment.indications]
    return len(set(slugs)) != len(slugs)


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
        # Each preview page's row by path, made when an edit needs it (see replaced).
        self._page_rows: dict[str, int] | None = None
        self._preview: ContentView | None = None
        # The preview version's sum (see _version_total) without its view, once made: an
        # edit patches it by its pages' terms, as a view's own (10.9 ms at 10,000 pages,
        # made again on each edit the change record saw).
        self._preview_total: tuple[int, int] | None = None
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
        if self._preview_total is None:
            self._preview_total = _version_total(self._preview_pages)
        return _version_text(*self._preview_total)

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
        previous: ContentIndex | None = None,
    ) -> ContentIndex:
        """Cross-link loaded pages (in path order): a second page with a uri already taken
        becomes an error naming both files, drafts are kept aside. Slugs may repeat.

        Given the `previous` index of the same folder (live reload), the work done is that
        of the pages that are not the very objects it holds (see ContentView.updated and
        ImageCatalog.updated): what comes out is what a fresh index of the pages would be.
        """
        treatments: list[Treatment] = []
        errors: list[ContentError] = []
        first_path: dict[str, str] = {}
        pages = list(pages)
        # The public view never sees drafts, so a draft cannot shadow a published page there.
        public_uris: set[str] = set()
        public = []
        # One pass for both views: it is most of an edit's re-index (live reload).
        for page in pages:
            if isinstance(page, ContentError):
                errors.append(page)
                continue
            uri = page.uri
            if not page.draft and uri not in public_uris:
                public_uris.add(uri)
                public.append(page)
            if uri in first_path:
                errors.append(
                    ContentError(
                        page.path,
                        None,
                        f"has the uri {page.uri!r}, already used by {first_path[page.uri]}: "
                        "only the first is served",
                    )
                )
            else:
                first_path[uri] = page.path
                treatments.append(page)
        # Only old paths conflict: most sites name none (10 ms at 10,000 pages otherwise).
        if any(page.redirect_from for page in treatments):
            errors.extend(redirect_conflicts(treatments))
        if previous is None or previous.root != root:
            images = ImageCatalog.build(root, treatments, image_store)
            return cls(root, ContentView(public), treatments, tuple(errors), images)
        before = previous._preview_pages
        if len(before) == len(treatments):
            fresh = [b for a, b in zip(before, treatments, strict=True) if a is not b]
        else:
            held = {id(page) for page in before}
            fresh = [page for page in treatments if id(page) not in held]
        images = previous.images.updated(root, treatments, fresh, image_store)
        index = cls(root, previous.public.updated(public), treatments, tuple(errors), images)
        if previous._preview is not None:
            index._preview = previous._preview.updated(treatments)
        return index

    def replaced(self, edits: dict[str, Treatment]) -> ContentIndex | None:
        """This index with the pages at the paths of `edits` (each served now) replaced
        by their edits, by the work of those pages alone, not a loop over the others (live
        reload of files edited in place); None when an edit does more than change content
        (its uri, slug, title, draft flag or old paths): from_pages makes that index."""
        if self._page_rows is None:
            self._page_rows = {page.path: row for row, page in enumerate(self._preview_pages)}
        pages = list(self._preview_pages)
        pairs: list[tuple[Treatment, Treatment]] = []
        for path, new in edits.items():
            row = self._page_rows.get(path)
            if row is None:
                return None
            old = pages[row]
            if not (
                _same_place(old, new)
                and old.draft == new.draft
                and old.redirect_from == new.redirect_from
            ):
                return None
            pages[row] = new
            pairs.append((old, new))
        public = [(a, b) for a, b in pairs if self.public.by_uri.get(a.uri) is a]
        index = ContentIndex(
            self.root,
            self.public.replaced(public) if public else self.public,
            pages,
            self.errors,
            self.images.updated(self.root, pages, [b for _, b in pairs]),
        )
        index._page_rows = self._page_rows  # paths keep their rows
        if self._preview is not None:
            index._preview = self._preview.replaced(pairs)
        elif self._preview_total is not None:
            index._preview_total = _replaced_total(self._preview_total, pairs)
        return index

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


_VERSION_MODULUS = 1 << 256


def _page_term(treatment: Treatment) -> int:
    """One page's share of its view's version: the hash of its path and content."""
    data = f"{treatment.path}\0{treatment.digest}".encode()
    return int.from_bytes(hashlib.sha256(data).digest(), "big")


def _version_total(treatments: Iterable[Treatment]) -> tuple[int, int]:
    """The sum of the pages' terms (modulo 2**256) and their number."""
    total = count = 0
    for treatment in treatments:
        total += _page_term(treatment)
        count += 1
    return total % _VERSION_MODULUS, count


def _replaced_total(
    total_and_count: tuple[int, int], pairs: Iterable[tuple[Treatment, Treatment]]
) -> tuple[int, int]:
    """_version_total of the same pages with each (old, new) pair's old page replaced."""
    total, count = total_and_count
    for a, b in pairs:
        total += _page_term(b) - _page_term(a)
    return total % _VERSION_MODULUS, count


def _version_text(total: int, count: int) -> str:
    """A view's version: its pages' paths and contents, whatever their order.

    Made from a sum of one hash per page, so that an edit updates it by that page's terms
    alone (ContentView.updated), where one hash over every page took 10 ms at 10,000.
    """
    digest = hashlib.sha256(f"{LOADER_VERSION}\0{count}\0".encode())
    digest.update(total.to_bytes(32, "big"))
    return digest.hexdigest()[:16]
