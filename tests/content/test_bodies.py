"""Page bodies kept on disk: read back exactly, pickled as bytes, in memory when disk fails."""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from contentapi.content.body import BodyFile, StoredBody
from contentapi.content.load import load_all
from contentapi.content.model import ContentError, Treatment


def test_bodies_read_back_exactly() -> None:
    bodies = BodyFile()
    kept = [bodies.keep(data) for data in (b"first", b"", b"\x00" * 70_000, b"last")]
    assert [(body.offset, body.length) for body in kept] == [
        (0, 5),
        (5, 0),
        (5, 70_000),
        (70_005, 4),
    ]
    assert [body.read() for body in kept] == [b"first", b"", b"\x00" * 70_000, b"last"]


def test_bodies_read_again_are_not_read_from_the_file_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The body a page is asked for on every request is read from the disk once: an empty
    body at the offset of the next is told apart by its length."""
    bodies = BodyFile()
    first, empty, second = bodies.keep(b"first"), bodies.keep(b""), bodies.keep(b"second")
    assert (empty.offset, second.offset) == (5, 5)
    preads: list[tuple[int, int]] = []
    real_pread = os.pread

    def counting(descriptor: int, length: int, offset: int) -> bytes:
        preads.append((offset, length))
        return real_pread(descriptor, length, offset)

    monkeypatch.setattr(os, "pread", counting)
    assert [body.read() for body in (first, empty, second) * 3] == [b"first", b"", b"second"] * 3
    assert preads == [(0, 5), (5, 0), (5, 6)]


def test_a_pickled_body_is_its_bytes() -> None:
    body = BodyFile().keep(b"packed")
    assert pickle.loads(pickle.dumps(body)) == b"packed"  # noqa: S301 - our own bytes


def test_loaded_bodies_are_on_disk_and_read_the_same(fixtures_dir: Path) -> None:
    pages = [p for p in load_all(fixtures_dir / "clinic") if isinstance(p, Treatment)]
    assert pages and all(isinstance(page.body, StoredBody) for page in pages)
    seed = next(page for page in pages if page.slug == "mesotherapy")
    copy = pickle.loads(pickle.dumps(seed))  # noqa: S301 - our own page
    assert isinstance(copy.body, bytes)
    assert copy == seed
    assert (copy.html, copy.text, copy.markdown) == (seed.html, seed.text, seed.markdown)
    assert (copy.toc, copy.sections, copy.front_matter) == (
        seed.toc,
        seed.sections,
        seed.front_matter,
    )


def test_without_a_temporary_folder_bodies_stay_in_memory(
    fixtures_dir: Path,
    parse: Callable[..., Treatment | ContentError],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(fixtures_dir / "no-such-folder"))
    with caplog.at_level(logging.WARNING, logger="contentapi"):
        pages = [p for p in load_all(fixtures_dir / "clinic") if isinstance(p, Treatment)]
    assert pages and all(isinstance(page.body, bytes) for page in pages)
    assert "keeping page bodies in memory: no temporary file" in caplog.text
    seed = next(page for page in pages if page.slug == "mesotherapy")
    alone = parse((fixtures_dir / "clinic" / "mesotherapy.md").read_bytes(), "mesotherapy.md")
    assert isinstance(alone, Treatment)
    assert (seed.title, seed.html, seed.markdown) == (alone.title, alone.html, alone.markdown)
