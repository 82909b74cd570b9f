"""Resized and converted copies of the content folder's pictures, made on request.

`Image.url(transform:)` and `srcSet` (schema/types.py, through content/images.py's
transform_url) write URLs such as /img/x.jpg?w=200&fm=webp&v=3f2a9c01be47: the picture's
own path with Contentful's Images API parameters and `v`, the first hex digits of the
file's SHA-256. The image route (media.py) finds the file under its own rules (image
types only, no dot segments, a draft's pictures only with the preview token) and hands a
request with a query string here:

- `w`, `h`: pixels, 1 to CONTENTAPI_IMAGE_MAX_SIDE; one alone keeps the aspect, both use
  `fit`: `contain` (inside the box, the default), `cover` (fills it, cropped at the
  centre) or `fill` (stretched). A picture is never enlarged: a box larger than the file
  is shrunk (its aspect kept) until the file can fill it.
- `fm`: jpg, png, webp or avif; by default the file's own format (a GIF's first frame
  becomes a PNG). `q`: 1 to 100 for JPEG, WebP and AVIF (CONTENTAPI_IMAGE_QUALITY when
  not given). Only `v` is the file as it is, cacheable for a year.
- Anything else (an unknown name, a repeated one, a value out of range) is a 400 naming
  it, an SVG with any parameter too: it is served only as an inert download.

Pillow does the work: JPEGs decoded at 1/2, 1/4 or 1/8 scale when that is still twice
the size wanted (`draft`, as Pillow's own `thumbnail` does), EXIF orientation applied,
colours converted to sRGB when the file embeds another profile, and no metadata written
(no EXIF, XMP, ICC or comments: a phone photo's GPS position does not leak). A file over
Pillow's decompression-bomb limit is refused from its header, before a pixel is decoded;
it and a corrupt file are a 422.

Copies are made in at most CONTENTAPI_IMAGE_WORKERS threads per process (an anyio
CapacityLimiter), off the event loop, so GraphQL requests keep being answered; requests
for a copy being made wait for it rather than making it again, and past a queue of
_QUEUE_PER_WORKER requests per worker the answer is 503. Each copy is kept in the cache
folder's images/ (diskcache.DiskCache: bounded by CONTENTAPI_IMAGE_CACHE_BYTES, least
recently used removed, shared by workers, surviving restarts), named by the file's
version and the normalised parameters.

Answers carry a strong ETag (the copy's name: the same inputs always make the same
bytes), `304` for a matching If-None-Match, and `Cache-Control: public, max-age=31536000,
immutable` when `v` is the file's current version; with no `v` or an old one (a page
cached before the file was edited) the current picture with the route's usual
Cache-Control. Nothing depends on request headers, so there is no Vary.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import os
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
from starlette.datastructures import Headers
from starlette.responses import Response, StreamingResponse

from contentapi.content.images import (
    FITS,
    FORMATS,
    TRANSFORM_PARAMS,
    VERSION_CHARS,
    ImageProblem,
    content_version,
    open_image,
    oriented_size,
)
from contentapi.diskcache import DiskCache
from contentapi.http.headers import names_etag
from contentapi.http.protocol import refusal
from contentapi.settings import Settings

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageCms

# Part of every copy's name: bump it when the same parameters should make other bytes.
IMAGING_VERSION = 1
CACHE_FOLDER = "images"
IMMUTABLE = "public, max-age=31536000, immutable"
# Requests waiting for a copy to be made, per worker thread, before 503.
_QUEUE_PER_WORKER = 32
# Copies and files up to this size are answered from memory; larger ones are streamed.
_IN_MEMORY = 1 << 20
_CHUNK = 64 * 1024
_SIDE = re.compile(r"[1-9][0-9]{0,8}")
_QUALITY = re.compile(r"[1-9][0-9]{0,2}")
_VERSION = re.compile(f"[0-9a-f]{{{VERSION_CHARS}}}")
# The extension of a file the route serves -> the format of a copy made without `fm`.
_OWN_FORMAT = {
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".png": "png",
    ".webp": "webp",
    ".avif": "avif",
    ".gif": "png",
}
_VERSIONS_KEPT = 10_000


class BadParameter(Exception):
    """A query parameter of an image URL that is not one, or has a value it cannot take."""


class Busy(Exception):
    """Too many copies are waiting to be made."""


@dataclass(frozen=True, slots=True)
class Transform:
    """What an image URL's query string asks for (None: not given)."""

    width: int | None = None
    height: int | None = None
    fit: str = "contain"
    fmt: str | None = None
    quality: int | None = None
    version: str | None = None

    @property
    def is_copy(self) -> bool:
        """Whether a copy is asked for (else only `v`: the file as it is)."""
        return (self.width, self.height, self.fmt, self.quality) != (None, None, None, None)


def parse_transform(query: bytes, max_side: int) -> Transform:
    """The transform of a query string; raises BadParameter naming what is wrong."""
    names = ", ".join(TRANSFORM_PARAMS)
    try:
        text = query.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=len(TRANSFORM_PARAMS))
    except UnicodeDecodeError:
        raise BadParameter(f"an image's query string is ASCII ({names})") from None
    except ValueError:
        raise BadParameter(f"an image takes at most {len(TRANSFORM_PARAMS)} parameters") from None
    given: dict[str, str] = {}
    for name, value in pairs:
        if name not in TRANSFORM_PARAMS:
            raise BadParameter(f"unknown image parameter {_shown(name)}: use {names}")
        if name in given:
            raise BadParameter(f"image parameter {name} is given twice")
        given[name] = value
    fit = given.get("fit", "contain")
    if fit not in FITS:
        raise BadParameter(f"image parameter fit must be {', '.join(FITS)}, not {_shown(fit)}")
    fmt = given.get("fm")
    if fmt is not None and fmt not in FORMATS:
        raise BadParameter(f"image parameter fm must be {', '.join(FORMATS)}, not {_shown(fmt)}")
    if fmt == "avif" and not _has_avif():
        raise BadParameter("image parameter fm=avif is not supported: this Pillow has no AVIF")
    version = given.get("v")
    if version is not None and not _VERSION.fullmatch(version):
        raise BadParameter(
            f"image parameter v must be {VERSION_CHARS} hex digits (the file's version),"
            f" not {_shown(version)}"
        )
    return Transform(
        _number(given, "w", _SIDE, max_side),
        _number(given, "h", _SIDE, max_side),
        fit,
        fmt,
        _number(given, "q", _QUALITY, 100),
        version,
    )


def _number(given: dict[str, str], name: str, form: re.Pattern[str], most: int) -> int | None:
    value = given.get(name)
    if value is None:
        return None
    if not form.fullmatch(value) or int(value) > most:
        raise BadParameter(
            f"image parameter {name} must be a whole number from 1 to {most}, not {_shown(value)}"
        )
    return int(value)


def _shown(value: str) -> str:
    """A client's value quoted in an error, cut short."""
    return repr(value if len(value) <= 40 else value[:40] + "...")


def output_size(width: int, height: int, transform: Transform) -> tuple[int, int]:
    """The size of the copy of a `width` x `height` picture: never larger than it."""
    wanted_w, wanted_h = transform.width, transform.height
    if wanted_w is None and wanted_h is None:
        return width, height
    if wanted_h is None or wanted_w is None:
        scale = min(1.0, wanted_w / width if wanted_w else wanted_h / height)  # type: ignore[operator]
        return max(1, round(width * scale)), max(1, round(height * scale))
    if transform.fit == "contain":
        scale = min(1.0, wanted_w / width, wanted_h / height)
        return max(1, round(width * scale)), max(1, round(height * scale))
    # cover and fill make the box itself, shrunk until the picture can supply it.
    shrink = min(1.0, width / wanted_w, height / wanted_h)
    return max(1, round(wanted_w * shrink)), max(1, round(wanted_h * shrink))


def render(data: bytes, transform: Transform, fmt: str, quality: int | None) -> bytes:
    """The copy of a picture file's bytes, encoded as `fmt` ("jpg", "png", "webp",
    "avif"); raises ImageProblem for a file that cannot be read or is over the limit."""
    # Pillow is imported by the first copy made, not with the app (content/images.py).
    from PIL import Image as PILImage
    from PIL import ImageCms, ImageOps

    image = open_image(data)
    try:
        width, height = oriented_size(image)
        size = output_size(width, height, transform)
        if image.format == "JPEG":
            _draft(image, (width, height), size, transform.fit == "cover")
        # In place: a picture with no orientation to apply is not copied.
        ImageOps.exif_transpose(image, in_place=True)
        picture = _plain_mode(image, fmt)
        if transform.width is not None and transform.height is not None:
            if transform.fit == "cover":
                picture = ImageOps.fit(picture, size, PILImage.Resampling.LANCZOS)
        if picture.size != size:
            picture = picture.resize(size, PILImage.Resampling.LANCZOS, reducing_gap=2.0)
        picture = _in_srgb(picture)
        # Nothing of the file's metadata reaches the copy (savers read some of it here).
        picture.info = {}
        out = io.BytesIO()
        format_name, _ = FORMATS[fmt]
        options: dict[str, object] = {}
        if fmt != "png":
            options["quality"] = quality
        if fmt == "avif":
            # One thread per copy: CONTENTAPI_IMAGE_WORKERS is the bound on cores used.
            options["max_threads"] = 1
        picture.save(out, format_name, **options)
        return out.getvalue()
    except ImageProblem:
        raise
    except (
        OSError,
        ValueError,
        SyntaxError,
        PILImage.DecompressionBombError,
        ImageCms.PyCMSError,
    ) as exc:
        raise ImageProblem(f"cannot be read as an image: {exc}") from None
    finally:
        image.close()


def _draft(
    image: PILImage.Image, shown: tuple[int, int], size: tuple[int, int], cover: bool
) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale while that is still at least twice
    the size the resize starts from (Pillow's thumbnail uses the same reducing gap)."""
    width, height = shown
    if cover:
        scale = max(size[0] / width, size[1] / height)
        need = (math.ceil(width * scale), math.ceil(height * scale))
    else:
        need = size
    need = (need[0] * 2, need[1] * 2)
    if image.size != shown:  # a quarter turn: the file stores height by width
        need = (need[1], need[0])
    image.draft(None, need)


def _plain_mode(image: PILImage.Image, fmt: str) -> PILImage.Image:
    """RGB, RGBA, L or LA (what resizing and every saver handle); for JPEG no alpha:
    transparent parts on white, as most pages show them."""
    if image.mode not in ("RGB", "RGBA", "L", "LA") or "transparency" in image.info:
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    if fmt == "jpg" and image.mode in ("RGBA", "LA"):
        from PIL import Image as PILImage

        rgba = image.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = PILImage.alpha_composite(background, rgba).convert("RGB")
    return image


def _in_srgb(image: PILImage.Image) -> PILImage.Image:
    """The picture in sRGB when the file embeds another colour profile (a phone's
    Display P3): the copy carries no profile, and browsers take none as sRGB."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    to_srgb = _to_srgb(icc, image.mode)
    if to_srgb is None:
        return image
    from PIL import ImageCms

    converted = ImageCms.applyTransform(image, to_srgb)
    return converted if converted is not None else image


@functools.lru_cache(maxsize=16)
def _to_srgb(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """The conversion from a profile to sRGB, built once per profile; None for a profile
    that is sRGB already (most cameras and phones embed one: nothing to convert)."""
    from PIL import ImageCms

    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if ImageCms.getProfileDescription(source).strip().lower().startswith("srgb"):
        return None
    return ImageCms.buildTransform(source, _srgb(), mode, mode)


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.cache
def _has_avif() -> bool:
    from PIL import features

    return bool(features.check("avif"))


@dataclass(slots=True)
class _Flight:
    """A copy being made, awaited by every request for it."""

    done: anyio.Event
    data: bytes | None = None
    error: ImageProblem | None = None


@dataclass(slots=True)
class _Found:
    """What a request gets: its ETag, the bytes or an open file, or a copy to make."""

    version: str
    etag: str
    content_type: str
    name: str = ""
    fmt: str = ""
    quality: int | None = None
    not_modified: bool = False
    data: bytes | None = None
    file: BinaryIO | None = None
    size: int = 0


class Imaging:
    """Makes, keeps and answers the copies of one app (see the module's docstring)."""

    def __init__(self, settings: Settings) -> None:
        folder = settings.cache_dir / CACHE_FOLDER if settings.cache_dir is not None else None
        self.cache = DiskCache(folder, settings.image_cache_bytes, sharers=settings.workers)
        self.max_side = settings.image_max_side
        self.quality = settings.image_quality
        self.workers = settings.image_workers
        self.max_waiting = settings.image_workers * _QUEUE_PER_WORKER
        self._limiter: anyio.CapacityLimiter | None = None
        self._flights: dict[str, _Flight] = {}
        self._waiting = 0
        self._versions: dict[tuple[str, int, int, int], str] = {}
        self._versions_lock = threading.Lock()

    async def respond(
        self,
        full_path: str,
        extension: str,
        media_type: str,
        transform: Transform,
        headers: Headers,
        *,
        head: bool,
        cache_control: str,
    ) -> Response:
        """The answer to a transform request for the file at `full_path` (found and
        checked by the image route), whose usual Cache-Control is `cache_control`."""
        if_none_match = headers.getlist("if-none-match")
        try:
            found = await anyio.to_thread.run_sync(
                self.find, full_path, extension, media_type, transform, if_none_match, head
            )
            if not found.not_modified and found.data is None and found.file is None:
                found.data = await self._made(full_path, transform, found)
                found.size = len(found.data)
        except ImageProblem as problem:
            return refusal(422, f"the picture {problem}")
        except Busy:
            return refusal(
                503, "too many pictures are being made: try again shortly", {"retry-after": "1"}
            )
        if cache_control.startswith("public") and transform.version == found.version:
            cache_control = IMMUTABLE
        answer_headers = {"etag": found.etag, "cache-control": cache_control}
        if found.not_modified:
            return Response(status_code=304, headers=answer_headers)
        answer_headers["content-length"] = str(found.size)
        if found.file is not None:
            return StreamingResponse(
                _chunks(found.file), media_type=found.content_type, headers=answer_headers
            )
        body = b"" if head else (found.data or b"")
        return Response(body, media_type=found.content_type, headers=answer_headers)

    def find(
        self,
        full_path: str,
        extension: str,
        media_type: str,
        transform: Transform,
        if_none_match: list[str],
        head: bool,
    ) -> _Found:
        """What answers the request, read from the disk (runs in a worker thread): the
        file's version, the ETag, and the bytes or an open file when they are at hand."""
        version = self.version_of(full_path)
        if not transform.is_copy:
            found = _Found(version, f'"{version}"', media_type)
            path = full_path
        else:
            fmt = transform.fmt or _OWN_FORMAT.get(extension, "png")
            quality = None if fmt == "png" else transform.quality or self.quality
            name = self.copy_name(version, transform, fmt, quality)
            found = _Found(version, f'"{name[:32]}"', FORMATS[fmt][1], name, fmt, quality)
            path = ""
        if if_none_match and names_etag(if_none_match, found.etag):
            found.not_modified = True
            return found
        try:
            file = open(path, "rb") if path else self.cache.get(f"{name}.{fmt}")  # noqa: SIM115
        except OSError as exc:
            raise ImageProblem(f"cannot be read: {exc.strerror or exc}") from None
        if file is not None:
            found.size = _size_of(file)
            if found.size <= _IN_MEMORY or head:
                with file:
                    found.data = b"" if head else file.read()
            else:
                found.file = file
        return found

    def version_of(self, full_path: str) -> str:
        """The file's content version (see content.images.content_version), hashed once
        per file and change."""
        try:
            with open(full_path, "rb") as file:
                stat = _fstat(file)
                key = (full_path, stat[0], stat[1], stat[2])
                found = self._versions.get(key)
                if found is None:
                    found = content_version(file.read())
        except OSError as exc:
            raise ImageProblem(f"cannot be read: {exc.strerror or exc}") from None
        with self._versions_lock:
            if len(self._versions) >= _VERSIONS_KEPT:
                self._versions.clear()
            self._versions[key] = found
        return found

    def copy_name(self, version: str, transform: Transform, fmt: str, quality: int | None) -> str:
        """The name of a copy: the same for every request that makes the same bytes."""
        fit = transform.fit if transform.width is not None and transform.height is not None else ""
        parts = (IMAGING_VERSION, version, transform.width, transform.height, fit, fmt, quality)
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    async def _made(self, full_path: str, transform: Transform, found: _Found) -> bytes:
        """The copy's bytes, made once however many requests ask for it at a time."""
        while (flight := self._flights.get(found.name)) is not None:
            await flight.done.wait()
            if flight.data is not None:
                return flight.data
            if flight.error is not None:
                raise flight.error
            # Its maker was cancelled (its client went away): this request makes it.
        if self._waiting >= self.max_waiting:
            raise Busy
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.workers)
        flight = _Flight(anyio.Event())
        self._flights[found.name] = flight
        self._waiting += 1
        try:
            flight.data = await anyio.to_thread.run_sync(
                self._make, full_path, transform, found, limiter=self._limiter
            )
            return flight.data
        except ImageProblem as problem:
            flight.error = problem
            raise
        finally:
            self._waiting -= 1
            del self._flights[found.name]
            flight.done.set()

    def _make(self, full_path: str, transform: Transform, found: _Found) -> bytes:
        """Make a copy and keep it (in a worker thread): another worker process may have
        made it meanwhile, and the file may have changed since its version was read."""
        name = f"{found.name}.{found.fmt}"
        kept = self.cache.get(name)
        if kept is not None:
            with kept:
                return kept.read()
        try:
            with open(full_path, "rb") as file:
                data = file.read()
        except OSError as exc:
            raise ImageProblem(f"cannot be read: {exc.strerror or exc}") from None
        copy = render(data, transform, found.fmt, found.quality)
        if content_version(data) == found.version:
            self.cache.put(name, copy)
        return copy


def _fstat(file: BinaryIO) -> tuple[int, int, int]:
    stat = os.fstat(file.fileno())
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _size_of(file: BinaryIO) -> int:
    return _fstat(file)[0]


async def _chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(file.read, _CHUNK):
            yield chunk
    finally:
        file.close()
