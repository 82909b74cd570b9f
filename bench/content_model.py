"""Content model benchmark: a list of 50 entries with 10 typed fields against the same
list without them, side by side in one run.

    python bench/content_model.py [--pages 1000] [--duration 3] [--pairs 5] [--quick]

On bench/generate.py's corpus (seed 1) in a temporary folder, each page given 10 typed
front matter values (price, duration, sessions, rating, featured, level, room, code,
since, tags) and an admin/config.yml (Decap CMS) declaring them on the treatments
collection, from `contentapi serve --workers 1` with its response caches off (each query
executed, not replayed); wrk, POST, 2 threads, 64 connections, the two sides alternating
(--pairs runs of --duration seconds each), the ratio the median of the pairs' ratios:

1. `treatments(first: 50)` with the 10 typed fields against the same list without them
   (title, summary, images { src }, indications { name } on both);
2. `treatmentCollection(first: 50)` (the generated connection) with the typed fields
   against `treatments(first: 50)` without them;
3. for reference, the list with ten of Treatment's own scalar fields (slug, uri, path,
   wordCount, ...) in their place against the list without: what ten more values per
   entry cost the executor whatever they are.

Before the runs the server's /readyz must say fastPathFallbacks 0 after both lists were
answered: the fast executor ran the generated fields itself.

--quick (200 pages, one pair of 1 s wrk runs) is a smoke run: it exits 1 if the server did
not start, an answer was wrong, a fallback was counted or wrk saw errors. Without wrk it
exits 2. Load goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import rich_text as rt  # noqa: E402 - a sibling script, found through bench/

tp = rt.tp
BASE = "title summary images { src } indications { name }"
TYPED = "price duration sessions rating featured level room code since tags"
PLAIN_LIST = "{ treatments(first: 50) { nodes { " + BASE + " } } }"
TYPED_LIST = "{ treatments(first: 50) { nodes { " + BASE + " " + TYPED + " } } }"
# For reference: ten of Treatment's own scalar fields in their place (plain attribute reads).
BUILTIN = "slug uri path wordCount readingTimeMinutes draft order date updatedAt id"
BUILTIN_LIST = "{ treatments(first: 50) { nodes { " + BASE + " " + BUILTIN + " } } }"
COLLECTION_LIST = "{ treatmentCollection(first: 50) { nodes { " + BASE + " " + TYPED + " } } }"
CONFIG = """\
backend: {name: test-repo}
media_folder: img
public_folder: /img
collections:
  - name: treatments
    label: Treatments
    folder: "."
    nested: {depth: 3}
    fields:
      - {name: title, widget: string}
      - {name: price, widget: number, value_type: float, min: 0}
      - {name: duration, widget: number, value_type: int}
      - {name: sessions, widget: number, value_type: int}
      - {name: rating, widget: number, value_type: float, min: 0, max: 5}
      - {name: featured, widget: boolean}
      - {name: level, widget: select, options: [gentle, standard, intensive]}
      - {name: room, widget: string}
      - {name: code, widget: string, pattern: ['^[A-Z]{2}-[0-9]{4}$', 'like TR-0001']}
      - {name: since, widget: datetime, time_format: false}
      - {name: tags, widget: list}
      - {name: body, widget: markdown}
"""
LEVELS = ("gentle", "standard", "intensive")


def typed_front_matter(position: int) -> str:
    """Ten typed values for the page at `position`, as an editor in Decap would write them."""
    return (
        f"price: {80 + position % 170}.5\n"
        f"duration: {30 + position % 90}\n"
        f"sessions: {1 + position % 8}\n"
        f"rating: {1 + (position % 40) / 10}\n"
        f"featured: {'true' if position % 3 == 0 else 'false'}\n"
        f"level: {LEVELS[position % 3]}\n"
        f"room: Room {1 + position % 6}\n"
        f"code: TR-{position:04d}\n"
        f"since: 20{10 + position % 15}-0{1 + position % 9}-1{position % 10}\n"
        f"tags: [skin, clinic-{position % 7}]\n"
    )


def add_model(content: Path) -> int:
    """Write the typed values into every page and the Decap config; how many pages."""
    pages = sorted(content.rglob("*.md"))
    for position, page in enumerate(pages):
        text = page.read_text(encoding="utf-8")
        head, _, rest = text.partition("---\n")
        assert head == "", page
        page.write_text("---\n" + typed_front_matter(position) + rest, encoding="utf-8")
    (content / "admin").mkdir()
    (content / "admin" / "config.yml").write_text(CONFIG, encoding="utf-8")
    return len(pages)


def check(graphql: str, base: str) -> list[str]:
    failures = []
    for query, key in (
        (PLAIN_LIST, "treatments"),
        (TYPED_LIST, "treatments"),
        (COLLECTION_LIST, "treatmentCollection"),
    ):
        status, answer = tp.fetch(graphql, json.dumps({"query": query}).encode())
        found = json.loads(answer)
        nodes = (found.get("data") or {}).get(key, {}).get("nodes", [])
        if status != 200 or "errors" in found or len(nodes) != 50:
            failures.append(f"{key} answered {status}: {answer[:300]!r}")
        elif query != PLAIN_LIST and any(node["price"] is None for node in nodes):
            failures.append(f"{key}: an entry has no price (the model did not apply)")
    with urllib.request.urlopen(base + "/readyz", timeout=10) as response:  # noqa: S310
        ready = json.loads(response.read())
    if ready.get("fastPathFallbacks") != 0:
        failures.append(f"the fast path fell back: /readyz says {ready}")
    return failures


def run(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    seconds = 1 if args.quick else args.duration
    pairs = 1 if args.quick else args.pairs
    count = 200 if args.quick else args.pages
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="contentapi-bench-model-") as folder:
        work = Path(folder)
        content = work / "content"
        tp.generate(content, count)
        pages = add_model(content)
        server = rt.serve(work, content, CONTENTAPI_RESPONSE_CACHE_BYTES="0")
        with tp.running([server]):
            if server.failure:
                print(f"ours: {server.failure}\n{server.log_tail()}", file=sys.stderr)
                return 1
            base = f"http://{rt.HOST}:{server.port}"
            graphql = base + "/graphql"
            failures += check(graphql, base)
            runs: dict[str, list[Any]] = {"typed": [], "collection": [], "plain": [], "own": []}
            for _ in range(pairs):
                runs["typed"].append(rt.wrk_post(graphql, TYPED_LIST, work, seconds))
                runs["plain"].append(rt.wrk_post(graphql, PLAIN_LIST, work, seconds))
                runs["collection"].append(rt.wrk_post(graphql, COLLECTION_LIST, work, seconds))
                runs["own"].append(rt.wrk_post(graphql, BUILTIN_LIST, work, seconds))
            typed, plain, typed_ratio = rt.paired(runs["typed"], runs["plain"])
            collection, plain2, collection_ratio = rt.paired(runs["collection"], runs["plain"])
            own, plain3, own_ratio = rt.paired(runs["own"], runs["plain"])
    rows = [
        f"{pages:,} pages, 10 typed fields each; response caches off",
        "| measure | ours | baseline | ratio |",
        "|---|---|---|---|",
        f"| `treatments(first: 50)` with the 10 typed fields vs without | "
        f"{tp._cell(typed)} | {tp._cell(plain)} | {typed_ratio} |",
        f"| `treatmentCollection(first: 50)` with them vs `treatments(first: 50)` without | "
        f"{tp._cell(collection)} | {tp._cell(plain2)} | {collection_ratio} |",
        f"| for reference: the list with 10 of Treatment's own scalar fields vs without | "
        f"{tp._cell(own)} | {tp._cell(plain3)} | {own_ratio} |",
    ]
    print("\n".join(rows))
    for result in [*runs["typed"], *runs["plain"], *runs["collection"], *runs["own"]]:
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
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
