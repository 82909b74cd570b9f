"""A built index file (indexfile.py): the same index as a load, refused when stale or
built by another version, and the cache folder's own written and rebuilt."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from contentapi.bounded import BoundedCache
from contentapi.content import indexfile
from contentapi.content.body import StoredBody
from contentapi.content.index import ContentIndex
from contentapi.content.indexfile import (
    IndexRefused,
    build,
    cache_index_file,
    check,
    load_for_serving,
    loader_version,
    open_index,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CLINIC = FIXTURES / "clinic"
LINKS = FIXTURES / "links"


def _same(built: ContentIndex, loaded: ContentIndex) -> None:
    """Everything a request can read is equal."""
    for preview in (False, True):
        mine, theirs = built.view(preview), loaded.view(preview)
        assert mine.treatments == theirs.treatments
        assert [t.html for t in mine.treatments] == [t.html for t in theirs.treatments]
        assert [t.ast_packed for t in mine.treatments] == [t.ast_packed for t in theirs.treatments]
        assert [t.images for t in mine.treatments] == [t.images for t in theirs.treatments]
        assert [t.toc for t in mine.treatments] == [t.toc for t in theirs.treatments]
        assert mine.version == theirs.version
        assert mine.indications == theirs.indications
        assert mine.categories == theirs.categories
        for treatment in mine.treatments:
            assert mine.links(treatment) == theirs.links(treatment)
            assert mine.linked_from(treatment) == theirs.linked_from(treatment)
            assert mine.link_targets(treatment) == theirs.link_targets(treatment)
        for words in ("skin", "hair lo", "laser", "page", "nothing-matches"):
            assert mine.search(words, 10) == theirs.search(words, 10)
    assert built.errors == loaded.errors
    assert built.images == loaded.images


@pytest.mark.parametrize("site", [CLINIC, LINKS], ids=["clinic", "links"])
def test_a_built_index_serves_what_a_load_does(site: Path, tmp_path: Path) -> None:
    file = tmp_path / "index.sqlite"
    built = build(site, file)
    opened = open_index(file, site)
    _same(opened.index, ContentIndex.from_directory(site))
    # Bodies stay in the file until asked for.
    assert all(isinstance(t.body, StoredBody) for t in opened.index.preview_pages)
    assert built.pages == len(opened.index.preview_pages)


def test_words_in_many_pages_are_ranked_when_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clinic's words in two pages or more are "frequent": their rows come from the file.
    monkeypatch.setattr(indexfile, "FREQUENT", 2)
    file = tmp_path / "index.sqlite"
    build(CLINIC, file)
    db = sqlite3.connect(file)
    kept = {
        table: dict(db.execute(f"SELECT word, pages FROM {table}"))
        for table in ("search_top", "search_public_top")
    }
    db.close()
    assert kept["search_top"]["skin"] == kept["search_public_top"]["skin"] == 2
    # The draft "Secret Laser" is "a laser treatment that is not announced yet".
    assert (kept["search_top"]["a"], kept["search_public_top"]["a"]) == (3, 2)
    assert "treatment" in kept["search_top"]
    assert "treatment" not in kept["search_public_top"]
    _same(open_index(file, CLINIC).index, ContentIndex.from_directory(CLINIC))


def test_what_build_reports_of_the_clinic(tmp_path: Path) -> None:
    built = build(CLINIC, tmp_path / "index.sqlite")
    assert (built.pages, built.errors, built.warnings) == (4, 1, 4)
    assert built.problems[0] == (
        "broken.md:3: front matter is not valid YAML: did not find expected ',' or ']'"
    )
    assert built.content_version == indexfile._meta_value(built.file, "content_version")
    assert len(built.content_version) == 16


def test_the_pictures_warnings_are_read_from_the_file_that_was_opened(tmp_path: Path) -> None:
    """Read when first asked for (a server never asks), from the file as it was opened,
    even once a rebuild has replaced it."""
    site = tmp_path / "site"
    shutil.copytree(CLINIC, site)
    file = tmp_path / "index.sqlite"
    build(site, file)
    opened = open_index(file, site)
    loaded = ContentIndex.from_directory(site)
    assert len(loaded.images.warnings) == 4
    for page in site.rglob("*.md"):
        page.write_text(page.read_text(encoding="utf-8").replace(".jpg", ".png"), "utf-8")
    build(site, tmp_path / "next.sqlite")
    (tmp_path / "next.sqlite").replace(file)
    # The rebuilt file holds other warnings; the opened index still has its own.
    assert ContentIndex.from_directory(site).images.warnings != loaded.images.warnings
    assert opened.index.images.warnings == loaded.images.warnings


def test_the_file_is_opened_read_only_and_immutable(tmp_path: Path) -> None:
    file = tmp_path / "index.sqlite"
    build(CLINIC, file)
    db = indexfile._connect(file)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM documents")
    db.close()
    # Nothing beside it: no journal, no lock file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.sqlite"]


def test_the_public_view_never_finds_a_draft(tmp_path: Path) -> None:
    file = tmp_path / "index.sqlite"
    build(CLINIC, file)
    index = open_index(file, CLINIC).index
    assert index.public.search("laser") == []
    assert [hit.uri for hit in index.preview.search("laser")] == ["/secret/"]


def test_an_edited_page_makes_the_file_stale(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    site = copy_fixture("clinic")
    file = tmp_path / "index.sqlite"
    built = build(site, file)
    assert check(file, site) is None
    page = site / "peel.md"
    page.write_text(page.read_text() + "\nOne more line.\n")
    problem = check(file, site)
    assert problem is not None
    assert problem.startswith(
        f"index file {file} was built for content version {built.content_version},"
        f" the content folder {site} is content version "
    )
    assert problem.endswith(
        " (first difference: page peel.md, 1 in all): build it again with `contentapi build`"
    )
    with pytest.raises(IndexRefused) as refused:
        open_index(file, site)
    assert str(refused.value) == problem


def test_a_new_page_and_a_changed_picture_make_it_stale(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    site = copy_fixture("media")
    file = tmp_path / "index.sqlite"
    build(site, file)
    (site / "new.md").write_text("---\ntitle: New\n---\n\nNew.\n")
    assert "(first difference: page new.md, 1 in all)" in (check(file, site) or "")
    (site / "new.md").unlink()
    assert check(file, site) is None
    picture = site / "img" / "shared.jpg"
    picture.write_bytes(picture.read_bytes() + b"\0")
    assert "(first difference: image img/shared.jpg, 1 in all)" in (check(file, site) or "")


def test_a_missing_picture_that_appears_makes_it_stale(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    site = copy_fixture("clinic")
    file = tmp_path / "index.sqlite"
    build(site, file)
    shutil.copy(site / "img" / "peel.png", site / "img" / "peel.jpg")
    assert "(first difference: image img/peel.jpg, 2 in all)" in (check(file, site) or "")


@pytest.mark.parametrize(
    ("src", "appears"),
    [
        ("/img/plain.jpg", "img/plain.jpg"),
        ("at-the-root.jpg", "at-the-root.jpg"),
        ("/img/with%20space.jpg?v=2", "img/with space.jpg"),
        ("img/./dotted//twice.jpg#top", "img/dotted/twice.jpg"),
    ],
)
def test_a_missing_picture_is_checked_where_its_src_leads(
    src: str, appears: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "img").mkdir(parents=True)
    (site / "page.md").write_text(f"---\ntitle: Page\n---\n\n![a picture]({src})\n")
    file = tmp_path / "index.sqlite"
    build(site, file)
    with monkeypatch.context() as fresh:
        # Fresh: every file as it was, so no file's bytes are read.
        fresh.setattr(indexfile, "_sha256", _no_reading)
        assert check(file, site) is None
    (site / appears).parent.mkdir(exist_ok=True)
    (site / appears).write_bytes(b"not a picture")
    assert f"(first difference: image {appears}, 2 in all)" in (check(file, site) or "")


def _no_reading(path: object) -> str:
    raise AssertionError(f"{path} was read")


def test_a_touched_file_with_the_same_bytes_is_still_fresh(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    site = copy_fixture("clinic")
    file = tmp_path / "index.sqlite"
    build(site, file)
    page = site / "peel.md"
    page.write_bytes(page.read_bytes())  # a new modification time, as a fresh checkout has
    assert check(file, site) is None


def test_another_loader_version_is_refused_quoting_both(tmp_path: Path) -> None:
    file = tmp_path / "index.sqlite"
    build(CLINIC, file)
    with sqlite3.connect(file) as db:
        db.execute("UPDATE meta SET value = '16/5/1' WHERE key = 'loader'")
    db.close()
    with pytest.raises(IndexRefused) as refused:
        open_index(file, CLINIC)
    assert str(refused.value) == (
        f"index file {file} was built by loader version '16/5/1' (contentapi 0.1.0);"
        f" this server's is {loader_version()!r} (contentapi 0.1.0):"
        " build it again with `contentapi build`"
    )


def test_other_settings_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "index.sqlite"
    build(CLINIC, file)
    assert check(file, CLINIC, ignore=("drafts/",)) == (
        f"index file {file} was built with ignore patterns [], this server has"
        ' ["drafts/"]: build it again with the same CONTENTAPI_IGNORE'
    )
    assert check(file, CLINIC, markdown="commonmark") == (
        f"index file {file} renders Markdown as 'kramdown', this server as 'commonmark'"
        " (CONTENTAPI_MARKDOWN=commonmark): build it again"
    )


def test_a_file_that_is_not_an_index_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "index.sqlite"
    file.write_bytes(b"not a database at all" * 100)
    problem = check(file, CLINIC)
    assert problem == f"index file {file} cannot be read: file is not a database"


def _own_writer_done() -> None:
    for thread in threading.enumerate():
        if thread.name == "contentapi-index-writer":
            thread.join(30)


def test_the_cache_folders_own_is_written_used_and_rebuilt(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    site = copy_fixture("clinic")
    cache = tmp_path / "cache"
    own = cache_index_file(cache, site)
    index, pages = load_for_serving(site, cache_dir=cache)
    assert not isinstance(index.preview_pages[0].body, StoredBody) or not isinstance(
        index.preview_pages[0].body.file, indexfile._Bodies
    )
    _own_writer_done()
    assert own.is_file()
    again, pages_again = load_for_serving(site, cache_dir=cache)
    assert isinstance(again.preview_pages[0].body, StoredBody)
    assert isinstance(again.preview_pages[0].body.file, indexfile._Bodies)
    _same(again, index)
    assert [p.path for p in pages_again] == [p.path for p in pages]
    # Stale: loaded (and written) again.
    page = site / "peel.md"
    page.write_text(page.read_text().replace("Chemical Peel", "Chemical Peel II"))
    fresh, _ = load_for_serving(site, cache_dir=cache)
    assert fresh.public.by_uri["/peel/"].title == "Chemical Peel II"
    assert not isinstance(fresh.public.by_uri["/peel/"].body.file, indexfile._Bodies)  # type: ignore[union-attr]
    _own_writer_done()
    assert check(own, site) is None
    assert open_index(own, site).index.public.by_uri["/peel/"].title == "Chemical Peel II"


def test_a_given_index_file_that_is_stale_is_refused_not_rebuilt(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    site = copy_fixture("clinic")
    file = tmp_path / "index.sqlite"
    build(site, file)
    (site / "peel.md").write_text("---\ntitle: Other\n---\n\nOther.\n")
    before = file.read_bytes()
    with pytest.raises(IndexRefused, match="build it again"):
        load_for_serving(site, index_file=file)
    assert file.read_bytes() == before


def test_build_keeps_a_copy_of_the_bodies_it_was_given(tmp_path: Path) -> None:
    # A copy of the site elsewhere with the file: bodies are in the file, not the folder.
    site = tmp_path / "site"
    shutil.copytree(CLINIC, site)
    file = tmp_path / "index.sqlite"
    build(site, file)
    html = open_index(file, site).index.public.by_uri["/peel/"].html
    assert "<p>" in html
    assert html == ContentIndex.from_directory(CLINIC).public.by_uri["/peel/"].html


def test_live_reload_over_a_built_index(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    from contentapi.content.reload import LiveIndex

    site = copy_fixture("clinic")
    file = tmp_path / "index.sqlite"
    build(site, file)
    opened = open_index(file, site)
    live = LiveIndex(site, opened.pages, index=opened.index)
    assert [hit.uri for hit in opened.index.public.search("zebra", 10)] == []
    page = site / "peel.md"
    page.write_text(page.read_text().replace("outer layer", "zebra layer"))
    live.update([page])
    edited = live.index()
    # Patched from the file's index: the other pages still read from the file.
    assert edited.public.shared_slugs is opened.index.public.shared_slugs
    assert isinstance(edited.public.by_uri["/acupuncture/"].body, StoredBody)
    assert [hit.uri for hit in edited.public.search("zebra", 10)] == ["/peel/"]
    _same(edited, ContentIndex.from_directory(site))


def test_edits_over_a_built_index_read_its_warnings_only_when_asked(
    tmp_path: Path, copy_fixture: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from contentapi.content.reload import LiveIndex

    site = copy_fixture("clinic")
    file = tmp_path / "index.sqlite"
    build(site, file)
    reads = []
    read = indexfile._Warnings.__call__

    def counted(self: indexfile._Warnings) -> tuple[object, ...]:
        reads.append(1)
        return read(self)

    monkeypatch.setattr(indexfile._Warnings, "__call__", counted)
    opened = open_index(file, site)
    live = LiveIndex(site, opened.pages, index=opened.index)
    peel, acupuncture = site / "peel.md", site / "acupuncture.md"
    peel.write_text(peel.read_text() + "\n![gone](/img/nowhere.jpg)\n")
    live.update([peel])
    acupuncture.write_text(acupuncture.read_text() + "\n![gone too](img/nowhere-else.png)\n")
    live.update([acupuncture])
    peel.write_text(peel.read_text().replace("![gone](/img/nowhere.jpg)", ""))
    live.update([peel])
    edited = live.index()
    assert reads == []
    loaded = ContentIndex.from_directory(site)
    assert edited.images.warnings == loaded.images.warnings
    assert reads == [1]
    assert [w.message for w in edited.images.warnings if "nowhere" in w.message] == [
        "image /img/nowhere-else.png is not in the content folder (no such file)"
    ]


def test_a_markdown_file_that_becomes_a_page_makes_it_stale(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    site = copy_fixture("clinic")
    readme = site / "README.md"
    readme.write_text("# The clinic's pages\n")  # a repository's README: no page
    file = tmp_path / "index.sqlite"
    assert build(site, file).pages == 4
    assert check(file, site) is None
    readme.write_text("---\ntitle: About the clinic\n---\n\nAbout.\n")  # now a page
    assert "(first difference: page README.md, 2 in all)" in (check(file, site) or "")
    readme.unlink()
    assert "(first difference: skipped README.md, 1 in all)" in (check(file, site) or "")


def test_bodies_read_last_are_kept_within_their_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body read from the file is kept: asked for again (its html, then its text), it is
    not read again; the bodies kept stay within their budget, the oldest dropped."""
    file = tmp_path / "index.sqlite"
    build(CLINIC, file)
    index = open_index(file, CLINIC).index
    pages = index.public.treatments
    lengths = [len(page.packed_body) for page in pages]  # every body read once, and kept
    reads: list[int] = []  # the offsets read from the file
    real_read = indexfile._Bodies._read

    def counting(self: indexfile._Bodies, offset: int, length: int) -> bytes:
        reads.append(offset)
        return real_read(self, offset, length)

    monkeypatch.setattr(indexfile._Bodies, "_read", counting)
    peel = index.public.by_uri["/peel/"]
    assert "<p>" in peel.html and peel.text
    assert reads == []  # both from the bodies kept
    # A budget of the two largest bodies: reading every page again keeps the last ones.
    bodies = peel.body
    assert isinstance(bodies, StoredBody)
    source = bodies.file
    assert isinstance(source, indexfile._Bodies)
    budget = sum(sorted(lengths)[-2:]) + 2 * (16 + 256)
    source._kept = BoundedCache(budget, max_entry_bytes=budget)
    loaded = ContentIndex.from_directory(CLINIC).public.by_uri
    for page in pages:
        assert page.html == loaded[page.uri].html
    assert source._kept.bytes_used <= budget
    assert sorted(reads) == list(range(len(pages)))  # all read from the file, one by one
    reads.clear()
    assert index.public.by_uri[pages[-1].uri].packed_body  # the last one read is kept
    assert reads == []
