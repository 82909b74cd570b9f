"""The command line through Click's runner: query, export-schema, and errors at the edge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from contentapi.cli import cli

CLINIC = Path(__file__).parent / "fixtures" / "clinic"


def test_query_prints_the_json_result() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "query",
            "query($s: String!) { treatment(slug: $s) { title category { slug } } }",
            "--variables",
            '{"s": "peel"}',
            "--content",
            str(CLINIC),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "data": {"treatment": {"title": "Chemical Peel", "category": {"slug": "skin-treatment"}}}
    }


def test_query_preview_includes_drafts() -> None:
    args = ["query", '{ treatment(slug: "secret") { title } }', "--content", str(CLINIC)]
    public = CliRunner().invoke(cli, args)
    assert json.loads(public.output) == {"data": {"treatment": None}}
    preview = CliRunner().invoke(cli, [*args, "--preview"])
    assert json.loads(preview.output) == {"data": {"treatment": {"title": "Secret Laser"}}}


def test_query_errors_exit_1_with_the_errors() -> None:
    result = CliRunner().invoke(cli, ["query", "{ nope }", "--content", str(CLINIC)])
    assert result.exit_code == 1
    assert "Cannot query field 'nope'" in json.loads(result.output)["errors"][0]["message"]


def test_bad_variables_are_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["query", "{ __typename }", "--variables", "{nope"])
    assert result.exit_code == 2
    assert "--variables is not valid JSON" in result.output


def test_bad_setting_from_the_environment_is_named() -> None:
    result = CliRunner().invoke(
        cli, ["query", "{ __typename }"], env={"CONTENTAPI_WORKERS": "many"}
    )
    assert result.exit_code == 2
    assert "CONTENTAPI_WORKERS must be a whole number, not 'many'" in result.output


def test_missing_content_folder_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--content", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert "does not exist or is not a folder" in result.output
    assert "Traceback" not in result.output


def test_export_schema_prints_sdl() -> None:
    result = CliRunner().invoke(cli, ["export-schema"])
    assert result.exit_code == 0
    assert "type Treatment implements Node" in result.output
    assert "  filter: TreatmentFilter = null\n" in result.output


def test_two_processes_agree_on_version_and_ids() -> None:
    query = '{ contentInfo { version } treatment(slug: "peel") { id images { id } } }'
    outputs = [
        subprocess.run(
            [sys.executable, "-m", "contentapi", "query", query, "--content", str(CLINIC)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0])["data"]
    assert len(data["contentInfo"]["version"]) == 16
    assert data["treatment"]["id"] == "VHJlYXRtZW50OnBlZWw="
