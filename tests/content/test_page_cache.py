"""The warm-start page cache: whatever pages.sqlite holds, the pages loaded are those of a
cold load, a warning names the file and the problem, and no entry ever runs code."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import pickle
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from contentapi.content import cache as build
from contentapi.content.cache import CACHE_FORMAT, cache_key
from contentapi.content.index import ContentIndex
from contentapi.content.load import load_all
from contentapi.content.model import ContentError, Treatment
from contentapi.content.reload import LiveIndex

from server import running_server

Page = Treatment | ContentError
PAGE_QUERY = '{ treatment(slug: "mesotherapy") { title images { src } indications { slug } } }'


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory, fixtures_dir: Path, bad_dir: Path) -> Path:
    """Pages with every field a page can have (dates, time zones, order, drafts, images,
    categories) and bad pages beside them, whose errors are cached too."""
    root = tmp_path_factory.mktemp("content")
    for folder in ("catalog", "clinic"):
        for page in (fixtures_dir / folder).glob("*.md"):
            shutil.copy(page, root / page.name)
    shutil.copytree(bad_dir, root / "bad")
    return root


@pytest.fixture(scope="module")
def cold(content: Path) -> list[Page]:
    pages = load_all(content)
    assert len(pages) == 23
    assert len([page for page in pages if isinstance(page, ContentError)]) == 9
    return pages


@pytest.fixture()
def cache(content: Path, tmp_path: Path) -> Path:
    """A cache folder filled by one load of `content`."""
    folder = tmp_path / "cache"
    load_all(content, cache_dir=folder)
    return folder


def assert_same(pages: Sequence[Page], expected: Sequence[Page]) -> None:
    """Equal pages, bodies and time zones included (== leaves the body out, and takes
    10:00Z for 12:00+02:00)."""
    assert pages == expected
    for page, other in zip(pages, expected, strict=True):
        if isinstance(page, Treatment) and isinstance(other, Treatment):
            assert page.packed_body == other.packed_body
            assert _moment(page) == _moment(other)


def _moment(page: Treatment) -> str | None:
    return page.updated_at.isoformat() if page.updated_at else None


def rows(folder: Path) -> int:
    with contextlib.closing(sqlite3.connect(folder / "pages.sqlite")) as db:
        count: int = db.execute("SELECT count(*) FROM pages").fetchone()[0]
    return count


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "page cache" in record.getMessage()
    ]


class Planted:
    """Unpickled, creates the marker file: what an attacker would plant in the cache."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_a_warm_start_is_a_cold_load_and_its_rows_are_json(
    content: Path, cold: list[Page], cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warm = load_all(content, cache_dir=cache)
    assert_same(warm, cold)
    assert cache_warnings(caplog) == []
    with contextlib.closing(sqlite3.connect(cache / "pages.sqlite")) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (CACHE_FORMAT,)
        key = cache_key("alpha.md", (content / "alpha.md").read_bytes())
        (meta,) = db.execute("SELECT meta FROM pages WHERE key = ?", (key,)).fetchone()
        kinds = {orjson.loads(row[0])[0] for row in db.execute("SELECT meta FROM pages")}
    assert meta.startswith(b'["treatment","alpha","Alpha Peel","alpha.md",')
    assert b'"2023-01-10","2024-01-01T10:00:00+00:00",false,2,' in meta
    assert kinds == {"treatment", "error"}
    assert rows(cache) == 23


@pytest.mark.parametrize("size", [0, 100, 4096, 14336, 24576])
def test_a_truncated_file_is_moved_aside_and_rebuilt(
    content: Path, cold: list[Page], cache: Path, caplog: pytest.LogCaptureFixture, size: int
) -> None:
    file = cache / "pages.sqlite"
    data = file.read_bytes()
    assert len(data) > size
    file.write_bytes(data[:size])
    assert_same(load_all(content, cache_dir=cache), cold)
    if size == 0:
        # An empty file is a database with no tables yet: simply filled.
        assert cache_warnings(caplog) == []
    else:
        assert cache_warnings(caplog) == [
            f"page cache {file} is damaged (opening it failed: database disk image is"
            f" malformed): moved to {file}.damaged, starting a fresh one"
        ]
        assert (cache / "pages.sqlite.damaged").read_bytes() == data[:size]
    assert rows(cache) == 23  # the next start is warm again
    caplog.clear()
    assert_same(load_all(content, cache_dir=cache), cold)
    assert cache_warnings(caplog) == []


def test_random_bytes_over_the_file(
    content: Path, cold: list[Page], cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = cache / "pages.sqlite"
    noise = random.Random(6).randbytes(file.stat().st_size)
    file.write_bytes(noise)
    assert_same(load_all(content, cache_dir=cache), cold)
    assert cache_warnings(caplog) == [
        f"page cache {file} is damaged (opening it failed: file is not a database):"
        f" moved to {file}.damaged, starting a fresh one"
    ]
    assert (cache / "pages.sqlite.damaged").read_bytes() == noise
    assert rows(cache) == 23


# Pages of the pages table: its root (2) and leaves (6 on; 3 is its index, 4 and 5 the
# images table's, read only when this process has not read the pictures already).
@pytest.mark.parametrize("damaged_page", [2, 6, 7, 8])
def test_a_page_of_the_file_damaged_midway_through_the_load(
    content: Path,
    cold: list[Page],
    cache: Path,
    caplog: pytest.LogCaptureFixture,
    damaged_page: int,
) -> None:
    # The file opens; a read halfway through the pages finds the damage. What was read
    # before it is written again to the fresh file.
    file = cache / "pages.sqlite"
    data = bytearray(file.read_bytes())
    size = 4096
    # 9 pages of the pages table, the images table's root and its rows (images.py).
    assert len(data) == 11 * size
    start = (damaged_page - 1) * size
    data[start : start + size] = random.Random(damaged_page).randbytes(size)
    file.write_bytes(data)
    assert_same(load_all(content, cache_dir=cache), cold)
    assert cache_warnings(caplog) == [
        f"page cache {file} is damaged (reading it failed: database disk image is"
        f" malformed): moved to {file}.damaged, starting a fresh one"
    ]
    assert rows(cache) == 23
    caplog.clear()
    assert_same(load_all(content, cache_dir=cache), cold)
    assert cache_warnings(caplog) == []


def test_garbage_rows_and_planted_pickles_are_misses(
    content: Path,
    cold: list[Page],
    cache: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    marker = tmp_path / "pwned"
    planted = pickle.dumps(Planted(marker))
    changes = {
        "alpha.md": ("meta", planted),
        "beta.md": ("body", planted),
        "creme.md": ("images", planted),
        "delta.md": ("meta", b"\x00\xff"),
        "echo.md": ("meta", b'["treatment","echo"]'),
        # `draft` as 0: JSON keeps numbers and booleans apart, and so does the cache.
        "peel.md": ("meta", None),
        "mesotherapy.md": ("body", b"short"),
        # A line number as a string.
        "bad/no-title.md": ("meta", b'["error","bad/no-title.md","1","no title"]'),
    }
    with contextlib.closing(sqlite3.connect(cache / "pages.sqlite")) as db, db:
        for shown, (column, value) in changes.items():
            key = cache_key(shown, (content / shown).read_bytes())
            if value is None:
                (meta,) = db.execute("SELECT meta FROM pages WHERE key = ?", (key,)).fetchone()
                assert meta.count(b",false,") == 1
                value = meta.replace(b",false,", b",0,")
            updated = db.execute(f"UPDATE pages SET {column} = ? WHERE key = ?", (value, key))
            assert updated.rowcount == 1

    assert_same(load_all(content, cache_dir=cache), cold)
    assert not marker.exists()
    assert cache_warnings(caplog) == [
        f"page cache {cache / 'pages.sqlite'}: 8 of its entries were not pages of this"
        " version (the first: alpha.md: its fields are not JSON: str is not valid UTF-8:"
        " surrogates not allowed: line 1 column 1 (char 0)); their files were parsed again"
    ]
    # The bad rows were written over with the fresh parses.
    caplog.clear()
    assert_same(load_all(content, cache_dir=cache), cold)
    assert cache_warnings(caplog) == []
    assert not marker.exists()


def test_an_entry_of_the_pickle_format_is_never_unpickled(
    content: Path, cold: list[Page], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The cache as the pickle version wrote it (user_version 0), with a planted entry
    # under the very key of a page.
    cache = tmp_path / "cache"
    cache.mkdir()
    marker = tmp_path / "pwned"
    with contextlib.closing(sqlite3.connect(cache / "pages.sqlite")) as db, db:
        db.execute("CREATE TABLE pages (key TEXT PRIMARY KEY, page BLOB)")
        for page in cold:
            data = (content / page.path).read_bytes()
            db.execute(
                "INSERT INTO pages VALUES (?, ?)",
                (cache_key(page.path, data), pickle.dumps(Planted(marker))),
            )
    assert_same(load_all(content, cache_dir=cache), cold)
    assert not marker.exists()
    assert cache_warnings(caplog) == [
        f"page cache {cache / 'pages.sqlite'} holds format version 0, this version reads"
        f" {CACHE_FORMAT}: starting it afresh (pages are parsed again once)"
    ]
    assert rows(cache) == 23


def test_an_entry_of_another_format_version_is_a_miss(
    content: Path, cold: list[Page], cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with contextlib.closing(sqlite3.connect(cache / "pages.sqlite")) as db, db:
        db.execute("UPDATE pages SET meta = replace(meta, 'Alpha Peel', 'Planted title')")
        db.execute(f"PRAGMA user_version = {CACHE_FORMAT + 1}")
    assert_same(load_all(content, cache_dir=cache), cold)
    assert cache_warnings(caplog) == [
        f"page cache {cache / 'pages.sqlite'} holds format version {CACHE_FORMAT + 1}, this"
        f" version reads {CACHE_FORMAT}: starting it afresh (pages are parsed again once)"
    ]
    assert rows(cache) == 23


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """`folder` made read-only; as root, whom modes do not stop, also immutable."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0 and shutil.which("chattr") is not None
    if immutable:
        subprocess.run(["chattr", "+i", str(folder)], check=False, capture_output=True)
    try:
        try:
            (folder / "probe").touch()
        except OSError:
            pass
        else:
            (folder / "probe").unlink()
            pytest.skip(f"{folder} stays writable here (no chattr for root)")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=False, capture_output=True)
        folder.chmod(0o755)


@pytest.mark.parametrize("filled", [False, True])
def test_a_read_only_cache_folder(
    content: Path,
    cold: list[Page],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    filled: bool,
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    if filled:
        load_all(content, cache_dir=cache)
        # One changed page, so the load has something to write.
        content = Path(shutil.copytree(content, tmp_path / "content"))
        (content / "echo.md").write_text("---\ntitle: Echo again\n---\n\nChanged.\n")
        cold = load_all(content)
    with unwritable(cache):
        assert_same(load_all(content, cache_dir=cache), cold)
    assert cache_warnings(caplog) == [
        f"page cache {cache / 'pages.sqlite'}: opening it failed: unable to open database"
        " file; loading without the cache"
    ]


def test_a_cache_folder_that_cannot_be_made(
    content: Path, cold: list[Page], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("not a folder")
    cache = tmp_path / "file" / "cache"
    assert_same(load_all(content, cache_dir=cache), cold)
    assert cache_warnings(caplog) == [
        f"page cache {cache / 'pages.sqlite'}: opening it failed: [Errno 20] Not a directory:"
        f" '{cache}'; loading without the cache"
    ]


class FullDisk(sqlite3.Connection):
    """A connection to a disk that fills up at the step named by `fails_on`."""

    fails_on = ""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self.fails_on == "insert" and sql.startswith("INSERT"):
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, parameters)

    def commit(self) -> None:
        if self.fails_on == "commit":
            raise sqlite3.OperationalError("database or disk is full")
        super().commit()


@pytest.mark.parametrize(
    ("fails_on", "made", "step"),
    [
        ("insert", True, "writing to it"),
        ("commit", True, "committing to it"),
        # Laying out a new file's table is committed at once.
        ("commit", False, "opening it"),
    ],
)
def test_a_full_disk(
    content: Path,
    cold: list[Page],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fails_on: str,
    made: bool,
    step: str,
) -> None:
    cache = tmp_path / "cache"
    if made:
        (tmp_path / "empty").mkdir()
        assert load_all(tmp_path / "empty", cache_dir=cache) == []
    monkeypatch.setattr(FullDisk, "fails_on", fails_on)
    monkeypatch.setattr(
        build.sqlite3, "connect", functools.partial(sqlite3.connect, factory=FullDisk)
    )
    index = ContentIndex.from_directory(content, cache_dir=cache)
    monkeypatch.undo()
    assert index.preview.treatments == ContentIndex.from_pages(content, cold).preview.treatments
    assert cache_warnings(caplog) == [
        f"page cache {cache / 'pages.sqlite'}: {step} failed: database or disk is full;"
        " loading without the cache"
    ]
    # A full disk is no damage: the file stays, holding what was committed (no pages).
    assert sorted(path.name for path in cache.iterdir()) == ["pages.sqlite"]
    if made:
        assert rows(cache) == 0


def test_live_reload_starts_on_a_damaged_cache(
    content: Path, cold: list[Page], cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (cache / "pages.sqlite").write_bytes(b"\x00" * 8192)
    live = LiveIndex.load(content, cache_dir=cache)
    assert_same([live.pages[path] for path in sorted(live.pages)], sorted(cold, key=_path))
    assert len(cache_warnings(caplog)) == 1
    assert rows(cache) == 23


def _path(page: Page) -> str:
    return page.path


def test_serve_starts_on_a_damaged_cache_with_a_planted_pickle(
    content: Path, cache: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    file = cache / "pages.sqlite"
    with contextlib.closing(sqlite3.connect(file)) as db, db:
        db.execute("UPDATE pages SET meta = ?", (pickle.dumps(Planted(marker)),))
    data = bytearray(file.read_bytes())
    data[4096:8192] = random.Random(1).randbytes(4096)
    file.write_bytes(data)
    with running_server(content, env={"CONTENTAPI_CACHE_DIR": str(cache)}) as url:
        response = httpx.post(url + "/graphql", json={"query": PAGE_QUERY}, timeout=10)
    assert response.status_code == 200
    treatment = response.json()["data"]["treatment"]
    assert treatment["title"] == "Mesotherapy"
    assert len(treatment["images"]) == 2
    assert not marker.exists()
    assert rows(cache) == 23


def test_uri_and_cover_position_are_cached_and_checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "site"
    (root / "post").mkdir(parents=True)
    (root / "post" / "index.md").write_text(
        "---\ntitle: Post\nimage: /b.png\n---\n![a](/a.png)\n\n![b](/b.png)\n"
    )
    (root / "_index.md").write_text("---\ntitle: Home\nimage: /cover.png\n---\nHome.\n")
    cold = load_all(root)
    assert [(p.uri, p.cover_position) for p in cold if isinstance(p, Treatment)] == [
        ("/", 0),
        ("/post/", 1),
    ]
    folder = tmp_path / "cache"
    load_all(root, cache_dir=folder)
    assert_same(load_all(root, cache_dir=folder), cold)
    with contextlib.closing(sqlite3.connect(folder / "pages.sqlite")) as db, db:
        key = cache_key("post/index.md", (root / "post" / "index.md").read_bytes())
        (meta,) = db.execute("SELECT meta FROM pages WHERE key = ?", (key,)).fetchone()
        fields = orjson.loads(meta)
        assert (fields[4], fields[16]) == ("/post/", 1)
        # A uri without its slashes, then a cover past the page's images: both misses.
        for bad in ({4: "post"}, {16: 2}):
            planted = [bad.get(position, value) for position, value in enumerate(fields)]
            db.execute("UPDATE pages SET meta = ? WHERE key = ?", (orjson.dumps(planted), key))
            db.commit()
            caplog.clear()
            assert_same(load_all(root, cache_dir=folder), cold)
            assert len(cache_warnings(caplog)) == 1
            assert "1 of its entries were not pages of this version" in cache_warnings(caplog)[0]
