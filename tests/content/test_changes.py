"""The change record: created, updated and deleted documents per version change, kept
in memory and in the cache folder across restarts."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest

from contentapi.content import changes
from contentapi.content.changes import CHANGES_FILE, PREVIEW, PUBLIC, Change, ChangeLog, Delta
from contentapi.content.index import ContentIndex
from contentapi.content.model import Treatment
from contentapi.content.store import ContentStore


def page(title: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\nSome text.\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    (content / "alpha.md").write_text(page("Alpha"), encoding="utf-8")
    (content / "beta.md").write_text(page("Beta"), encoding="utf-8")
    (content / "secret.md").write_text(page("Secret", "draft: true\n"), encoding="utf-8")
    return content


def load(folder: Path) -> ContentIndex:
    return ContentIndex.from_directory(folder)


def test_first_index_is_no_change(folder: Path) -> None:
    log = ChangeLog()
    assert log.observe(load(folder)) == []
    assert log.history() == ()


def test_a_change_names_what_was_created_updated_and_deleted(folder: Path) -> None:
    log = ChangeLog()
    first = load(folder)
    log.observe(first)
    (folder / "alpha.md").write_text(page("Alpha edited"), encoding="utf-8")
    (folder / "beta.md").unlink()
    (folder / "gamma.md").write_text(page("Gamma"), encoding="utf-8")
    second = load(folder)
    found = log.observe(second)
    assert [audience for audience, _ in found] == [PUBLIC, PREVIEW]
    change = found[0][1]
    assert (change.previous, change.version) == (first.public.version, second.public.version)
    assert (change.created, change.updated, change.deleted) == (
        ("/gamma/",),
        ("/alpha/",),
        ("/beta/",),
    )
    assert log.history(PUBLIC) == (change,)
    preview = found[1][1]
    assert (preview.previous, preview.version) == (first.preview_version, second.preview_version)
    assert preview.uris == ("/gamma/", "/alpha/", "/beta/")


def test_without_a_file_the_first_documents_are_made_only_when_a_change_comes(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that never reloads (a replica of a built index) never makes the record's
    map of its pages; the first change makes it from the pages first seen."""
    made: list[int] = []
    real = changes.documents

    def counted(treatments: Iterable[Treatment]) -> dict[str, str]:
        found = real(treatments)
        made.append(len(found))
        return found

    monkeypatch.setattr(changes, "documents", counted)
    log = ChangeLog()
    log.observe(load(folder))
    assert made == []
    # Another index, of the same versions: the first one's maps are made (public, preview).
    assert log.observe(load(folder)) == []
    assert made == [2, 3]
    (folder / "beta.md").write_text(page("Beta edited"), encoding="utf-8")
    found = log.observe(load(folder))
    change = found[0][1]
    assert (change.created, change.updated, change.deleted) == ((), ("/beta/",), ())
    assert made == [2, 3]  # the pages now: patched from the maps of the pages before


def test_edits_in_place_are_recorded_as_a_fresh_look_would_record_them(
    folder: Path, tmp_path: Path
) -> None:
    """An edit in place (ContentIndex.replaced keeps every other page's object) patches
    the record's maps by the edited pages alone: what is written is what a record started
    on the final index writes, and each change names the edited page."""
    log = ChangeLog.in_folder(tmp_path / "a", folder, 10)
    index = load(folder)
    log.observe(index)
    for title, path in (("Alpha 2", "alpha.md"), ("Secret 2", "secret.md"), ("Beta 2", "beta.md")):
        before = index.preview_pages[[p.path for p in index.preview_pages].index(path)]
        edited = index.replaced({path: dataclasses.replace(before, digest=title)})
        assert edited is not None
        found = log.observe(edited)
        changed = {audience: change.updated for audience, change in found}
        public = {} if path == "secret.md" else {PUBLIC: (before.uri,)}
        assert changed == {**public, PREVIEW: (before.uri,)}
        assert all(not change.created and not change.deleted for _, change in found)
        index = edited
    fresh = ChangeLog.in_folder(tmp_path / "b", folder, 10)
    fresh.observe(index)
    log.flush()
    fresh.flush()
    written = json.loads((tmp_path / "a" / CHANGES_FILE).read_bytes())
    expected = json.loads((tmp_path / "b" / CHANGES_FILE).read_bytes())
    for audience in (PUBLIC, PREVIEW):
        assert written[audience]["version"] == expected[audience]["version"]
        assert written[audience]["documents"] == expected[audience]["documents"]
        assert written[audience]["sources"] == expected[audience]["sources"]


def test_the_same_index_again_is_no_change(folder: Path) -> None:
    log = ChangeLog()
    log.observe(load(folder))
    assert log.observe(load(folder)) == []


def test_an_edited_draft_is_a_change_for_preview_only(folder: Path) -> None:
    log = ChangeLog()
    log.observe(load(folder))
    (folder / "secret.md").write_text(page("Secret 2", "draft: true\n"), encoding="utf-8")
    found = log.observe(load(folder))
    assert [(audience, change.updated) for audience, change in found] == [(PREVIEW, ("/secret/",))]
    assert log.history(PUBLIC) == ()


def test_a_published_draft_is_created_for_the_public(folder: Path) -> None:
    log = ChangeLog()
    log.observe(load(folder))
    (folder / "secret.md").write_text(page("Secret"), encoding="utf-8")
    found = dict(log.observe(load(folder)))
    assert found[PUBLIC].created == ("/secret/",)
    assert found[PREVIEW].updated == ("/secret/",)


def test_only_the_last_n_changes_are_kept(folder: Path) -> None:
    log = ChangeLog(limit=2)
    log.observe(load(folder))
    versions = []
    for n in range(3):
        (folder / "alpha.md").write_text(page(f"Alpha {n}"), encoding="utf-8")
        index = load(folder)
        log.observe(index)
        versions.append(index.public.version)
    assert [change.version for change in log.history()] == versions[1:]


def test_listeners_hear_each_change(folder: Path) -> None:
    heard: list[tuple[str, Change]] = []
    store = ContentStore(load(folder))
    store.changes.listen(lambda audience, change: heard.append((audience, change)))
    (folder / "beta.md").write_text(page("Beta 2"), encoding="utf-8")
    store.swap(load(folder))
    assert [(audience, change.updated) for audience, change in heard] == [
        (PUBLIC, ("/beta/",)),
        (PREVIEW, ("/beta/",)),
    ]


def test_history_survives_a_restart(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    log = ChangeLog.in_folder(cache, folder, 10)
    log.observe(load(folder))
    (folder / "alpha.md").write_text(page("Alpha 2"), encoding="utf-8")
    log.observe(load(folder))
    log.flush()
    assert (cache / CHANGES_FILE).is_file()
    assert not [p.name for p in cache.iterdir() if p.name != CHANGES_FILE]  # no temporary left
    again = ChangeLog.in_folder(cache, folder, 10)
    assert again.history(PUBLIC) == log.history(PUBLIC)
    assert again.history(PREVIEW) == log.history(PREVIEW)
    assert again.observe(load(folder)) == []  # the same files: nothing changed


def test_a_start_on_changed_files_is_a_change(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = load(folder)
    first = ChangeLog.in_folder(cache, folder, 10)
    first.observe(before)
    first.flush()
    (folder / "beta.md").unlink()
    after = load(folder)
    found = dict(ChangeLog.in_folder(cache, folder, 10).observe(after))
    assert found[PUBLIC] == Change(
        before.public.version, after.public.version, (), (), ("/beta/",), found[PUBLIC].at
    )


def test_a_damaged_record_is_logged_and_started_afresh(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / CHANGES_FILE).write_bytes(b'{"format": 1, "root": "')
    with caplog.at_level(logging.WARNING, logger="contentapi"):
        log = ChangeLog.in_folder(cache, folder, 10)
    assert "is damaged (not JSON" in caplog.text
    assert log.observe(load(folder)) == []
    log.flush()
    assert ChangeLog.in_folder(cache, folder, 10).history() == ()


def test_a_wrongly_typed_record_is_not_read(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    log = ChangeLog.in_folder(cache, folder, 10)
    log.observe(load(folder))
    edit(folder, log, "alpha.md", page("Alpha 2"))
    log.flush()
    assert len(ChangeLog.in_folder(cache, folder, 10).history()) == 1
    data = json.loads((cache / CHANGES_FILE).read_text())
    data["public"]["changes"][0][1] = 2  # a version that is not a string
    (cache / CHANGES_FILE).write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="contentapi"):
        assert ChangeLog.in_folder(cache, folder, 10).history() == ()
    assert "a change has a field of the wrong type" in caplog.text


def test_another_folders_record_is_not_read(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = ChangeLog.in_folder(cache, folder, 10)
    first.observe(load(folder))
    first.flush()
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text(page("X"), encoding="utf-8")
    assert ChangeLog.in_folder(cache, other, 10).observe(load(other)) == []


def test_an_unwritable_folder_keeps_the_record_in_memory(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    log = ChangeLog.in_folder(blocker, folder, 10)
    with caplog.at_level(logging.WARNING, logger="contentapi"):
        log.observe(load(folder))
        log.flush()
    assert "writing it failed" in caplog.text
    (folder / "alpha.md").write_text(page("Alpha 2"), encoding="utf-8")
    assert len(log.observe(load(folder))) == 2


def edit(folder: Path, log: ChangeLog, name: str, text: str | None) -> ContentIndex:
    if text is None:
        (folder / name).unlink()
    else:
        (folder / name).write_text(text, encoding="utf-8")
    index = load(folder)
    log.observe(index)
    return index


def test_since_folds_the_changes_in_between(folder: Path) -> None:
    log = ChangeLog()
    start = load(folder)
    log.observe(start)
    edit(folder, log, "gamma.md", page("Gamma"))  # created
    edit(folder, log, "alpha.md", page("Alpha 2"))  # updated
    edit(folder, log, "gamma.md", None)  # created then deleted: never seen
    edit(folder, log, "delta.md", page("Delta"))
    last = edit(folder, log, "beta.md", None)
    assert log.since(start.public.version, last) == Delta(
        last.public.version, True, ("/alpha/", "/delta/"), ("/beta/",)
    )
    assert log.since(last.public.version, last) == Delta(last.public.version, True, (), ())


def test_since_an_unknown_version_is_incomplete_and_lists_everything(folder: Path) -> None:
    log = ChangeLog()
    index = load(folder)
    log.observe(index)
    assert log.since("", index) == Delta(index.public.version, False, ("/alpha/", "/beta/"), ())
    assert log.since("", index, preview=True) == Delta(
        index.preview_version, False, ("/alpha/", "/beta/", "/secret/"), ()
    )


def test_since_stops_at_the_index_asked_about(folder: Path) -> None:
    log = ChangeLog()
    start = load(folder)
    log.observe(start)
    middle = edit(folder, log, "alpha.md", page("Alpha 2"))
    edit(folder, log, "beta.md", page("Beta 2"))
    assert log.since(start.public.version, middle) == Delta(
        middle.public.version, True, ("/alpha/",), ()
    )


def test_since_a_version_older_than_the_history_is_incomplete(folder: Path) -> None:
    log = ChangeLog(limit=1)
    start = load(folder)
    log.observe(start)
    edit(folder, log, "alpha.md", page("Alpha 2"))
    last = edit(folder, log, "beta.md", page("Beta 2"))
    assert log.since(start.public.version, last).complete is False


def test_the_file_is_written_by_a_thread_of_its_own(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """observe runs on the server's event loop (the watcher's swap): the file's write and
    fsync are the writer thread's, and flush waits for the newest record."""
    writers = []
    write = changes._write_atomically

    def noted(file: Path, data: bytes) -> None:
        writers.append(threading.current_thread().name)
        write(file, data)

    monkeypatch.setattr(changes, "_write_atomically", noted)
    cache = tmp_path / "cache"
    log = ChangeLog.in_folder(cache, folder, 10)
    log.observe(load(folder))
    for number in range(2, 5):
        edit(folder, log, "alpha.md", page(f"Alpha {number}"))
    log.flush()
    assert writers and all(name.startswith("contentapi-changes") for name in writers)
    written = json.loads((cache / CHANGES_FILE).read_bytes())
    assert written["public"]["version"] == log.history(PUBLIC)[-1].version
    assert len(written["public"]["changes"]) == 3
