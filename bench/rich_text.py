"""Rich text benchmark: what Treatment.ast costs, measured side by side in one run.

    python bench/rich_text.py [--pages 1000] [--duration 3] [--pairs 5] [--rounds 5] [--quick]

On bench/generate.py's corpus (seed 1) in a temporary folder, plus the bundled seed page:

1. served: `treatments(first: 50)` with `ast` against the same list with `html` (bench/
   throughput.py's list (c) plus the body), from `contentapi serve --workers 1` with its
   response caches off (each query executed, not replayed); wrk, POST, 2 threads, 64
   connections. The two sides alternate (--pairs runs of --duration seconds each) and the
   ratio is the median of the pairs' ratios. Goal: ast / html >= 0.9 (the tree is read
   from the packed body and only its ids filled in, not rebuilt per request).
2. index time: per page, building the tree (mdast.rich_text over the page's sanitised
   html, as page.py does) against the whole parse of the page (parse_page, which includes
   it), in this process, interleaved over --rounds rounds, medians; and the bytes the
   packed tree adds to a body beside its html.

--quick (200 pages, one pair of 1 s wrk runs, 2 rounds) is a smoke run: it exits 1 if the
server did not start, an answer was wrong or wrk saw errors. Without wrk it exits 2. Load
goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
HOST = "127.0.0.1"
LIST = (
    "{ treatments(first: 50) { nodes { title summary %s images { src } indications { name } } } }"
)
WITH_AST = LIST % "ast"
WITH_HTML = LIST % "html"


sys.path.insert(0, str(BENCH))
import throughput as tp  # noqa: E402 - a sibling script (bench/ is not a package)


def serve(work: Path, content: Path, **env: str) -> Any:
    """`contentapi serve --workers 1` on content, started (check .failure)."""
    port = tp.free_port()
    command = [sys.executable, "-m", "contentapi", "serve", "--content", str(content)]
    command += ["--workers", "1", "--host", HOST, "--port", str(port)]
    settings = {"CONTENTAPI_CACHE_DIR": str(work / "cache"), "CONTENTAPI_ACCESS_LOG": "", **env}
    server = tp.Server("ours", command, tp.server_env(**settings), work / "ours.log", port)
    started = time.monotonic()
    server.start()
    server.wait_ready(started)
    return server


def wrk_post(url: str, query: str, work: Path, seconds: int) -> Any:
    data = work / f"body-{abs(hash(query))}.json"
    data.write_bytes(json.dumps({"query": query}).encode())
    return tp.run_wrk(url, BENCH / "post.lua", data, seconds)


def paired(ours: list[Any], theirs: list[Any]) -> tuple[Any, Any, str]:
    """The runs of the middle pair and the median of the pairs' ratios: each pair ran
    back to back, so load from other processes on the machine hits both sides alike."""
    ratios = [
        a.requests_per_second / b.requests_per_second if b.requests_per_second else 0.0
        for a, b in zip(ours, theirs, strict=True)
    ]
    middle = sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]
    return ours[middle], theirs[middle], f"{statistics.median(ratios):.2f}×"


def index_cost(content: Path, rounds: int) -> dict[str, float]:
    """Median microseconds per page of building the tree and of parsing the page, and the
    packed tree's and the html's mean bytes."""
    from contentapi.content.markup import Renderer
    from contentapi.content.mdast import rich_text
    from contentapi.content.model import Treatment
    from contentapi.content.page import parse_page

    renderer = Renderer()
    files = sorted(content.rglob("*.md"))
    sources = [(path.relative_to(content).as_posix(), path.read_bytes()) for path in files]
    pages = [parse_page(data, shown, renderer, content) for shown, data in sources]
    treatments = [page for page in pages if isinstance(page, Treatment)]
    inputs = [(page.html, page.images, page.path, page.uri) for page in treatments]
    trees: list[float] = []
    parses: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        for fragment, images, path, uri in inputs:
            rich_text(fragment, images, path, uri)
        trees.append((time.perf_counter() - started) / len(inputs))
        started = time.perf_counter()
        for shown, data in sources:
            parse_page(data, shown, renderer, content)
        parses.append((time.perf_counter() - started) / len(sources))
    return {
        "pages": len(treatments),
        "tree_us": statistics.median(trees) * 1e6,
        "parse_us": statistics.median(parses) * 1e6,
        "ast_bytes": statistics.mean(len(page.ast_packed) for page in treatments),
        "html_bytes": statistics.mean(len(page.html.encode()) for page in treatments),
    }


def check_lists(graphql: str) -> list[str]:
    """Both lists answer 50 pages, the ast one with trees and no html."""
    failures = []
    for query, field in ((WITH_AST, "ast"), (WITH_HTML, "html")):
        status, answer = tp.fetch(graphql, json.dumps({"query": query}).encode())
        found = json.loads(answer)
        nodes = (found.get("data") or {}).get("treatments", {}).get("nodes", [])
        if status != 200 or "errors" in found or len(nodes) != 50:
            failures.append(f"the list with {field} answered {status}: {answer[:300]!r}")
        elif field == "ast" and not all(
            node["ast"]["type"] == "root" and node["ast"]["children"] for node in nodes
        ):
            failures.append("a page of the list has an empty tree")
    return failures


def run(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    seconds = 1 if args.quick else args.duration
    pairs = 1 if args.quick else args.pairs
    rounds = 2 if args.quick else args.rounds
    count = 200 if args.quick else args.pages
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="contentapi-bench-rich-text-") as folder:
        work = Path(folder)
        content = work / "content"
        tp.generate(content, count)
        shutil.copy(ROOT / "content" / "mesotherapy.md", content / "mesotherapy.md")
        cost = index_cost(content, rounds)
        server = serve(work, content, CONTENTAPI_RESPONSE_CACHE_BYTES="0")
        with tp.running([server]):
            if server.failure:
                print(f"ours: {server.failure}\n{server.log_tail()}", file=sys.stderr)
                return 1
            graphql = f"http://{HOST}:{server.port}/graphql"
            failures += check_lists(graphql)
            lists: dict[str, list[Any]] = {"ast": [], "html": []}
            for _ in range(pairs):
                lists["ast"].append(wrk_post(graphql, WITH_AST, work, seconds))
                lists["html"].append(wrk_post(graphql, WITH_HTML, work, seconds))
            best_ast, best_html, ratio = paired(lists["ast"], lists["html"])
    rows = [
        "| measure | ours | baseline | ratio | goal |",
        "|---|---|---|---|---|",
        f"| list of 50 with `ast` vs with `html` (response caches off) | "
        f"{tp._cell(best_ast)} | {tp._cell(best_html)} | {ratio} | >= 0.9 |",
        f"| index time per page: building the tree vs the whole parse (median of {rounds}, "
        f"{cost['pages']:,} pages) | {cost['tree_us']:.0f} µs | {cost['parse_us']:.0f} µs | "
        f"{cost['tree_us'] / cost['parse_us']:.2f}× | |",
        f"| bytes per body: the packed tree vs the html | {cost['ast_bytes']:,.0f} B | "
        f"{cost['html_bytes']:,.0f} B | {cost['ast_bytes'] / cost['html_bytes']:.2f}× | |",
    ]
    print("\n".join(rows))
    for result in [*lists["ast"], *lists["html"]]:
        if not result.ok:
            failures.append(f"a wrk run failed: {result.failure or result.errors} errors")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=1000, help="pages of the generated corpus")
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--pairs", type=int, default=5, help="wrk runs of each side, alternating")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the index-time timing")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
