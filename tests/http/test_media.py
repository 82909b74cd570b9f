"""Pictures under img/ through the app: only real images, never a dot file, a draft's
pictures only with the preview token, no redirect, Cache-Control on every answer.

tests/fixtures/media holds three pages (one public, one `draft: true`, one `published:
false`) and small real images (made by Chromium's canvas encoders and decoded by it), plus
hostile files: evil.html, an evil.png holding that HTML, a logo.svg with a script. What
git cannot hold or should not (a .git folder, dot files, symlinks) is added to a copy.
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
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"}
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
        ("/img/pages/front.png", "image/png", "pages/front.png"),
        # Shown by the draft and by the public page: public.
        ("/img/shared.jpg", "image/jpeg", "shared.jpg"),
        # Named by no page: public, as in any static folder.
        ("/img/loose.jpeg", "image/jpeg", "loose.jpeg"),
        ("/img/loose.avif", "image/avif", "loose.avif"),
        # The extension's case does not matter to the type.
        ("/img/pages/FRONT.PNG", "image/png", "pages/FRONT.PNG"),
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
    assert response.content == (content / "img" / file).read_bytes()
    # The token changes nothing about a public picture.
    assert client.get(path, headers=PREVIEW).headers["cache-control"] == PUBLIC


@pytest.mark.parametrize(
    "path",
    [
        "/img/evil.html",  # not an image type
        "/img/evil.png",  # HTML under an image name: its bytes are no PNG
        "/img/logo.svg",  # SVG can carry script: refused
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
    ],
)
def test_anything_else_is_404_json_and_never_stored(client: TestClient, path: str) -> None:
    assert_not_found(client.get(path))
    assert_not_found(client.get(path, headers=PREVIEW))


@pytest.mark.parametrize("path", ["/img", "/img/"])
def test_img_with_a_foreign_host_is_not_redirected(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"host": "evil.com"}, follow_redirects=False)
    assert_not_found(response)


@pytest.mark.parametrize(
    ("path", "media_type", "file"),
    [
        ("/img/pages/launch.png", "image/png", "pages/launch.png"),  # draft: true
        ("/img/launch%20poster.webp", "image/webp", "launch poster.webp"),  # src percent-encoded
        ("/img/teaser.gif", "image/gif", "teaser.gif"),  # published: false, src with backslashes
        ("/img/alias.png", "image/png", "pages/launch.png"),  # a symlink to a draft's picture
        ("/img/pages/LAUNCH.png", "image/png", "pages/LAUNCH.png"),  # its name in capitals
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
    assert response.content == (content / "img" / file).read_bytes()


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


def test_no_img_folder_is_404_everywhere(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "page.md").write_text("---\ntitle: Page\n---\nBody.\n", encoding="utf-8")
    with make_client(
        Settings(content_dir=content, cache_dir=tmp_path / "c"), raise_server_exceptions=True
    ) as c:
        for path in ("/img/x.png", "/img/", "/img"):
            assert_not_found(c.get(path, headers={"host": "evil.com"}, follow_redirects=False))


def test_graphiql_html_varies_on_accept_and_is_revalidated(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["vary"] == "Accept"
    assert page.headers["cache-control"] == "no-cache"


def every_file_under(images: Path) -> list[str]:
    """Every name under img/, dot files, dot folders and symlinks included, as URL paths."""
    return sorted(
        "/img/" + quote(path.relative_to(images).as_posix())
        for path in images.rglob("*")
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


def test_a_real_server_never_serves_a_non_image_from_img(tmp_path: Path) -> None:
    """Over a socket to `contentapi serve`: every file in the hostile folder, literal `..`
    paths and a foreign Host. Whatever answers 200 is an image type; the rest is JSON."""
    content = hostile_content(tmp_path)
    env = {"CONTENTAPI_PREVIEW_TOKEN": TOKEN}
    served: dict[str, str] = {}
    with running_server(content, "--cache-dir", str(tmp_path / "cache"), env=env) as base:
        evil = raw_get(base, "/img/evil.html")
        assert (evil.status, evil.getheader("content-type")) == (404, "application/json")
        for path in every_file_under(content / "img"):
            response = raw_get(base, path)
            kind = response.getheader("content-type") or ""
            assert response.getheader("cache-control") is not None
            if response.status == 200:
                assert kind in IMAGE_TYPES
                served[path] = kind
            else:
                assert (response.status, kind) == (404, "application/json")
        for path in (
            "/img/../root.png",
            "/img/pages/../../root.png",
            "/img/./shared.jpg",
            "/img/../../outside.png",
        ):
            response = raw_get(base, path)
            assert response.status == 404
            assert response.getheader("content-type") == "application/json"
        for path in ("/img", "/img/"):
            response = raw_get(base, path, host="evil.com")
            assert response.status == 404
            assert response.getheader("location") is None
    assert served == {
        "/img/loose.avif": "image/avif",
        "/img/loose.jpeg": "image/jpeg",
        "/img/pages/FRONT.PNG": "image/png",
        "/img/pages/front.png": "image/png",
        "/img/shared.jpg": "image/jpeg",
    }
