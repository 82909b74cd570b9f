"""What a page's pictures are, read from their files once at index time: size, type, bytes,
a content version for cache-busting URLs, a BlurHash, a tiny blurred preview and the
dominant colour.

Pillow reads the files (only the header for the pixel limit: a decompression bomb is
refused before a pixel is decoded; JPEGs are decoded at 1/8 scale by `draft`), and
blurhash-python (the reference C encoder) makes the BlurHash. Nothing here is computed
per request: the index keeps an ImageCatalog, and the warm-start cache (cache.py) keeps
each file's metadata keyed by its path, size and modification time, so a restart reads
no image again unless it changed.

A picture that cannot be had (not under the content folder, missing, unreadable, over
the pixel limit) is a warning of its page, never an error: the page is still served, the
picture with null metadata.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import logging
import os
import posixpath
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import unquote, urlsplit

from contentapi.content.model import ContentError, Treatment

if TYPE_CHECKING:
    from PIL import Image as PILImage

log = logging.getLogger("contentapi")

# Part of every cache key: bump it when what is computed from a file changes.
IMAGE_META_VERSION = 1
# The longest `placeholder` data: URI made, in characters (the "under 1 KB").
PLACEHOLDER_MAX = 1000
# Pillow's own decompression-bomb limit (PIL.Image.MAX_IMAGE_PIXELS, 89,478,485 pixels, a
# 32-bit RGBA image of 256 MiB): a file over it is refused before decoding, here and in
# transforms. Written out, as Pillow is imported only once a picture is read (it costs a
# server 2.4 MB, and one serving a built index may never read one); a test holds the two
# equal.
MAX_PIXELS = 89_478_485
SVG_TYPE = "image/svg+xml"
# Characters of the content hash in a version parameter: 48 bits, enough to tell edits
# of one file apart, short enough for a URL.
VERSION_CHARS = 12
# The side of the thumbnail that the BlurHash, the preview and the colour are made from.
_SAMPLE_SIDE = 32
# Tries for the preview, smallest last, until one fits PLACEHOLDER_MAX.
_PREVIEW_SIDES = (24, 16, 12, 8)
# EXIF orientations that turn the picture a quarter: width and height swap.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
_ORIENTATION_TAG = 0x0112


class ImageMeta(NamedTuple):
    """What a picture file is: its displayed size (EXIF orientation applied), its type, its
    bytes and version, and what a frontend shows while it loads (null for an SVG)."""

    width: int | None
    height: int | None
    content_type: str
    byte_size: int
    # The first VERSION_CHARS hex digits of the file's SHA-256: its URLs change with it.
    version: str
    blurhash: str | None
    placeholder: str | None
    dominant_color: str | None


class ImageProblem(Exception):
    """Why a picture has no metadata, in words that follow its src in a warning."""


class MetaStore(Protocol):
    """Where metadata survives a restart (the page cache: see cache.PageCache)."""

    def get_image(self, key: str) -> ImageMeta | None: ...

    def put_image(self, key: str, meta: ImageMeta) -> None: ...


def is_remote(src: str) -> bool:
    """Whether `src` is on another site (a scheme, or //host/...): nothing is read for it."""
    return bool(urlsplit(src).scheme) or src.startswith("//")


def file_of(root: Path, src: str) -> Path:
    """The file under `root` that a page's local `src` names, as this server serves it at
    that path; raises ImageProblem when there is none to read.

    The rule of the image route (http/media.py): the path from the root, no segment
    starting with a dot, no symlink leading out of the folder.
    """
    path = posixpath.normpath("/" + unquote(urlsplit(src).path).lstrip("/"))
    segments = path.strip("/").split("/")
    if not path.strip("/") or any(s.startswith(".") or "\0" in s for s in segments):
        raise ImageProblem("is not a file this server serves from the content folder")
    candidate = root / path.strip("/")
    try:
        real_root = os.path.realpath(root)
        real = os.path.realpath(candidate)
    except (OSError, ValueError) as exc:
        raise ImageProblem(f"cannot be read: {exc}") from None
    if os.path.commonpath([real_root, real]) != real_root:
        raise ImageProblem("is not under the content folder")
    if not os.path.isfile(real):
        raise ImageProblem("is not in the content folder (no such file)")
    return Path(real)


def content_version(data: bytes) -> str:
    """The version parameter of a file's URLs: changes whenever its bytes do."""
    return hashlib.sha256(data).hexdigest()[:VERSION_CHARS]


def open_image(data: bytes) -> PILImage.Image:
    """A Pillow image of `data`, header read, no pixel decoded; raises ImageProblem for a
    file Pillow cannot read or one over MAX_PIXELS (a decompression bomb).

    Pillow raises DecompressionBombError past twice its limit and only warns between once
    and twice; here both are refused, so a picture is served or refused the same way
    whatever the warning filters of the process say.
    """
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        image = PILImage.open(io.BytesIO(data))
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
        raise ImageProblem(f"exceeds the pixel limit of {MAX_PIXELS:,} ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageProblem(f"cannot be read as an image: {exc}") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageProblem(f"has {width}x{height} pixels, over the pixel limit of {MAX_PIXELS:,}")
    return image


def oriented_size(image: PILImage.Image) -> tuple[int, int]:
    """The size shown once EXIF orientation is applied (read from the header only)."""
    width, height = image.size
    try:
        orientation = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block leaves the picture as stored
        orientation = 1
    return (height, width) if orientation in _QUARTER_TURNS else (width, height)


def read_meta(data: bytes, name: str) -> ImageMeta:
    """The metadata of one picture file's bytes (`name` tells an SVG by its extension);
    raises ImageProblem."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    version = content_version(data)
    if name.lower().endswith(".svg"):
        return ImageMeta(None, None, SVG_TYPE, len(data), version, None, None, None)
    image = open_image(data)
    try:
        content_type = PILImage.MIME.get(image.format or "", "application/octet-stream")
        width, height = oriented_size(image)
        if image.format == "JPEG":
            # Decoded at 1/2, 1/4 or 1/8 scale by libjpeg: a 4000x3000 photo is read as
            # 500x375, eight times fewer rows decoded.
            image.draft("RGB", (_SAMPLE_SIDE * 4, _SAMPLE_SIDE * 4))
        sample = ImageOps.exif_transpose(image)
        sample.thumbnail((_SAMPLE_SIDE, _SAMPLE_SIDE), PILImage.Resampling.BOX)
        rgb = _flatten(sample)
        across, down = (4, 3) if rgb.width >= rgb.height else (3, 4)
        # Imported here: only reading a picture needs it, and a server from a built index
        # never does (12 ms of its imports; with langcodes also imported when first needed,
        # a worker on 10,000 pages 89 -> 88 MB RSS).
        import blurhash

        return ImageMeta(
            width,
            height,
            content_type,
            len(data),
            version,
            # A copy: blurhash-python closes the image it is given.
            blurhash.encode(rgb.copy(), across, down),
            _placeholder(rgb),
            _dominant_color(rgb),
        )
    except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError) as exc:
        raise ImageProblem(f"cannot be read as an image: {exc}") from None
    finally:
        image.close()


def _flatten(image: PILImage.Image) -> PILImage.Image:
    """RGB, transparent parts on white (as most pages show them)."""
    from PIL import Image as PILImage

    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        return PILImage.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _placeholder(rgb: PILImage.Image) -> str:
    """A data: URI of a tiny blurred WebP (every current browser shows WebP), at most
    PLACEHOLDER_MAX characters: scaled up by the page, it is a soft preview."""
    from PIL import Image as PILImage
    from PIL import ImageFilter

    uri = ""
    for side in _PREVIEW_SIDES:
        tiny = rgb.copy()
        tiny.thumbnail((side, side), PILImage.Resampling.LANCZOS)
        tiny = tiny.filter(ImageFilter.GaussianBlur(0.6))
        out = io.BytesIO()
        tiny.save(out, "WEBP", quality=50, method=6)
        uri = "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode()
        if len(uri) <= PLACEHOLDER_MAX:
            return uri
    return uri


def _dominant_color(rgb: PILImage.Image) -> str:
    """The colour of the largest of five median-cut clusters, as #rrggbb."""
    from PIL import Image as PILImage

    quantized = rgb.quantize(colors=5, method=PILImage.Quantize.MEDIANCUT)
    palette: list[int] = list(quantized.getpalette() or [0, 0, 0])
    counts = quantized.getcolors() or [(1, 0)]
    _, found = max(counts)
    index = int(found)  # type: ignore[call-overload]
    red, green, blue = palette[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def meta_key(shown: str, stat: os.stat_result) -> str:
    """Names a file's metadata in the caches: this code's version, the path and what
    changes when the file is written (size, modification time, inode)."""
    return f"{IMAGE_META_VERSION}\0{shown}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}"


class _Memo:
    """Metadata of this process's recent files, so a live reload reads only changed
    pictures (bounded: cleared past _MEMO_ENTRIES, then filled again as files are seen)."""

    _MEMO_ENTRIES = 20_000

    def __init__(self) -> None:
        self._entries: dict[str, ImageMeta] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> ImageMeta | None:
        return self._entries.get(key)

    def put(self, key: str, meta: ImageMeta) -> None:
        with self._lock:
            if len(self._entries) >= self._MEMO_ENTRIES:
                self._entries.clear()
            self._entries[key] = meta


_memo = _Memo()


def meta_of_file(
    root: Path, path: Path, store: MetaStore | None = None
) -> tuple[ImageMeta, os.stat_result]:
    """The metadata of one file under `root`, from the caches when its key is there."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ImageProblem(f"cannot be read: {exc.strerror or exc}") from None
    shown = os.path.relpath(path, os.path.realpath(root)).replace(os.sep, "/")
    key = meta_key(shown, stat)
    found = _memo.get(key) or (store.get_image(key) if store is not None else None)
    if found is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageProblem(f"cannot be read: {exc.strerror or exc}") from None
        found = read_meta(data, path.name)
        if store is not None:
            store.put_image(key, found)
    _memo.put(key, found)
    return found, stat


def read_all(root: Path, treatments: Iterable[Treatment], store: MetaStore) -> None:
    """Read every local picture of the treatments through `store` (the warm-start cache)
    into this process's memo, which ImageCatalog.build then finds them in: the load does
    this while its cache is open (load.load_all), so a restart reads no unchanged file."""
    seen: set[str] = set()
    for treatment in treatments:
        for image in treatment.images:
            if image.src in seen or is_remote(image.src):
                continue
            seen.add(image.src)
            try:
                meta_of_file(root, file_of(root, image.src), store)
            except ImageProblem:
                pass  # ImageCatalog.build reports it


class ImageCatalog:
    """The metadata of every local picture the pages show, by `src` as pages hold it, and
    a warning for each that has none."""

    __slots__ = ("_order", "_read_warnings", "_warnings", "by_page", "by_src")

    def __init__(
        self,
        by_src: Mapping[str, ImageMeta],
        warnings: tuple[ContentError, ...] | None = (),
        by_page: Mapping[str, tuple[ContentError, ...]] | None = None,
        order: Sequence[Treatment] = (),
        read_warnings: Callable[[], tuple[ContentError, ...]] | None = None,
    ) -> None:
        """`warnings` None: those of `by_page` (warnings by page path) in the order of the
        pages `order`, put together when first read (an update makes them so, and a server
        never reads them), or what `read_warnings` reads then (a built index file's)."""
        self.by_src = by_src
        self._warnings = warnings
        self.by_page = by_page
        self._order = order
        self._read_warnings = read_warnings

    @property
    def warnings(self) -> tuple[ContentError, ...]:
        """Every page's warnings, in page order."""
        if self._warnings is None and self._read_warnings is not None:
            self._warnings = self._read_warnings()
            self._read_warnings = None
        if self._warnings is None:
            by_page, none = self.by_page or {}, ()
            self._warnings = tuple(
                itertools.chain.from_iterable(
                    [by_page.get(page.path, none) for page in self._order]
                )
            )
        return self._warnings

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageCatalog):
            return NotImplemented
        return self.by_src == other.by_src and self.warnings == other.warnings

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ImageCatalog({len(self.by_src)} pictures, {len(self.warnings)} warnings)"

    def get(self, src: str) -> ImageMeta | None:
        """The picture's metadata; None for a remote picture or one that has none."""
        return self.by_src.get(src)

    @classmethod
    def build(
        cls, root: Path, treatments: Iterable[Treatment], store: MetaStore | None = None
    ) -> ImageCatalog:
        """Read (or find in the caches) every local picture of the treatments; each that
        cannot be had is a warning with the page's path and the line that names it."""
        by_src: dict[str, ImageMeta] = {}
        problems: dict[str, str] = {}
        warnings: list[ContentError] = []
        for treatment in treatments:
            for image in treatment.images:
                src = image.src
                if is_remote(src):
                    continue
                if src not in by_src and src not in problems:
                    try:
                        by_src[src], _ = meta_of_file(root, file_of(root, src), store)
                    except ImageProblem as problem:
                        problems[src] = str(problem)
                if src in problems:
                    warnings.append(
                        ContentError(
                            treatment.path,
                            _line_naming(root / treatment.path, src),
                            f"image {src} {problems[src]}",
                        )
                    )
        return cls(by_src, tuple(dict.fromkeys(warnings)))

    def updated(
        self,
        root: Path,
        treatments: Sequence[Treatment],
        fresh: Iterable[Treatment],
        store: MetaStore | None = None,
    ) -> ImageCatalog:
        """The catalog of `treatments`, made from this one (of the same folder, before the
        `fresh` pages were added or changed) by reading the fresh pages' pictures only, as
        build would read them; the other pages' warnings are kept, in page order. (Live
        reload builds the catalog whole when a picture file itself changes.)"""
        by_src = dict(self.by_src)
        fresh_warnings: dict[str, tuple[ContentError, ...]] = {}
        for page in fresh:
            found = ImageCatalog.build(root, [page], store)
            by_src.update(found.by_src)
            fresh_warnings[page.path] = found.warnings
        if self.by_page is None and self._warnings is None and self._read_warnings is not None:
            # Still in a built index's file: read when asked for, these pages' replaced.
            # Read and grouped at the first edit, they were 0.63 s of it at 50,000
            # generated pages (100,000 warnings), on the event loop.
            reader = _WarningsReplaced(self._read_warnings, fresh_warnings, treatments)
            return ImageCatalog(by_src, None, None, treatments, read_warnings=reader)
        by_page = dict(self.by_page) if self.by_page is not None else _by_page(self.warnings)
        _replace(by_page, fresh_warnings)
        # Pages' warnings never repeat another page's (each names its page): no dedupe.
        return ImageCatalog(by_src, None, by_page, treatments)


def _by_page(warnings: Iterable[ContentError]) -> dict[str, tuple[ContentError, ...]]:
    grouped: dict[str, list[ContentError]] = {}
    for warning in warnings:
        grouped.setdefault(warning.path, []).append(warning)
    return {path: tuple(found) for path, found in grouped.items()}


def _replace(
    by_page: dict[str, tuple[ContentError, ...]], fresh: Mapping[str, tuple[ContentError, ...]]
) -> None:
    for path, warnings in fresh.items():
        if warnings:
            by_page[path] = warnings
        else:
            by_page.pop(path, None)


class _WarningsReplaced:
    """Reads a built index's warnings, with some pages' replaced, in the order of `order`."""

    _read: Callable[[], tuple[ContentError, ...]]
    _fresh: Mapping[str, tuple[ContentError, ...]]

    def __init__(
        self,
        read: Callable[[], tuple[ContentError, ...]],
        fresh: Mapping[str, tuple[ContentError, ...]],
        order: Sequence[Treatment],
    ) -> None:
        if isinstance(read, _WarningsReplaced):
            # One replacement over the file's read, edit after edit, rather than a chain
            # of them each holding its pages.
            earlier: _WarningsReplaced = read
            read, fresh = earlier._read, {**earlier._fresh, **fresh}
        self._read = read
        self._fresh = fresh
        self._order = order

    def __call__(self) -> tuple[ContentError, ...]:
        by_page = _by_page(self._read())
        _replace(by_page, self._fresh)
        none: tuple[ContentError, ...] = ()
        return tuple(
            itertools.chain.from_iterable([by_page.get(page.path, none) for page in self._order])
        )


def _line_naming(page: Path, src: str) -> int | None:
    """The first line of the page naming the picture's file (as written: a relative path,
    backslashes), or None. Read only for a warning, so pages need not keep lines."""
    name = posixpath.basename(unquote(urlsplit(src).path))
    if not name:
        return None
    try:
        text = page.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if name in line.replace("\\", "/"):
            return number
    return None


# The query parameters of a transform URL, in the order URLs are written (Contentful's
# Images API names): each is read by http/imaging.py, anything else is a 400.
TRANSFORM_PARAMS = ("w", "h", "fit", "fm", "q", "v")
FITS = ("contain", "cover", "fill")
# fm value -> Pillow's format name and the Content-Type served.
FORMATS: dict[str, tuple[str, str]] = {
    "jpg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "avif": ("AVIF", "image/avif"),
}


def transform_url(
    url: str,
    version: str,
    width: int | None = None,
    height: int | None = None,
    fit: str | None = None,
    fmt: str | None = None,
    quality: int | None = None,
) -> str:
    """`url` with the transform's query parameters, always in TRANSFORM_PARAMS' order and
    ending in the file's version (so equal transforms are equal URLs, one cache entry)."""
    given = (width, height, fit, fmt, quality, version)
    query = "&".join(
        f"{name}={value}" for name, value in zip(TRANSFORM_PARAMS, given, strict=True) if value
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"
