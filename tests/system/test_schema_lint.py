"""Every type, field, argument, enum value and input field of the schema has a description.

graphql-schema-linter (tests/schema-lint/, its description rules chosen in
tests/schema-lint/.graphql-schema-linterrc) reads schema.graphql, which
tests/test_artifacts.py keeps equal to the exported schema. A second run on a schema
missing every kind of description shows the rules are the ones meant, and bite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
LINT_DIR = ROOT / "tests" / "schema-lint"
LINTER = LINT_DIR / "node_modules" / "graphql-schema-linter" / "lib" / "cli.js"
DESCRIPTION_RULES = [
    "arguments-have-descriptions",
    "enum-values-have-descriptions",
    "fields-have-descriptions",
    "input-object-values-have-descriptions",
    "types-have-descriptions",
]

pytestmark = pytest.mark.system


def _node() -> str:
    """Path of node, or skip (fail under CI) when node or the linter is missing."""
    node = shutil.which("node")
    if node is None:
        problem = "node is not installed"
    elif not LINTER.is_file() or not (LINT_DIR / "node_modules" / "graphql").is_dir():
        problem = "tests/schema-lint/node_modules is missing (npm ci was not run there)"
    else:
        return node
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem}: CI must install it (`make node-deps` runs npm ci)")
    pytest.skip(f"{problem}: run `make test`, which installs the linter's npm packages")


def lint(schema: Path) -> tuple[int, list[dict[str, Any]], str]:
    """(exit code, errors, everything printed) of the linter on one SDL file."""
    process = subprocess.run(
        [_node(), str(LINTER), "--format", "json", "--config-directory", str(LINT_DIR)]
        + [str(schema)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = f"exit {process.returncode}\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}"
    try:
        report = json.loads(process.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"graphql-schema-linter printed no JSON report\n{output}")
    return process.returncode, report["errors"], output


def test_the_schema_describes_everything() -> None:
    returncode, errors, output = lint(ROOT / "schema.graphql")
    assert [error["message"] for error in errors] == []
    assert returncode == 0, output


def test_the_description_rules_catch_what_is_undescribed(tmp_path: Path) -> None:
    bare = tmp_path / "bare.graphql"
    bare.write_text(
        '"""Reads."""\n'
        "type Query {\n"
        '  """Described, but its argument is not."""\n'
        "  page(slug: String): Page\n"
        "}\n"
        "type Page {\n  title: String\n}\n"
        '"""Ways."""\n'
        "enum Way {\n  UP\n}\n"
        '"""Filters."""\n'
        "input Filter {\n  slug: String\n}\n",
        encoding="utf-8",
    )
    returncode, errors, output = lint(bare)
    assert returncode == 1, output
    assert sorted((error["rule"], error["message"]) for error in errors) == [
        ("arguments-have-descriptions", "The `slug` argument of `page` is missing a description."),
        ("enum-values-have-descriptions", "The enum value `Way.UP` is missing a description."),
        ("fields-have-descriptions", "The field `Page.title` is missing a description."),
        (
            "input-object-values-have-descriptions",
            "The input value `Filter.slug` is missing a description.",
        ),
        ("types-have-descriptions", "The object type `Page` is missing a description."),
    ]
    assert sorted({error["rule"] for error in errors}) == DESCRIPTION_RULES
