"""Transformed pictures through the app: each parameter read back with Pillow, each bound
and bad value a 400 naming it, corrupt and missing files, a pixel bomb, the disk cache
(bounded, surviving a restart), identical concurrent requests made once, and an edited
picture getting a new URL.

Pictures are drawn here with Pillow; the page names them so GraphQL writes their URLs.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from PIL import Image, ImageCms
from starlette.applications import Starlette
from starlette.testclient import TestClient

from contentapi.http import imaging
from contentapi.http.app import create_app
from contentapi.http.media import ImageFiles
from contentapi.settings import Settings

from clients import make_client

SEED = Path(__file__).resolve().parent.parent.parent / "content"
TOKEN = "s3cret-preview"
PUBLIC = "public, max-age=300"
PAGE = """---
title: Pictures
---
![Photo](/img/photo.jpg)
![Logo](/img/logo.png)
![Turned](/img/turned.jpg)
"""
DRAFT = """---
title: Secret
draft: true
---
![Secret](/img/secret.jpg)
"""
TOO_WIDE = '{ treatment(slug: "pictures") { images { url(transform: {width: 101}) } } }'
URLS = """{ treatment(slug: "pictures") { images {
  src url(transform: {width: 200, format: WEBP}) srcSet(widths: [100, 200, 800]) } } }"""


def photo(
    size: tuple[int, int] = (400, 300), colour: tuple[int, int, int] = (200, 40, 40)
) -> Image.Image:
    """A picture with a left half in `colour` and a right half blue: crops show."""
    image = Image.new("RGB", size, colour)
    image.paste((30, 60, 220), (size[0] // 2, 0, size[0], size[1]))
    return image


def jpeg(image: Image.Image, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def logo() -> bytes:
    """A 64x32 PNG, transparent left half, opaque green right half."""
    image = Image.new("RGBA", (64, 32), (0, 0, 0, 0))
    image.paste((0, 160, 0, 255), (32, 0, 64, 32))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def turned() -> bytes:
    """Stored 400x200, EXIF orientation 6 (turn a quarter): shown 200x400. Carries a
    camera make, a GPS block and an sRGB profile, none of which a copy may keep."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return jpeg(photo((400, 200)), exif=exif.tobytes(), icc_profile=icc)


def make_content(root: Path) -> Path:
    content = root / "content"
    (content / "img").mkdir(parents=True)
    (content / "pictures.md").write_text(PAGE, encoding="utf-8")
    (content / "secret.md").write_text(DRAFT, encoding="utf-8")
    (content / "img" / "photo.jpg").write_bytes(jpeg(photo()))
    (content / "img" / "logo.png").write_bytes(logo())
    (content / "img" / "turned.jpg").write_bytes(turned())
    (content / "img" / "secret.jpg").write_bytes(jpeg(photo((40, 30))))
    return content


def settings_for(root: Path, **changes: Any) -> Settings:
    base = Settings(
        content_dir=root / "content",
        cache_dir=root / "cache",
        cache_max_age=300,
        preview_token=TOKEN,
        access_log="",
    )
    return base.replace(**changes)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return make_content(tmp_path)


@pytest.fixture
def client(content: Path, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(settings_for(tmp_path)) as client:
        yield client


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, int | None, str]]:
    """Every copy made (width, height, format asked for)."""
    made: list[tuple[int | None, int | None, str]] = []
    original = imaging.render

    def counting(data: bytes, transform: imaging.Transform, fmt: str, quality: int | None) -> bytes:
        made.append((transform.width, transform.height, fmt))
        return original(data, transform, fmt, quality)

    monkeypatch.setattr(imaging, "render", counting)
    return made


def read(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def version(content: Path, name: str) -> str:
    from contentapi.content.images import content_version

    return content_version((content / "img" / name).read_bytes())


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("w=200", (200, 150)),
        ("h=150", (200, 150)),
        ("w=101", (101, 76)),
        # Both: contain by default, inside the box.
        ("w=200&h=200", (200, 150)),
        ("w=200&h=200&fit=contain", (200, 150)),
        ("w=200&h=200&fit=cover", (200, 200)),
        ("w=100&h=200&fit=fill", (100, 200)),
        # Never enlarged: the file's size, or the box shrunk until the file fills it.
        ("w=800", (400, 300)),
        ("h=4000", (400, 300)),
        ("w=800&h=800&fit=cover", (300, 300)),
        ("w=800&h=400&fit=fill", (400, 200)),
        ("w=800&h=800", (400, 300)),
    ],
)
def test_each_size_and_fit(client: TestClient, query: str, size: tuple[int, int]) -> None:
    response = client.get(f"/img/photo.jpg?{query}")
    image = read(response)
    assert image.format == "JPEG"
    assert image.size == size
    assert response.headers["content-type"] == "image/jpeg"


def test_cover_crops_at_the_centre(client: TestClient) -> None:
    # 400x300, red left half, blue right: a 100x300 strip from the middle holds both.
    image = read(client.get("/img/photo.jpg?w=100&h=300&fit=cover")).convert("RGB")
    assert image.size == (100, 300)
    left, right = image.getpixel((5, 150)), image.getpixel((94, 150))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert left[0] > 150 > left[2]
    assert right[2] > 150 > right[0]


@pytest.mark.parametrize(
    ("fm", "pillow_format", "content_type"),
    [
        ("jpg", "JPEG", "image/jpeg"),
        ("png", "PNG", "image/png"),
        ("webp", "WEBP", "image/webp"),
        ("avif", "AVIF", "image/avif"),
    ],
)
def test_each_format(client: TestClient, fm: str, pillow_format: str, content_type: str) -> None:
    response = client.get(f"/img/photo.jpg?w=120&fm={fm}")
    image = read(response)
    assert (image.format, image.size) == (pillow_format, (120, 90))
    assert response.headers["content-type"] == content_type
    assert response.headers["content-length"] == str(len(response.content))


def test_quality_changes_the_bytes(client: TestClient) -> None:
    low = client.get("/img/photo.jpg?fm=webp&q=5").content
    high = client.get("/img/photo.jpg?fm=webp&q=95").content
    default = client.get("/img/photo.jpg?fm=webp").content
    assert len(low) < len(default) < len(high)
    # q=80 is the default (CONTENTAPI_IMAGE_QUALITY): the very same copy.
    assert client.get("/img/photo.jpg?fm=webp&q=80").content == default


def test_a_png_keeps_its_format_and_transparency_and_a_jpeg_of_it_is_on_white(
    client: TestClient,
) -> None:
    png = read(client.get("/img/logo.png?w=32"))
    assert (png.format, png.mode, png.size) == ("PNG", "RGBA", (32, 16))
    assert png.getpixel((2, 8)) == (0, 0, 0, 0)
    on_white = read(client.get("/img/logo.png?w=32&fm=jpg"))
    assert (on_white.format, on_white.mode) == ("JPEG", "RGB")
    pixel = on_white.getpixel((2, 8))
    assert isinstance(pixel, tuple) and min(pixel) >= 250


def test_exif_orientation_is_applied_and_no_metadata_is_kept(client: TestClient) -> None:
    for fm in ("jpg", "png", "webp", "avif"):
        response = client.get(f"/img/turned.jpg?w=100&fm={fm}")
        image = read(response)
        assert image.size == (100, 200), fm
        assert dict(image.getexif()) == {}, fm
        for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"):
            assert key not in image.info, (fm, key)
        assert b"CameraMaker" not in response.content


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def swapped_profile() -> bytes:
    """An ICC v2 RGB profile whose red primary is sRGB's green and green sRGB's red: its
    (255, 0, 0) is sRGB's (0, 255, 0), so a conversion shows."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)

    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(2.2 * 256)) + bytes(2)
    text = b"Swapped\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8 + 2 + 1 + 67)
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(*green)),
        (b"gXYZ", xyz(*red)),
        (b"bXYZ", xyz(*blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        data += bytes(-(offset + len(data)) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (
        struct.pack(">I", offset + len(data))
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + bytes(48)
    )
    return header + struct.pack(">I", len(tags)) + table + data


def test_colours_are_converted_to_srgb_and_no_profile_is_kept(
    client: TestClient, content: Path
) -> None:
    red = Image.new("RGB", (40, 30), (255, 0, 0))
    red.save(content / "img" / "wide.png", icc_profile=swapped_profile())
    image = read(client.get("/img/wide.png?w=20")).convert("RGB")
    assert "icc_profile" not in image.info
    assert image.getpixel((10, 7)) == (0, 255, 0)
    # An sRGB profile is already what browsers assume: the colours are left as they are.
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    red.save(content / "img" / "srgb.png", icc_profile=srgb)
    plain = read(client.get("/img/srgb.png?w=20")).convert("RGB")
    assert "icc_profile" not in plain.info
    assert plain.getpixel((10, 7)) == (255, 0, 0)


def test_large_jpegs_are_decoded_scaled_down(
    content: Path, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import JpegImagePlugin

    (content / "img" / "big.jpg").write_bytes(jpeg(photo((4000, 3000))))
    asked: list[tuple[str | None, tuple[int, int] | None]] = []
    decoded: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self: Any, mode: str | None, size: tuple[int, int] | None) -> Any:
        asked.append((mode, size))
        found = original(self, mode, size)
        decoded.append(self.size)
        return found

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    assert read(client.get("/img/big.jpg?w=200")).size == (200, 150)
    # Twice the size wanted; libjpeg's 1/8 scale is the largest still that big.
    assert asked == [(None, (400, 300))]
    assert decoded == [(500, 375)]


def test_only_the_version_is_the_file_as_it_is(client: TestClient, content: Path) -> None:
    v = version(content, "photo.jpg")
    response = client.get(f"/img/photo.jpg?v={v}")
    assert response.status_code == 200
    assert response.content == (content / "img" / "photo.jpg").read_bytes()
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == imaging.IMMUTABLE
    assert response.headers["etag"] == f'"{v}"'


def test_a_gif_is_made_a_png_by_default(client: TestClient, content: Path) -> None:
    Image.new("P", (50, 40), 3).save(content / "img" / "anim.gif")
    image = read(client.get("/img/anim.gif?w=25"))
    assert (image.format, image.size) == ("PNG", (25, 20))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("w=0", "image parameter w must be a whole number from 1 to 4000, not '0'"),
        ("w=4001", "image parameter w must be a whole number from 1 to 4000, not '4001'"),
        ("h=-5", "image parameter h must be a whole number from 1 to 4000, not '-5'"),
        ("w=012", "image parameter w must be a whole number from 1 to 4000, not '012'"),
        ("w=1e3", "image parameter w must be a whole number from 1 to 4000, not '1e3'"),
        ("w=", "image parameter w must be a whole number from 1 to 4000, not ''"),
        ("w=%EF%BC%91", "image parameter w must be a whole number from 1 to 4000, not '１'"),
        ("q=0", "image parameter q must be a whole number from 1 to 100, not '0'"),
        ("q=101", "image parameter q must be a whole number from 1 to 100, not '101'"),
        ("fit=crop", "image parameter fit must be contain, cover, fill, not 'crop'"),
        ("fm=gif", "image parameter fm must be jpg, png, webp, avif, not 'gif'"),
        ("fm=WEBP", "image parameter fm must be jpg, png, webp, avif, not 'WEBP'"),
        ("v=xyz", "image parameter v must be 12 hex digits (the file's version), not 'xyz'"),
        ("width=200", "unknown image parameter 'width': use w, h, fit, fm, q, v"),
        ("1700000000", "unknown image parameter '1700000000': use w, h, fit, fm, q, v"),
        ("w=1&w=2", "image parameter w is given twice"),
        ("w=1&h=1&fit=cover&fm=png&q=3&v=0&x=1", "an image takes at most 6 parameters"),
        (
            "w=" + "9" * 60,
            "image parameter w must be a whole number from 1 to 4000, not '" + "9" * 40 + "...'",
        ),
    ],
)
def test_bad_parameters_are_400_naming_them(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"/img/photo.jpg?{query}")
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"errors": [{"message": message}]}


def test_a_query_string_that_is_not_ascii_is_refused() -> None:
    # No HTTP client sends one (they percent-encode), but a raw request line may.
    with pytest.raises(imaging.BadParameter, match="^an image's query string is ASCII"):
        imaging.parse_transform("w=é".encode(), 4000)


def test_the_bound_is_a_setting_in_the_route_and_the_schema(content: Path, tmp_path: Path) -> None:
    with make_client(settings_for(tmp_path, image_max_side=100)) as client:
        assert read(client.get("/img/photo.jpg?w=100")).size == (100, 75)
        refused = client.get("/img/photo.jpg?w=101")
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["message"] == (
            "image parameter w must be a whole number from 1 to 100, not '101'"
        )
        answer = client.post(
            "/graphql",
            json={"query": TOO_WIDE},
        ).json()
        assert answer["errors"][0]["message"] == "transform width must be from 1 to 100, not 101"


def test_svg_takes_no_parameters(client: TestClient, content: Path) -> None:
    (content / "img" / "icon.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert client.get("/img/icon.svg").status_code == 200
    response = client.get("/img/icon.svg?w=10")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "an SVG picture is served as it is, with no parameters"}]
    }


def test_a_corrupt_file_is_422_and_a_missing_one_404(client: TestClient, content: Path) -> None:
    # A JPEG's first bytes (so the route serves it as is), then nothing a decoder can use.
    (content / "img" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    assert client.get("/img/broken.jpg").status_code == 200
    response = client.get("/img/broken.jpg?w=10")
    assert response.status_code == 422
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["errors"][0]["message"].startswith(
        "the picture cannot be read as an image: "
    )
    missing = client.get("/img/nothing.jpg?w=10")
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"message": "Not Found"}]}


def bomb_png(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` one-bit pixels (no pixel data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("width", "height"), [(10_000, 9_000), (60_000, 60_000)])
def test_a_pixel_bomb_is_refused_from_its_header(
    client: TestClient, content: Path, width: int, height: int, renders: list[Any]
) -> None:
    # 90 million pixels is past Pillow's limit (89,478,485); 3.6 billion past twice it.
    (content / "img" / "bomb.png").write_bytes(bomb_png(width, height))
    response = client.get("/img/bomb.png?w=100")
    assert response.status_code == 422
    message = response.json()["errors"][0]["message"]
    assert message.startswith("the picture ")
    assert "pixel limit of 89,478,485" in message
    assert renders == [(100, None, "png")]


def test_answers_are_revalidated_and_immutable_only_for_the_current_version(
    client: TestClient, content: Path
) -> None:
    v = version(content, "photo.jpg")
    current = client.get(f"/img/photo.jpg?w=50&fm=webp&v={v}")
    assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = current.headers["etag"]
    assert etag.startswith('"') and len(etag) == 34
    assert "vary" not in current.headers
    # Another version: the current picture, with the route's usual Cache-Control.
    other = client.get("/img/photo.jpg?w=50&fm=webp&v=000000000000")
    assert other.headers["cache-control"] == PUBLIC
    assert other.content == current.content
    unversioned = client.get("/img/photo.jpg?w=50&fm=webp")
    assert unversioned.headers["cache-control"] == PUBLIC
    assert unversioned.headers["etag"] == etag
    for tag in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = client.get(f"/img/photo.jpg?w=50&fm=webp&v={v}", headers={"if-none-match": tag})
        assert again.status_code == 304, tag
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == imaging.IMMUTABLE
    assert (
        client.get(
            f"/img/photo.jpg?w=50&fm=webp&v={v}", headers={"if-none-match": '"nope"'}
        ).status_code
        == 200
    )
    # In a second If-None-Match header, as RFC 9110 5.3 lets a client send a list.
    split = client.get(
        f"/img/photo.jpg?w=50&fm=webp&v={v}",
        headers=[("if-none-match", '"nope"'), ("if-none-match", f"W/{etag}")],
    )
    assert split.status_code == 304
    head = client.head(f"/img/photo.jpg?w=50&fm=webp&v={v}")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(current.content))
    assert head.headers["content-type"] == "image/webp"


def test_a_drafts_picture_is_transformed_only_with_the_token(client: TestClient) -> None:
    assert client.get("/img/secret.jpg?w=20").status_code == 404
    response = client.get("/img/secret.jpg?w=20", headers={"authorization": f"Bearer {TOKEN}"})
    assert read(response).size == (20, 15)
    assert response.headers["cache-control"] == "private, no-store"


def test_copies_are_made_once_and_kept_across_a_restart(
    content: Path, tmp_path: Path, renders: list[Any]
) -> None:
    with make_client(settings_for(tmp_path)) as client:
        first = client.get("/img/photo.jpg?w=64&fm=png").content
        assert client.get("/img/photo.jpg?w=64&fm=png").content == first
        assert renders == [(64, None, "png")]
    kept = list((tmp_path / "cache" / "images").iterdir())
    assert [path.suffix for path in kept] == [".png"]
    # A new process on the same cache folder: read from the disk, nothing made again.
    with make_client(settings_for(tmp_path)) as client:
        assert client.get("/img/photo.jpg?w=64&fm=png").content == first
    assert renders == [(64, None, "png")]


def test_the_disk_cache_is_bounded_in_bytes(
    content: Path, tmp_path: Path, renders: list[Any]
) -> None:
    # Noise, so each PNG copy takes about 2.25 bytes per pixel: 46 copies, 400 KB or so.
    noise = Image.effect_noise((200, 150), 120).convert("RGB")
    noise.save(content / "img" / "noise.png")
    budget = 256 * 1024
    widths = range(40, 86)
    with make_client(settings_for(tmp_path, image_cache_bytes=budget)) as client:
        for width in widths:
            assert client.get(f"/img/noise.png?w={width}").status_code == 200
        sizes = [path.stat().st_size for path in (tmp_path / "cache" / "images").iterdir()]
        assert sum(sizes) <= budget
        assert 0 < len(sizes) < len(widths)
        renders.clear()
        # The last made are kept, the first were removed.
        assert client.get("/img/noise.png?w=85").status_code == 200
        assert client.get("/img/noise.png?w=40").status_code == 200
        assert renders == [(40, None, "png")]


def test_no_cache_folder_still_makes_copies(
    content: Path, tmp_path: Path, renders: list[Any]
) -> None:
    with make_client(settings_for(tmp_path, cache_dir=None)) as client:
        assert read(client.get("/img/photo.jpg?w=10")).size == (10, 8)
        assert read(client.get("/img/photo.jpg?w=10")).size == (10, 8)
    assert renders == [(10, None, "jpg"), (10, None, "jpg")]


def image_files(app: Starlette) -> ImageFiles:
    (files,) = [
        route.app for route in app.routes if isinstance(getattr(route, "app", None), ImageFiles)
    ]
    assert isinstance(files, ImageFiles)
    return files


def test_identical_concurrent_requests_are_made_once(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int | None] = []
    original = imaging.render

    def slow(data: bytes, transform: imaging.Transform, fmt: str, quality: int | None) -> bytes:
        made.append(transform.width)
        import time

        time.sleep(0.3)  # every request below arrives while the first is being made
        return original(data, transform, fmt, quality)

    monkeypatch.setattr(imaging, "render", slow)
    app = create_app(settings_for(tmp_path))
    statuses: list[tuple[int, bytes]] = []

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

            async def one(url: str) -> None:
                response = await http.get(url)
                statuses.append((response.status_code, response.content))

            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(one, "/img/photo.jpg?w=30&fm=webp")
                group.start_soon(one, "/img/photo.jpg?w=31&fm=webp")

    anyio.run(main)
    assert sorted(made, key=str) == [30, 31]
    assert [status for status, _ in statuses] == [200] * 9
    assert len({body for _, body in statuses}) == 2


def test_past_the_queue_the_answer_is_503(content: Path, tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))
    image_files(app).imaging.max_waiting = 0
    with TestClient(app) as client:
        response = client.get("/img/photo.jpg?w=30")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json() == {
            "errors": [{"message": "too many pictures are being made: try again shortly"}]
        }
        # A copy already made is still served.
    image_files(app).imaging.max_waiting = 1
    with TestClient(app) as client:
        assert client.get("/img/photo.jpg?w=30").status_code == 200
        image_files(app).imaging.max_waiting = 0
        assert client.get("/img/photo.jpg?w=30").status_code == 200


def test_an_edited_picture_gets_new_urls(content: Path, tmp_path: Path) -> None:
    with make_client(settings_for(tmp_path)) as client:
        before = client.post("/graphql", json={"query": URLS}).json()["data"]
        old_url = before["treatment"]["images"][0]["url"]
        old = client.get(old_url)
        assert old.headers["cache-control"] == imaging.IMMUTABLE
    (content / "img" / "photo.jpg").write_bytes(jpeg(photo(colour=(20, 200, 20))))
    with make_client(settings_for(tmp_path)) as client:
        after = client.post("/graphql", json={"query": URLS}).json()["data"]
        new_url = after["treatment"]["images"][0]["url"]
        v = version(content, "photo.jpg")
        assert new_url == f"/img/photo.jpg?w=200&fm=webp&v={v}"
        assert new_url != old_url
        new = client.get(new_url)
        assert new.headers["cache-control"] == imaging.IMMUTABLE
        assert new.headers["etag"] != old.headers["etag"]
        assert new.content != old.content
        # The old URL now shows the new picture, revalidated like any file.
        stale = client.get(old_url)
        assert stale.headers["cache-control"] == PUBLIC
        assert stale.content == new.content
        assert after["treatment"]["images"][0]["srcSet"] == (
            f"/img/photo.jpg?w=100&v={v} 100w, /img/photo.jpg?w=200&v={v} 200w, "
            f"/img/photo.jpg?w=400&v={v} 400w"
        )


def test_every_srcset_url_is_served_at_its_width(client: TestClient) -> None:
    images = client.post("/graphql", json={"query": URLS}).json()["data"]["treatment"]["images"]
    for image in images:
        for candidate in image["srcSet"].split(", "):
            url, width = candidate.split(" ")
            assert read(client.get(url)).width == int(width.removesuffix("w"))


def test_the_issues_query_on_the_bundled_content(tmp_path: Path) -> None:
    query = """{ treatment(slug: "mesotherapy") { images { width height contentType byteSize
      blurhash placeholder dominantColor url(transform: {width: 200, format: WEBP})
      srcSet(widths: [200, 400], format: AVIF) } } }"""
    settings = Settings(content_dir=SEED, cache_dir=tmp_path / "cache", access_log="")
    with make_client(settings) as client:
        answer = client.post("/graphql", json={"query": query}).json()
        assert "errors" not in answer
        images = answer["data"]["treatment"]["images"]
        assert len(images) == 2
        for image, name in zip(
            images, ("mesotherapy_london.jpg", "mesotherapy_london2.jpg"), strict=True
        ):
            v = version(SEED, f"pages/{name}")
            src = f"/img/pages/{name}"
            assert (image["width"], image["height"]) == (400, 300)
            assert image["contentType"] == "image/jpeg"
            assert image["byteSize"] == (SEED / "img" / "pages" / name).stat().st_size
            assert len(image["blurhash"]) == 28
            assert image["placeholder"].startswith("data:image/webp;base64,")
            assert len(image["placeholder"]) < 1000
            assert image["dominantColor"].startswith("#") and len(image["dominantColor"]) == 7
            assert image["url"] == f"{src}?w=200&fm=webp&v={v}"
            assert image["srcSet"] == (
                f"{src}?w=200&fm=avif&v={v} 200w, {src}?w=400&fm=avif&v={v} 400w"
            )
            webp = client.get(image["url"])
            picture = read(webp)
            assert (picture.format, picture.size) == ("WEBP", (200, 150))
            assert webp.headers["content-type"] == "image/webp"
            assert webp.headers["cache-control"] == imaging.IMMUTABLE
            for candidate, width in zip(image["srcSet"].split(", "), (200, 400), strict=True):
                avif = read(client.get(candidate.split(" ")[0]))
                assert (avif.format, avif.width) == ("AVIF", width)


def test_srcset_follows_each_requests_arguments(client: TestClient, content: Path) -> None:
    query = """query ($widths: [Int!]) { treatment(slug: "pictures") {
      one: images { srcSet(widths: $widths) } two: images { srcSet(widths: [300]) } } }"""
    v = version(content, "photo.jpg")
    for widths in ([100], [200, 50], [100]):
        answer = client.post("/graphql", json={"query": query, "variables": {"widths": widths}})
        treatment = answer.json()["data"]["treatment"]
        assert treatment["one"][0]["srcSet"] == ", ".join(
            f"/img/photo.jpg?w={w}&v={v} {w}w" for w in sorted(widths)
        )
        assert treatment["two"][0]["srcSet"] == f"/img/photo.jpg?w=300&v={v} 300w"


def test_a_large_answer_is_streamed_whole(client: TestClient, content: Path) -> None:
    noise = Image.effect_noise((1000, 800), 120).convert("RGB")
    noise.save(content / "img" / "large.png")
    data = (content / "img" / "large.png").read_bytes()
    assert len(data) > 1 << 20
    v = version(content, "large.png")
    response = client.get(f"/img/large.png?v={v}")
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["cache-control"] == imaging.IMMUTABLE
    copy = client.get("/img/large.png?w=1000&fm=png")
    assert len(copy.content) > 1 << 20
    assert read(copy).size == (1000, 800)
    # Second time from the disk cache, streamed from its file.
    assert client.get("/img/large.png?w=1000&fm=png").content == copy.content
