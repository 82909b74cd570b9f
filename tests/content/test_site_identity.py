"""Identity, category and cover on the real-site fixtures (tests/fixtures/sites, read only):
each page's slug, uri, category and cover image src, as the rules give them."""

from __future__ import annotations

from pathlib import Path

import pytest

from contentapi.content.index import ContentIndex

SITES = Path(__file__).parent.parent / "fixtures" / "sites"

# path: (slug, uri, category name, cover src), per content folder under SITES.
EXPECTED: dict[str, dict[str, tuple[str, str, str | None, str | None]]] = {
    # Zola (TOML front matter): path front matter as written; the root _index.md is /.
    "zola/content": {
        "1.94.1-release.md": ("1-94-1-release", "/2026/03/26/1.94.1-release/", None, None),
        "Shape-of-errors-to-come/index.md": (
            "shape-of-errors-to-come",
            "/2016/08/10/Shape-of-errors-to-come/",
            None,
            "/Shape-of-errors-to-come/old_errors.png",
        ),
        "Stability.md": ("stability", "/2014/10/30/Stability/", None, None),
        "_index.md": ("index", "/", None, None),
        "inside-rust/Welcome.md": ("welcome", "/inside-rust/2019/09/25/Welcome/", None, None),
        "inside-rust/_index.md": ("inside-rust", "/inside-rust/", None, None),
    },
    # Hugo docs: _index.md sections, bundles, and Params.md under two folders.
    "hugo/content/en": {
        "_index.md": ("index", "/", None, None),
        "content-management/_index.md": ("content-management", "/content-management/", None, None),
        "content-management/image-processing/index.md": (
            "image-processing",
            "/content-management/image-processing/",
            None,
            None,
        ),
        "functions/_index.md": ("functions", "/functions/", None, None),
        "functions/strings/Diff/index.md": (
            "diff",
            "/functions/strings/diff/",
            None,
            "/functions/strings/Diff/diff-screen-capture.png",
        ),
        "functions/strings/_index.md": ("strings", "/functions/strings/", None, None),
        "methods/_index.md": ("methods", "/methods/", None, None),
        "methods/page/Params.md": ("params", "/methods/page/params/", None, None),
        "methods/page/_index.md": ("page", "/methods/page/", None, None),
        "methods/site/Params.md": ("params", "/methods/site/params/", None, None),
        "methods/site/_index.md": ("site", "/methods/site/", None, None),
    },
    # Jekyll docs: permalinks, collections (_docs, _tutorials) and _posts with dated names.
    "jekyll": {
        "_docs/collections.md": ("collections", "/docs/collections/", "docs", None),
        "_docs/configuration/options.md": ("options", "/docs/configuration/options/", "docs", None),
        "_docs/index.md": ("docs", "/docs/", "docs", None),
        "_docs/maintaining/index.md": ("maintaining", "/docs/maintaining/", "docs", None),
        "_posts/2014-12-17-alfredxing-welcome-to-jekyll-core.md": (
            "alfredxing-welcome-to-jekyll-core",
            "/posts/alfredxing-welcome-to-jekyll-core/",
            "team",
            None,
        ),
        "_posts/2025-01-29-jekyll-4-4-1-released.markdown": (
            "jekyll-4-4-1-released",
            "/posts/jekyll-4-4-1-released/",
            "release",
            None,
        ),
        "_tutorials/custom-404-page.md": (
            "custom-404-page",
            "/tutorials/custom-404-page/",
            "tutorials",
            None,
        ),
        "_tutorials/index.md": ("tutorials", "/tutorials/home/", "tutorials", None),
        "pages/philosophy.md": ("philosophy", "/philosophy/", None, None),
        "pages/team.md": ("team", "/team/", None, None),
    },
    # A Jekyll theme: collections as categories, front matter image as cover, a layout
    # that is not a template's name (services) as category.
    "jekyll-serif": {
        "_services/accounting.md": (
            "accounting",
            "/services/accounting/",
            "services",
            "/images/austin-distel-nGc5RT2HmF0-unsplash.jpg",
        ),
        "_services/insurance.md": (
            "insurance",
            "/services/insurance/",
            "services",
            "/images/austin-distel-nGc5RT2HmF0-unsplash.jpg",
        ),
        "_team/bill-mcdonald.md": (
            "bill-mcdonald",
            "/team/bill-mcdonald/",
            "team",
            "/images/team/nonsap-visuals-kMJp7620W6U-unsplash.jpg",
        ),
        "_team/sage-kirk.md": (
            "sage-kirk",
            "/team/sage-kirk/",
            "team",
            "/images/team/sage-kirk-485982-unsplash.jpg",
        ),
        "about.md": ("about", "/about/", None, "/images/thom-holmes-Lrfw0U_o9I0-unsplash.jpg"),
        "index.md": ("index", "/index/", None, None),
        "services.md": ("services", "/services/", "services", None),
    },
    # Astro: the src/content/<collection>/ folder and heroImage beside the page.
    "astro": {
        "src/content/blog/first-post.md": (
            "first-post",
            "/src/content/blog/first-post/",
            "blog",
            "/src/assets/blog-placeholder-3.jpg",
        ),
        "src/content/blog/markdown-style-guide.md": (
            "markdown-style-guide",
            "/src/content/blog/markdown-style-guide/",
            "blog",
            "/src/assets/blog-placeholder-1.jpg",
        ),
        "src/content/blog/second-post.md": (
            "second-post",
            "/src/content/blog/second-post/",
            "blog",
            "/src/assets/blog-placeholder-4.jpg",
        ),
    },
    # A folder per post: the bundle folder is the slug, a colocated body image the cover.
    "folder-blog/content": {
        "blog/hello-world/index.md": (
            "hello-world",
            "/blog/hello-world/",
            None,
            "/blog/hello-world/salty_egg.jpg",
        ),
        "blog/my-second-post/index.md": ("my-second-post", "/blog/my-second-post/", None, None),
        "blog/new-beginnings/index.md": ("new-beginnings", "/blog/new-beginnings/", None, None),
    },
    # path front matter; cover ./blocks.jpg is not in the fixture, so from the content root,
    # and ../2018-10-17/finance.jpg is found beside the page.
    "gatsby-posts/content": {
        "posts/2018-10-15/index.md": ("2018-10-15", "/post-one/", None, "/blocks.jpg"),
        "posts/2018-10-17/index.md": (
            "2018-10-17",
            "/post-three/",
            None,
            "/posts/2018-10-17/finance.jpg",
        ),
        "posts/2018-10-18/index.md": (
            "2018-10-18",
            "/post-four/",
            None,
            "/posts/2018-10-17/finance.jpg",
        ),
    },
    # A docs repository: ../media/ images resolve beside the page, never with '..'.
    "docs/docs": {
        "build/clang-support-cmake.md": (
            "clang-support-cmake",
            "/build/clang-support-cmake/",
            None,
            # Its first :::image::: directive, as on learn.microsoft.com.
            "/build/media/clang-install-vs2019.png",
        ),
        "build/reference/property-page-xml-files.md": (
            "property-page-xml-files",
            "/build/reference/property-page-xml-files/",
            None,
            "/build/media/cpp-property-page-2017.png",
        ),
        "build/reference/translateinclude.md": (
            "translateinclude",
            "/build/reference/translateinclude/",
            None,
            "/build/media/vs2019-translate-includes-option.png",
        ),
        "build/reference/vcpp-directories-property-page.md": (
            "vcpp-directories-property-page",
            "/build/reference/vcpp-directories-property-page/",
            None,
            "/build/media/vcppdir.png",
        ),
    },
}


@pytest.mark.parametrize("site", sorted(EXPECTED))
def test_slug_uri_category_and_cover_of_each_page(site: str) -> None:
    index = ContentIndex.from_directory(SITES / site)
    expected = EXPECTED[site]
    got = {
        t.path: (
            t.slug,
            t.uri,
            t.category.name if t.category else None,
            t.cover_image.src if t.cover_image else None,
        )
        for t in index.preview.treatments
        if t.path in expected
    }
    assert got == expected
    assert not [e for e in index.errors if "uri" in e.message]


def test_repeated_leaf_names_and_shared_slugs_on_hugo_docs() -> None:
    view = ContentIndex.from_directory(SITES / "hugo" / "content" / "en").public
    assert view.shared_slugs == {"params": ("/methods/page/params/", "/methods/site/params/")}
    assert view.by_uri["/methods/site/params/"].path == "methods/site/Params.md"
    assert view.by_key("methods/page") is view.by_uri["/methods/page/"]
