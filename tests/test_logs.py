"""The access log writes its lines in batches, on a timer and when it closes."""

from __future__ import annotations

import json
import time
from pathlib import Path

from contentapi.logs import AccessLog


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
