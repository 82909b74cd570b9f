"""What is not a page, skipped silently: repository documents, template and build folders,
Hugo headless bundles, CONTENTAPI_IGNORE's patterns; Jekyll's `_drafts/` are drafts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from contentapi.cli import cli
from contentapi.content.index import ContentIndex
from contentapi.content.load import load_all
from contentapi.content.model import Treatment
from contentapi.content.paths import examine, find_pages
from contentapi.errors import SettingsError
from contentapi.settings import Settings


def page(title: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\nSome text.\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def listed(root: Path, ignore: tuple[str, ...] = ()) -> list[str]:
    """What a full load lists, and, file by file, what live reload's examine says: the same."""
    found = [
        item.relative_to(root.resolve()).as_posix() if isinstance(item, Path) else str(item)
        for item in find_pages(root, ignore)
    ]
    examined = sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and isinstance(examine(path, root, ignore), Path)
    )
    assert examined == sorted(found)
    return found


# A repository's documents: no front matter, as on GitHub.
DOCUMENT = "# About this repository\n\nHow to build the site.\n"
NOT_PAGES = {
    "README.md": DOCUMENT,
    "readme.markdown": DOCUMENT,
    "License.md": "MIT License\n\nCopyright (c) 2024\n",
    "CHANGELOG.md": DOCUMENT,
    "CONTRIBUTING.md": DOCUMENT,
    "code_of_conduct.md": DOCUMENT,
    "SECURITY.MD": DOCUMENT,
    "docs/README.md": DOCUMENT,
    "docs/contributing.markdown": "\ufeff<!-- generated -->\n# Contributing\n",
    "_layouts/treatment.md": page("Layout"),
    "_includes/header.md": page("Include"),
    "_data/list.md": page("Data"),
    "_sass/notes.md": page("Sass"),
    "_site/built.md": page("Built"),
    "get-started/includes/snippet.md": page("Snippet"),
    "node_modules/pkg/guide.md": page("Package"),
    "deep/node_modules/pkg/readme.md": page("Package"),
}
PAGES = {
    "index.md": page("Home"),
    "readme-first.md": page("Read me first"),
    "licenses.md": page("Licenses we hold"),
    "README.txt": "not a suffix of pages",
    # Front matter makes a page of a file named like a repository document (hugoDocs).
    "about/license.md": page("License"),
    "about/SECURITY.md": "+++\ntitle = 'Security model'\n+++\n",
    "layouts/list.md": page("Hugo layouts is not skipped"),
    "_posts/2016-03-08-post.md": page("Post"),
    "_treatments/acne.md": page("Acne"),
    "included/x.md": page("Included"),
}


def test_repository_documents_and_template_folders_are_not_pages(tmp_path: Path) -> None:
    root = write(tmp_path, {**NOT_PAGES, **PAGES})
    assert listed(root) == [
        "_posts/2016-03-08-post.md",
        "_treatments/acne.md",
        "about/SECURITY.md",
        "about/license.md",
        "included/x.md",
        "index.md",
        "layouts/list.md",
        "licenses.md",
        "readme-first.md",
    ]
    index = ContentIndex.from_directory(root)
    assert index.errors == ()
    assert len(index.preview.treatments) == 9


def test_skipped_files_are_skipped_even_when_broken(tmp_path: Path) -> None:
    (tmp_path / "SECURITY.md").write_bytes(b"\xff\xfe not UTF-8")
    root = write(
        tmp_path,
        {
            "README.md": "",
            "LICENSE.md": "\ufffd not UTF-8 once written",
            "_includes/broken.md": "",
            "node_modules/x/bad.md": "\xff",
            "ok.md": page("Ok"),
        },
    )
    index = ContentIndex.from_directory(root)
    assert index.errors == ()
    assert [t.path for t in index.preview.treatments] == ["ok.md"]


# ------------------------------------------------------------------------ headless bundles


BUNDLE = ["common/deeper/index.md", "common/deeper/more.md", "common/snippet.md"]


@pytest.mark.parametrize(
    ("head", "front", "served"),
    [
        # A headless leaf bundle: nothing in it is a page.
        ("index.md", "headless: true\n", []),
        ("_index.md", "headless: true\n", []),
        ("index.md", "_build:\n  render: never\n", []),
        ("index.md", "_build:\n  render: false\n", []),
        # A headless section (Hugo's own example and hugoDocs' `_common/`): build options
        # cascaded to everything under it, the section page included.
        ("_index.md", "cascade:\n  build:\n    list: local\n    render: never\n", []),
        ("_index.md", "cascade:\n  - _build:\n      render: never\n", []),
        # Hugo's glossary example: the section page is published, what is under it is not.
        (
            "_index.md",
            "build:\n  render: always\ncascade:\n  build:\n    render: never\n",
            ["common/_index.md"],
        ),
        # Hugo's "publish without listing": only the section page is not published.
        ("_index.md", "_build:\n  render: never\n  list: never\n", BUNDLE),
        ("_index.md", "build:\n  render: 'never'\n", BUNDLE),
    ],
)
def test_hugo_build_options_decide_what_a_bundle_publishes(
    tmp_path: Path, head: str, front: str, served: list[str]
) -> None:
    root = write(
        tmp_path,
        {
            f"common/{head}": page("Common", front),
            "common/snippet.md": page("Snippet"),
            "common/deeper/more.md": page("More"),
            "common/deeper/index.md": page("Deeper bundle"),
            "served.md": page("Served"),
        },
    )
    assert listed(root) == [*served, "served.md"]
    assert ContentIndex.from_directory(root).errors == ()


def test_headless_in_toml_and_json(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "toml/_index.md": (
                '+++\ntitle = "T"\n[[cascade]]\n[cascade._build]\nrender = "never"\n+++\n'
            ),
            "toml/part.md": page("Part"),
            "json/index.md": '{\n  "title": "J",\n  "headless": true\n}\n',
            "json/part.md": page("Part"),
            "served.md": page("Served"),
        },
    )
    assert listed(root) == ["served.md"]


@pytest.mark.parametrize(
    "front",
    [
        "headless: false\n",
        "headless: 'true'\n",
        "_build:\n  render: always\n",
        "_build:\n  list: never\n",
        "_build:\n  render: link\n",
        "render: never\n",
        "cascade:\n  _target:\n    kind: page\n  _build:\n    render: never\n",
        "cascade:\n  target:\n    environment: production\n  build:\n    render: never\n",
        "description: how to render never-ending lists, headless\n",
    ],
)
def test_bundles_that_are_not_headless_are_served(tmp_path: Path, front: str) -> None:
    root = write(tmp_path, {"bundle/index.md": page("Bundle", front), "bundle/part.md": page("P")})
    assert listed(root) == ["bundle/index.md", "bundle/part.md"]


def test_a_broken_bundle_head_is_served_as_an_error_not_read_as_headless(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"bundle/_index.md": "---\nheadless: [true\n---\n", "bundle/part.md": page("Part")},
    )
    assert listed(root) == ["bundle/_index.md", "bundle/part.md"]
    index = ContentIndex.from_directory(root)
    assert [(e.path, e.line) for e in index.errors] == [("bundle/_index.md", 3)]


def test_a_repository_document_with_front_matter_is_a_page_and_may_be_broken(
    tmp_path: Path,
) -> None:
    root = write(tmp_path, {"README.md": "---\ntitle: [broken\n---\n", "ok.md": page("Ok")})
    index = ContentIndex.from_directory(root)
    assert [(e.path, e.line) for e in index.errors] == [("README.md", 3)]


def test_a_repository_document_that_is_a_link_is_never_read(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"secret.md": page("Secret")})
    root = write(tmp_path / "content", {"ok.md": page("Ok")})
    os.symlink(outside / "secret.md", root / "README.md")
    os.mkfifo(root / "LICENSE.md")
    assert list(find_pages(root)) == [root.resolve() / "ok.md"]
    assert examine(root / "README.md", root) is None
    assert examine(root / "LICENSE.md", root) is None


def test_only_bundle_heads_make_a_folder_headless(tmp_path: Path) -> None:
    root = write(tmp_path, {"folder/other.md": page("Other", "headless: true\n")})
    assert listed(root) == ["folder/other.md"]


def test_the_content_root_is_never_headless(tmp_path: Path) -> None:
    root = write(tmp_path, {"_index.md": page("Home", "headless: true\n"), "a.md": page("A")})
    assert listed(root) == ["_index.md", "a.md"]


def test_a_bundle_head_linked_from_outside_the_root_is_not_read(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"head.md": page("Head", "headless: true\n")})
    root = write(tmp_path / "content", {"bundle/part.md": page("Part")})
    os.symlink(outside / "head.md", root / "bundle" / "index.md")
    found = list(find_pages(root))
    assert [str(item) for item in found if not isinstance(item, Path)] == [
        f"bundle/index.md: is a symlink to {str(outside / 'head.md')!r}, "
        "outside the content root: refused"
    ]
    assert [p.name for p in found if isinstance(p, Path)] == ["part.md"]


# ------------------------------------------------------------------------ _drafts


def test_jekyll_drafts_are_served_only_in_preview(tmp_path: Path) -> None:
    root = write(tmp_path, {"_drafts/idea.md": page("Idea"), "_posts/post.md": page("Post")})
    index = ContentIndex.from_directory(root)
    assert [t.path for t in index.public.treatments] == ["_posts/post.md"]
    assert [(t.path, t.draft) for t in index.preview.treatments] == [
        ("_drafts/idea.md", True),
        ("_posts/post.md", False),
    ]


# ------------------------------------------------------------------------ CONTENTAPI_IGNORE


def test_ignore_patterns_are_gitignore_patterns(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "a.md": page("A"),
            "notes.md": page("Notes"),
            "sub/notes.md": page("Sub notes"),
            "wip/x.md": page("X"),
            "deep/wip/y.md": page("Y"),
            "b.draft.md": page("B"),
            "keep.draft.md": page("Keep"),
            "wip.md": page("A file named like the folder"),
        },
    )
    ignore = ("/notes.md", "wip/", "*.draft.md", "!keep.draft.md")
    assert listed(root, ignore) == ["a.md", "keep.draft.md", "sub/notes.md", "wip.md"]
    pages = load_all(root, ignore=ignore)
    assert [p.path for p in pages if isinstance(p, Treatment)] == [
        "a.md",
        "keep.draft.md",
        "sub/notes.md",
        "wip.md",
    ]


def test_the_ignore_setting(tmp_path: Path) -> None:
    settings = Settings.from_env({"CONTENTAPI_IGNORE": " wip/ , *.draft.md,,"})
    assert settings.ignore_patterns == ("wip/", "*.draft.md")
    assert Settings().ignore_patterns == ()
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"CONTENTAPI_IGNORE": "wip/, !"})
    assert str(raised.value) == (
        "CONTENTAPI_IGNORE holds '!', which is not a gitignore-style pattern "
        "(Invalid git pattern: '!'): write e.g. 'drafts/', '*.draft.md' or '/notes.md'"
    )


def test_check_skips_what_contentapi_ignore_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("CONTENTAPI_"):
            monkeypatch.delenv(name)
    root = write(tmp_path, {"a.md": page("A"), "wip/broken.md": "---\ntitle: [\n---\n"})
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert (result.exit_code, result.output.splitlines()[-1]) == (1, "1 page, 1 error, 0 warnings")
    monkeypatch.setenv("CONTENTAPI_IGNORE", "wip/")
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert (result.exit_code, result.output) == (0, "1 page, 0 errors, 0 warnings\n")
