"""The command line with a content model: export-schema --content, check's entry errors,
and a wrong model as one line (no traceback) from export-schema, query, serve and check."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from contentapi.cli import cli

PROJECT = Path(__file__).resolve().parent.parent
WRONG = "collections:\n  - name: a\n    folder: a\n    fields:\n      - {name: x, widget: colour}\n"
UNKNOWN = "admin/config.yml:5: collection 'a', field 'x': unknown widget 'colour'"


def site(tmp_path: Path, config: str) -> Path:
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "config.yml").write_text(config)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.md").write_text("---\ntitle: One\nx: 3\n---\nBody.\n")
    return tmp_path


def test_export_schema_of_a_content_folder() -> None:
    result = CliRunner().invoke(cli, ["export-schema", "--content", str(PROJECT / "content")])
    assert result.exit_code == 0
    assert (PROJECT / "schema.graphql").read_text(encoding="utf-8") == result.output


def test_a_wrong_model_is_one_line_everywhere(tmp_path: Path) -> None:
    root = site(tmp_path, WRONG)
    runner = CliRunner()
    for args in (
        ["export-schema", "--content", str(root)],
        ["query", "{ contentInfo { version } }", "--content", str(root)],
        ["serve", "--content", str(root), "--port", "0"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, args
        assert result.output.startswith(f"Error: {UNKNOWN} (known: boolean, code,"), args
        assert "Traceback" not in result.output
    checked = runner.invoke(cli, ["check", str(root)])
    assert checked.exit_code == 1
    assert checked.output.splitlines()[0].startswith(UNKNOWN)
    assert checked.output.splitlines()[-1] == "1 page, 1 error, 0 warnings"


def test_check_lists_entries_that_break_the_model(tmp_path: Path) -> None:
    root = site(
        tmp_path,
        "collections:\n  - name: a\n    folder: a\n    fields:\n"
        "      - {name: x, widget: number, max: 2}\n",
    )
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "a/one.md:3: field x: 3 is more than the maximum 2 (collection 'a' of "
        "admin/config.yml); left out of its collection",
        "1 page, 1 error, 0 warnings",
    ]
