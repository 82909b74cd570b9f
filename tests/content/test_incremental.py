"""An index made from the previous one (ContentIndex.from_pages(previous=)) is the index a
fresh build of the same pages is, whatever the edit; and live reload makes it so."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from contentapi.content.index import ContentIndex
from contentapi.content.load import load_all
from contentapi.content.markup import Renderer
from contentapi.content.model import ContentError, Treatment
from contentapi.content.page import parse_page
from contentapi.content.reload import LiveIndex

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
Page = Treatment | ContentError


def same(made: ContentIndex, fresh: ContentIndex) -> None:
    """Everything a request can read is equal."""
    for preview in (False, True):
        mine, theirs = made.view(preview), fresh.view(preview)
        assert mine.treatments == theirs.treatments
        assert [t.html for t in mine.treatments] == [t.html for t in theirs.treatments]
        assert mine.by_uri == theirs.by_uri
        assert mine.by_slug == theirs.by_slug
        assert mine.shared_slugs == theirs.shared_slugs
        assert mine.version == theirs.version
        assert mine.indications == theirs.indications
        assert mine.categories == theirs.categories
        assert mine.indications_by_name == theirs.indications_by_name
        assert mine.categories_by_name == theirs.categories_by_name
        assert mine.by_title == theirs.by_title
        assert list(mine.images) == list(theirs.images)
        for treatment in mine.treatments:
            assert mine.related(treatment.uri) == theirs.related(treatment.uri)
            assert mine.links(treatment) == theirs.links(treatment)
        for words in ("skin", "hair", "laser", "zebra", "edited", "needles"):
            assert mine.search(words, 10) == theirs.search(words, 10)
    assert made.errors == fresh.errors
    assert made.images == fresh.images


def _edit(
    pages: list[Page], root: Path, path: str, change: Callable[[str], str]
) -> tuple[list[Page], Page]:
    """The pages with the one at `path` written and parsed again as `change` makes it."""
    file = root / path
    file.write_text(change(file.read_text()))
    page = parse_page(file.read_bytes(), path, Renderer(), root)
    return [page if p.path == path else p for p in pages], page


EDITS: dict[str, tuple[str, Callable[[str], str]]] = {
    "body text": ("peel.md", lambda t: t.replace("outer layer", "zebra layer")),
    "an indication added": (
        "peel.md",
        lambda t: t.replace("  - Acne scars", "  - Acne scars\n  - Stress"),
    ),
    "an indication removed": ("peel.md", lambda t: t.replace("  - Acne scars\n", "")),
    "a new indication": ("peel.md", lambda t: t.replace("  - Acne scars", "  - Zebra stripes")),
    "the first naming of an indication renamed": (
        "acupuncture.md",
        lambda t: t.replace("  - Hair loss", "  - Hair Loss"),
    ),
    "the category": ("peel.md", lambda t: t.replace("Skin Treatment", "Body")),
    "a new category": ("peel.md", lambda t: t.replace("Skin Treatment", "Zebras")),
    "the summary": ("peel.md", lambda t: t.replace("renews the skin", "renews needles")),
    "a picture added": ("peel.md", lambda t: t + '\n<img src="/img/peel.png" alt="Png">\n'),
    "a draft's text": ("secret.md", lambda t: t.replace("laser", "edited laser")),
    "the title (a new view)": ("peel.md", lambda t: t.replace("Chemical Peel", "Acid Peel")),
    "made a draft (a new view)": (
        "peel.md",
        lambda t: t.replace("order: 1", "order: 1\ndraft: true"),
    ),
    "the uri (a new view)": ("peel.md", lambda t: t.replace("order: 1", "order: 1\nslug: acid")),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_gives_what_a_fresh_index_gives(edit: str, tmp_path: Path) -> None:
    root = tmp_path / "clinic"
    shutil.copytree(FIXTURES / "clinic", root)
    pages = load_all(root)
    before = ContentIndex.from_pages(root, pages)
    # Use every lazily made part, so the update has them all to patch.
    for preview in (False, True):
        view = before.view(preview)
        view.search("skin", 10)
        assert view.by_title
    path, change = EDITS[edit]
    edited, _ = _edit(pages, root, path, change)
    made = ContentIndex.from_pages(root, edited, previous=before)
    # Patched (sharing what the edit left alone) unless the edit moved pages.
    patched = made.public.shared_slugs is before.public.shared_slugs
    assert patched == ("a new view" not in edit)
    if edit == "made a draft (a new view)":  # still there for the preview
        assert made.preview.shared_slugs is before.preview.shared_slugs
    same(made, ContentIndex.from_pages(root, edited))
    # And again from that one (a second edit over a patched index).
    again, _ = _edit(edited, root, "mesotherapy.md", lambda t: t + "\nEdited once more.\n")
    same(
        ContentIndex.from_pages(root, again, previous=made),
        ContentIndex.from_pages(root, again),
    )


def test_an_edit_leaves_the_previous_index_as_it_was(tmp_path: Path) -> None:
    root = tmp_path / "clinic"
    shutil.copytree(FIXTURES / "clinic", root)
    pages = load_all(root)
    before = ContentIndex.from_pages(root, pages)
    version, indications = before.public.version, dict(before.public.indications)
    edited, page = _edit(pages, root, "peel.md", lambda t: t.replace("  - Acne scars\n", ""))
    made = ContentIndex.from_pages(root, edited, previous=before)
    assert made.public.by_uri["/peel/"] is page
    assert before.public.version == version != made.public.version
    assert before.public.indications == indications
    assert "acne-scars" not in made.public.indications


def test_live_reload_patches_and_serves_what_a_load_does(tmp_path: Path) -> None:
    root = tmp_path / "clinic"
    shutil.copytree(FIXTURES / "clinic", root)
    live = LiveIndex.load(root)
    first = live.index()
    first.public.search("skin", 10)
    page = root / "peel.md"
    page.write_text(page.read_text().replace("outer layer", "zebra layer"))
    live.update([page])
    second = live.index()
    assert [hit.uri for hit in second.public.search("zebra", 10)] == ["/peel/"]
    same(second, ContentIndex.from_directory(root))
    # A picture appearing is a change of a file that is no page: every picture read again.
    shutil.copy(root / "img" / "peel.png", root / "img" / "peel.jpg")
    live.update([root / "img" / "peel.jpg"])
    third = live.index()
    assert third.images.get("/img/peel.jpg") is not None
    same(third, ContentIndex.from_directory(root))


@pytest.mark.parametrize("edit", list(EDITS))
def test_live_reload_of_a_file_edited_in_place(edit: str, tmp_path: Path) -> None:
    root = tmp_path / "clinic"
    shutil.copytree(FIXTURES / "clinic", root)
    live = LiveIndex.load(root)
    first = live.index()
    for preview in (False, True):
        first.view(preview).search("skin", 10)
        assert first.view(preview).by_title
    path, change = EDITS[edit]
    file = root / path
    file.write_text(change(file.read_text()))
    live.update([file])
    second = live.index()
    # Replaced page by page (no loop over the others) unless the edit moved the page.
    replaced = second._page_rows is not None and second._page_rows is first._page_rows
    assert replaced == ("a new view" not in edit)
    same(second, ContentIndex.from_directory(root))
    # A second edit in place over the first.
    other = root / "mesotherapy.md"
    other.write_text(other.read_text() + "\nEdited once more.\n")
    live.update([other])
    same(live.index(), ContentIndex.from_directory(root))


def test_live_reload_of_a_broken_page_and_its_fix(tmp_path: Path) -> None:
    root = tmp_path / "clinic"
    shutil.copytree(FIXTURES / "clinic", root)
    live = LiveIndex.load(root)
    live.index()
    page = root / "peel.md"
    good = page.read_text()
    page.write_text(good.replace("title: Chemical Peel", "title: [unclosed"))
    live.update([page])
    broken = live.index()
    assert broken.public.by_uri["/peel/"].title == "Chemical Peel"  # its last good version
    assert any("serving its last good version" in e.message for e in broken.errors)
    other = root / "mesotherapy.md"
    other.write_text(other.read_text() + "\nEdited.\n")
    live.update([other])
    edited = live.index()
    assert edited.errors == broken.errors
    page.write_text(good.replace("outer layer", "zebra layer"))
    live.update([page])
    fixed = live.index()
    assert not any("serving its last good version" in e.message for e in fixed.errors)
    same(fixed, ContentIndex.from_directory(root))
