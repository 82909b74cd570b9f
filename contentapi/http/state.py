"""What a request leaves in its ASGI scope's state for the middleware around it: written
by the GraphQL endpoint, read by the fast lane and the access log (one spelling each)."""

from __future__ import annotations

OPERATION = "operation"
"""The operation's name, for the access log."""
COST = "cost"
"""The query cost, for the access log."""
REPLAYABLE = "lane_replayable"
"""True when the same request bytes will get the same answer until the content changes."""
JIT_TRIED = "jit_tried"
"""True when the fast lane has asked the JIT for this request's answer already (the app
then leaves it to Strawberry and graphql-core at once)."""
LOGGED = (OPERATION, COST)
"""What a replayed answer carries over to the access log."""
WIRE_REPLAY = "contentapi.wire_replay"
"""Where the app, once loaded, leaves its WireReplay in the lifespan state (uvicorn's
app_state), for the HTTP protocol to find."""
