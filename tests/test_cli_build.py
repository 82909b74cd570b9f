"""`contentapi build` and `serve --index` through the command line (Click's runner)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from contentapi.cli import cli
from contentapi.content import indexfile
from contentapi.content.index import ContentIndex
from contentapi.content.indexfile import loader_version, open_index

CLINIC = Path(__file__).parent / "fixtures" / "clinic"


def test_build_writes_the_file_and_says_what_is_in_it(tmp_path: Path) -> None:
    out = tmp_path / "site.sqlite"
    result = CliRunner().invoke(cli, ["build", str(CLINIC), "-o", str(out), "--cache-dir", ""])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "broken.md:3: front matter is not valid YAML: did not find expected ',' or ']'"
    )
    assert lines[1:5] == [
        "acupuncture.md:10: image /img/acupuncture.jpg is not in the content folder"
        " (no such file) (warning)",
        "mesotherapy.md:13: image /img/pages/mesotherapy_london.jpg is not in the content"
        " folder (no such file) (warning)",
        "mesotherapy.md:18: image /img/pages/mesotherapy_london2.jpg is not in the content"
        " folder (no such file) (warning)",
        "peel.md:14: image /img/peel.jpg is not in the content folder (no such file) (warning)",
    ]
    version = open_index(out, CLINIC).content_version
    assert re.fullmatch(
        rf"built {re.escape(str(out))}: 4 pages, 1 error, 4 warnings; content version"
        rf" {version}, loader version {re.escape(loader_version())}; [\d,]+ bytes in"
        r" \d+\.\d\d s",
        lines[5],
    ), lines[5]
    assert len(lines) == 6


def test_build_of_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "nope"), "-o", "x.sqlite"])
    assert result.exit_code == 1
    assert f"content folder {str(tmp_path / 'nope')!r} does not exist" in result.output


def test_build_needs_an_output() -> None:
    result = CliRunner().invoke(cli, ["build", str(CLINIC)])
    assert result.exit_code == 2
    assert "Missing option '-o' / '--output'" in result.output


def test_serve_refuses_a_stale_index_before_listening(
    tmp_path: Path, copy_fixture: Callable[[str], Path]
) -> None:
    site = copy_fixture("clinic")
    out = tmp_path / "site.sqlite"
    assert CliRunner().invoke(cli, ["build", str(site), "-o", str(out)]).exit_code == 0
    (site / "peel.md").write_text("---\ntitle: Changed\n---\n\nChanged.\n")
    result = CliRunner().invoke(
        cli, ["serve", "--content", str(site), "--index", str(out), "--port", "1"]
    )
    assert result.exit_code == 1
    assert "(first difference: page peel.md, 1 in all)" in result.output
    assert f"Error: index file {out} was built for content version" in result.output


def test_serve_refuses_a_missing_index(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--content", str(CLINIC), "--index", str(tmp_path / "none.sqlite")]
    )
    assert result.exit_code == 1
    assert f"Error: index file {str(tmp_path / 'none.sqlite')!r} does not exist" in result.output


def test_build_and_check_parse_with_every_cpu_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both are one-shot tools (a build machine, CI): the pool gets every CPU it may use.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    built: list[int] = []
    loaded: list[int] = []
    real_build, real_load = indexfile.build, ContentIndex.from_directory

    def build(root: Path, out: Path, workers: int, *rest: Any) -> Any:
        built.append(workers)
        return real_build(root, out, workers, *rest)

    def from_directory(root: Path, workers: int = 1, *rest: Any) -> ContentIndex:
        loaded.append(workers)
        return real_load(root, workers, *rest)

    monkeypatch.setattr(indexfile, "build", build)
    monkeypatch.setattr(ContentIndex, "from_directory", from_directory)
    out = str(tmp_path / "site.sqlite")
    runner = CliRunner()
    assert runner.invoke(cli, ["build", str(CLINIC), "-o", out]).exit_code == 0
    assert runner.invoke(cli, ["build", str(CLINIC), "-o", out, "--processes", "1"]).exit_code == 0
    assert runner.invoke(cli, ["check", str(CLINIC)]).exit_code == 1  # broken.md
    assert runner.invoke(cli, ["check", str(CLINIC), "--processes", "2"]).exit_code == 1
    assert (built, loaded) == ([3, 1], [3, 2])
    help_text = runner.invoke(cli, ["build", "--help"]).output
    assert re.search(r"one per CPU this process may run on: \d+ here", " ".join(help_text.split()))
    refused = runner.invoke(cli, ["build", str(CLINIC), "-o", out, "--processes", "0"])
    assert refused.exit_code == 2
    assert "0 is not in the range x>=1" in refused.output
