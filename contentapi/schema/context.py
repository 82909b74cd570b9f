"""What every resolver is given: the content view the request may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contentapi.content.changes import ChangeLog
from contentapi.content.feed import ChangeFeed
from contentapi.content.index import ContentIndex, ContentView
from contentapi.content.locales import Locales


@dataclass(slots=True)
class Connection:
    """A subscription stream's connection: whom it is from, and whether it showed the
    preview token (over WebSocket, possibly in its connection_init payload, after the
    context was made)."""

    client: str = ""
    preview: bool = False


# Not frozen: one is made for every request, and a frozen dataclass sets each of its ten
# fields through object.__setattr__ (1.13 us a context against 0.44, timeit).
@dataclass(slots=True)
class Context:
    """Per-request context: the index, whether drafts are visible, the public URL; `report`
    collects figures (query cost, operation name) for the access log."""

    index: ContentIndex
    preview: bool = False
    public_url: str = ""
    # CONTENTAPI_IMAGE_MAX_SIDE: transforms asked for in a query are checked as the image
    # route checks them.
    image_max_side: int = 4000
    # The server's record of content changes, for changes(since:); None: no history.
    changes: ChangeLog | None = None
    # Subscriptions (contentChanged): the live feed, and the stream's connection.
    feed: ChangeFeed | None = None
    connection: Connection | None = None
    report: dict[str, Any] = field(default_factory=dict)
    # The answer is written out by orjson, which copies an orjson.Fragment as it is: a
    # JSON value (Treatment.ast) may then be its bytes, not objects made to be written.
    json_fragments: bool = False
    # The site's configured locales (CONTENTAPI_LOCALES), the default first.
    locales: Locales = Locales()

    @property
    def view(self) -> ContentView:
        """Drafts included only for preview requests."""
        return self.index.view(self.preview)
