"""The change record: what each content version change created, updated and deleted.

Every time the content served changes version (a reload under --watch, or a start on
files that changed since the last run), the log records one Change per audience: the
public one (published pages) and the preview one (drafts too). The last `limit` changes
are kept in memory and in the cache folder (changes.json, written atomically), with the
documents each audience saw last, so a restart neither forgets the history nor misses
what changed while the server was down.

Documents are named by uri here; global ids are the schema's business. The file is
JSON, decoded strictly: a damaged one is logged and the record starts afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import operator
import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from contentapi.content.index import ContentIndex
from contentapi.content.model import Treatment

log = logging.getLogger("contentapi")

PUBLIC, PREVIEW = "public", "preview"
AUDIENCES = (PUBLIC, PREVIEW)
CHANGES_FILE = "changes.json"
# The layout of changes.json; a file of another format is not read.
CHANGES_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Change:
    """One content version change as one audience sees it: documents by uri, sorted."""

    previous: str | None
    version: str
    created: tuple[str, ...]
    updated: tuple[str, ...]
    deleted: tuple[str, ...]
    at: str  # when it was recorded, ISO 8601 UTC
    # Pages renamed: (old uri, new uri) where a deleted uri's file now has a created uri,
    # or its unchanged bytes moved to another file (see moves); their old uris redirect.
    moved: tuple[tuple[str, str], ...] = ()

    @property
    def uris(self) -> tuple[str, ...]:
        """Every document the change touched."""
        return (*self.created, *self.updated, *self.deleted)


@dataclass(frozen=True, slots=True)
class Delta:
    """What changed between two versions: the answer to changes(since:)."""

    version: str
    complete: bool  # False: `since` is not in the kept history; `updated` lists everything
    updated: tuple[str, ...]  # created or updated since, by uri
    deleted: tuple[str, ...]


# A document's state: a digest of its file's path and bytes (equal states, equal pages).
Documents = dict[str, str]
Listener = Callable[[str, Change], None]


def documents(treatments: Iterable[Treatment]) -> Documents:
    """The state of each document by uri."""
    return {t.uri: _state(t) for t in treatments}


def _state(treatment: Treatment) -> str:
    return hashlib.sha256(f"{treatment.path}\0{treatment.digest}".encode()).hexdigest()[:16]


# Where each document comes from, by uri: its file's path and the digest of its bytes.
Sources = dict[str, tuple[str, str]]


def sources(treatments: Iterable[Treatment]) -> Sources:
    """The file of each document by uri, with the start of its bytes' digest (enough to
    tell a moved file, and changes.json stays small)."""
    return {t.uri: _origin(t) for t in treatments}


def _origin(treatment: Treatment) -> tuple[str, str]:
    return treatment.path, treatment.digest[:16]


def _maps(
    treatments: Sequence[Treatment],
    before: Sequence[Treatment],
    documents_before: Documents,
    sources_before: Sources,
) -> tuple[Documents, Sources, list[str] | None]:
    """documents() and sources() of `treatments`, made from the maps of `before` (the
    pages of the index seen last, in the same order, the maps made of them) by the pages
    that are not the very objects they were, with the uris whose entries those pages may
    have changed; None for those uris when every entry was made afresh. An edit in place
    keeps every other page's object (ContentIndex.replaced): made afresh, the maps and
    their comparison took 42 ms of each edit at 10,000 pages and 250 at 50,000."""
    count = len(treatments)
    if not (count == len(before) == len(documents_before) == len(sources_before)):
        return documents(treatments), sources(treatments), None
    changed = list(itertools.compress(range(count), map(operator.is_not, before, treatments)))
    states, files = dict(documents_before), dict(sources_before)
    touched = []
    kept = {treatments[position].uri for position in changed}
    for position in changed:
        uri = before[position].uri
        if uri not in kept:
            # Only then: a deleted key leaves a hole, and copying a dict with holes goes
            # key by key (15-24 ms against 1.8 for 50,000 entries).
            states.pop(uri, None)
            files.pop(uri, None)
        touched.append(uri)
    for position in changed:
        page = treatments[position]
        states[page.uri], files[page.uri] = _state(page), _origin(page)
        touched.append(page.uri)
    return states, files, touched


def _views(index: ContentIndex) -> dict[str, tuple[str, Sequence[Treatment]]]:
    """Each audience's version and pages."""
    return {
        PUBLIC: (index.public.version, index.public.treatments),
        PREVIEW: (index.preview_version, index.preview_pages),
    }


def moves(
    previous: Mapping[str, tuple[str, str]],
    current: Mapping[str, tuple[str, str]],
    created: Iterable[str],
    deleted: Iterable[str],
) -> tuple[tuple[str, str], ...]:
    """Renamed pages as (old uri, new uri): a deleted uri whose file now serves a created
    one (its slug or permalink edited), else whose bytes a created one has (the file
    moved unchanged); each new uri taken once."""
    created = [uri for uri in created if uri in current]
    by_path = {current[uri][0]: uri for uri in created}
    by_digest: dict[str, str] = {}
    for uri in created:
        by_digest.setdefault(current[uri][1], uri)
    taken: set[str] = set()
    found = []
    for old in deleted:
        if old not in previous:
            continue
        path, digest = previous[old]
        new = by_path.get(path) or by_digest.get(digest)
        if new is not None and new not in taken:
            taken.add(new)
            found.append((old, new))
    return tuple(found)


def diff(
    previous: Mapping[str, str], current: Mapping[str, str], touched: Iterable[str] | None = None
) -> tuple[tuple[str, ...], ...]:
    """(created, updated, deleted) uris from one set of documents to another, each sorted;
    only among `touched` when given (every other uri is in both, in the same state)."""
    if touched is not None:
        uris = set(touched)
        created = sorted(uri for uri in uris if uri in current and uri not in previous)
        both = [uri for uri in uris if uri in current and uri in previous]
        updated = sorted(uri for uri in both if previous[uri] != current[uri])
        deleted = sorted(uri for uri in uris if uri in previous and uri not in current)
        return tuple(created), tuple(updated), tuple(deleted)
    created = sorted(uri for uri in current if uri not in previous)
    updated = sorted(uri for uri, state in current.items() if previous.get(uri, state) != state)
    deleted = sorted(uri for uri in previous if uri not in current)
    return tuple(created), tuple(updated), tuple(deleted)


class _History:
    """One audience's record: the documents it sees now, their version, the last changes."""

    def __init__(self, limit: int) -> None:
        self.version: str | None = None
        self.documents: Documents = {}
        self.sources: Sources = {}
        self.changes: deque[Change] = deque(maxlen=max(limit, 1))

    def observe(
        self,
        version: str,
        current: Documents,
        at: str,
        files: Sources | None = None,
        touched: Iterable[str] | None = None,
    ) -> Change | None:
        """Record the documents of a new version; `touched` as for diff."""
        if version == self.version:
            return None
        first = self.version is None
        previous, self.version = self.version, version
        created, updated, deleted = diff(self.documents, current, touched)
        self.documents = current
        files = files or {}
        moved = moves(self.sources, files, created, deleted)
        self.sources = files
        if first:
            return None  # nothing was seen before: no change to tell of
        change = Change(previous, version, created, updated, deleted, at, moved)
        self.changes.append(change)
        return change

    def since(self, since: str, upto: str, current: Mapping[str, str]) -> Delta:
        if since == upto:
            return Delta(upto, True, (), ())
        changes = list(self.changes)
        # Cut the history where `upto` was reached last: a request may hold an older index
        # than the record.
        end = next((i for i in range(len(changes) - 1, -1, -1) if changes[i].version == upto), -1)
        start = next((i for i in range(end, -1, -1) if changes[i].previous == since), -1)
        if start < 0:
            return Delta(upto, False, tuple(sorted(current)), ())
        existed: dict[str, bool] = {}
        exists: dict[str, bool] = {}
        for change in changes[start : end + 1]:
            for uri in change.created:
                existed.setdefault(uri, False)
                exists[uri] = True
            for uri in change.updated:
                existed.setdefault(uri, True)
                exists[uri] = True
            for uri in change.deleted:
                existed.setdefault(uri, True)
                exists[uri] = False
        updated = tuple(sorted(uri for uri, there in exists.items() if there))
        deleted = tuple(sorted(uri for uri, there in exists.items() if not there and existed[uri]))
        return Delta(upto, True, updated, deleted)


class ChangeLog:
    """The last `limit` content changes per audience, kept in `file` when one is given."""

    def __init__(self, limit: int = 100, file: Path | None = None, root: Path | None = None):
        self.limit = limit
        self.file = file
        self.root = str(root.resolve()) if root is not None else ""
        self._histories = {audience: _History(limit) for audience in AUDIENCES}
        self._listeners: list[Listener] = []
        # The first index seen, with no record before it and none kept on disk: what the
        # record needs of it (its versions, each document's state and file) is made only
        # when another index comes. A server from a built index that never reloads needs
        # none of it: at 50,000 generated pages it took 0.59 s of the start (0.07 s at
        # 10,000) and held 22 MB (4.4 MB at 10,000; tracemalloc, in process).
        self._first: ContentIndex | None = None
        # The index whose pages the histories' maps were last made of (see _maps).
        self._seen: ContentIndex | None = None
        # The file is written by a thread of its own, the newest record each time (see
        # _write): written and fsynced by observe, it was 24 ms of each edit at 50,000
        # generated pages (a 12 MB file), on the event loop.
        self._unwritten: dict[str, Any] | None = None
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        if file is not None:
            self._read(file)

    @classmethod
    def in_folder(cls, folder: Path | None, root: Path, limit: int) -> ChangeLog:
        """The record of `root`'s changes kept in the cache folder (memory only without one)."""
        return cls(limit, folder / CHANGES_FILE if folder is not None else None, root)

    def listen(self, listener: Listener) -> None:
        """Call listener(audience, change) for every change recorded from now on."""
        self._listeners.append(listener)

    def observe(self, index: ContentIndex) -> list[tuple[str, Change]]:
        """Record what changed since the index seen last (or, at a start, since the record
        in the cache folder); listeners hear of each change, public first."""
        at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if self.file is None and self._first is None and self._unstarted():
            self._first = index  # nothing was seen before: no change to tell of
            return []
        if self._first is not None:
            first, self._first = self._first, None
            self._record(first, at)
        found, touched = self._record(index, at)
        if touched and self.file is not None:
            self._write(self.file)
        for audience, change in found:
            log.info(
                "content changed (%s): %s -> %s, %d created, %d updated, %d deleted",
                audience,
                change.previous,
                change.version,
                len(change.created),
                len(change.updated),
                len(change.deleted),
            )
            for listener in self._listeners:
                try:
                    listener(audience, change)
                except Exception:  # noqa: BLE001 - one listener's bug stops no other
                    log.exception("a listener of content changes failed")
        return found

    def _unstarted(self) -> bool:
        return all(history.version is None for history in self._histories.values())

    def _record(self, index: ContentIndex, at: str) -> tuple[list[tuple[str, Change]], bool]:
        """Each audience's change to this index, and whether any audience's version moved."""
        before = None if self._seen is None else _views(self._seen)
        self._seen = index
        found: list[tuple[str, Change]] = []
        moved = False
        for audience, (version, treatments) in _views(index).items():
            history = self._histories[audience]
            if version == history.version:
                continue
            moved = True
            remade: list[str] | None = None
            if before is None:
                states, files = documents(treatments), sources(treatments)
            else:
                states, files, remade = _maps(
                    treatments, before[audience][1], history.documents, history.sources
                )
            change = history.observe(version, states, at, files, remade)
            if change is not None:
                found.append((audience, change))
        return found, moved

    def history(self, audience: str = PUBLIC) -> tuple[Change, ...]:
        """The kept changes of one audience, oldest first."""
        return tuple(self._histories[audience].changes)

    def moved(self, preview: bool = False) -> dict[str, str]:
        """Old uri -> current uri of the pages renamed in the kept changes, renames of
        renames followed (a page renamed back is no longer moved)."""
        found: dict[str, str] = {}
        for change in self._histories[PREVIEW if preview else PUBLIC].changes:
            for old, new in change.moved:
                for source, target in list(found.items()):
                    if target == old:
                        found[source] = new
                found[old] = new
        return {old: new for old, new in found.items() if old != new}

    def since(self, since: str, index: ContentIndex, preview: bool = False) -> Delta:
        """What changed from version `since` to the index's version, as one audience sees it."""
        audience = PREVIEW if preview else PUBLIC
        if preview:
            version, treatments = index.preview_version, index.preview_pages
        else:
            version, treatments = index.public.version, index.public.treatments
        uris = [t.uri for t in treatments]
        return self._histories[audience].since(since, version, dict.fromkeys(uris, ""))

    def flush(self) -> None:
        """Wait until the file holds the record as it is now (a no-op without a file).

        A process forks only after a flush (http/forked.py): no writer is running then,
        nor holding its lock.
        """
        writer = self._writer
        if writer is not None:
            writer.join()

    def _write(self, file: Path) -> None:
        """Have a writer thread write the record as it is now. The maps are never changed
        once made (see _maps), so the record is taken by reference; a writer writes the
        newest record until none is left, then ends (no thread waits between changes), so
        a burst of changes is written once or twice."""
        data = {
            "format": CHANGES_FORMAT,
            "root": self.root,
            **{
                audience: {
                    "version": history.version,
                    "documents": history.documents,
                    "sources": history.sources,
                    "changes": [_encode(change) for change in history.changes],
                }
                for audience, history in self._histories.items()
            },
        }
        with self._writer_lock:
            self._unwritten = data
            if self._writer is not None and self._writer.is_alive():
                return  # it writes this record next
            self._writer = threading.Thread(
                target=self._write_newest, args=(file,), name="contentapi-changes"
            )
            self._writer.start()

    def _write_newest(self, file: Path) -> None:
        while True:
            with self._writer_lock:
                data, self._unwritten = self._unwritten, None
                if data is None:
                    self._writer = None
                    return
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
                _write_atomically(file, orjson.dumps(data))
            except OSError as exc:
                log.warning(
                    "change record %s: writing it failed: %s; kept in memory only", file, exc
                )

    def _read(self, file: Path) -> None:
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("change record %s: reading it failed: %s; starting afresh", file, exc)
            return
        try:
            histories = _decode(raw, self.root, self.limit)
        except ValueError as exc:
            log.warning("change record %s is damaged (%s): starting afresh", file, exc)
            return
        if histories is not None:
            self._histories = histories


def _write_atomically(file: Path, data: bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, then a rename."""
    handle, name = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, file)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _encode(change: Change) -> list[Any]:
    return [
        change.previous,
        change.version,
        list(change.created),
        list(change.updated),
        list(change.deleted),
        change.at,
        [list(pair) for pair in change.moved],
    ]


def _decode(raw: bytes, root: str, limit: int) -> dict[str, _History] | None:
    """The histories a changes.json holds; None for another folder's or format's record;
    ValueError for anything not of its shape."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if type(data) is not dict:
        raise ValueError("not a JSON object")
    if data.get("format") != CHANGES_FORMAT or data.get("root") != root:
        return None
    histories = {}
    for audience in AUDIENCES:
        part = data.get(audience)
        if type(part) is not dict:
            raise ValueError(f"no {audience} history")
        history = _History(limit)
        version, docs, changes = part.get("version"), part.get("documents"), part.get("changes")
        if not (version is None or type(version) is str):
            raise ValueError(f"the {audience} version is not a string")
        if type(docs) is not dict or not all(type(v) is str for v in docs.values()):
            raise ValueError(f"the {audience} documents are not uri -> state")
        if type(changes) is not list:
            raise ValueError(f"the {audience} changes are not a list")
        history.version, history.documents = version, docs
        # Records written before renames were kept have no sources: none are detected
        # across that restart.
        files = part.get("sources", {})
        if type(files) is not dict or not all(
            type(v) is list and len(v) == 2 and all(type(x) is str for x in v)
            for v in files.values()
        ):
            raise ValueError(f"the {audience} sources are not uri -> [path, digest]")
        history.sources = {uri: (v[0], v[1]) for uri, v in files.items()}
        history.changes.extend(_decode_change(item) for item in changes)
        histories[audience] = history
    return histories


def _decode_change(item: object) -> Change:
    # 6 fields before renames were recorded, 7 since.
    if type(item) is not list or len(item) not in (6, 7):
        raise ValueError("a change is not a list of 6 or 7")
    previous, version, created, updated, deleted, at = item[:6]
    moved = item[6] if len(item) == 7 else []
    if type(moved) is not list or not all(
        type(pair) is list and len(pair) == 2 and all(type(uri) is str for uri in pair)
        for pair in moved
    ):
        raise ValueError("a change's renames are not [old uri, new uri] pairs")
    if not (
        (previous is None or type(previous) is str)
        and type(version) is str
        and type(at) is str
        and all(_uris(part) for part in (created, updated, deleted))
    ):
        raise ValueError("a change has a field of the wrong type")
    return Change(
        previous,
        version,
        tuple(created),
        tuple(updated),
        tuple(deleted),
        at,
        tuple((old, new) for old, new in moved),
    )


def _uris(part: object) -> bool:
    return type(part) is list and all(type(uri) is str for uri in part)
