"""The real-site fixtures (tests/fixtures/sites, see its SOURCES): their front matter in
YAML and TOML, their dates as each generator writes them, and what is not a page there."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contentapi.content.index import ContentIndex
from contentapi.content.paths import examine, find_pages

SITES = Path(__file__).resolve().parent.parent / "fixtures" / "sites"


def load(site: str) -> ContentIndex:
    index = ContentIndex.from_directory(SITES / site)
    assert index.errors == (), [str(error) for error in index.errors]
    return index


def pages(site: str) -> list[str]:
    root = SITES / site
    return [
        p.relative_to(root.resolve()).as_posix() for p in find_pages(root) if isinstance(p, Path)
    ]


def test_zola_toml_posts_load_with_their_titles() -> None:
    index = load("zola/content")
    assert [(t.path, t.title) for t in index.public.treatments] == [
        ("1.94.1-release.md", "Announcing Rust 1.94.1"),
        ("Shape-of-errors-to-come/index.md", "Shape of errors to come"),
        ("Stability.md", "Stability as a Deliverable"),
        ("_index.md", "Rust Blog"),
        ("inside-rust/Welcome.md", "Welcome to the Inside Rust blog!"),
        ("inside-rust/_index.md", "Inside Rust Blog"),
    ]
    by_path = {t.path: t for t in index.public.treatments}
    stability = by_path["Stability.md"]
    assert stability.summary == (
        "The upcoming Rust 1.0 release means a lot, but most fundamentally it is a commitment "
        "to stability, alongside our long-running commitment to safety."
    )
    assert stability.front_matter["authors"] == ["Aaron Turon and Niko Matsakis"]
    release = by_path["1.94.1-release.md"]
    assert release.summary is not None
    assert release.summary.startswith("The Rust team has published a new point release of Rust")
    assert release.front_matter["extra"] == {"release": True}
    assert release.front_matter["aliases"] == ["releases/1.94.1"]
    for page in index.public.treatments:
        assert "+++" not in page.text and "aliases =" not in page.text, page.path
        assert "aliases" not in page.html, page.path
    assert index.public.search("aliases") == []


def test_hugo_headless_bundle_and_licence_are_not_pages() -> None:
    assert pages("hugo/content") == [
        "en/_index.md",
        "en/content-management/_index.md",
        "en/content-management/image-processing/index.md",
        "en/functions/_index.md",
        "en/functions/strings/Diff/index.md",
        "en/functions/strings/_index.md",
        "en/methods/_index.md",
        "en/methods/page/Params.md",
        "en/methods/page/_index.md",
        "en/methods/site/Params.md",
        "en/methods/site/_index.md",
        "en/shortcodes/figure.md",
    ]
    root = SITES / "hugo" / "content"
    # What live reload makes of a file in the headless `_common/` bundle: nothing.
    assert examine(root / "en" / "_common" / "glob-patterns.md", root) is None
    assert examine(root / "en" / "_common" / "methods" / "page" / "next-and-prev.md", root) is None
    assert examine(root / "LICENSE.md", root) is None
    index = load("hugo/content")
    assert all("_common" not in t.path for t in index.preview.treatments)


def test_hugo_toml_inside_a_shortcode_is_body_not_front_matter() -> None:
    index = load("hugo/content")
    params = next(t for t in index.public.treatments if t.path == "en/methods/page/Params.md")
    # Params.md shows TOML front matter as an example in its body; its own is YAML.
    assert params.title == "Params"
    assert params.date is None
    assert "date" not in params.front_matter


def test_jekyll_layouts_includes_data_and_readme_are_not_pages() -> None:
    assert pages("jekyll") == [
        "_docs/collections.md",
        "_docs/configuration/options.md",
        "_docs/index.md",
        "_docs/maintaining/index.md",
        "_posts/2014-12-17-alfredxing-welcome-to-jekyll-core.md",
        "_posts/2025-01-29-jekyll-4-4-1-released.markdown",
        "_tutorials/custom-404-page.md",
        "_tutorials/index.md",
        "pages/philosophy.md",
        "pages/team.md",
    ]
    assert pages("jekyll-serif") == [
        "_services/accounting.md",
        "_services/insurance.md",
        "_team/bill-mcdonald.md",
        "_team/sage-kirk.md",
        "about.md",
        "index.md",
        "services.md",
    ]


@pytest.mark.parametrize(
    ("site", "path", "date"),
    [
        # Jekyll's own `2014-12-17 11:16:21 -0800`: the date as written, in its own zone.
        ("jekyll", "_posts/2014-12-17-alfredxing-welcome-to-jekyll-core.md", dt.date(2014, 12, 17)),
        ("jekyll", "_posts/2025-01-29-jekyll-4-4-1-released.markdown", dt.date(2025, 1, 29)),
        ("jekyll", "_tutorials/custom-404-page.md", dt.date(2017, 3, 11)),
        ("jekyll-serif", "_services/accounting.md", dt.date(2018, 11, 18)),
        ("jekyll-serif", "_team/sage-kirk.md", dt.date(2018, 11, 19)),
        ("folder-blog", "content/blog/my-second-post/index.md", dt.date(2015, 5, 6)),
        ("gatsby-posts", "content/posts/2018-10-17/index.md", dt.date(2018, 10, 17)),
        # Astro's blog template: `pubDate: 'Jul 08 2022'`.
        ("astro", "src/content/blog/first-post.md", dt.date(2022, 7, 8)),
        ("astro", "src/content/blog/markdown-style-guide.md", dt.date(2024, 6, 19)),
        ("astro", "src/content/blog/second-post.md", dt.date(2022, 7, 15)),
    ],
)
def test_dates_as_each_generator_writes_them(site: str, path: str, date: dt.date) -> None:
    index = load(site)
    assert next(t for t in index.public.treatments if t.path == path).date == date


def test_readmes_beside_real_sites_are_not_pages() -> None:
    assert pages("folder-blog") == [
        "content/blog/hello-world/index.md",
        "content/blog/my-second-post/index.md",
        "content/blog/new-beginnings/index.md",
    ]
    assert pages("astro") == [
        "src/content/blog/first-post.md",
        "src/content/blog/markdown-style-guide.md",
        "src/content/blog/second-post.md",
    ]


def test_docs_includes_folder_is_not_pages() -> None:
    assert pages("docs/docs") == [
        "build/clang-support-cmake.md",
        "build/reference/property-page-xml-files.md",
        "build/reference/translateinclude.md",
        "build/reference/vcpp-directories-property-page.md",
    ]
    root = SITES / "docs" / "docs"
    assert examine(root / "get-started" / "includes" / "git-source-control.md", root) is None
