"""The HTTP benchmark's ceiling: a plain Starlette app answering POST /graphql with fixed bytes.

    python bench/plain.py --body response.json --port 8002

Whatever the request body, the answer is the file's bytes, pre-encoded, as application/json:
bench/throughput.py fills the file with what contentapi answers to the benchmark's query (a), so
the difference to contentapi is everything GraphQL and our middleware cost on top of
Starlette and uvicorn. GET /healthz answers {"status":"ok"}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app(body: bytes) -> Starlette:
    """An app that answers every POST /graphql with `body`."""

    async def graphql(request: Request) -> Response:
        await request.body()  # read, as any endpoint must, but never parsed
        return Response(body, media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Serve the fixed response with uvicorn, one worker."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--body", type=Path, required=True, help="file of the response bytes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args(argv)
    uvicorn.run(
        create_app(args.body.read_bytes()),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
