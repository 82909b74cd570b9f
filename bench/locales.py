"""Locales benchmark: what a locale costs a list and a search, and what the sitemap and
the translation groups cost to make, measured side by side in one run.

    python bench/locales.py [--groups 3000] [--rounds 7] [--quick]

A site of --groups treatments, each in en (x.md), de (x.de.md) and fr (de/ and fr/
folders alternate with suffixes, so both layouts are read), with CONTENTAPI_LOCALES
en,de,fr, in a temporary folder. In this process (no server: the cost is the resolvers'):

1. `treatments(first: 50, locale: "de")` against `treatments(first: 50)` on the same site
   without locales (every page listed, the list before locales existed), and
   `search(query:, locale: "de")` against `search(query:)`; each pair interleaved over
   --rounds rounds of 50 executions, the medians and their ratio;
2. once per view: building the translation groups (Translations) and the picks of a
   chain, and writing /sitemap.xml with its hreflang alternates, in milliseconds.

--quick (300 groups, 3 rounds) is a smoke run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contentapi.content.index import ContentIndex  # noqa: E402
from contentapi.content.locales import Locales  # noqa: E402
from contentapi.content.sitemap import sitemaps  # noqa: E402
from contentapi.content.translations import Translations  # noqa: E402
from contentapi.schema import Context, build_schema  # noqa: E402

LOCALES = Locales(("en", "de", "fr"))
LIST = "query($l: String) { treatments(first: 50, locale: $l) { nodes { title uri locale } } }"
SEARCH = 'query($l: String) { search(query: "skin", locale: $l, first: 20) { score } }'


def make_site(root: Path, groups: int) -> None:
    words = "skin laser peel needle hair acne light serum".split()
    for n in range(groups):
        text = " ".join(words[(n + k) % len(words)] for k in range(40))
        (root / f"t{n:05d}.md").write_text(f"---\ntitle: Treatment {n}\n---\n{text}\n")
        if n % 2:
            (root / f"t{n:05d}.de.md").write_text(f"---\ntitle: Behandlung {n}\n---\n{text}\n")
            (root / f"t{n:05d}.fr.md").write_text(f"---\ntitle: Soin {n}\n---\n{text}\n")
        else:
            for tag, title in (("de", "Behandlung"), ("fr", "Soin")):
                (root / tag).mkdir(exist_ok=True)
                (root / tag / f"t{n:05d}.md").write_text(f"---\ntitle: {title} {n}\n---\n{text}\n")


def timed(run: object, times: int) -> float:
    start = time.perf_counter()
    for _ in range(times):
        run()  # type: ignore[operator]
    return (time.perf_counter() - start) / times * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    groups, rounds = (300, 3) if args.quick else (args.groups, args.rounds)
    schema = build_schema()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        make_site(root, groups)
        index = ContentIndex.from_directory(root, workers=2)
        assert index.errors == (), index.errors[:3]
        view = index.public
        print(f"{len(view.treatments)} pages, {groups} translation groups in en, de, fr")

        def execute(query: str, locales: Locales, **variables: str) -> object:
            def run() -> None:
                result = schema.execute_sync(
                    query, variable_values=variables, context_value=Context(index, locales=locales)
                )
                assert result.errors is None, result.errors

            return run

        # Warm: each view's groups and picks, the search index.
        for query in (LIST, SEARCH):
            execute(query, LOCALES, l="de")()
            execute(query, Locales())()
        pairs = {
            "treatments(first: 50): locale de vs none": (
                execute(LIST, LOCALES, l="de"),
                execute(LIST, Locales()),
            ),
            "search(first: 20): locale de vs none": (
                execute(SEARCH, LOCALES, l="de"),
                execute(SEARCH, Locales()),
            ),
        }
        print(f"\n{'measure':44} {'ours':>10} {'baseline':>10} {'ratio':>7}")
        for name, (ours, baseline) in pairs.items():
            mine, theirs = [], []
            for _ in range(rounds):
                mine.append(timed(ours, 50))
                theirs.append(timed(baseline, 50))
            a, b = statistics.median(mine), statistics.median(theirs)
            print(f"{name:44} {a:8.0f}us {b:8.0f}us {a / b:6.2f}x")

        start = time.perf_counter()
        translations = Translations(view.treatments, LOCALES)
        built = time.perf_counter() - start
        start = time.perf_counter()
        translations.chosen(("de", "en"))
        picked = time.perf_counter() - start

        def alternates(t: object) -> list[tuple[str, str]]:
            pages = translations.translations(t)  # type: ignore[arg-type]
            return [(translations.locale[p.uri] or "", p.uri) for p in pages]

        start = time.perf_counter()
        made = sitemaps("https://clinic.example", view.treatments, alternates)
        written = time.perf_counter() - start
        print(
            f"\nonce per view: translation groups {built * 1e3:.1f} ms, a chain's picks"
            f" {picked * 1e3:.1f} ms, /sitemap.xml with alternates {written * 1e3:.1f} ms"
            f" ({len(made.root) / 1e6:.1f} MB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
