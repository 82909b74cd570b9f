"""Where a page lives on its site (slug, uri, the Jekyll file-name date), and what its
front matter says in the words of real sites: category, benefits, cover image."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contentapi.content.index import ContentIndex
from contentapi.content.model import ContentError, Image, Mention, Treatment
from contentapi.content.page import (
    Identity,
    front_matter_benefits,
    page_category,
    page_identity,
    resolve_front_matter_src,
)
from contentapi.errors import PageError

Parse = Callable[..., Treatment | ContentError]


def ok(parse: Parse, text: str, path: str = "page.md") -> Treatment:
    page = parse(text, path)
    assert isinstance(page, Treatment), page
    return page


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# --------------------------------------------------------------------------- slug and uri


@pytest.mark.parametrize(
    ("path", "slug", "uri"),
    [
        # At the top of the folder: the slug as before, the uri /slug/.
        ("mesotherapy.md", "mesotherapy", "/mesotherapy/"),
        ("My Page.md", "my-page", "/my-page/"),
        ("index.md", "index", "/index/"),
        # Bundles stand for their folder.
        ("post-name/index.md", "post-name", "/post-name/"),
        ("blog/My Post/index.markdown", "my-post", "/blog/my-post/"),
        # _index.md stands for its section; at the top, for the site root.
        ("about/_index.md", "about", "/about/"),
        ("docs/Getting Started/_index.md", "getting-started", "/docs/getting-started/"),
        ("_index.md", "index", "/"),
        # Repeated leaf names: the folders tell them apart.
        ("methods/page/Params.md", "params", "/methods/page/params/"),
        ("methods/site/Params.md", "params", "/methods/site/params/"),
        # Every segment slugged; a folder with no letters or digits adds none.
        ("Ærø Guides/Straße.md", "strasse", "/aero-guides/strasse/"),
        ("___/x.md", "x", "/x/"),
    ],
)
def test_slug_and_uri_from_the_path(path: str, slug: str, uri: str) -> None:
    assert page_identity(path, None, {}) == Identity(slug, uri, None)


def test_jekyll_date_prefix_gives_the_date_and_leaves_the_slug() -> None:
    assert page_identity("_posts/2016-03-08-example-post.md", None, {}) == Identity(
        "example-post", "/posts/example-post/", dt.date(2016, 3, 8)
    )
    assert page_identity("2024-02-29-leap.markdown", None, {}) == Identity(
        "leap", "/leap/", dt.date(2024, 2, 29)
    )
    # Not a real date: part of the name.
    assert page_identity("2024-13-45-odd.md", None, {}) == Identity(
        "2024-13-45-odd", "/2024-13-45-odd/", None
    )
    # A name that is only a date has no prefix to drop.
    assert page_identity("2024-01-02.md", None, {}) == Identity("2024-01-02", "/2024-01-02/", None)


def test_front_matter_slug_is_the_last_segment() -> None:
    assert page_identity("a/b.md", "Special Slug", {}) == Identity(
        "special-slug", "/a/special-slug/", None
    )
    assert page_identity("blog/x/index.md", "y", {}) == Identity("y", "/blog/y/", None)
    assert page_identity("_index.md", "home", {}) == Identity("home", "/", None)


@pytest.mark.parametrize(
    ("front", "uri"),
    [
        ({"permalink": "/treatments/botox"}, "/treatments/botox/"),
        ({"permalink": "treatments/botox/"}, "/treatments/botox/"),
        ({"url": "/docs/x/"}, "/docs/x/"),
        ({"url": "https://example.com/docs/x/"}, "/docs/x/"),
        ({"path": "2015/05/15/Rust-1.0"}, "/2015/05/15/Rust-1.0/"),
        ({"permalink": "/"}, "/"),
        ({"permalink": "//a/./b//"}, "/a/b/"),
        ({"permalink": "/a/../b"}, "/a/b/"),
        # The first given wins: permalink, then url, then path.
        ({"path": "/p/", "url": "/u/", "permalink": "/j/"}, "/j/"),
        ({"path": "/p/", "url": "/u/"}, "/u/"),
        # Empty is not given.
        ({"permalink": "", "url": "  ", "path": "/p/"}, "/p/"),
    ],
)
def test_uri_from_front_matter(front: dict[str, Any], uri: str) -> None:
    identity = page_identity("deep/folder/page.md", None, front)
    assert (identity.slug, identity.uri) == ("page", uri)


def test_a_uri_that_is_not_text_is_an_error(parse: Parse) -> None:
    with pytest.raises(PageError) as raised:
        page_identity("a.md", None, {"permalink": 5})
    assert raised.value.message == "'permalink' must be a site path such as /about/, not 5"
    error = parse("---\ntitle: T\nurl: [a, b]\n---\nBody\n", "a.md")
    assert error == ContentError(
        "a.md", None, "'url' must be a site path such as /about/, not ['a', 'b']"
    )


def test_parsed_pages_carry_uri_and_file_name_date(parse: Parse) -> None:
    post = ok(parse, "---\ntitle: Post\n---\nBody\n", "_posts/2016-03-08-example-post.md")
    assert (post.slug, post.uri, post.key, post.date) == (
        "example-post",
        "/posts/example-post/",
        "posts/example-post",
        dt.date(2016, 3, 8),
    )
    dated = ok(parse, "---\ntitle: Post\ndate: 2020-01-02\n---\nBody\n", "_posts/2016-03-08-x.md")
    assert dated.date == dt.date(2020, 1, 2)  # the front matter's date wins
    root = ok(parse, "---\ntitle: Home\n---\nBody\n", "_index.md")
    assert (root.slug, root.uri, root.key) == ("index", "/", "/")


# --------------------------------------------------------------------------- the index


def test_two_pages_with_one_uri_name_both_files_and_the_first_is_served(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "a.md": "---\ntitle: A\npermalink: /same/\n---\nA\n",
            "same/index.md": "---\ntitle: B\n---\nB\n",
            "c.md": "---\ntitle: C\nurl: /same\n---\nC\n",
        },
    )
    index = ContentIndex.from_directory(root)
    assert [str(e) for e in index.errors] == [
        "c.md: has the uri '/same/', already used by a.md: only the first is served",
        "same/index.md: has the uri '/same/', already used by a.md: only the first is served",
    ]
    assert [(t.path, t.uri) for t in index.public.treatments] == [("a.md", "/same/")]
    assert index.public.by_uri["/same/"].title == "A"


def test_repeated_slugs_are_served_each_under_its_uri(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "methods/page/Params.md": "---\ntitle: Page params\n---\nP\n",
            "methods/site/Params.md": "---\ntitle: Site params\n---\nS\n",
            "params-guide.md": "---\ntitle: Guide\nslug: guide\n---\nG\n",
        },
    )
    view = ContentIndex.from_directory(root).public
    assert [(t.slug, t.uri) for t in view.treatments] == [
        ("params", "/methods/page/params/"),
        ("params", "/methods/site/params/"),
        ("guide", "/guide/"),
    ]
    assert view.shared_slugs == {"params": ("/methods/page/params/", "/methods/site/params/")}
    assert view.by_unique_slug("params") is None
    assert view.by_unique_slug("guide") is view.by_uri["/guide/"]
    assert view.by_key("methods/site/params") is view.by_uri["/methods/site/params/"]
    assert view.by_key("guide") is view.by_uri["/guide/"]


def test_a_draft_does_not_take_a_uri_from_the_public(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "a.md": "---\ntitle: Draft\ndraft: true\npermalink: /x/\n---\nD\n",
            "b.md": "---\ntitle: Live\npermalink: /x/\n---\nL\n",
        },
    )
    index = ContentIndex.from_directory(root)
    assert index.public.by_uri["/x/"].title == "Live"
    assert index.preview.by_uri["/x/"].title == "Draft"
    assert [str(e) for e in index.errors] == [
        "b.md: has the uri '/x/', already used by a.md: only the first is served"
    ]


# --------------------------------------------------------------------------- category


@pytest.mark.parametrize(
    ("front", "path", "name"),
    [
        ({"category": "Skin", "categories": ["Face"], "layout": "Laser"}, "_x/a.md", "Skin"),
        ({"categories": ["Face", "Body"], "layout": "Laser"}, "_x/a.md", "Face"),
        ({"categories": "face, body"}, "a.md", "face"),
        ({"categories": "face body"}, "a.md", "face"),
        ({"categories": []}, "_treatments/a.md", "treatments"),
        ({"layout": "Laser"}, "_treatments/a.md", "treatments"),
        ({}, "_posts/2016-03-08-a.md", "posts"),
        ({}, "src/content/services/a.md", "services"),
        ({}, "site/src/content/services/deep/a.md", "services"),
        ({"layout": "Skin Treatment"}, "a.md", "Skin Treatment"),
        ({"layout": "Skin Treatment"}, "_drafts/a.md", "Skin Treatment"),
        ({"category": 2024}, "a.md", "2024"),
    ],
)
def test_category_sources_in_order(front: dict[str, Any], path: str, name: str) -> None:
    category = page_category(front, path)
    assert category is not None
    assert category.name == name


@pytest.mark.parametrize("layout", ["default", "page", "post", "single", "list", "home", "Post"])
def test_template_layouts_are_no_category(layout: str) -> None:
    assert page_category({"layout": layout}, "a.md") is None
    assert page_category({"layout": layout}, "src/content/a.md") is None


def test_parsed_category_from_a_collection(parse: Parse) -> None:
    page = ok(parse, "---\ntitle: Botox\nlayout: default\n---\nB\n", "_treatments/botox.md")
    assert page.category == Mention("treatments", "treatments")
    assert (page.slug, page.uri) == ("botox", "/treatments/botox/")


# --------------------------------------------------------------------------- benefits


def test_benefits_strings_and_objects() -> None:
    assert front_matter_benefits({"benefits": ["Acne", " ", "Scars", 3]}) == ["Acne", "Scars", "3"]
    assert front_matter_benefits(
        {
            "benefits": [
                {"icon": "a.svg", "name": "Smoother skin"},
                {"icon": "b.svg", "benefitTitle": "Glow", "name_alt": 1},
                {"icon": "c.svg", "text": "no name"},
                "Firmness",
            ]
        }
    ) == ["Smoother skin", "Glow", "Firmness"]
    assert front_matter_benefits({"benefits": "Everything"}) == []
    assert front_matter_benefits({}) == []


def test_benefits_come_after_the_body_and_front_matter_indications(parse: Parse) -> None:
    page = ok(
        parse,
        "---\ntitle: T\nindications: [Acne]\nbenefits:\n  - title: Glow\n  - Cellulite\n"
        "  - acne\n---\n##### Treats:\n\n* Cellulite\n* Wrinkles\n",
    )
    assert [(m.name, m.slug) for m in page.indications] == [
        ("Cellulite", "cellulite"),
        ("Wrinkles", "wrinkles"),
        ("Acne", "acne"),
        ("Glow", "glow"),
    ]


# --------------------------------------------------------------------------- cover image


@pytest.mark.parametrize(
    ("front", "src", "alt"),
    [
        ("image: /img/a.jpg\nalt: A face", "/img/a.jpg", "A face"),
        ("featured_image: img/b.jpg\nimage_alt: B", "/img/b.jpg", "B"),
        ("featuredimage: /c.png\nimageAlt: C", "/c.png", "C"),
        ("cover:\n  image: d.jpg\n  alt: D", "/d.jpg", "D"),
        ("cover:\n  src: /e.jpg", "/e.jpg", None),
        (
            "thumbnail:\n  url: https://cdn.example.com/f.jpg?w=2",
            "https://cdn.example.com/f.jpg?w=2",
            None,
        ),
        ("hero:\n  image: /g.webp\n  title: Hero\nalt: G", "/g.webp", "G"),
        ("heroImage: ../g2.jpg", "/g2.jpg", None),
        ("image: //cdn.example.com/h.jpg", "//cdn.example.com/h.jpg", None),
        ("image: \\img\\i.jpg", "/img/i.jpg", None),
        ("image: ../../j.jpg", "/j.jpg", None),
        # The first key given wins: image before thumbnail.
        ("thumbnail: /t.jpg\nimage: /k.jpg", "/k.jpg", None),
        ("image: ''\nthumbnail: /l.jpg", "/l.jpg", None),
        ("image: [/m.jpg, /n.jpg]", "/m.jpg", None),
    ],
)
def test_cover_from_each_front_matter_key(
    parse: Parse, front: str, src: str, alt: str | None
) -> None:
    page = ok(parse, f"---\ntitle: T\n{front}\n---\n![body](/body.png)\n", "p/page.md")
    cover = Image("/p/page/", 0, src, alt)
    assert page.cover_image == cover
    assert page.images == (cover, Image("/p/page/", 1, "/body.png", "body"))


def test_cover_shown_in_the_body_is_not_repeated(parse: Parse) -> None:
    page = ok(
        parse,
        "---\ntitle: T\nimage: /second.png\n---\n![one](/first.png)\n\n![two](/second.png)\n",
    )
    assert [image.src for image in page.images] == ["/first.png", "/second.png"]
    assert page.cover_position == 1
    assert page.cover_image == Image("/page/", 1, "/second.png", "two")


def test_cover_is_the_first_image_without_front_matter_and_none_without_images(
    parse: Parse,
) -> None:
    page = ok(parse, "---\ntitle: T\n---\n![one](/first.png)\n\n![two](/second.png)\n")
    assert page.cover_image == Image("/page/", 0, "/first.png", "one")
    bare = ok(parse, "---\ntitle: T\nimage: {}\n---\nNo pictures.\n")
    assert (bare.cover_image, bare.images) == (None, ())


def test_front_matter_image_beside_the_page_else_from_the_root(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "post/index.md": "---\ntitle: Yoda\nimage: ./yoda.jpg\n---\nBody\n",
            "post/other.md": "---\ntitle: Other\nimage: assets/x.jpg\n---\nBody\n",
            "docs/build/page.md": "---\ntitle: Build\nimage: ../media/x.png\n---\nBody\n",
            "docs/build/far.md": "---\ntitle: Far\nimage: ../../../../up.png\n---\nBody\n",
        },
    )
    for name in ("post/yoda.jpg", "docs/media/x.png", "assets/x.jpg"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    covers = {
        t.path: t.cover_image.src
        for t in ContentIndex.from_directory(root).public.treatments
        if t.cover_image is not None
    }
    assert covers == {
        "post/index.md": "/post/yoda.jpg",
        "post/other.md": "/assets/x.jpg",
        "docs/build/page.md": "/docs/media/x.png",
        "docs/build/far.md": "/up.png",
    }


def test_resolve_front_matter_src_without_a_root_reads_from_the_content_root() -> None:
    assert resolve_front_matter_src("yoda.jpg", "post/index.md", None) == "/yoda.jpg"
    assert resolve_front_matter_src("data:image/png;base64,AA", "a.md", None) == (
        "data:image/png;base64,AA"
    )


@pytest.mark.parametrize(
    ("path", "front", "uri"),
    [
        (
            "_posts/2016-03-08-example-post.md",
            {"permalink": "/:categories/:year/:month/:day/:title:output_ext"},
            "/2016/03/08/example-post/",
        ),
        (
            "_posts/2016-03-08-example-post.md",
            {"permalink": "/:categories/:title/", "categories": "News Team"},
            "/news/team/example-post/",
        ),
        (
            "_posts/2016-03-08-example-post.md",
            {"permalink": "/:categories/:i_month/:title/", "categories": ["Big News", "x"]},
            "/big-news/x/3/example-post/",
        ),
        # The front matter date wins over the file name's.
        (
            "_posts/2016-03-08-example-post.md",
            {"permalink": "/blog/:year/:short_year/:i_day/:title/", "date": "2017-01-02 10:00:00"},
            "/blog/2017/17/2/example-post/",
        ),
        ("about.md", {"permalink": "/:basename/"}, "/about/"),
        ("_treatments/Botox.md", {"permalink": "/:collection/:name/"}, "/treatments/botox/"),
        ("pages/team.md", {"permalink": "/:path/"}, "/pages/team/"),
        # No date: :year has no value and is left out.
        ("x.md", {"permalink": "/:year/:slug/"}, "/x/"),
        # Other words after a colon are kept; only a permalink has placeholders.
        ("x.md", {"permalink": "/ns:thing/:titles/"}, "/ns:thing/:titles/"),
        ("x.md", {"url": "/:title/"}, "/:title/"),
    ],
)
def test_jekyll_permalink_placeholders(path: str, front: dict[str, Any], uri: str) -> None:
    assert page_identity(path, None, front).uri == uri
