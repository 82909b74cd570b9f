"""In-process benchmark: the JIT (contentapi/schema/jit.py) beside Strawberry's execute
with the fast executor, on the throughput benchmark's queries, one process, no HTTP.

Prints microseconds per operation (median of 5 batches, each answer encoded with orjson as
the endpoint does) and the ratio; every pair of answers must be equal, byte for byte. (e)
is not one of the throughput benchmark's: a list ordered by an input object with a picture
sized by another, as mobile apps ask.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402
from throughput import QUERY_A, QUERY_B, QUERY_C, QUERY_D  # noqa: E402

from contentapi.content.index import ContentIndex  # noqa: E402
from contentapi.schema import Context, build_schema  # noqa: E402

BATCHES = 5
QUERY_E = (
    "query ($cover: ImageTransform) { treatments(first: 20, orderBy: [{field: DATE, "
    "direction: DESC}]) { nodes { slug title date coverImage { url(transform: $cover) "
    "alt } } } }"
)


async def _timed(run: Callable[[], Awaitable[bytes]], count: int) -> tuple[float, bytes]:
    """Median microseconds per call over BATCHES batches of `count`, and the last answer."""
    body = await run()
    figures = []
    for _ in range(BATCHES):
        start = time.perf_counter()
        for _ in range(count):
            body = await run()
        figures.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(figures), body


async def measure(index: ContentIndex, count: int) -> list[tuple[str, float, float]]:
    schema = build_schema()
    slug = sorted(treatment.slug for treatment in index.public.treatments)[0]
    queries: dict[str, tuple[str, dict[str, Any] | None]] = {
        "(a) one treatment": (QUERY_A % slug, None),
        "(b) one treatment, a variable": (QUERY_B, {"slug": slug}),
        "(c) list of 50": (QUERY_C, None),
        '(d) search "skin"': (QUERY_D, None),
        # What a mobile app's list asks: newest first, each cover sized for its screen
        # (input objects and enums, converted as Strawberry converts them).
        "(e) 20 newest, sized covers": (QUERY_E, {"cover": {"width": 640, "format": "WEBP"}}),
    }
    rows = []
    for name, (query, variables) in queries.items():

        async def compiled(
            query: str = query, variables: Any = variables, name: str = name
        ) -> bytes:
            answer = schema.compiler.execute(query, variables, None, Context(index))
            if answer is None:
                raise SystemExit(f"the JIT did not run {name}: {query}")
            return orjson.dumps(answer)

        async def strawberry(query: str = query, variables: Any = variables) -> bytes:
            result = await schema.execute(
                query, variable_values=variables, context_value=Context(index)
            )
            return orjson.dumps({"data": result.data})

        jit_us, jit_body = await _timed(compiled, count)
        slow_us, slow_body = await _timed(strawberry, count)
        if jit_body != slow_body:
            raise SystemExit(f"{name}: the JIT's answer differs from Strawberry's")
        rows.append((name, jit_us, slow_us))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="corpus size (1000)")
    parser.add_argument("--count", type=int, default=200, help="calls per batch (200)")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 100 pages, 20")
    args = parser.parse_args()
    pages, count = (100, 20) if args.quick else (args.pages, args.count)
    with tempfile.TemporaryDirectory() as folder:
        generate.generate(Path(folder) / "pages", pages)
        index = ContentIndex.from_directory(Path(folder) / "pages")
        rows = asyncio.run(measure(index, count))
    print(f"{pages} pages, median of {BATCHES} batches of {count}, microseconds per operation")
    print(f"{'query':34} {'JIT':>8} {'Strawberry':>11} {'ratio':>7}")
    for name, jit_us, slow_us in rows:
        print(f"{name:34} {jit_us:8.0f} {slow_us:11.0f} {slow_us / jit_us:6.2f}x")


if __name__ == "__main__":
    main()
