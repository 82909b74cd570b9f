"""A server of a built index imports no page parser: Python-Markdown, nh3, Pillow,
python-frontmatter and python-slugify cost every process about 6 MB and are needed only
to parse pages or to make a picture's copy (contentapi/content/version.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from contentapi.content import indexfile

CONTENT = Path(__file__).resolve().parent.parent.parent / "content"
PARSERS = ("markdown", "markdown_it", "nh3", "PIL", "slugify", "frontmatter")

# Run in a fresh interpreter: this one has imported everything already.
SERVE = """
import sys
from pathlib import Path
from starlette.testclient import TestClient
from contentapi.http.app import create_app
from contentapi.settings import Settings
import contentapi.cli

settings = Settings.from_env({"CONTENTAPI_CONTENT_DIR": sys.argv[1],
                              "CONTENTAPI_INDEX": sys.argv[2], "CONTENTAPI_ACCESS_LOG": ""})
query = ("{ treatment(slug: \\"mesotherapy\\") { title html images { src width alt } } "
         "treatments(first: 5) { nodes { slug summary } } search(query: \\"skin\\") { score } }")
with TestClient(create_app(settings)) as client:
    answer = client.post("/graphql", json={"query": query}).json()
print(repr(answer["data"]["treatment"]["title"]))
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[3:]))))
"""


def test_a_built_index_is_served_without_importing_the_parsers(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    index = tmp_path / "index.sqlite"
    indexfile.build(content, index)
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(content), str(index), *PARSERS],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    title, imported = done.stdout.splitlines()[-2:]
    assert title == repr("Mesotherapy")
    assert imported == ""


def test_the_app_imported_alone_leaves_the_parsers_out() -> None:
    code = (
        "import sys, contentapi.cli, contentapi.http.app\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *PARSERS],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == ""
