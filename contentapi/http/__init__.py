"""HTTP: the Starlette app around the GraphQL schema.

    request -> edges (uvicorn protocol: header and time limits) -> access log -> CORS ->
    fast lane (replays exact repeats) -> security headers -> routes: /graphql (endpoint:
    protocol, persisted queries, response cache), /img (media), /healthz, /readyz

No content logic lives here: it reads the index through contentapi.content.store and
runs operations through contentapi.schema.
"""
