"""Loading a whole folder: parallel loading gives the same pages, and the warm cache too."""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from contentapi.content import load as build
from contentapi.content.index import ContentIndex
from contentapi.content.load import load_all
from contentapi.content.model import ContentError, Treatment

PROJECT = Path(__file__).resolve().parent.parent.parent
PAGES = 250


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_generate", PROJECT / "bench" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    _generator().generate(root, PAGES, 7)
    return root


@pytest.fixture(scope="module")
def serial(generated: Path) -> list[Treatment | ContentError]:
    return load_all(generated, workers=1)


def same(
    left: Sequence[Treatment | ContentError], right: Sequence[Treatment | ContentError]
) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        assert a == b
        if isinstance(a, Treatment) and isinstance(b, Treatment):
            assert (a.html, a.text, a.markdown) == (b.html, b.text, b.markdown)
            assert (a.toc, a.sections, a.front_matter) == (b.toc, b.sections, b.front_matter)


def test_generated_folder_loads_cleanly(
    generated: Path, serial: list[Treatment | ContentError]
) -> None:
    assert len(list(generated.rglob("*.md"))) == PAGES
    assert [p for p in serial if isinstance(p, ContentError)] == []
    assert len(serial) == PAGES
    paths = [p.path for p in serial]
    assert paths == sorted(paths, key=lambda p: tuple(p.split("/")))
    assert all(isinstance(p, Treatment) and p.images and p.indications for p in serial)


def test_two_workers_equal_one(generated: Path, serial: list[Treatment | ContentError]) -> None:
    assert PAGES >= build._POOL_THRESHOLD  # the process pool is really used
    same(load_all(generated, workers=2), serial)


@pytest.mark.parametrize("workers", [1, 2])
def test_pages_share_one_object_per_indication(generated: Path, workers: int) -> None:
    pages = [p for p in load_all(generated, workers=workers) if isinstance(p, Treatment)]
    mentions = [m for p in pages for m in (*p.indications, p.category) if m is not None]
    distinct = {(m.name, m.slug) for m in mentions}
    assert len({id(m) for m in mentions}) == len(distinct)
    assert len(mentions) > 3 * len(distinct)


def test_index_from_two_workers_equals_one(generated: Path) -> None:
    one = ContentIndex.from_directory(generated, workers=1)
    two = ContentIndex.from_directory(generated, workers=2)
    assert one.public.version == two.public.version
    assert one.public.treatments == two.public.treatments
    assert one.public.indications == two.public.indications
    assert one.errors == two.errors == ()
    assert 0 < len(one.public.treatments) <= len(one.preview.treatments) == PAGES


def test_warm_cache_returns_equal_pages(
    generated: Path,
    serial: list[Treatment | ContentError],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "cache"
    same(load_all(generated, workers=2, cache_dir=cache), serial)
    with sqlite3.connect(cache / "pages.sqlite") as db:
        assert db.execute("SELECT count(*) FROM pages").fetchone() == (PAGES,)

    parsed: list[int] = []
    real = build._parse_many

    def counting(
        todo: Sequence[tuple[str, str]],
        workers: int,
        keeper: build.PageKeeper,
        root: Path,
        markdown: str,
    ) -> Iterator[object]:
        parsed.append(len(todo))
        return real(todo, workers, keeper, root, markdown)

    monkeypatch.setattr(build, "_parse_many", counting)
    warm = load_all(generated, workers=1, cache_dir=cache)
    same(warm, serial)
    assert parsed == [0]  # everything came from the cache
    mentions = [m for p in warm if isinstance(p, Treatment) for m in p.indications]
    assert len({id(m) for m in mentions}) == len({(m.name, m.slug) for m in mentions})


def test_cache_misses_on_changed_bytes(tmp_path: Path, fixtures_dir: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    page = root / "page.md"
    page.write_text("---\ntitle: Before\n---\nText.\n")
    cache = tmp_path / "cache"
    (first,) = load_all(root, cache_dir=cache)
    assert isinstance(first, Treatment) and first.title == "Before"
    page.write_text("---\ntitle: After\n---\nText.\n")
    (second,) = load_all(root, cache_dir=cache)
    assert isinstance(second, Treatment) and second.title == "After"
    page.write_text("---\ntitle: [broken\n---\n")
    (third,) = load_all(root, cache_dir=cache)
    assert isinstance(third, ContentError)
    (again,) = load_all(root, cache_dir=cache)
    assert again == third


def test_errors_are_cached_and_reported_the_same(bad_dir: Path, tmp_path: Path) -> None:
    cold = ContentIndex.from_directory(bad_dir, cache_dir=tmp_path)
    warm = ContentIndex.from_directory(bad_dir, cache_dir=tmp_path)
    assert cold.errors == warm.errors
    assert len(cold.errors) == 8
    assert cold.public.treatments == warm.public.treatments


def test_torn_cache_entries_are_misses(fixtures_dir: Path, tmp_path: Path) -> None:
    expected = load_all(fixtures_dir / "catalog")
    load_all(fixtures_dir / "catalog", cache_dir=tmp_path)
    with sqlite3.connect(tmp_path / "pages.sqlite") as db:
        db.execute("UPDATE pages SET meta = x'00ff'")
    same(load_all(fixtures_dir / "catalog", cache_dir=tmp_path), expected)


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist or is not a folder"):
        load_all(tmp_path / "missing")
    (tmp_path / "file.md").write_text("# Not a folder\n")
    with pytest.raises(FileNotFoundError):
        load_all(tmp_path / "file.md")


def test_empty_folder(tmp_path: Path) -> None:
    assert load_all(tmp_path, workers=2) == []
    index = ContentIndex.from_directory(tmp_path)
    assert index.public.treatments == () and index.errors == ()
