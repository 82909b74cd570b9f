"""DiskCache: a folder bounded in bytes, least recently used removed, whole files only,
kept across restarts and shared by processes (two instances on one folder here)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from contentapi.diskcache import LOW_WATER, TEMP_PREFIX, DiskCache

KB = 1024


def names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def read(cache: DiskCache, name: str) -> bytes | None:
    file = cache.get(name)
    if file is None:
        return None
    with file:
        return file.read()


def test_least_recently_used_are_removed_past_the_budget(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 16 * KB)
    for number in range(16):
        assert cache.put(f"e{number}", bytes([number]) * KB)
    assert cache.bytes_used() == 16 * KB  # exactly the budget: nothing removed
    assert read(cache, "e0") == b"\x00" * KB  # now the most recently used
    assert cache.put("e16", b"x" * KB)
    # 17 KB is over: the oldest go until at most LOW_WATER of 16 KB (14.4 KB) is left.
    assert LOW_WATER == 0.9
    assert names(tmp_path) == {"e0", *(f"e{n}" for n in range(4, 17))}
    assert cache.bytes_used() == 14 * KB


def test_an_entry_over_a_sixteenth_of_the_budget_is_not_kept(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 16 * KB)
    assert cache.put("small", b"x" * KB)
    assert not cache.put("large", b"x" * (KB + 1))
    assert names(tmp_path) == {"small"}


def test_entries_and_their_order_survive_a_restart(tmp_path: Path) -> None:
    first = DiskCache(tmp_path, 16 * KB)
    for number in range(8):
        first.put(f"e{number}", b"x" * KB)
    read(first, "e0")
    again = DiskCache(tmp_path, 16 * KB)
    assert read(again, "e3") == b"x" * KB
    assert read(again, "missing") is None
    for number in range(8, 17):
        again.put(f"e{number}", b"x" * KB)
    # The order written by the first process holds: e1, e2, e4 were the least recent.
    assert names(tmp_path) == {"e0", "e3", *(f"e{n}" for n in range(5, 17))}


def test_a_smaller_budget_after_a_restart_is_kept_at_once(tmp_path: Path) -> None:
    first = DiskCache(tmp_path, 16 * KB)
    for number in range(10):
        first.put(f"e{number}", b"x" * KB)
    smaller = DiskCache(tmp_path, 8 * KB)
    assert read(smaller, "e9") == b"x" * KB
    assert names(tmp_path) == {f"e{n}" for n in range(3, 10)}


def test_workers_sharing_a_folder_see_each_others_files(tmp_path: Path) -> None:
    one = DiskCache(tmp_path, 16 * KB, sharers=2)
    two = DiskCache(tmp_path, 16 * KB, sharers=2)
    one.put("a", b"from one")
    assert read(two, "a") == b"from one"
    # Each counts its writes twice (the other worker writes as much, it guesses) and
    # scans the folder when that would pass the budget: both workers' files count.
    for number in range(7):
        one.put(f"one{number}", b"x" * KB)
        two.put(f"two{number}", b"x" * KB)
    assert one.bytes_used() == 14 * KB + len(b"from one")  # nobody scanned yet
    one.put("one7", b"x" * KB)  # scans: 15 KB, within the budget
    assert one.bytes_used() == 15 * KB + len(b"from one")
    two.put("two7", b"x" * KB)  # scans: 16 KB and 8 bytes, over: the oldest three go
    assert names(tmp_path) == {f"{who}{n}" for who in ("one", "two") for n in range(1, 8)}
    one.put("one8", b"x" * KB)
    assert one.bytes_used() == 15 * KB
    # A file another worker removed is a miss, never an error.
    (tmp_path / "one8").unlink()
    assert read(two, "one8") is None


def test_files_appear_whole_and_old_unfinished_writes_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / f"{TEMP_PREFIX}123-1-old"
    stale.write_bytes(b"half")
    hour_ago = time.time() - 7200
    os.utime(stale, (hour_ago, hour_ago))
    fresh = tmp_path / f"{TEMP_PREFIX}123-2-new"
    fresh.write_bytes(b"being written")
    cache = DiskCache(tmp_path, 16 * KB)
    assert cache.put("done", b"whole")
    assert names(tmp_path) == {"done", fresh.name}
    # A write under way is neither counted nor removed.
    assert cache.bytes_used() == len(b"whole")


def test_a_zero_budget_or_no_folder_keeps_nothing(tmp_path: Path) -> None:
    assert not DiskCache(tmp_path, 0).put("a", b"x")
    assert not DiskCache(None, 16 * KB).put("a", b"x")
    assert DiskCache(None, 16 * KB).get("a") is None
    assert names(tmp_path) == set()


def test_a_folder_that_cannot_be_made_is_logged_once_and_done_without(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("not a folder")
    cache = DiskCache(tmp_path / "file" / "images", 16 * KB)
    with caplog.at_level(logging.WARNING, logger="contentapi"):
        assert not cache.put("a", b"x")
        assert not cache.put("b", b"x")
        assert cache.get("a") is None
    assert not cache.enabled
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("image cache: cannot create ")
