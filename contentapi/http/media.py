"""The pictures under the content folder's img/, served like a careful static server.

Only image files are answered: the extension must be on an allow-list, which alone gives
the Content-Type (nothing is guessed), and the file's first bytes must be that format's
magic number, so `evil.html` and a `.png` holding HTML are 404 like a missing file. No
path segment may start with a dot (`.git/config`, `.hidden.png`, `..`), symlinks may not
lead out of the folder, and nothing redirects: `/img` and `/img/` are 404, never a
Location built from the Host header.

SVG is refused: it is a document that can carry script, and it has no magic number, so
the bytes of a file named .svg cannot be checked against its name the way a raster
format's can. Pages that need vector art can embed it in their Markdown, which is
sanitised.

Pictures that only drafts show (pages with `draft: true` or `published: false`, seen
only in the preview view) are served only to requests carrying the preview token, as
the drafts themselves are, and never cached by anyone (`private, no-store`); without the
token they are 404 with the same body as a missing file, so their existence does not
leak. A file that no page names is public: that is what anyone putting a file in a
static folder expects. Which files are draft-only is worked out once per content version
(the store's index changes on live reload), not per request.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from contentapi.content.index import ContentIndex
from contentapi.content.model import Treatment
from contentapi.content.store import ContentStore
from contentapi.http.endpoint import carries_preview_token
from contentapi.http.protocol import JSON, error_body
from contentapi.settings import Settings

# Enough for every signature below: AVIF's brands sit in its first box.
SNIFF_BYTES = 64
IMAGE_PREFIX = "/img/"


def _is_png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _is_jpeg(head: bytes) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _is_gif(head: bytes) -> bool:
    return head[:6] in (b"GIF87a", b"GIF89a")


def _is_webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _is_avif(head: bytes) -> bool:
    """An ISO media file whose first box, `ftyp`, names an AVIF brand (major or compatible)."""
    if head[4:8] != b"ftyp":
        return False
    box = head[8 : min(int.from_bytes(head[:4], "big"), len(head))]
    # The major brand, a 4-byte minor version, then the compatible brands.
    brands = [box[:4], *(box[i : i + 4] for i in range(8, len(box) - 3, 4))]
    return b"avif" in brands or b"avis" in brands


# Extension (lower case) -> the Content-Type sent and the check of the file's first bytes.
IMAGE_TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    ".png": ("image/png", _is_png),
    ".jpg": ("image/jpeg", _is_jpeg),
    ".jpeg": ("image/jpeg", _is_jpeg),
    ".gif": ("image/gif", _is_gif),
    ".webp": ("image/webp", _is_webp),
    ".avif": ("image/avif", _is_avif),
}


def image_key(src: str) -> str | None:
    """The file under img/ that a page's image `src` names ("pages/x.jpg", case-folded), or
    None for a picture served from elsewhere.

    The host of an absolute URL is ignored: a draft naming some other site's /img/x.jpg
    makes our img/x.jpg draft-only, and hiding a file by mistake is the safe error.
    Case-folded so that a case-insensitive file system cannot serve a draft's picture
    under another spelling of its name.
    """
    path = posixpath.normpath(unquote(urlsplit(src).path))
    if not path.startswith(IMAGE_PREFIX):
        return None
    return path.removeprefix(IMAGE_PREFIX).casefold()


def draft_only_images(index: ContentIndex) -> frozenset[str]:
    """Keys (see image_key) of the pictures shown by preview pages and by no public page."""
    return frozenset(_image_keys(index.preview.treatments) - _image_keys(index.public.treatments))


def _image_keys(treatments: Iterable[Treatment]) -> set[str]:
    keys = (image_key(image.src) for treatment in treatments for image in treatment.images)
    return {key for key in keys if key is not None}


def _safe_segments(path: str) -> bool:
    """No empty segment, none starting with a dot (dot files, dot folders, `.` and `..`),
    no backslash (a separator elsewhere) and no NUL."""
    return all(
        segment and not segment.startswith(".") and "\\" not in segment and "\0" not in segment
        for segment in path.split("/")
    )


def _refusal(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        error_body(message),
        status_code=status,
        media_type=JSON,
        headers={"cache-control": "no-store", **(headers or {})},
    )


class ImageFiles(StaticFiles):
    """The ASGI app for `Route("/img{path:path}", ...)`: one route for /img, /img/ and every
    path below, so Starlette never answers with a trailing-slash redirect.

    StaticFiles still finds the file (symlinks resolved and kept inside the folder) and
    answers conditional requests (ETag, Last-Modified, 304) and HEAD as it does for any
    folder; the checks above come first.
    """

    def __init__(self, directory: Path, store: ContentStore, settings: Settings) -> None:
        super().__init__(directory=directory, check_dir=False, follow_symlink=False)
        self.store = store
        self.preview_token = settings.preview_token
        self.public_cache = f"public, max-age={settings.cache_max_age}"
        # (content fingerprint, draft-only keys): swapped whole, so a reader never sees a
        # fingerprint paired with another version's keys.
        self._draft_only: tuple[str, frozenset[str]] = ("", frozenset())

    async def check_config(self) -> None:
        """Nothing to check: with no img/ folder every image is 404 (StaticFiles would fail
        the request with a RuntimeError)."""

    def get_path(self, scope: Scope) -> str:
        """What follows /img, as sent (decoded, not normalised: a `..` is refused, not
        resolved)."""
        return str(scope["path_params"]["path"])

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return _refusal(405, "Method Not Allowed", {"allow": "GET, HEAD"})
        relative = path.removeprefix("/")
        image_type = IMAGE_TYPES.get(posixpath.splitext(relative)[1].lower())
        if not path.startswith("/") or not _safe_segments(relative) or image_type is None:
            return _refusal(404, "Not Found")
        media_type, sniff = image_type
        headers = Headers(scope=scope)
        preview = carries_preview_token(headers, self.preview_token)
        index = self.store.current
        found = await anyio.to_thread.run_sync(self._find, relative, sniff, index, preview)
        if found is None:
            return _refusal(404, "Not Found")
        full_path, stat_result, draft_only = found
        cache_control = "private, no-store" if draft_only else self.public_cache
        response = FileResponse(
            full_path,
            stat_result=stat_result,
            media_type=media_type,
            headers={"cache-control": cache_control},
        )
        if self.is_not_modified(response.headers, headers):
            return NotModifiedResponse(response.headers)
        return response

    def _find(
        self, relative: str, sniff: Callable[[bytes], bool], index: ContentIndex, preview: bool
    ) -> tuple[str, os.stat_result, bool] | None:
        """The file to serve, its stat and whether only drafts show it; None for 404.

        Runs in a worker thread: it touches the disk, and the first call for a content
        version works out its draft-only pictures.
        """
        try:
            full_path, stat_result = self.lookup_path(relative)
            if stat_result is None or not stat.S_ISREG(stat_result.st_mode):
                return None
            # A symlink inside the folder may still point into a dot folder or at a
            # draft's picture: the file it resolves to is checked too.
            root = os.path.realpath(str(self.directory))
            resolved = os.path.relpath(full_path, root).replace(os.sep, "/")
            if not _safe_segments(resolved):
                return None
            drafts = self._drafts_of(index)
            draft_only = relative.casefold() in drafts or resolved.casefold() in drafts
            if draft_only and not preview:
                return None
            with open(full_path, "rb") as file:
                if not sniff(file.read(SNIFF_BYTES)):
                    return None
        except (OSError, ValueError):
            # Unreadable, a name too long, or a character the file system refuses.
            return None
        return full_path, stat_result, draft_only

    def _drafts_of(self, index: ContentIndex) -> frozenset[str]:
        fingerprint, drafts = self._draft_only
        if fingerprint != index.fingerprint:
            drafts = draft_only_images(index)
            self._draft_only = (index.fingerprint, drafts)
        return drafts
