"""Loader-level fixtures shared by the tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from contentapi.content.index import ContentIndex
from contentapi.content.markup import Renderer
from contentapi.content.model import ContentError, Treatment
from contentapi.content.page import parse_page

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Written at test time, not committed: `ruff format` reads .md files and stops at bad UTF-8.
NOT_UTF8 = b"---\ntitle: Latin\n---\n\nCaf\xe9 au lait\n"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """tests/fixtures: one small content folder per case."""
    return FIXTURES


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> ContentIndex:
    """The real mesotherapy page of the bundled content/ with its pictures, loaded once:
    without the practitioners and the content model content/ also holds."""
    root = tmp_path_factory.mktemp("seed")
    shutil.copy2(PROJECT / "content" / "mesotherapy.md", root / "mesotherapy.md")
    shutil.copytree(PROJECT / "content" / "img", root / "img")
    return ContentIndex.from_directory(root)


@pytest.fixture(scope="session")
def bad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fixtures/bad (good pages beside bad ones) plus a page that is not UTF-8."""
    root = Path(shutil.copytree(FIXTURES / "bad", tmp_path_factory.mktemp("bad") / "bad"))
    (root / "not-utf8.md").write_bytes(NOT_UTF8)
    return root


@pytest.fixture
def copy_fixture(tmp_path: Path) -> Callable[[str], Path]:
    """Copy tests/fixtures/<name> into tmp_path, for tests that change files."""

    def copy(name: str) -> Path:
        return Path(shutil.copytree(FIXTURES / name, tmp_path / name, symlinks=True))

    return copy


@pytest.fixture(scope="session")
def parse() -> Callable[..., Treatment | ContentError]:
    """Parse page text (or bytes) as the loader does: parse(text, path="page.md")."""
    renderer = Renderer()

    def parse_text(text: str | bytes, path: str = "page.md") -> Treatment | ContentError:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return parse_page(data, path, renderer)

    return parse_text
