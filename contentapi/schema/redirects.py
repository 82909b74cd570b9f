"""The redirects a request sees: its view's (front matter), and the uris of pages renamed
while served, for as long as the change record keeps the change."""

from __future__ import annotations

import threading
import weakref

from contentapi.content.changes import ChangeLog
from contentapi.content.index import ContentView
from contentapi.content.redirects import Redirect, RedirectTable
from contentapi.schema.context import Context

# One table per view and set of renames: a request asking for redirects builds it once.
_tables: weakref.WeakKeyDictionary[ContentView, tuple[tuple[tuple[str, str], ...], RedirectTable]]
_tables = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def redirect_table(context: Context) -> RedirectTable:
    """The view's redirects with the change record's renames."""
    view = context.view
    moved = _moved(context.changes, context.preview)
    if not moved:
        return view.redirects
    with _lock:
        kept = _tables.get(view)
        if kept is not None and kept[0] == moved:
            return kept[1]
        table = RedirectTable(view.treatments, [Redirect(old, new) for old, new in moved])
        _tables[view] = (moved, table)
        return table


def _moved(changes: ChangeLog | None, preview: bool) -> tuple[tuple[str, str], ...]:
    if changes is None:
        return ()
    return tuple(sorted(changes.moved(preview).items()))
