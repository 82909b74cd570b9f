"""Loader-level fixtures shared by the tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from contentapi.index import ContentIndex
from contentapi.loader import parse_page
from contentapi.markup import Renderer
from contentapi.model import ContentError, Treatment

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """tests/fixtures: one small content folder per case."""
    return FIXTURES


@pytest.fixture(scope="session")
def seed_index() -> ContentIndex:
    """The bundled content/ folder (the real mesotherapy page), loaded once."""
    return ContentIndex.from_directory(PROJECT / "content")


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
