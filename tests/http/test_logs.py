"""The access log writes its lines in batches, on a timer and when it closes."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from contentapi.http.access import AccessLog


def test_lines_appear_within_the_interval_and_on_close(tmp_path: Path) -> None:
    target = tmp_path / "access.log"
    log = AccessLog(str(target), interval=0.05)
    log.write({"dropped": "before open"})
    log.open()
    log.write({"n": 1})
    deadline = time.monotonic() + 5
    while not target.read_text() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [json.loads(line) for line in target.read_text().splitlines()] == [{"n": 1}]
    log.write({"n": 2})
    log.close()
    assert [json.loads(line) for line in target.read_text().splitlines()] == [{"n": 1}, {"n": 2}]


def test_an_empty_target_turns_it_off(tmp_path: Path) -> None:
    log = AccessLog("")
    log.open()
    log.write({"n": 1})
    log.close()
    assert not log.enabled


def test_no_line_is_lost_while_the_timer_flushes(tmp_path: Path) -> None:
    target = tmp_path / "access.log"
    log = AccessLog(str(target), interval=3600)  # flushed by hand below, as fast as it goes
    log.open()
    writers, per_writer = 8, 5000
    done = threading.Event()

    def write(writer: int) -> None:
        for n in range(per_writer):
            log.write({"w": writer, "n": n})

    def flush_until_done() -> None:
        while not done.is_set():
            log.flush()

    # Switch threads as often as the interpreter can, so a write lands between the
    # flusher's read of the list and its swap whenever that is possible.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        flusher = threading.Thread(target=flush_until_done)
        flusher.start()
        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        flusher.join()
    finally:
        sys.setswitchinterval(interval)
    log.close()
    entries = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(entries) == writers * per_writer
    assert sorted((e["w"], e["n"]) for e in entries) == [
        (w, n) for w in range(writers) for n in range(per_writer)
    ]


def test_queued_lines_hold_what_they_say(tmp_path: Path) -> None:
    """Lines wait in memory until the next flush (half a second of them, 10,000 at 20,000
    requests a second): each holds about its own length, not the buffer it was written in."""
    import tracemalloc

    log = AccessLog(str(tmp_path / "access.log"), interval=3600)
    log.open()
    state = {"operation": "Peel", "cost": 2}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            log.request("POST", "/graphql", 200, time.perf_counter(), state)
        held = (tracemalloc.get_traced_memory()[0] - before) / 2000
    finally:
        tracemalloc.stop()
        log.close()
    line = (tmp_path / "access.log").read_bytes().splitlines(keepends=True)[0]
    assert json.loads(line)["operation"] == "Peel"
    assert held < len(line) + 100  # the bytes object's header and the deque's slot
