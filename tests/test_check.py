"""`contentapi check DIR`: every error as `path:line: message`, a summary line, exit status."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from contentapi.cli import cli

from expected import BAD_ERRORS

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CONTENTAPI_"):
            monkeypatch.delenv(name)


def check(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output.splitlines()


def test_check_the_bundled_content() -> None:
    # The seed and the two practitioners of its content model.
    assert check(str(PROJECT / "content")) == (0, ["3 pages, 0 errors, 0 warnings"])


def test_check_a_folder_with_bad_pages(bad_dir: Path) -> None:
    code, lines = check(str(bad_dir))
    assert code == 1
    assert lines == [*BAD_ERRORS, "4 pages, 8 errors, 0 warnings"]


def test_check_counts_drafts_as_pages(fixtures_dir: Path) -> None:
    assert check(str(fixtures_dir / "catalog")) == (0, ["6 pages, 0 errors, 0 warnings"])


def test_check_reports_a_symlink_leaving_the_root(
    copy_fixture: Callable[[str], Path], tmp_path: Path
) -> None:
    root = copy_fixture("catalog")
    (tmp_path / "elsewhere.md").write_text("---\ntitle: Elsewhere\n---\n")
    os.symlink(tmp_path / "elsewhere.md", root / "away.md")
    code, lines = check(str(root))
    assert code == 1
    assert lines[:-1] == [
        f"away.md: is a symlink to {str(tmp_path / 'elsewhere.md')!r}, "
        "outside the content root: refused",
    ]
    assert re.fullmatch(r"6 pages, 1 errors?, 0 warnings", lines[-1])


def test_check_paths_are_relative_whatever_the_working_directory(
    bad_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(bad_dir.parent)
    code, lines = check("bad")
    assert code == 1
    assert lines[0].startswith("bad-draft.md:3: ")
    assert lines[-1] == "4 pages, 8 errors, 0 warnings"


def test_check_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "missing")])
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_check_as_a_program(bad_dir: Path) -> None:
    program = Path(sys.executable).with_name("contentapi")
    if not program.exists():
        pytest.skip("the contentapi script is not installed next to this Python")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")}
    good = subprocess.run(
        [program, "check", str(PROJECT / "content")], capture_output=True, text=True, env=env
    )
    assert (good.returncode, good.stdout) == (0, "3 pages, 0 errors, 0 warnings\n")
    bad = subprocess.run([program, "check", str(bad_dir)], capture_output=True, text=True, env=env)
    assert bad.returncode == 1
    assert bad.stdout.splitlines()[-1] == "4 pages, 8 errors, 0 warnings"
    assert "not-utf8.md:5: is not valid UTF-8: byte 0xe9 at byte offset 25" in bad.stdout
