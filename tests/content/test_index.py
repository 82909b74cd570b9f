"""The cross-linked index: filters, orderings, relations, merged lists, views and versions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from contentapi.content.index import (
    ORDER_FIELDS,
    ContentIndex,
    ContentView,
    Ordering,
    TreatmentQuery,
)
from contentapi.content.model import Category, Indication, Mention


@pytest.fixture(scope="module")
def catalog(fixtures_dir: Path) -> ContentIndex:
    index = ContentIndex.from_directory(fixtures_dir / "catalog")
    assert index.errors == ()
    return index


@pytest.fixture(scope="module")
def public(catalog: ContentIndex) -> ContentView:
    return catalog.public


def slugs(view: ContentView, query: TreatmentQuery | None = None, *order: Ordering) -> list[str]:
    return [t.slug for t in view.find(query, order)]


# --------------------------------------------------------------------------- views


def test_public_and_preview(catalog: ContentIndex) -> None:
    assert [t.slug for t in catalog.public.treatments] == [
        "alpha",
        "beta",
        "creme",
        "delta",
        "echo",
    ]
    assert [t.slug for t in catalog.preview.treatments] == [
        "alpha",
        "beta",
        "creme",
        "delta",
        "echo",
        "hidden-draft",
    ]
    assert catalog.view(preview=False) is catalog.public
    assert catalog.view(preview=True) is catalog.preview


def test_indications_merged_per_view(catalog: ContentIndex) -> None:
    assert catalog.public.indications == {
        "acne": Indication("acne", "Acne", ("/alpha/", "/beta/", "/delta/")),
        "dry-skin": Indication("dry-skin", "Dry skin", ("/alpha/", "/beta/", "/delta/")),
        "wrinkles": Indication("wrinkles", "Wrinkles", ("/alpha/", "/creme/", "/delta/")),
    }
    assert catalog.preview.indications["acne"].treatment_uris == (
        "/alpha/",
        "/beta/",
        "/delta/",
        "/hidden-draft/",
    )
    assert catalog.preview.indications["secret-thing"].treatment_uris == ("/hidden-draft/",)
    assert [i.slug for i in catalog.public.indications_by_name] == ["acne", "dry-skin", "wrinkles"]


def test_categories_merged_per_view(catalog: ContentIndex) -> None:
    assert catalog.public.categories == {
        "skin-treatment": Category("skin-treatment", "Skin Treatment", ("/alpha/", "/beta/")),
        "facials": Category("facials", "Facials", ("/creme/", "/delta/")),
    }
    assert catalog.preview.categories["skin-treatment"].treatment_uris == (
        "/alpha/",
        "/beta/",
        "/hidden-draft/",
    )
    assert [c.slug for c in catalog.public.categories_by_name] == ["facials", "skin-treatment"]


# --------------------------------------------------------------------------- find: filters


def test_find_without_filters_is_every_public_treatment_by_title(public: ContentView) -> None:
    assert slugs(public) == ["alpha", "beta", "creme", "delta", "echo"]
    assert slugs(public, TreatmentQuery()) == ["alpha", "beta", "creme", "delta", "echo"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (TreatmentQuery(category="skin-treatment"), ["alpha", "beta"]),
        (TreatmentQuery(category="facials"), ["creme", "delta"]),
        (TreatmentQuery(category="nope"), []),
        (TreatmentQuery(indication="acne"), ["alpha", "beta", "delta"]),
        (TreatmentQuery(indication="secret-thing"), []),
        (TreatmentQuery(indications_all=("acne", "wrinkles")), ["alpha", "delta"]),
        (TreatmentQuery(indications_all=("acne", "nope")), []),
        (TreatmentQuery(indications_all=()), ["alpha", "beta", "creme", "delta", "echo"]),
        (TreatmentQuery(slugs=("echo", "alpha", "nope", "hidden-draft")), ["alpha", "echo"]),
        (TreatmentQuery(slugs=()), []),
        (TreatmentQuery(search="gent"), ["alpha", "delta"]),
        # Every filter that is set must hold.
        (TreatmentQuery(category="skin-treatment", indication="wrinkles"), ["alpha"]),
        (TreatmentQuery(category="facials", indication="wrinkles"), ["creme", "delta"]),
        (TreatmentQuery(indication="acne", indications_all=("wrinkles",)), ["alpha", "delta"]),
        (TreatmentQuery(category="facials", search="gent"), ["delta"]),
        (
            TreatmentQuery(slugs=("alpha", "beta", "creme"), indication="wrinkles"),
            ["alpha", "creme"],
        ),
        (
            TreatmentQuery(
                category="skin-treatment",
                indication="acne",
                indications_all=("dry-skin",),
                slugs=("alpha", "beta"),
                search="peel",
            ),
            ["alpha"],
        ),
        (TreatmentQuery(category="skin-treatment", search="pulses"), []),
    ],
)
def test_find_filters_combine_with_and(
    public: ContentView, query: TreatmentQuery, expected: list[str]
) -> None:
    assert sorted(slugs(public, query)) == expected


def test_drafts_are_found_only_in_preview(catalog: ContentIndex) -> None:
    query = TreatmentQuery(category="skin-treatment", indication="acne")
    assert slugs(catalog.public, query) == ["alpha", "beta"]
    assert slugs(catalog.preview, query) == ["alpha", "beta", "hidden-draft"]
    assert slugs(catalog.public, TreatmentQuery(search="secret")) == []
    assert slugs(catalog.preview, TreatmentQuery(search="secret")) == ["hidden-draft"]


# --------------------------------------------------------------------------- find: order

ORDERS = [
    ("TITLE", False, ["alpha", "beta", "creme", "delta", "echo"]),
    ("TITLE", True, ["echo", "delta", "creme", "beta", "alpha"]),
    # alpha and delta share a date: ties by slug; no date last, by slug.
    ("DATE", False, ["beta", "alpha", "delta", "creme", "echo"]),
    ("DATE", True, ["alpha", "delta", "beta", "creme", "echo"]),
    # alpha 10:00Z and delta 12:00+02:00 are the same instant.
    ("UPDATED_AT", False, ["creme", "alpha", "delta", "beta", "echo"]),
    ("UPDATED_AT", True, ["alpha", "delta", "creme", "beta", "echo"]),
    # alpha and creme both have 9 words.
    ("WORD_COUNT", False, ["beta", "alpha", "creme", "delta", "echo"]),
    ("WORD_COUNT", True, ["echo", "delta", "alpha", "creme", "beta"]),
    ("ORDER", False, ["creme", "alpha", "delta", "beta", "echo"]),
    ("ORDER", True, ["alpha", "delta", "creme", "beta", "echo"]),
]


@pytest.mark.parametrize(("field", "descending", "expected"), ORDERS)
def test_every_order_field(
    public: ContentView, field: str, descending: bool, expected: list[str]
) -> None:
    assert slugs(public, None, Ordering(field, descending)) == expected


def test_orders_cover_every_field() -> None:
    assert {field for field, _, _ in ORDERS} == set(ORDER_FIELDS)


def test_word_counts_behind_the_word_count_order(public: ContentView) -> None:
    counts = {t.slug: t.word_count for t in public.treatments}
    assert counts == {"alpha": 9, "beta": 5, "creme": 9, "delta": 12, "echo": 42}


def test_several_order_keys(public: ContentView) -> None:
    assert slugs(public, None, Ordering("ORDER", True), Ordering("TITLE", True)) == [
        "delta",
        "alpha",
        "creme",
        "echo",
        "beta",
    ]
    assert slugs(public, None, Ordering("DATE"), Ordering("WORD_COUNT", True)) == [
        "beta",
        "delta",
        "alpha",
        "echo",
        "creme",
    ]


@pytest.mark.parametrize(("field", "descending", "expected"), ORDERS)
def test_a_filtered_order_keeps_the_order_of_every_page(
    public: ContentView, field: str, descending: bool, expected: list[str]
) -> None:
    """Each order is sorted once per view and kept: a filter picks from it, in its order."""
    wanted = TreatmentQuery(slugs=("echo", "beta", "delta"))
    assert slugs(public, wanted, Ordering(field, descending)) == [
        slug
        for slug in expected
        if slug in wanted.slugs  # type: ignore[operator]
    ]
    assert slugs(public, None, Ordering(field, descending)) == expected  # kept, the same


def test_an_unfiltered_list_is_the_kept_order_not_a_copy(public: ContentView) -> None:
    """A copy references every page: each list of 50 wrote to every page's memory, which a
    forked worker then copies from its parent (contentapi/http/forked.py)."""
    assert public.find() is public.by_title
    newest_first = [Ordering("DATE", True)]
    assert public.find(None, newest_first) is public.find(None, newest_first)


def test_an_edit_moves_its_page_in_a_kept_order(catalog: ContentIndex) -> None:
    newest_first = Ordering("DATE", True)
    assert slugs(catalog.public, None, newest_first)[:2] == ["alpha", "delta"]
    beta = catalog.public.by_slug["beta"]
    edited = catalog.replaced({beta.path: dataclasses.replace(beta, date=dt.date(2031, 1, 1))})
    assert edited is not None
    assert slugs(edited.public, None, newest_first)[:3] == ["beta", "alpha", "delta"]
    assert slugs(catalog.public, None, newest_first)[:2] == ["alpha", "delta"]


def test_an_edit_changes_a_kept_filtered_list(catalog: ContentIndex) -> None:
    wrinkles = TreatmentQuery(indication="wrinkles")
    assert slugs(catalog.public, wrinkles) == ["alpha", "creme", "delta"]
    assert catalog.public.find(wrinkles) is catalog.public.find(wrinkles)  # kept
    echo = catalog.public.by_slug["echo"]
    gained = dataclasses.replace(echo, indications=(Mention("Wrinkles", "wrinkles"),))
    edited = catalog.replaced({echo.path: gained})
    assert edited is not None
    assert slugs(edited.public, wrinkles) == ["alpha", "creme", "delta", "echo"]
    assert slugs(edited.public, wrinkles, Ordering("WORD_COUNT", True))[0] == "echo"
    assert slugs(catalog.public, wrinkles) == ["alpha", "creme", "delta"]


def test_members_are_listed_by_title_and_kept(catalog: ContentIndex) -> None:
    """An indication's or a category's treatments (whatever order its uris are in, as a
    locale's own lists have theirs) by title, ignoring case: sorted once, then kept."""
    uris = ("/echo/", "/delta/", "/alpha/", "/creme/")
    members = catalog.public.members(uris)
    assert [t.uri for t in members] == ["/alpha/", "/creme/", "/delta/", "/echo/"]
    assert catalog.public.members(uris) is members
    assert [t.uri for t in catalog.public.members(("/beta/", "/alpha/"))] == ["/alpha/", "/beta/"]
    # A retitled page is another index (from_pages), whose lists are its own.
    beta = catalog.public.by_slug["beta"]
    pages = [
        dataclasses.replace(beta, title="Zulu") if t is beta else t
        for t in catalog.preview.treatments
    ]
    retitled = ContentIndex.from_pages(catalog.root, pages)
    assert [t.title for t in retitled.public.members(("/beta/", "/echo/"))] == ["Echo", "Zulu"]
    assert [t.title for t in catalog.public.members(("/beta/", "/echo/"))] == ["Beta Boost", "Echo"]


def test_a_pages_indications_are_the_views_and_kept(catalog: ContentIndex) -> None:
    """A page's indications are its view's merged Indications, in its mentions' order:
    made once, then kept; an edit's view makes them again from the edited page."""
    alpha = catalog.public.by_slug["alpha"]
    found = catalog.public.indications_of(alpha)
    merged = catalog.public.indications
    assert found == tuple(merged[mention.slug] for mention in alpha.indications)
    assert all(a is merged[a.slug] for a in found)
    assert catalog.public.indications_of(alpha) is found
    gained = dataclasses.replace(alpha, indications=(Mention("Dry skin", "dry-skin"),))
    edited = catalog.replaced({alpha.path: gained})
    assert edited is not None
    (dry,) = edited.public.indications_of(edited.public.by_slug["alpha"])
    assert dry is edited.public.indications["dry-skin"]
    assert "/alpha/" in dry.treatment_uris
    assert catalog.public.indications_of(alpha) is found


def test_unknown_order_field_is_refused(public: ContentView) -> None:
    with pytest.raises(ValueError, match="cannot order treatments by 'PRICE'"):
        public.find(None, [Ordering("PRICE")])


def test_search_ranks_unless_an_order_is_given(public: ContentView) -> None:
    ranked = slugs(public, TreatmentQuery(search="delta"))
    assert ranked[0] == "delta"
    assert slugs(public, TreatmentQuery(search="gent"), Ordering("TITLE", True)) == [
        "delta",
        "alpha",
    ]


# --------------------------------------------------------------------------- related


def test_related_by_shared_indications_then_title(catalog: ContentIndex) -> None:
    public = catalog.public
    assert [t.slug for t in public.related("/alpha/")] == ["delta", "beta", "creme"]
    # beta shares two with alpha and with delta: ties by title ("Alpha Peel" < "delta lift").
    assert [t.slug for t in public.related("/beta/")] == ["alpha", "delta"]
    assert [t.slug for t in public.related("/creme/")] == ["alpha", "delta"]
    assert public.related("/echo/") == ()
    assert public.related("/no-such-slug/") == ()
    assert public.related("alpha") == ()  # a slug is not a uri
    assert public.related("/hidden-draft/") == ()
    assert [t.slug for t in catalog.preview.related("/beta/")] == [
        "alpha",
        "delta",
        "hidden-draft",
    ]


# --------------------------------------------------------------------------- version


def test_version_is_stable_for_the_same_folder(
    fixtures_dir: Path, copy_fixture: Callable[[str], Path]
) -> None:
    first = ContentIndex.from_directory(fixtures_dir / "catalog")
    second = ContentIndex.from_directory(fixtures_dir / "catalog")
    copied = ContentIndex.from_directory(copy_fixture("catalog"))
    assert first.public.version == second.public.version == copied.public.version
    assert first.preview.version == second.preview.version == copied.preview.version
    assert first.public.version != first.preview.version
    assert len(first.public.version) == 16


def test_version_changes_after_an_edit(
    fixtures_dir: Path, copy_fixture: Callable[[str], Path]
) -> None:
    before = ContentIndex.from_directory(fixtures_dir / "catalog")
    root = copy_fixture("catalog")
    page = root / "beta.md"
    page.write_text(page.read_text() + "\nOne more sentence.\n")
    after = ContentIndex.from_directory(root)
    assert after.public.version != before.public.version
    assert after.preview.version != before.preview.version


def test_editing_a_draft_changes_only_the_preview_version(
    fixtures_dir: Path, copy_fixture: Callable[[str], Path]
) -> None:
    before = ContentIndex.from_directory(fixtures_dir / "catalog")
    root = copy_fixture("catalog")
    draft = root / "hidden-draft.md"
    draft.write_text(draft.read_text() + "\nStill secret.\n")
    after = ContentIndex.from_directory(root)
    assert after.public.version == before.public.version
    assert after.preview.version != before.preview.version


def test_renaming_a_page_changes_the_version(
    fixtures_dir: Path, copy_fixture: Callable[[str], Path]
) -> None:
    before = ContentIndex.from_directory(fixtures_dir / "catalog")
    root = copy_fixture("catalog")
    (root / "echo.md").rename(root / "echo-two.md")
    assert ContentIndex.from_directory(root).public.version != before.public.version


def test_from_pages_in_path_order_marks_duplicates(fixtures_dir: Path) -> None:
    first = ContentIndex.from_directory(fixtures_dir / "catalog")
    pages = [*first.preview.treatments, first.preview.by_slug["alpha"]]
    index = ContentIndex.from_pages(fixtures_dir / "catalog", pages)
    assert [str(e) for e in index.errors] == [
        "alpha.md: has the uri '/alpha/', already used by alpha.md: only the first is served"
    ]
    assert index.public.treatments == first.public.treatments


def test_all_images_in_treatment_order(fixtures_dir: Path) -> None:
    public = ContentIndex.from_directory(fixtures_dir / "clinic").public
    every = [image for treatment in public.treatments for image in treatment.images]
    assert len(every) >= 3 and len(public.images) == len(every)
    assert list(public.images) == every
    assert [public.images[i] for i in range(len(every))] == every
    assert public.images[-1] == every[-1]
    assert public.images[1:3] == every[1:3]
    assert public.images[len(every) - 1 :] == every[-1:]
    with pytest.raises(IndexError):
        public.images[len(every)]
    owner = public.by_uri[every[0].treatment_uri]
    assert public.image(owner.uri, 0) == every[0]
    assert public.image(owner.uri, owner.image_count) is None
    assert public.image(owner.slug, 0) is None  # by uri, not by slug
