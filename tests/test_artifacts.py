"""Shipped artefacts stay true: the exported schema, the contract, the settings table, content/."""

from __future__ import annotations

import filecmp
import re
import subprocess
import sys
from pathlib import Path

import pytest
from graphql import build_schema as parse_sdl
from graphql.utilities import find_breaking_changes

from contentapi.content.index import ContentIndex
from contentapi.schema import Context, build_schema, schema_for
from contentapi.settings import SETTINGS, Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CONTRACT_COPY = Path(__file__).parent / "contract" / "schema.graphql"


def contentapi_output(*args: str) -> str:
    """What `contentapi ARGS` prints, run as a user would from the checkout."""
    return subprocess.run(
        [sys.executable, "-m", "contentapi", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout


def test_schema_file_is_the_exported_schema() -> None:
    exported = contentapi_output("export-schema")
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == exported, (
        "schema.graphql is stale: run `contentapi export-schema > schema.graphql`"
    )
    # The bundled content's: generated from its content model (content/admin/config.yml).
    bundled = schema_for(Settings(content_dir=ROOT / "content")).as_str()
    assert exported.strip() == bundled.strip()
    assert "type Practitioner implements Node & Document" in exported


def test_schema_keeps_every_promise_of_the_contract() -> None:
    contract = parse_sdl(CONTRACT_COPY.read_text(encoding="utf-8"))
    ours = parse_sdl((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    assert [change.description for change in find_breaking_changes(contract, ours)] == []


@pytest.mark.skipif(not (SHARED / "tools" / "check-contract").exists(), reason="no shared/ here")
def test_shared_contract_tool_agrees() -> None:
    assert filecmp.cmp(SHARED / "contract" / "schema.graphql", CONTRACT_COPY, shallow=False), (
        "tests/contract/schema.graphql differs from shared/contract: copy the new contract"
    )
    result = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "check-contract"), "schema.graphql"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout
    assert "contract kept" in result.stdout


def test_bundled_content_loads_cleanly_and_is_the_seed() -> None:
    index = ContentIndex.from_directory(ROOT / "content")
    assert index.errors == ()
    # The seed, and the practitioners its content model (content/admin/config.yml) adds.
    assert [t.path for t in index.public.treatments] == [
        "mesotherapy.md",
        "practitioners/anna-berg.md",
        "practitioners/james-okafor.md",
    ]
    result = contentapi_output("check", str(ROOT / "content"))
    assert result.splitlines()[-1] == "3 pages, 0 errors, 0 warnings"
    seed = SHARED / "seed" / "mesotherapy.md"
    if seed.exists():
        assert (ROOT / "content" / "mesotherapy.md").read_bytes() == seed.read_bytes()


def test_readme_has_the_settings_table() -> None:
    table = contentapi_output("settings")
    assert all(f"`{s.env}`" in table for s in SETTINGS)
    assert table in (ROOT / "README.md").read_text(encoding="utf-8"), (
        "README's settings table is stale: paste the output of `contentapi settings`"
    )


def test_every_setting_is_in_serve_help() -> None:
    help_text = contentapi_output("serve", "--help")
    flat = " ".join(help_text.split()).replace("- ", "-")
    assert [s.env for s in SETTINGS if s.env not in flat] == []


def _readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"\n## {title}\n")
    return readme[start : readme.index("\n## ", start + 1)]


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.M | re.S)


def test_readme_native_renderer_is_the_tested_one() -> None:
    """The README's React Native renderer is tests/rich-text/native.mjs, which the node
    tests run over the seed's tree, with react-native's components instead of host names."""
    (snippet,) = _code_blocks(_readme_section("Rich text"), "js")
    native = (ROOT / "tests" / "rich-text" / "native.mjs").read_text(encoding="utf-8")
    imports = (
        "import {createElement as h} from 'react'\nimport {Image, Text, View} from 'react-native'\n"
    )
    assert snippet.startswith(imports + "\n")
    assert snippet[len(imports) + 1 :] == native[native.index("const renderers = {") :]
    assert "import {createElement as h} from 'react'\n" in native
    for name in ("View", "Text", "Image"):
        assert f"const {name} = '{name}'\n" in native


def test_readme_rich_text_query_runs_on_the_seed() -> None:
    (query,) = _code_blocks(_readme_section("Rich text"), "graphql")
    result = build_schema().execute_sync(
        query, context_value=Context(ContentIndex.from_directory(ROOT / "content"))
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    page = result.data["treatment"]
    assert page["title"] == "Mesotherapy"
    assert page["links"] == []
    headings = [node for node in page["ast"]["children"] if node["type"] == "heading"]
    assert headings[-1]["data"]["id"] == "mesotherapy-also-can-help-with"


def test_readme_content_model_query_runs_on_the_bundled_content() -> None:
    (query,) = _code_blocks(_readme_section("Content model"), "graphql")
    schema = schema_for(Settings(content_dir=ROOT / "content"))
    result = schema.execute_sync(
        query, context_value=Context(ContentIndex.from_directory(ROOT / "content"))
    )
    assert result.errors is None, result.errors
    assert result.data == {
        "treatment": {
            "title": "Mesotherapy",
            "price": None,
            "practitionersByTreatments": [
                {
                    "title": "Dr Anna Berg",
                    "role": "doctor",
                    "since": "2015-03-01",
                    "languages": ["English", "Swedish"],
                },
                {
                    "title": "James Okafor",
                    "role": "nurse",
                    "since": "2019-09-16",
                    "languages": ["English", "French"],
                },
            ],
        },
        "practitionerCollection": {
            "totalCount": 1,
            "nodes": [
                {
                    "id": "UHJhY3RpdGlvbmVyOnByYWN0aXRpb25lcnMvamFtZXMtb2thZm9y",
                    "title": "James Okafor",
                    "role": "nurse",
                    "since": "2019-09-16",
                    "treatments": [{"slug": "mesotherapy"}],
                }
            ],
        },
    }
