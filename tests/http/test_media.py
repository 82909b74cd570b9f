"""Image files under the content folder through the app, each at its own path: only real
images, never a Markdown file or a dot file, SVG only as an inert download, a draft's
pictures only with the preview token, no redirect, Cache-Control on every answer, and no
route of the app shadowed.

tests/fixtures/media holds three pages (one public, one `draft: true`, one `published:
false`) and small real images (made by Chromium's canvas encoders and decoded by it), plus
hostile files: evil.html, an evil.png holding that HTML, a logo.svg with a script. What
git cannot hold or should not (a .git folder, dot files, symlinks) and pictures outside
img/ (beside their pages, as real sites keep them) are added to a copy.
"""

from __future__ import annotations

import http.client
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from contentapi.content.index import ContentIndex
from contentapi.settings import Settings

from clients import make_client
from server import running_server

MEDIA = Path(__file__).parent.parent / "fixtures" / "media"
IMAGES = MEDIA / "img"
TOKEN = "s3cret-preview"
PREVIEW = {"authorization": f"Bearer {TOKEN}"}
NOT_FOUND = {"errors": [{"message": "Not Found"}]}
PUBLIC = "public, max-age=300"
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/svg+xml"}
SVG_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
# Files each refused by one rule alone: their bytes are a real PNG.
PNG = (IMAGES / "pages" / "front.png").read_bytes()


def hostile_content(root: Path) -> Path:
    """A copy of tests/fixtures/media with what git cannot carry added to it."""
    content = Path(shutil.copytree(MEDIA, root / "content", symlinks=True))
    images = content / "img"
    (images / ".git").mkdir()
    (images / ".git" / "config").write_text("[remote]\n\turl = secret\n", encoding="utf-8")
    (images / ".hidden.png").write_bytes(PNG)
    (images / ".well-known").mkdir()
    (images / ".well-known" / "a.png").write_bytes(PNG)
    (content / "root.png").write_bytes(PNG)
    (root / "outside.png").write_bytes(PNG)
    (images / "outside.png").symlink_to(root / "outside.png")
    (images / "hidden-link.png").symlink_to(images / ".hidden.png")
    (images / "alias.png").symlink_to(images / "pages" / "launch.png")
    # Other spellings, as a case-insensitive disk would serve them under one name.
    (images / "pages" / "FRONT.PNG").write_bytes(PNG)
    shutil.copy(images / "pages" / "launch.png", images / "pages" / "LAUNCH.png")
    # HTML under an SVG name: no <svg> element first.
    (images / "page.svg").write_bytes(b"<html><script>alert(1)</script></html>\n")
    (content / ".hidden.png").write_bytes(PNG)
    (content / "notes.png.md").write_text("---\ntitle: Notes\n---\nText.\n", encoding="utf-8")
    (content / "page-link.png").symlink_to(content / "open-day.md")
    # A docs site: a page in build/reference/ shows ../media/x.png (named by its site path).
    (content / "build" / "reference").mkdir(parents=True)
    (content / "build" / "media").mkdir()
    (content / "build" / "media" / "x.png").write_bytes(PNG)
    (content / "build" / "reference" / "options.md").write_text(
        "---\ntitle: Options\n---\n![Options](/build/media/x.png)\n", encoding="utf-8"
    )
    # A draft page bundle with its picture beside it.
    (content / "post").mkdir()
    shutil.copy(images / "shared.jpg", content / "post" / "yoda.jpg")
    (content / "post" / "index.md").write_text(
        "---\ntitle: Yoda\ndraft: true\n---\n![Yoda](/post/yoda.jpg)\n", encoding="utf-8"
    )
    # Content files where the app's own routes are: the routes win.
    (content / "graphiql" / "static").mkdir(parents=True)
    (content / "graphiql" / "static" / "x.png").write_bytes(PNG)
    (content / "healthz").mkdir()
    (content / "healthz" / "x.png").write_bytes(PNG)
    return content


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return hostile_content(tmp_path)


@pytest.fixture
def client(content: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        content_dir=content, preview_token=TOKEN, cache_dir=tmp_path / "cache", cache_max_age=300
    )
    with make_client(settings) as client:
        yield client


def assert_not_found(response: httpx.Response) -> None:
    """404 with the app's JSON error body, stored by no cache, and no Location."""
    assert response.status_code == 404, (response.url, response.headers)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert "location" not in response.headers
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("path", "media_type", "file"),
    [
        ("/img/pages/front.png", "image/png", "img/pages/front.png"),
        # Shown by the draft and by the public page: public.
        ("/img/shared.jpg", "image/jpeg", "img/shared.jpg"),
        # Named by no page: public, as in any static folder.
        ("/img/loose.jpeg", "image/jpeg", "img/loose.jpeg"),
        ("/img/loose.avif", "image/avif", "img/loose.avif"),
        # The extension's case does not matter to the type.
        ("/img/pages/FRONT.PNG", "image/png", "img/pages/FRONT.PNG"),
        # Anywhere under the content folder, at its own path.
        ("/root.png", "image/png", "root.png"),
        ("/build/media/x.png", "image/png", "build/media/x.png"),
        # Below a folder named like a route: only the exact route is the app's.
        ("/healthz/x.png", "image/png", "healthz/x.png"),
    ],
)
def test_public_images_are_served_with_their_type_and_a_public_cache(
    client: TestClient, content: Path, path: str, media_type: str, file: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == PUBLIC
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-disposition" not in response.headers
    assert response.content == (content / file).read_bytes()
    # The token changes nothing about a public picture.
    assert client.get(path, headers=PREVIEW).headers["cache-control"] == PUBLIC


@pytest.mark.parametrize(
    "path",
    [
        "/img/evil.html",  # not an image type
        "/img/evil.png",  # HTML under an image name: its bytes are no PNG
        "/img/page.svg",  # HTML under an SVG name: no <svg> element
        "/img/.git/config",
        "/img/.hidden.png",  # a dot file (real PNG bytes)
        "/img/.well-known/a.png",  # a dot folder
        "/img/hidden-link.png",  # a symlink to a dot file
        "/img/outside.png",  # a symlink leading out of the folder
        "/img/%2e%2e/root.png",  # traversal to a real PNG beside img/
        "/img/..%2froot.png",
        "/img/pages/%2e%2e/%2e%2e/root.png",
        "/img/%2e/shared.jpg",
        "/img//shared.jpg",
        "/img/shared.jpg%00.png",
        "/img/pages%5c..%5c..%5croot.png",  # backslashes
        "/img/nope.png",
        "/img/pages",
        "/img/pages/",
        "/img/",
        "/img",
        "/imgshared.jpg",
        "/img/" + "a" * 300 + ".png",  # a name too long for the file system
        "/img/shared.jpg/",
        "/",
        "/nope",
        "/launch.md",  # a page: Markdown is never served
        "/build/reference/options.md",
        "/notes.png.md",
        "/page-link.png",  # a symlink to a page
        "/.hidden.png",  # a dot file beside the pages
        "/graphql/",  # not a route of the app, and no redirect to /graphql
        "/graphiql/static/x.png",  # the GraphiQL files answer there, not the content folder
    ],
)
def test_anything_else_is_404_json_and_never_stored(client: TestClient, path: str) -> None:
    if path.startswith("/graphiql/static/"):
        # StaticFiles' own 404 through the app's handler: JSON, but no Cache-Control.
        missing = client.get(path)
        assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
        return
    assert_not_found(client.get(path))
    assert_not_found(client.get(path, headers=PREVIEW))


def test_svg_is_served_only_as_an_inert_download(client: TestClient, content: Path) -> None:
    """An SVG can carry script (the fixture's does): sandboxed, no fetches, and saved
    rather than rendered when opened directly; `<img>` draws it as usual."""
    response = client.get("/img/logo.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["content-security-policy"] == SVG_CSP
    assert response.headers["content-disposition"] == "attachment"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == PUBLIC
    assert response.content == (content / "img" / "logo.svg").read_bytes()
    again = client.get("/img/logo.svg", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["content-security-policy"] == SVG_CSP
    assert again.headers["content-disposition"] == "attachment"
    # Rasters keep the API's policy and no disposition.
    png = client.get("/img/pages/front.png")
    assert png.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    "head",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<svg width="2">',
        b'<!-- Generator: an editor -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg\n>',
        # As Adobe Illustrator exports: a doctype declaring entities.
        b'<?xml version="1.0" encoding="utf-8"?>\n<!-- Generator: Adobe Illustrator 16.0.0 -->\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/'
        b'DTD/svg11.dtd" [\n\t<!ENTITY ns_svg "http://www.w3.org/2000/svg">\n'
        b'\t<!ENTITY ns_xlink "http://www.w3.org/1999/xlink">\n]>\n<svg version="1.1">',
    ],
)
def test_svg_files_as_editors_write_them_are_served(tmp_path: Path, head: bytes) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "icon.svg").write_bytes(head + b"</svg>\n")
    with make_client(Settings(content_dir=content, cache_dir=None)) as client:
        response = client.get("/icon.svg")
    assert (response.status_code, response.headers["content-type"]) == (200, "image/svg+xml")


@pytest.mark.parametrize(
    "head",
    [
        b"<html><body><svg>",
        b"<!DOCTYPE html>\n<svg>",
        b"<svgx>",
        b"text <svg>",
        b"<!-- " + b"x" * 5000 + b" --><svg>",  # no root element within the bytes read
        # What would make a regular expression with nested repeats backtrack for ages.
        b" " * 4000 + b"<x>",
        b"<!-- a -->" * 400 + b"<x>",
    ],
)
def test_files_named_svg_that_do_not_open_an_svg_element_are_404(
    tmp_path: Path, head: bytes
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "icon.svg").write_bytes(head + b"</svg>\n")
    with make_client(Settings(content_dir=content, cache_dir=None)) as client:
        assert_not_found(client.get("/icon.svg"))


def test_the_app_routes_are_not_shadowed_by_content_files(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    answer = client.get("/graphql", params={"query": "{ __typename }"})
    assert answer.json() == {"data": {"__typename": "Query"}}
    # A method a route refuses is still its 405, not the images' 404.
    refused = client.post("/healthz")
    # Starlette lists a route's methods in set order.
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert client.put("/graphql", json={}).status_code == 405
    css = client.get("/graphiql/static/graphiql.min.css")
    assert (css.status_code, css.headers["content-type"]) == (200, "text/css; charset=utf-8")


def test_the_examples_route_is_not_shadowed_by_content_files(content: Path, tmp_path: Path) -> None:
    (content / "examples").mkdir()
    (content / "examples" / "x.png").write_bytes(PNG)
    settings = Settings(content_dir=content, cache_dir=tmp_path / "cache", examples=True)
    with make_client(settings) as client:
        assert client.get("/examples/").status_code == 200
        assert client.get("/examples/x.png").status_code == 404
    with make_client(Settings(content_dir=content, cache_dir=tmp_path / "cache")) as client:
        assert client.get("/examples/x.png").status_code == 200


@pytest.mark.parametrize("path", ["/img", "/img/", "/graphql/", "/healthz/"])
def test_no_path_redirects_to_a_foreign_host(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"host": "evil.com"}, follow_redirects=False)
    assert_not_found(response)


@pytest.mark.parametrize(
    ("path", "media_type", "file"),
    [
        ("/img/pages/launch.png", "image/png", "img/pages/launch.png"),  # draft: true
        # src percent-encoded
        ("/img/launch%20poster.webp", "image/webp", "img/launch poster.webp"),
        # published: false, src with backslashes
        ("/img/teaser.gif", "image/gif", "img/teaser.gif"),
        # a symlink to a draft's picture
        ("/img/alias.png", "image/png", "img/pages/launch.png"),
        # its name in capitals
        ("/img/pages/LAUNCH.png", "image/png", "img/pages/LAUNCH.png"),
        # beside its draft page, outside img/
        ("/post/yoda.jpg", "image/jpeg", "post/yoda.jpg"),
    ],
)
def test_draft_pictures_only_with_the_preview_token(
    client: TestClient, content: Path, path: str, media_type: str, file: str
) -> None:
    assert_not_found(client.get(path))
    assert_not_found(client.get(path, headers={"authorization": "Bearer wrong"}))
    assert_not_found(client.get(path, headers={"authorization": TOKEN}))
    response = client.get(path, headers=PREVIEW)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == "private, no-store"
    assert response.content == (content / file).read_bytes()


def test_no_token_configured_means_no_draft_pictures(content: Path, tmp_path: Path) -> None:
    settings = Settings(content_dir=content, cache_dir=tmp_path / "cache")
    with make_client(settings, raise_server_exceptions=True) as client:
        assert_not_found(client.get("/img/pages/launch.png", headers={"authorization": "Bearer "}))
        assert client.get("/img/pages/front.png").headers["cache-control"] == "public, max-age=60"


def test_which_pictures_are_drafts_follows_the_content_version(
    client: TestClient, content: Path
) -> None:
    """Publishing the draft makes its pictures public; unpublishing a page hides its own."""
    store = client.app.state.store  # type: ignore[attr-defined]
    assert_not_found(client.get("/img/pages/launch.png"))
    launch = content / "launch.md"
    launch.write_text(launch.read_text(encoding="utf-8").replace("draft: true", "draft: false"))
    open_day = content / "open-day.md"
    open_day.write_text(
        open_day.read_text(encoding="utf-8").replace("category:", "draft: true\ncategory:")
    )
    store.swap(ContentIndex.from_directory(content))
    published = client.get("/img/pages/launch.png")
    assert (published.status_code, published.headers["cache-control"]) == (200, PUBLIC)
    assert_not_found(client.get("/img/pages/front.png"))
    # Still shown by the now published launch page.
    assert client.get("/img/shared.jpg").headers["cache-control"] == PUBLIC


def test_conditional_requests_and_head(client: TestClient) -> None:
    first = client.get("/img/shared.jpg")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get("/img/shared.jpg", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == PUBLIC
    since = client.get("/img/shared.jpg", headers={"if-modified-since": modified})
    assert since.status_code == 304
    head = client.head("/img/shared.jpg")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(first.content))
    assert head.headers["content-type"] == "image/jpeg"
    # A draft's picture: no 304 for a stranger who learnt its ETag.
    draft = client.get("/img/pages/launch.png", headers=PREVIEW)
    assert_not_found(
        client.get("/img/pages/launch.png", headers={"if-none-match": draft.headers["etag"]})
    )


def test_other_methods_are_405_never_stored(client: TestClient) -> None:
    response = client.post("/img/shared.jpg", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"errors": [{"message": "Method Not Allowed"}]}
    # Where no image could be, any method is 404.
    assert_not_found(client.post("/launch.md", content=b"x"))
    assert_not_found(client.delete("/nope"))


def test_no_img_folder_is_404_everywhere(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "page.md").write_text("---\ntitle: Page\n---\nBody.\n", encoding="utf-8")
    with make_client(
        Settings(content_dir=content, cache_dir=tmp_path / "c"), raise_server_exceptions=True
    ) as c:
        for path in ("/img/x.png", "/img/", "/img", "/", "/x.png"):
            assert_not_found(c.get(path, headers={"host": "evil.com"}, follow_redirects=False))


def test_graphiql_html_varies_on_accept_and_is_revalidated(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["vary"] == "Accept"
    assert page.headers["cache-control"] == "no-cache"


def every_file_under(content: Path) -> list[str]:
    """Every name under the content folder, dot files, dot folders, pages and symlinks
    included, as URL paths."""
    return sorted(
        "/" + quote(path.relative_to(content).as_posix())
        for path in content.rglob("*")
        if not path.is_dir() or path.is_symlink()
    )


def raw_get(base: str, path: str, host: str = "127.0.0.1") -> http.client.HTTPResponse:
    """GET `path` byte for byte (no client normalising `..`), with the given Host header."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    connection.request("GET", path, headers={"host": host})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_a_real_server_never_serves_a_non_image(tmp_path: Path) -> None:
    """Over a socket to `contentapi serve`: every file in the hostile folder, literal `..`
    paths and a foreign Host. Whatever answers 200 is an image type; the rest is JSON."""
    content = hostile_content(tmp_path)
    env = {"CONTENTAPI_PREVIEW_TOKEN": TOKEN}
    served: dict[str, str] = {}
    with running_server(content, "--cache-dir", str(tmp_path / "cache"), env=env) as base:
        evil = raw_get(base, "/img/evil.html")
        assert (evil.status, evil.getheader("content-type")) == (404, "application/json")
        for path in every_file_under(content):
            response = raw_get(base, path)
            kind = response.getheader("content-type") or ""
            # The GraphiQL files' 404 (StaticFiles through the app's handler) has none.
            if not path.startswith("/graphiql/static/"):
                assert response.getheader("cache-control") is not None, path
            if response.status == 200:
                assert kind in IMAGE_TYPES
                served[path] = kind
            else:
                assert (response.status, kind) == (404, "application/json"), path
        for path in (
            "/img/../root.png",
            "/img/pages/../../root.png",
            "/img/./shared.jpg",
            "/img/../../outside.png",
            "/../outside.png",
            "/post/../root.png",
        ):
            response = raw_get(base, path)
            assert response.status == 404
            assert response.getheader("content-type") == "application/json"
        for path in ("/img", "/img/", "/", "/graphql/"):
            response = raw_get(base, path, host="evil.com")
            assert response.status == 404
            assert response.getheader("location") is None
    assert served == {
        "/build/media/x.png": "image/png",
        "/healthz/x.png": "image/png",
        "/img/loose.avif": "image/avif",
        "/img/loose.jpeg": "image/jpeg",
        "/img/logo.svg": "image/svg+xml",
        "/img/pages/FRONT.PNG": "image/png",
        "/img/pages/front.png": "image/png",
        "/img/shared.jpg": "image/jpeg",
        "/root.png": "image/png",
    }


SITES = Path(__file__).parent.parent / "fixtures" / "sites"


@pytest.mark.parametrize(
    ("root", "path", "media_type", "file"),
    [
        # cpp-docs: a page in build/reference/ shows ../media/x.png.
        ("docs", "/docs/build/media/vcppdir.png", "image/png", "docs/build/media/vcppdir.png"),
        # PowerShell-Docs: a reference-style image's ./media/ picture, a GIF.
        (
            "powershell-docs",
            "/reference/docs-conceptual/learn/deep-dives/media/"
            "add-credentials-to-powershell-functions/GetCredsPrompt.gif",
            "image/gif",
            "reference/docs-conceptual/learn/deep-dives/media/"
            "add-credentials-to-powershell-functions/GetCredsPrompt.gif",
        ),
        # Hugo page bundles: the picture beside index.md.
        (
            "hugo/content",
            "/en/content-management/image-processing/sunset.jpg",
            "image/jpeg",
            "en/content-management/image-processing/sunset.jpg",
        ),
        (
            "hugo/content",
            "/en/functions/strings/Diff/diff-screen-capture.png",
            "image/png",
            "en/functions/strings/Diff/diff-screen-capture.png",
        ),
        # Zola: a post folder with its pictures.
        (
            "zola/content",
            "/Shape-of-errors-to-come/new_errors2.png",
            "image/png",
            "Shape-of-errors-to-come/new_errors2.png",
        ),
        # Gatsby: one folder per post, the cover beside it.
        (
            "gatsby-posts",
            "/content/posts/2018-10-17/finance.jpg",
            "image/jpeg",
            "content/posts/2018-10-17/finance.jpg",
        ),
        # Jekyll: front matter `image:` names a file under the site root.
        (
            "jekyll-serif",
            "/images/team/sage-kirk-485982-unsplash.jpg",
            "image/jpeg",
            "images/team/sage-kirk-485982-unsplash.jpg",
        ),
        ("jekyll-serif", "/images/logo/logo.svg", "image/svg+xml", "images/logo/logo.svg"),
        (
            "astro",
            "/src/assets/blog-placeholder-3.jpg",
            "image/jpeg",
            "src/assets/blog-placeholder-3.jpg",
        ),
        ("astro", "/public/favicon.svg", "image/svg+xml", "public/favicon.svg"),
    ],
)
def test_real_sites_pictures_are_served_where_they_are(
    root: str, path: str, media_type: str, file: str
) -> None:
    content = SITES / root
    with make_client(Settings(content_dir=content, cache_dir=None)) as client:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == media_type
        assert response.content == (content / file).read_bytes()
        page = next(content.rglob("*.md")).relative_to(content).as_posix()
        assert_not_found(client.get("/" + quote(page)))
