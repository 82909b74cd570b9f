"""The cyclic collector is paused while pages are parsed (collector.py), and only then."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from contentapi.content import page
from contentapi.content.collector import collection_paused
from contentapi.content.load import load_all

CLINIC = Path(__file__).resolve().parent.parent / "fixtures" / "clinic"


def test_paused_inside_nested_and_restored() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collection_paused():
        raise ValueError("a failed load")
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        # Off before, off after: the block never turns it on.
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_load_parses_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    parse_page = page.parse_page

    def watched(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return parse_page(*args)

    # load.py imports the parser when it parses (a server of a built index never does).
    monkeypatch.setattr(page, "parse_page", watched)
    pages = load_all(CLINIC)
    assert len(seen) == len(pages) == 5
    assert seen == [False] * 5
    assert gc.isenabled()
