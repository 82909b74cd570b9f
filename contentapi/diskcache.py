"""A folder of files bounded by the bytes they hold, least recently used removed first.

The transformed pictures (http/imaging.py) are kept here. It is not bounded.BoundedCache
because what it holds must outlive the process and be shared by every server worker: an
entry is a file named by its key, its last use is the file's modification time (set
exactly, in nanoseconds, on every write and hit), so the order survives a restart and is
the same for every process reading the folder.

A file appears whole or not at all: it is written under a dot name, then renamed over its
own (rename is atomic within a folder), and readers open only final names. A reader that
has a file open keeps reading it even if another worker removes it meanwhile.

Each process counts what it wrote since it last scanned the folder. When that (times the
number of processes sharing the folder, an estimate of what the others wrote) takes the
folder past its budget, it scans the folder and removes the least recently used files
until it is back under LOW_WATER of it, so scans are rare: one per tenth of the budget
written, not one per write. Any failure of the disk (full, read-only, removed) is
logged once and the cache does without: never an error for the request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import BinaryIO

from contentapi.bounded import DEFAULT_ENTRY_SHARE

log = logging.getLogger("contentapi")

# After a scan that found the folder over its budget, what it is brought back to.
LOW_WATER = 0.9
# A dot file older than this is a write that never finished (its process died): removed.
STALE_TEMP_SECONDS = 3600.0
TEMP_PREFIX = ".tmp-"


class DiskCache:
    """Files under `folder` named by their keys, together at most `max_bytes` (0: off).

    One file may take at most a sixteenth of the budget, as in BoundedCache, so one huge
    picture cannot empty the cache. `sharers` is the number of processes writing to the
    same folder (the server's workers).
    """

    def __init__(self, folder: Path | None, max_bytes: int, *, sharers: int = 1) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // DEFAULT_ENTRY_SHARE
        self.sharers = max(1, sharers)
        self._lock = threading.Lock()
        self._scanned: int | None = None  # bytes in the folder at the last scan
        self._written = 0  # bytes this process wrote since
        self._last_stamp = 0
        self._broken = folder is None or max_bytes <= 0

    @property
    def enabled(self) -> bool:
        """Whether entries are kept (a folder, a budget, and the disk has not failed)."""
        return not self._broken

    def get(self, name: str) -> BinaryIO | None:
        """The file kept under `name`, open for reading (now the most recently used), or
        None. The caller closes it."""
        if self._broken or self.folder is None:
            return None
        self._ensure_scanned()
        path = self.folder / name
        try:
            file = open(path, "rb")  # noqa: SIM115 - handed to the caller
        except OSError:
            return None
        try:
            stamp = self._stamp()
            os.utime(path, ns=(stamp, stamp))
        except OSError:
            pass  # removed meanwhile, or a read-only disk: the open file is still good
        return file

    def put(self, name: str, data: bytes) -> bool:
        """Keep `data` under `name` (written whole, then renamed into place); False when
        it is not kept (too large for one entry, or the disk refused)."""
        if self._broken or self.folder is None or len(data) > self.max_entry_bytes:
            return False
        self._ensure_scanned()
        temp = self.folder / f"{TEMP_PREFIX}{os.getpid()}-{threading.get_ident()}-{name}"
        try:
            with open(temp, "wb") as file:
                file.write(data)
            stamp = self._stamp()
            os.utime(temp, ns=(stamp, stamp))
            os.replace(temp, self.folder / name)
        except OSError as exc:
            self._fail("write to", exc)
            try:
                temp.unlink(missing_ok=True)
            except OSError:
                pass
            return False
        with self._lock:
            self._written += len(data)
            over = (self._scanned or 0) + self._written * self.sharers > self.max_bytes
        if over:
            self.evict()
        return True

    def evict(self) -> int:
        """Scan the folder and remove the least recently used files until it holds at
        most LOW_WATER of the budget (nothing when it is within the budget); returns the
        bytes it holds now."""
        with self._lock:
            entries = self._scan()
            total = sum(size for _, size, _ in entries)
            if total > self.max_bytes:
                target = int(self.max_bytes * LOW_WATER)
                for _, size, path in sorted(entries, key=lambda entry: entry[0]):
                    if total <= target:
                        break
                    try:
                        path.unlink()
                    except FileNotFoundError:
                        pass  # another worker removed it first
                    except OSError as exc:
                        self._fail("remove from", exc)
                        break
                    total -= size
            self._scanned = total
            self._written = 0
            return total

    def bytes_used(self) -> int:
        """What the folder's entries hold now, in bytes (read from the disk)."""
        return sum(size for _, size, _ in self._scan())

    def _ensure_scanned(self) -> None:
        """The first use scans the folder (made if needed): what an earlier run left is
        counted, and evicted when over a budget made smaller since."""
        if self._scanned is not None or self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._fail("create", exc)
            return
        self.evict()

    def _scan(self) -> list[tuple[int, int, Path]]:
        """(last use in ns, size, path) of every entry; old unfinished writes removed."""
        if self.folder is None:
            return []
        entries: list[tuple[int, int, Path]] = []
        now = time.time()
        try:
            with os.scandir(self.folder) as found:
                for entry in found:
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue  # removed meanwhile
                    if entry.name.startswith("."):
                        if (
                            entry.name.startswith(TEMP_PREFIX)
                            and now - stat.st_mtime > STALE_TEMP_SECONDS
                        ):
                            Path(entry.path).unlink(missing_ok=True)
                        continue
                    if entry.is_file(follow_symlinks=False):
                        entries.append((stat.st_mtime_ns, stat.st_size, Path(entry.path)))
        except OSError as exc:
            self._fail("read", exc)
        return entries

    def _stamp(self) -> int:
        """Now in ns, never equal to an earlier stamp of this process: two uses in one
        clock tick still order."""
        with self._lock:
            stamp = max(time.time_ns(), self._last_stamp + 1)
            self._last_stamp = stamp
            return stamp

    def _fail(self, step: str, exc: OSError) -> None:
        if not self._broken:
            log.warning(
                "image cache: cannot %s %s (%s); transformed pictures are not kept",
                step,
                self.folder,
                exc,
            )
        self._broken = True
