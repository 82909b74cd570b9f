"""The loader's version: what a page yields when parsed, as the warm-start cache and a built
index file are keyed on it.

Its own module, so that what reads those need not import the parsers: a server of a built
index parses no page, and Python-Markdown, nh3, python-frontmatter, python-slugify and
Pillow (imported only to parse a page or to make a picture's copy) took 6.0 MB of every
server process (importing the app and the CLI: 42.2 -> 36.2 MB RSS; `bench/load.py
--index-only`, one worker after its queries, 88.8 -> 82.6 MB at 10,000 pages).
tests/http/test_serving_imports.py keeps it so."""

from __future__ import annotations

# Bump when parsing changes what a page yields: it keys the warm-start cache.
LOADER_VERSION = "18"
