"""Treatment.ast checked with the tools frontends use, in node (tests/rich-text, packages
from its package-lock.json, installed by `make test`):

- roundtrip.test.mjs: every fixture page's ast turned into HTML with mdast-util-to-hast
  and hast-util-to-html, compared with its html (whitespace and attribute order
  normalised; each remaining difference a named, explained exception);
- shapes.test.mjs: every tree validated with Ajv against mdast.schema.json, mdast's node
  shapes; no active content in any tree, the hostile corpus's included;
- react.test.mjs: the seed's tree rendered to React elements with hast-util-to-jsx-runtime.

The pages are asked for here through the GraphQL schema (with the preview token's view,
so drafts too) and handed to node as one JSON file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from contentapi.content.index import ContentIndex
from contentapi.schema import Context, build_schema

ROOT = Path(__file__).resolve().parent.parent.parent
NODE_DIR = ROOT / "tests" / "rich-text"
FIXTURES = ROOT / "tests" / "fixtures"
REQUIRED_PACKAGES = (
    "ajv",
    "hast-util-from-html",
    "hast-util-to-html",
    "hast-util-to-jsx-runtime",
    "mdast-util-to-hast",
    "react",
)
# Every fixture page: the seed, the hostile corpus, every real site.
SITES = {
    "seed": ROOT / "content",
    "hostile": FIXTURES / "hostile",
    "links": FIXTURES / "links",
    **{
        f"sites/{folder.name}": folder
        for folder in sorted((FIXTURES / "sites").iterdir())
        if folder.is_dir()
    },
}
PAGES_QUERY = """
query Pages($after: String) {
  treatments(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id path uri html ast images { id src } }
  }
}
"""


def _node() -> str:
    """Path of node, with tests/rich-text's packages installed (else skip; fail under CI)."""
    found = shutil.which("node")
    missing = [
        name
        for name in REQUIRED_PACKAGES
        if not (NODE_DIR / "node_modules" / name / "package.json").is_file()
    ]
    if found is not None and not missing:
        return found
    problem = (
        "node is not installed"
        if found is None
        else f"tests/rich-text/node_modules lacks {', '.join(missing)} (`npm ci` was not run)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem}: CI must install it (`make node-deps` runs npm ci there)")
    pytest.skip(f"{problem}: run `make test`, which installs the npm packages of tests/rich-text")


def _pages(site: str, root: Path) -> list[dict[str, Any]]:
    schema = build_schema()
    context = Context(ContentIndex.from_directory(root), preview=True)
    pages: list[dict[str, Any]] = []
    after = None
    while True:
        result = schema.execute_sync(
            PAGES_QUERY, variable_values={"after": after}, context_value=context
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        found = result.data["treatments"]
        pages += [{"site": site, **page} for page in found["nodes"]]
        if not found["pageInfo"]["hasNextPage"]:
            return pages
        after = found["pageInfo"]["endCursor"]


@pytest.fixture(scope="module")
def pages_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pages = [page for site, root in SITES.items() for page in _pages(site, root)]
    file = tmp_path_factory.mktemp("rich-text") / "pages.json"
    file.write_text(json.dumps(pages, ensure_ascii=False))
    return file


def test_node_checks_every_fixture_tree(pages_file: Path) -> None:
    node = _node()
    files = sorted(path.name for path in NODE_DIR.glob("*.test.mjs"))
    assert files == ["react.test.mjs", "roundtrip.test.mjs", "shapes.test.mjs"]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")}
    environ.update(NO_COLOR="1", FORCE_COLOR="0", RICH_TEXT_PAGES=str(pages_file))
    process = subprocess.run(
        [node, "--test", "--test-reporter=spec", *files],
        cwd=NODE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = f"exit {process.returncode}\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}"
    assert process.returncode == 0, output
    summary = dict(
        re.findall(r"^ℹ (tests|pass|fail|skipped|todo|cancelled) (\d+)$", process.stdout, re.M)
    )
    assert summary.get("fail") == "0", output
    assert summary.get("skipped") == "0" and summary.get("todo") == "0", output
    # One round trip and one shape check per page, and the React and safety checks.
    page_count = len(json.loads(pages_file.read_text()))
    assert page_count >= 70
    assert int(summary.get("pass", "0")) >= 2 * page_count, output
