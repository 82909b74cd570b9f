"""Picture metadata read from the files at index time, and check's warnings."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from contentapi.cli import cli
from contentapi.content.images import MAX_PIXELS
from contentapi.content.index import ContentIndex

PROJECT = Path(__file__).resolve().parent.parent.parent


def _page(root: Path, *srcs: str) -> None:
    tags = "\n".join(f'<img src="{src}">' for src in srcs)
    (root / "page.md").write_text(f"---\ntitle: Page\n---\n\n{tags}\n", encoding="utf-8")


def _bomb(path: Path) -> None:
    """A PNG whose header claims 100,000 x 100,000 pixels (a few bytes on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def test_the_seed_pictures_have_their_metadata() -> None:
    index = ContentIndex.from_directory(PROJECT / "content")
    meta = index.images.get("/img/pages/mesotherapy_london.jpg")
    assert meta is not None
    assert (meta.width, meta.height, meta.content_type) == (400, 300, "image/jpeg")
    assert meta.byte_size == (PROJECT / "content/img/pages/mesotherapy_london.jpg").stat().st_size
    assert meta.placeholder is not None and meta.placeholder.startswith("data:image/webp;base64,")
    assert len(meta.placeholder) < 1024
    assert meta.dominant_color is not None and len(meta.dominant_color) == 7
    assert meta.blurhash is not None and len(meta.blurhash) == 28
    assert index.images.warnings == ()


def test_exif_orientation_swaps_the_size(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # a quarter turn
    Image.new("RGB", (40, 20), "red").save(tmp_path / "turned.jpg", exif=exif)
    _page(tmp_path, "/turned.jpg")
    meta = ContentIndex.from_directory(tmp_path).images.get("/turned.jpg")
    assert meta is not None and (meta.width, meta.height) == (20, 40)


def test_an_edited_picture_gets_a_new_version(tmp_path: Path) -> None:
    Image.new("RGB", (40, 20), "red").save(tmp_path / "x.png")
    _page(tmp_path, "/x.png")
    before = ContentIndex.from_directory(tmp_path).images.get("/x.png")
    Image.new("RGB", (40, 20), "blue").save(tmp_path / "x.png")
    after = ContentIndex.from_directory(tmp_path).images.get("/x.png")
    assert before is not None and after is not None
    assert before.version != after.version
    assert (before.dominant_color, after.dominant_color) == ("#ff0000", "#0000ff")


def test_missing_corrupt_and_bomb_pictures_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    _bomb(tmp_path / "bomb.png")
    _page(tmp_path, "/missing.jpg", "/corrupt.jpg", "/bomb.png", "https://example.com/x.jpg")
    index = ContentIndex.from_directory(tmp_path)
    assert index.errors == ()
    assert len(index.public.treatments) == 1
    messages = [str(w) for w in index.images.warnings]
    missing = "page.md:5: image /missing.jpg is not in the content folder (no such file)"
    assert messages[0] == missing
    assert messages[1].startswith("page.md:6: image /corrupt.jpg cannot be read as an image")
    assert messages[2].startswith("page.md:7: image /bomb.png exceeds the pixel limit")
    assert len(messages) == 3  # the remote picture is not read
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "1 page, 0 errors, 3 warnings"
    strict = CliRunner().invoke(cli, ["check", "--strict", str(tmp_path)])
    assert strict.exit_code == 1


def test_a_pages_images_are_decoded_once_and_name_their_page() -> None:
    """Pages keep their images packed; the decoded images of recent pages are kept, so a
    list asking for them decodes none again, and a page at another uri with the very same
    packed images gets images naming its own uri."""
    import dataclasses

    index = ContentIndex.from_directory(PROJECT / "content")
    (page,) = [t for t in index.public.treatments if t.slug == "mesotherapy"]
    assert page.images is page.images
    moved = dataclasses.replace(page, uri="/moved/")
    assert moved.images_packed is page.images_packed
    assert [image.treatment_uri for image in moved.images] == ["/moved/"] * page.image_count
    assert [image.treatment_uri for image in page.images] == [page.uri] * page.image_count
    assert [image[2:] for image in moved.images] == [image[2:] for image in page.images]


def test_the_pixel_limit_is_pillows_own() -> None:
    # Written out in images.py, which imports Pillow only once a picture is read.
    assert MAX_PIXELS == Image.MAX_IMAGE_PIXELS == 89_478_485
