"""Calibrate bench/generate.py's docs pages against a real documentation repository.

    python bench/calibrate.py DIR [--sample 1000] [--rounds 3]

DIR is a real content folder (the calibration used MicrosoftDocs/cpp-docs' `docs/` at
a2e592a8fc). A random sample of its Markdown files (the same every run: a fixed seed) is
copied with its top-level configuration files (docfx.json and the like, which decide the
dialect) beside as many generated docs pages; each is loaded cold (no page cache, one
process, bench/load.py's `load` measurement: load_all + ContentIndex.from_pages) in a
fresh interpreter, the two alternating, and the medians printed side by side: seconds,
milliseconds and kilobytes a page, and the ratio. `--quick` samples 100 pages, one round.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from generate import generate  # noqa: E402
from load import run  # noqa: E402


def copy_sample(real: Path, target: Path, count: int, seed: int = 1) -> int:
    """Copy `count` Markdown files of `real` (chosen with `seed`) and its top-level files
    that are not Markdown under `target`; returns the Markdown bytes copied."""
    pages = sorted(path for path in real.rglob("*.md") if path.is_file())
    chosen = random.Random(seed).sample(pages, min(count, len(pages)))
    total = 0
    for path in chosen:
        copy = target / path.relative_to(real)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        total += path.stat().st_size
    for path in real.iterdir():
        if path.is_file() and path.suffix != ".md":
            shutil.copyfile(path, target / path.name)
    return total


def main(argv: list[str] | None = None) -> int:
    """Measure both folders and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("real", type=Path, help="a real documentation content folder")
    parser.add_argument("--sample", type=int, default=1000, help="pages of each (1000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--quick", action="store_true", help="100 pages, one round")
    args = parser.parse_args(argv)
    if not args.real.is_dir():
        parser.error(f"{args.real} is not a folder")
    sample, rounds = (100, 1) if args.quick else (args.sample, args.rounds)
    with tempfile.TemporaryDirectory(prefix="contentapi-calibrate-") as tmp:
        real, made = Path(tmp) / "real", Path(tmp) / "generated"
        real_bytes = copy_sample(args.real, real, sample)
        generate(made, sample, kind="docs")
        made_bytes = sum(path.stat().st_size for path in made.rglob("*.md"))
        seconds: dict[str, list[float]] = {"real": [], "generated": []}
        pages: dict[str, int] = {}
        for _ in range(rounds):
            for name, root in (("real", real), ("generated", made)):
                measured = run("load", root=str(root), workers=1)
                seconds[name].append(float(measured["seconds"]))
                pages[name] = int(measured["pages"])
    print(f"cold load in one process, median of {rounds} alternating rounds:")
    print(f"{'':28}{'pages':>8}{'KB a page':>12}{'seconds':>10}{'ms a page':>12}")
    per_page: dict[str, float] = {}
    for name, size in (("real", real_bytes), ("generated", made_bytes)):
        median = statistics.median(seconds[name])
        per_page[name] = median * 1000 / max(pages[name], 1)
        label = f"{name} ({args.real.name})" if name == "real" else "bench/generate.py --kind docs"
        print(
            f"{label:28}{pages[name]:>8}{size / 1000 / max(pages[name], 1):>12.2f}{median:>10.2f}"
            f"{per_page[name]:>12.2f}"
        )
    print(f"generated / real, ms a page: {per_page['generated'] / per_page['real']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
