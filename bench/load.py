"""Load benchmark: cold, parallel and warm-start loading, FTS, a built index served by one
and two workers, single-file re-index, parsers."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
QUICK_SIZES = (200,)
DEFAULT_SIZES = (1000, 10000)
PARSER_BODIES = 1000
REINDEX_REPEATS = 7
# Goals from the brief: row key -> (limit, text shown, smallest corpus it is judged at).
GOALS = {
    "pool_ratio": (0.6, "<= 0.6", 0),
    "warm_ratio": (0.1, "<= 0.1", 0),
    "reindex_ms": (20.0, "<= 20 @10k", 10_000),
    "open_ready_s": (2.0, "<= 2 s @10k", 10_000),
    "open_ratio": (0.05, "<= 0.05", 0),
    "served_two_ratio": (1.3, "<= 1.3x", 0),
    "served_rss_ratio": (1.5, "<= 1.5x @10k", 10_000),
    "worker_ratio": (3.0, "<= 3x @10k", 10_000),
}

Measure = dict[str, Any]


# --- Measurements: each runs in a fresh interpreter started with --measure. ---------------


def _peak_rss_mb(who: int) -> float:
    """Peak resident set size of this process (or of its largest waited-for child) in MB
    (10^6 bytes, the unit of the corpus size)."""
    peak = resource.getrusage(who).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def _rss() -> dict[str, float]:
    """Peak RSS of this process, of its largest child and their sum, in MB."""
    own = _peak_rss_mb(resource.RUSAGE_SELF)
    children = _peak_rss_mb(resource.RUSAGE_CHILDREN)
    return {"rss_self_mb": own, "rss_children_mb": children, "rss_mb": own + children}


def _cached_rows(cache: Path | None) -> int:
    """How many pages the warm-start cache in `cache` holds (0 if none)."""
    database = cache / "pages.sqlite" if cache is not None else None
    if database is None or not database.exists():
        return 0
    with closing(sqlite3.connect(database)) as db:
        count: int = db.execute("SELECT count(*) FROM pages").fetchone()[0]
    return count


def measure_load(spec: Measure) -> Measure:
    """Time load_all + ContentIndex.from_pages (what from_directory does) on one folder."""
    from contentapi.content.index import ContentIndex
    from contentapi.content.load import load_all

    root = Path(spec["root"])
    cache = Path(spec["cache"]) if spec.get("cache") else None
    rows_before = _cached_rows(cache)
    base = _peak_rss_mb(resource.RUSAGE_SELF)
    start = time.perf_counter()
    pages = load_all(root, workers=spec["workers"], cache_dir=cache)
    loaded = time.perf_counter()
    index = ContentIndex.from_pages(root, pages)
    done = time.perf_counter()
    usage = _rss()
    return {
        "seconds": done - start,
        "load_seconds": loaded - start,
        "index_seconds": done - loaded,
        "pages": len(pages),
        "treatments": len(index.preview.treatments),
        "errors": len(index.errors),
        "base_rss_mb": base,
        # Pages this load added to the cache: on a warm start, pages parsed again.
        "cache_misses": _cached_rows(cache) - rows_before,
        **usage,
    }


def measure_fts(spec: Measure) -> Measure:
    """Time building the public view's FTS5 index (after a warm-start load)."""
    from contentapi.content.index import ContentIndex

    index = ContentIndex.from_directory(Path(spec["root"]), cache_dir=Path(spec["cache"]))
    start = time.perf_counter()
    search = index.public.search_index
    seconds = time.perf_counter() - start
    hits = len(search.search("skin", limit=5))
    return {"seconds": seconds, "rows": len(index.public.treatments), "hits": hits, **_rss()}


def measure_reindex(spec: Measure) -> Measure:
    """Time parse_page on one edited page plus ContentIndex.from_pages with it swapped in,
    made from the index before (as live reload does), edit after edit."""
    from contentapi.content.index import ContentIndex
    from contentapi.content.load import load_all
    from contentapi.content.markup import Renderer
    from contentapi.content.model import Treatment
    from contentapi.content.page import parse_page

    root = Path(spec["root"])
    pages = load_all(root, cache_dir=Path(spec["cache"]))
    index = ContentIndex.from_pages(root, pages)
    # What a serving index holds after a few requests: both views, their default order and
    # search indexes, which an edit patches (ContentIndex.from_pages(previous=)).
    for preview in (False, True):
        index.view(preview).search("skin", 10)
        assert index.view(preview).by_title
    treatments = [i for i, page in enumerate(pages) if isinstance(page, Treatment)]
    position = treatments[len(treatments) // 2]
    shown = pages[position].path
    original = (root / shown).read_bytes()
    renderer = Renderer()  # a watcher keeps one; its construction is not counted
    parse_ms: list[float] = []
    rebuild_ms: list[float] = []
    total_ms: list[float] = []
    for repeat in range(spec["repeats"]):
        data = original + f"\nEdited sentence number {repeat}.\n".encode()
        start = time.perf_counter()
        page = parse_page(data, shown, renderer)
        parsed = time.perf_counter()
        edited = list(pages)
        edited[position] = page
        index = ContentIndex.from_pages(root, edited, previous=index)
        done = time.perf_counter()
        pages = edited
        if not isinstance(page, Treatment) or index.preview.by_slug[page.slug] is not page:
            raise RuntimeError(f"the edited page {shown} did not make it into the index")
        parse_ms.append((parsed - start) * 1000)
        rebuild_ms.append((done - parsed) * 1000)
        total_ms.append((done - start) * 1000)
    return {
        "page": shown,
        "parse_ms": statistics.median(parse_ms),
        "rebuild_ms": statistics.median(rebuild_ms),
        "total_ms": statistics.median(total_ms),
        "total_max_ms": max(total_ms),
    }


def measure_reindex_built(spec: Measure) -> Measure:
    """One file edited in place under `serve --index --watch`: live reload over the built
    index's pages (the others' bodies stay in the file) reading, parsing and indexing it,
    then the swap that serves it, with the change record's entry (as the server's watcher
    does), edit after edit (the file is written before the clock starts). The record is
    kept in a cache folder, as by default: its file's write, off the event loop, is timed
    apart."""
    from contentapi.content.changes import ChangeLog
    from contentapi.content.indexfile import open_index
    from contentapi.content.model import Treatment
    from contentapi.content.reload import LiveIndex
    from contentapi.content.store import ContentStore

    root = Path(spec["root"])
    opened = open_index(Path(spec["index"]), root)
    live = LiveIndex(root, opened.pages, index=opened.index)
    record = ChangeLog.in_folder(Path(spec["cache"]), root, 100)
    store = ContentStore(opened.index, record)
    record.flush()
    for preview in (False, True):
        opened.index.view(preview).search("skin", 10)
        assert opened.index.view(preview).by_title
    treatments = [page for page in opened.pages if isinstance(page, Treatment)]
    shown = treatments[len(treatments) // 2].path
    file = root / shown
    original = file.read_bytes()
    total_ms: list[float] = []
    written_ms: list[float] = []
    try:
        for repeat in range(spec["repeats"]):
            file.write_bytes(original + f"\nEdited sentence number {repeat}.\n".encode())
            start = time.perf_counter()
            live.update([file])
            index = live.index()
            store.swap(index)
            swapped = time.perf_counter()
            total_ms.append((swapped - start) * 1000)
            record.flush()
            written_ms.append((time.perf_counter() - swapped) * 1000)
            served = index.preview.by_uri[treatments[len(treatments) // 2].uri]
            if f"number {repeat}." not in served.text:
                raise RuntimeError(f"the edit of {shown} did not make it into the index")
    finally:
        file.write_bytes(original)
    return {
        "total_ms": statistics.median(total_ms),
        "total_max_ms": max(total_ms),
        "written_ms": statistics.median(written_ms),
    }


def _best_per_item_ms(work: Callable[[str], object], items: list[str], passes: int) -> float:
    """Best-of-`passes` wall time per item in ms, after one untimed warm-up item."""
    if not items:
        return float("nan")
    work(items[0])
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - start)
    return best * 1000 / len(items)


def measure_parsers(spec: Measure) -> Measure:
    """Per-page ms: Python-Markdown vs markdown-it-py, and yaml SafeLoader vs CSafeLoader."""
    import markdown
    import yaml

    from contentapi.content import frontmatter as metadata
    from contentapi.content.paths import find_pages

    files = [p for p in find_pages(Path(spec["root"])) if isinstance(p, Path)]
    fronts: list[str] = []
    bodies: list[str] = []
    for path in files[: spec["count"]]:
        front, body, _, kind = metadata.split(path.read_text(encoding="utf-8-sig"))
        bodies.append(body)
        if front and kind == "yaml":
            fronts.append(front)
    passes = spec["passes"]
    result: Measure = {"bodies": len(bodies), "fronts": len(fronts)}

    python_markdown = markdown.Markdown(extensions=["extra", "toc", "sane_lists"])

    def convert(body: str) -> object:
        python_markdown.reset()
        return python_markdown.convert(body)

    result["python_markdown_ms"] = _best_per_item_ms(convert, bodies, passes)
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        result["markdown_it_ms"] = None
    else:
        result["markdown_it_ms"] = _best_per_item_ms(
            MarkdownIt("commonmark").enable("table").render, bodies, passes
        )

    def safe(text: str) -> object:
        return yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - a safe loader

    result["safe_loader_ms"] = _best_per_item_ms(safe, fronts, passes)
    c_loader = getattr(yaml, "CSafeLoader", None)
    if c_loader is None:
        result["c_safe_loader_ms"] = None
    else:

        def fast(text: str) -> object:
            return yaml.load(text, Loader=c_loader)  # noqa: S506 - a safe loader

        result["c_safe_loader_ms"] = _best_per_item_ms(fast, fronts, passes)
    return result


def measure_profile(spec: Measure) -> Measure:
    """cProfile of a cold one-process ContentIndex.from_directory, top entries by cumtime."""
    import cProfile
    import io
    import pstats

    from contentapi.content.index import ContentIndex

    profiler = cProfile.Profile()
    profiler.enable()
    ContentIndex.from_directory(Path(spec["root"]), workers=1)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(spec["top"])
    return {"text": out.getvalue()}


MEASURES: dict[str, Callable[[Measure], Measure]] = {
    "load": measure_load,
    "fts": measure_fts,
    "reindex": measure_reindex,
    "reindex_built": measure_reindex_built,
    "parsers": measure_parsers,
    "profile": measure_profile,
}


# --- Driver: generates corpora, starts one interpreter per measurement, prints the table. --


def run(kind: str, **spec: Any) -> Measure:
    """Run one measurement in a fresh interpreter and return what it reported."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", kind, json.dumps(spec)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"measurement {kind} {spec} failed with exit code {done.returncode}")
    result: Measure = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def make_corpus(root: Path, count: int, kind: str = "clinic") -> float:
    """Generate `count` pages of `kind` under root and return their total size in MB."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    from generate import generate

    generate(root, count, kind=kind)
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6


def measure_worker(root: Path, cache: Path, log: Path) -> Measure:
    """Peak RSS of a real `contentapi serve` worker on `root`, once it has answered a
    single query, a list of 50 and a search (which builds the search index): on a first
    start, which fills the page cache in `cache`, then on a warm start."""
    from throughput import QUERY_B, QUERY_C, QUERY_D, Server, body, fetch, free_port, server_env

    result: Measure = {}
    for start in ("first", "warm"):
        port = free_port()
        command = [sys.executable, "-m", "contentapi", "serve", "--content", str(root)]
        server = Server(
            "ours",
            [*command, "--workers", "1", "--host", "127.0.0.1", "--port", str(port)],
            server_env(CONTENTAPI_CACHE_DIR=str(cache)),
            log,
            port,
        )
        began = time.monotonic()
        server.start()
        try:
            if not server.wait_ready(began):
                raise SystemExit(f"the server did not start: {server.failure}\n{server.log_tail()}")
            result[f"{start}_ready_s"] = time.monotonic() - began
            slug = min(p.stem for p in root.rglob("*.md"))
            for query in (body(QUERY_B, {"slug": slug}), body(QUERY_C), body(QUERY_D)):
                status, answer = fetch(server.url, query)
                if status != 200 or b'"errors"' in answer:
                    raise SystemExit(f"the server answered {status}: {answer[:300]!r}")
            peak = server.peak_rss_mb()
            if peak is None:
                raise SystemExit("could not read the server's peak RSS")
            result[f"{start}_rss"] = peak
        finally:
            server.stop()
    return result


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+)\s+kB", status, re.MULTILINE)
    return int(found.group(1)) * 1024 / 1e6 if found else float("nan")


def _pss_mb(pid: int) -> float:
    """The process's proportional set size: each page it shares counted as 1/n of a page
    for the n processes sharing it, so a server's processes add up to what it holds."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    found = re.search(r"^Pss:\s+(\d+)\s+kB", rollup, re.MULTILINE)
    return int(found.group(1)) * 1024 / 1e6 if found else float("nan")


def _family(pid: int) -> list[int]:
    """The process and every process below it."""
    return [pid, *(below for child in _children(pid) for below in _family(child))]


def _children(pid: int) -> list[int]:
    """The processes `pid` started (uvicorn's workers), from /proc."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in listed]


def _median_ms(url: str, query: bytes, repeats: int) -> float:
    from throughput import fetch

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        status, answer = fetch(url, query)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200 or b'"errors"' in answer:
            raise SystemExit(f"the server answered {status}: {answer[:300]!r}")
    return statistics.median(times)


def build_index(root: Path, out: Path, workers: int) -> Measure:
    """`contentapi build` of root with `workers` processes and no page cache, timed."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "contentapi", "build", str(root), "-o", str(out)]
        + ["--processes", str(workers), "--cache-dir", ""],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"contentapi build failed:\n{done.stderr}")
    return {"seconds": time.perf_counter() - start, "bytes": out.stat().st_size}


def measure_served(
    root: Path, index: Path, workers: int, log: Path, repeats: int, spawned: bool = False
) -> Measure:
    """A real `contentapi serve --index` (response caches off, so every answer is
    executed): seconds from start to /readyz, the first search's time, then medians of a
    single query, a list of 50 and a search, and the memory of its workers. `spawned`:
    the same app under uvicorn's own workers (spawned, each loading the index itself), as
    `serve --workers N` ran it before the workers were forked from one load."""
    from throughput import QUERY_B, QUERY_C, QUERY_D, Server, body, free_port, server_env

    port = free_port()
    env = server_env(CONTENTAPI_CACHE_DIR="", CONTENTAPI_RESPONSE_CACHE_BYTES="0")
    command = [sys.executable, "-m", "contentapi", "serve", "--content", str(root)]
    command += ["--index", str(index), "--workers", str(workers)]
    if spawned:
        env.update(CONTENTAPI_CONTENT_DIR=str(root), CONTENTAPI_INDEX=str(index))
        command = [sys.executable, "-m", "uvicorn", "--factory", "--workers", str(workers)]
        command += ["contentapi.http.starting:create_serving_app", "--no-access-log"]
    server = Server("ours", [*command, "--host", "127.0.0.1", "--port", str(port)], env, log, port)
    began = time.monotonic()
    server.start()
    try:
        if not server.wait_ready(began, timeout=120):
            raise SystemExit(f"the server did not start: {server.failure}\n{server.log_tail()}")
        ready = time.monotonic() - began
        slug = min(p.stem for p in root.rglob("*.md"))
        # The first request of a process compiles its query and warms the interpreter:
        # a single query first, so the first search costs what searching does.
        first_single = _median_ms(server.url, body(QUERY_B, {"slug": slug}), 1)
        first_search = _median_ms(server.url, body(QUERY_D), 1)
        single = _median_ms(server.url, body(QUERY_B, {"slug": slug}), repeats)
        listed = _median_ms(server.url, body(QUERY_C), repeats)
        search = _median_ms(server.url, body(QUERY_D), repeats)
        assert server.process is not None
        started = server.process.pid
        # `serve` serves in the process it starts (with --workers N the others are its
        # children); uvicorn's own workers are children of a process that only watches.
        pids = _children(started) if spawned else _family(started)
        pids = [pid for pid in pids if _rss_mb(pid) > 30] or pids  # not the resource tracker
        return {
            # The memory of the whole server: the process that loaded the content and the
            # workers forked from it share pages (contentapi/http/forked.py).
            "pss_mb": sum(_pss_mb(pid) for pid in _family(started)),
            "ready_s": ready,
            "first_search_ms": first_search,
            "first_single_ms": first_single,
            "single_ms": single,
            "list_ms": listed,
            "search_ms": search,
            "rss_mb": sum(_rss_mb(pid) for pid in pids),
        }
    finally:
        server.stop()


def bench_built(work: Path, count: int, quick: bool, kind: str) -> Measure:
    """Only the built index's rows (--index-only: no cold, pooled or warm loads, which
    take minutes at 50,000 pages)."""
    root = work / f"corpus-{count}"
    corpus_mb = make_corpus(root, count, kind)
    index = work / f"index-{count}.sqlite"
    built = build_index(root, index, os.cpu_count() or 1)
    repeats = 5 if quick else 15
    one = measure_served(root, index, 1, work / f"served-1-{count}.log", repeats)
    two = measure_served(root, index, 2, work / f"served-2-{count}.log", repeats)
    spawned = measure_served(root, index, 2, work / f"spawned-{count}.log", repeats, True)
    cache = work / f"cache-{count}"
    edit = run(
        "reindex_built",
        root=str(root),
        index=str(index),
        cache=str(cache),
        repeats=3 if quick else 7,
    )
    return {
        "corpus_mb": corpus_mb,
        "build_s": built["seconds"],
        "build_mb": built["bytes"] / 1e6,
        "open_ready_s": one["ready_s"],
        "first_search_ms": one["first_search_ms"],
        "first_single_ms": one["first_single_ms"],
        "single_ms": one["single_ms"],
        "list_ms": one["list_ms"],
        "search_ms": one["search_ms"],
        "served_rss": one["rss_mb"],
        "served_rss_ratio": one["rss_mb"] / corpus_mb,
        "served_two_rss": two["rss_mb"],
        "served_two_ratio": two["pss_mb"] / one["pss_mb"],
        "served_pss": one["pss_mb"],
        "served_two_pss": two["pss_mb"],
        "served_two_ready_s": two["ready_s"],
        "spawned_two_pss": spawned["pss_mb"],
        "spawned_two_ratio": spawned["pss_mb"] / one["pss_mb"],
        "reindex_built_ms": edit["total_ms"],
        "reindex_built_max_ms": edit["total_max_ms"],
        "reindex_built_written_ms": edit["written_ms"],
    }


def bench_size(work: Path, count: int, quick: bool, kind: str) -> Measure:
    """Every per-size measurement for one freshly generated corpus."""
    root = work / f"corpus-{count}"
    cache = work / f"cache-{count}"
    corpus_mb = make_corpus(root, count, kind)
    cold = run("load", root=str(root), workers=1)
    pool = run("load", root=str(root), workers=2)
    fill = run("load", root=str(root), workers=1, cache=str(cache))
    warm = run("load", root=str(root), workers=1, cache=str(cache))
    fts = run("fts", root=str(root), cache=str(cache))
    reindex = run("reindex", root=str(root), cache=str(cache), repeats=3 if quick else 7)
    worker = measure_worker(root, work / f"worker-cache-{count}", work / f"worker-{count}.log")
    index = work / f"index-{count}.sqlite"
    built = build_index(root, index, os.cpu_count() or 1)
    repeats = 5 if quick else 15
    one = measure_served(root, index, 1, work / f"served-1-{count}.log", repeats)
    two = measure_served(root, index, 2, work / f"served-2-{count}.log", repeats)
    if warm["pages"] != cold["pages"] or pool["pages"] != cold["pages"]:
        raise SystemExit(f"page counts differ between loads of {root}")
    return {
        "pages": cold["pages"],
        "treatments": cold["treatments"],
        "errors": cold["errors"],
        "corpus_mb": corpus_mb,
        "cold_s": cold["seconds"],
        "cold_index_s": cold["index_seconds"],
        "pages_per_s": cold["pages"] / cold["seconds"],
        "cold_rss": cold["rss_mb"],
        "base_rss": cold["base_rss_mb"],
        "rss_ratio": cold["rss_mb"] / corpus_mb,
        "growth_ratio": (cold["rss_mb"] - cold["base_rss_mb"]) / corpus_mb,
        "pool_s": pool["seconds"],
        "pool_ratio": pool["seconds"] / cold["seconds"],
        "pool_rss_self": pool["rss_self_mb"],
        "pool_rss_children": pool["rss_children_mb"],
        "fill_s": fill["seconds"],
        "fill_rss": fill["rss_mb"],
        "warm_s": warm["seconds"],
        "warm_ratio": warm["seconds"] / cold["seconds"],
        "warm_misses": warm["cache_misses"],
        "warm_rss": warm["rss_mb"],
        "fts_s": fts["seconds"],
        "fts_rss": fts["rss_mb"],
        "worker_first_rss": worker["first_rss"],
        "worker_warm_rss": worker["warm_rss"],
        "worker_ratio": max(worker["first_rss"], worker["warm_rss"]) / corpus_mb,
        "build_s": built["seconds"],
        "build_mb": built["bytes"] / 1e6,
        "open_ready_s": one["ready_s"],
        "open_ratio": one["ready_s"] / cold["seconds"],
        "first_search_ms": one["first_search_ms"],
        "first_single_ms": one["first_single_ms"],
        "single_ms": one["single_ms"],
        "list_ms": one["list_ms"],
        "search_ms": one["search_ms"],
        "served_rss": one["rss_mb"],
        "served_rss_ratio": one["rss_mb"] / corpus_mb,
        "served_two_rss": two["rss_mb"],
        "served_two_ratio": two["pss_mb"] / one["pss_mb"],
        "served_pss": one["pss_mb"],
        "served_two_pss": two["pss_mb"],
        "served_two_ready_s": two["ready_s"],
        "reindex_ms": reindex["total_ms"],
        "reindex_max_ms": reindex["total_max_ms"],
        "reindex_parse_ms": reindex["parse_ms"],
        "reindex_rebuild_ms": reindex["rebuild_ms"],
    }


ROWS: tuple[tuple[str, str, str], ...] = (
    ("pages (treatments + errors)", "pages", "{:,.0f}"),
    ("  of which errors", "errors", "{:,.0f}"),
    ("corpus size on disk, MB (file bytes)", "corpus_mb", "{:.2f}"),
    ("cold load, 1 process: seconds", "cold_s", "{:.2f}"),
    ("  of which from_pages (index), seconds", "cold_index_s", "{:.3f}"),
    ("  pages/s", "pages_per_s", "{:,.0f}"),
    ("  peak RSS, MB", "cold_rss", "{:.1f}"),
    ("  RSS before loading (interpreter + imports), MB", "base_rss", "{:.1f}"),
    ("  peak RSS / corpus size", "rss_ratio", "{:.1f}x"),
    ("  (peak - before) RSS / corpus size", "growth_ratio", "{:.1f}x"),
    ("cold load, 2 workers: seconds", "pool_s", "{:.2f}"),
    ("  ratio vs 1 process", "pool_ratio", "{:.2f}"),
    ("  peak RSS parent, MB", "pool_rss_self", "{:.1f}"),
    ("  peak RSS largest worker (RUSAGE_CHILDREN), MB", "pool_rss_children", "{:.1f}"),
    ("first load filling the cache: seconds", "fill_s", "{:.2f}"),
    ("  peak RSS, MB", "fill_rss", "{:.1f}"),
    ("warm start (same cache_dir): seconds", "warm_s", "{:.3f}"),
    ("  ratio vs cold 1 process", "warm_ratio", "{:.3f}"),
    ("  cache misses (pages parsed again)", "warm_misses", "{:,.0f}"),
    ("  peak RSS, MB", "warm_rss", "{:.1f}"),
    ("FTS build (public.search_index): seconds", "fts_s", "{:.3f}"),
    ("  peak RSS after FTS, MB", "fts_rss", "{:.1f}"),
    ("server worker after a query, a list and a search:", "", ""),
    ("  peak RSS, first start (filling the cache), MB", "worker_first_rss", "{:.1f}"),
    ("  peak RSS, warm start, MB", "worker_warm_rss", "{:.1f}"),
    ("  the larger / corpus size", "worker_ratio", "{:.2f}x"),
    ("built index (contentapi build, all CPUs, no page cache): seconds", "build_s", "{:.2f}"),
    ("  file size, MB", "build_mb", "{:.1f}"),
    ("serve --index, 1 worker: start to /readyz, seconds", "open_ready_s", "{:.2f}"),
    ("  ratio vs cold load, 1 process", "open_ratio", "{:.3f}"),
    ("  first request after start (a single query, compiled), ms", "first_single_ms", "{:.1f}"),
    ("  first search after it (compiled too), ms", "first_search_ms", "{:.1f}"),
    ("  single query, ms (median, caches off)", "single_ms", "{:.2f}"),
    ("  list of 50, ms (median, caches off)", "list_ms", "{:.2f}"),
    ('  search "skin" 10 hits, ms (median, caches off)', "search_ms", "{:.2f}"),
    ("  RSS of the worker after those, MB", "served_rss", "{:.1f}"),
    ("  RSS / corpus size", "served_rss_ratio", "{:.2f}x"),
    ("  PSS of the server (every process), MB", "served_pss", "{:.1f}"),
    ("serve --index, 2 workers: RSS of both, MB", "served_two_rss", "{:.1f}"),
    ("  PSS of the server (every process), MB", "served_two_pss", "{:.1f}"),
    ("  PSS ratio vs 1 worker", "served_two_ratio", "{:.2f}x"),
    ("  start to /readyz, seconds", "served_two_ready_s", "{:.2f}"),
    ("  uvicorn's spawned workers instead (before): PSS, MB", "spawned_two_pss", "{:.1f}"),
    ("    PSS ratio vs 1 worker", "spawned_two_ratio", "{:.2f}x"),
    (
        "  one file edited under --watch (read, parse, index, swap, record), ms (median)",
        "reindex_built_ms",
        "{:.1f}",
    ),
    ("    slowest repeat, ms", "reindex_built_max_ms", "{:.1f}"),
    (
        "    then the change record's file written (its own thread), ms (median)",
        "reindex_built_written_ms",
        "{:.1f}",
    ),
    ("single-file re-index: ms (median)", "reindex_ms", "{:.1f}"),
    ("  slowest repeat, ms", "reindex_max_ms", "{:.1f}"),
    ("  parse_page, ms (median)", "reindex_parse_ms", "{:.2f}"),
    ("  ContentIndex.from_pages(previous=), ms (median)", "reindex_rebuild_ms", "{:.1f}"),
)


def print_table(results: dict[int, Measure]) -> None:
    """One row per metric, one column per corpus size, the goal and whether it is met."""
    label_width = max(len(label) for label, _, _ in ROWS)
    sizes = list(results)
    header = f"{'metric':<{label_width}}" + "".join(f"{f'{n:,} pages':>16}" for n in sizes)
    print(header + f"  {'goal':<11}")
    print("-" * (len(header) + 13))
    for label, key, fmt in ROWS:
        if not key:
            print(label)
            continue
        if all(key not in results[size] for size in sizes):
            continue  # not measured in this run (--index-only)
        cells = []
        for size in sizes:
            if key not in results[size]:
                cells.append(f"{'-':>16}")
                continue
            value = results[size][key]
            cell = fmt.format(value)
            if key in GOALS and size >= GOALS[key][2]:
                cell += " ok" if value <= GOALS[key][0] else " MISS"
            cells.append(f"{cell:>16}")
        goal = GOALS[key][1] if key in GOALS else ""
        print(f"{label:<{label_width}}" + "".join(cells) + f"  {goal}")


def print_parsers(parsers: Measure) -> None:
    """Python-Markdown vs markdown-it-py and SafeLoader vs CSafeLoader, per page."""

    def pair(name: str, slow: float, fast_name: str, fast: float | None) -> None:
        if fast is None:
            print(f"  {name}: {slow:.3f} ms/page; {fast_name}: not installed")
            return
        print(f"  {name:<56}{slow:8.3f} ms/page")
        print(f"  {fast_name:<56}{fast:8.3f} ms/page")
        print(f"  {'ratio (first / second)':<56}{slow / fast:8.1f}x")

    print(f"\nparser comparison, best of passes, same inputs ({parsers['bodies']:,} bodies):")
    pair(
        'Python-Markdown ["extra","toc","sane_lists"], reset',
        parsers["python_markdown_ms"],
        'markdown-it-py MarkdownIt("commonmark").enable("table")',
        parsers["markdown_it_ms"],
    )
    print(f"front matter ({parsers['fronts']:,} pages):")
    pair(
        "yaml.SafeLoader",
        parsers["safe_loader_ms"],
        "yaml.CSafeLoader",
        parsers["c_safe_loader_ms"],
    )


def _load_average() -> str:
    """The 1, 5 and 15 minute load averages, or 'n/a' where the OS has none."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and either run one measurement or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--quick", action="store_true", help="200 pages only, for CI smoke runs")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile a cold load of the first size"
    )
    parser.add_argument(
        "--index-only",
        action="store_true",
        help="only build, serve and edit a built index (the rows that matter at 50,000)",
    )
    parser.add_argument(
        "--kind",
        choices=("clinic", "docs"),
        default="clinic",
        help="bench/generate.py's pages: clinic (default) or docs (calibrated against"
        " cpp-docs, see bench/calibrate.py)",
    )
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        kind, spec = args.measure
        print(json.dumps(MEASURES[kind](json.loads(spec))))
        return 0
    sizes = list(QUICK_SIZES) if args.quick else [int(s) for s in args.sizes.split(",") if s]
    print(
        f"contentapi load benchmark: Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()} {platform.system()}, "
        f"load average {_load_average()}; {args.kind} pages; each measurement in a fresh"
        " interpreter, corpus files in the OS page cache"
    )
    results: dict[int, Measure] = {}
    with tempfile.TemporaryDirectory(prefix="contentapi-bench-") as tmp:
        work = Path(tmp)
        for size in sizes:
            measure = bench_built if args.index_only else bench_size
            results[size] = measure(work, size, args.quick, args.kind)
        print(f"load average at the end {_load_average()}\n")
        print_table(results)
        if args.index_only:
            return 0
        corpus = work / f"corpus-{max(sizes)}"
        parsers = run(
            "parsers", root=str(corpus), count=PARSER_BODIES, passes=1 if args.quick else 3
        )
        print_parsers(parsers)
        if args.profile:
            top = run("profile", root=str(work / f"corpus-{sizes[0]}"), top=15)
            print(f"\ncProfile, cold load of {sizes[0]:,} pages in one process, by cumtime:")
            print(top["text"].rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
