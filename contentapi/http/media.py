"""The image files under the content folder, each served at its own path, like a careful
static server.

A page's `src` resolves on this server as it does on the site: `content/img/x.jpg` is
/img/x.jpg, `content/post/yoda.jpg` is /post/yoda.jpg, `content/build/media/x.png` is
/build/media/x.png. The route is the app's last: /graphql, /healthz, /readyz,
/graphiql/static and /examples are matched before it, so no content file can shadow them
(a file under content/graphiql/static/ is simply not reachable).

Only image files are answered: the extension must be on an allow-list (jpg, jpeg, png,
gif, webp, avif, svg), which alone gives the Content-Type (nothing is guessed), and the
file's first bytes must look like that format, so `evil.html`, a `.png` holding HTML and
every Markdown file are 404 like a missing file. No path segment may start with a dot
(`.git/config`, `.hidden.png`, `..`), symlinks may not lead out of the folder, and nothing
redirects: `/`, `/img` and `/graphql/` are 404, never a Location built from the Host
header. Any other path is 404 for every method; an image path answers 405 to anything
but GET and HEAD.

SVG is served, because sites use it for logos and icons in `<img>`, but as an inert
download. An SVG is a document that can carry script (and XHTML, which runs as script in
an XML document), and it has no magic number, so its bytes cannot prove it harmless: on
this origin, opened directly, it could run script next to the API. So an SVG answer
carries `Content-Disposition: attachment` (a browser navigating to it saves it instead of
rendering it) and `Content-Security-Policy: sandbox; default-src 'none'; style-src
'unsafe-inline'` (should it be rendered anyway, it gets an opaque origin, no script and
no fetches; inline styles still apply). An `<img src="x.svg">` ignores both and draws it
as usual, with the script-free rules every browser applies to images. Its first bytes
must still open an `<svg` element (after an XML declaration, comments or a doctype), so a
mislabelled HTML file is 404.

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
import re
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from contentapi.content.index import ContentIndex
from contentapi.content.model import Treatment
from contentapi.content.store import ContentStore
from contentapi.http.endpoint import carries_preview_token
from contentapi.http.imaging import BadParameter, Imaging, parse_transform
from contentapi.http.protocol import refusal
from contentapi.settings import Settings

# Enough for every signature below: AVIF's brands sit in its first box, and an SVG's
# root element follows at most an XML declaration, an editor's comment and a doctype
# (Illustrator's declares a dozen entities).
SNIFF_BYTES = 4096
SVG_TYPE = "image/svg+xml"
# What makes an SVG inert on this origin: see the module docstring.
SVG_HEADERS = {
    "content-security-policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    "content-disposition": "attachment",
}


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


_SVG_ROOT = re.compile(rb"<svg[\s>/]")


def _is_svg(head: bytes) -> bool:
    """UTF-8 XML whose first element is `<svg`: not a proof of harmlessness (the headers
    are), only a check that the file is what its name says.

    Before the root element may come white space, an XML declaration or processing
    instruction, comments and a doctype with its internal subset (Illustrator declares
    entities there). Read in one pass, each step moving forward, so no file can make the
    check slow (a regular expression with nested repeats could be made to backtrack).
    """
    rest = head.removeprefix(b"\xef\xbb\xbf")
    while True:
        rest = rest.lstrip()
        if rest.startswith(b"<?"):
            end, close = rest.find(b"?>"), b"?>"
        elif rest.startswith(b"<!--"):
            end, close = rest.find(b"-->", 4), b"-->"
        elif rest[:9].upper() == b"<!DOCTYPE":
            if not rest[9:].lstrip().startswith(b"svg"):
                return False
            end, close = rest.find(b">"), b">"
            subset = rest.find(b"[")
            if 0 <= subset < end:
                end = rest.find(b">", rest.find(b"]", subset))
        else:
            return _SVG_ROOT.match(rest) is not None
        if end < 0:
            return False
        rest = rest[end + len(close) :]


# Extension (lower case) -> the Content-Type sent and the check of the file's first bytes.
IMAGE_TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    ".png": ("image/png", _is_png),
    ".jpg": ("image/jpeg", _is_jpeg),
    ".jpeg": ("image/jpeg", _is_jpeg),
    ".gif": ("image/gif", _is_gif),
    ".webp": ("image/webp", _is_webp),
    ".avif": ("image/avif", _is_avif),
    ".svg": (SVG_TYPE, _is_svg),
}


def image_key(src: str, page_folder: str = "") -> str | None:
    """The file under the content folder that a page's image `src` names ("img/x.jpg",
    case-folded), or None for one that cannot be served from here.

    The host of an absolute URL is ignored: a draft naming some other site's /img/x.jpg
    makes our img/x.jpg draft-only, and hiding a file by mistake is the safe error. For
    the same reason a relative `src` (the loader makes them site paths, but a page may
    still carry one) is taken from the content root and, by `image_keys`, from the page's
    own folder. Case-folded so that a case-insensitive file system cannot serve a draft's
    picture under another spelling of its name.
    """
    parts = urlsplit(src)
    if parts.scheme not in ("", "http", "https"):
        return None
    path = unquote(parts.path)
    if not path.startswith("/"):
        path = posixpath.join("/", page_folder, path)
    path = posixpath.normpath(path)
    if not path.startswith("/") or path == "/" or path.startswith("//"):
        return None
    return path.removeprefix("/").casefold()


def image_keys(treatment: Treatment) -> set[str]:
    """Keys (see image_key) of every picture the page shows."""
    folder = posixpath.dirname(treatment.path)
    keys: set[str | None] = set()
    for image in treatment.images:
        keys.add(image_key(image.src))
        if not urlsplit(image.src).path.startswith("/"):
            keys.add(image_key(image.src, folder))
    return {key for key in keys if key is not None}


def draft_only_images(index: ContentIndex) -> frozenset[str]:
    """Keys (see image_key) of the pictures shown by preview pages and by no public page."""
    return frozenset(_image_keys(index.preview.treatments) - _image_keys(index.public.treatments))


def _image_keys(treatments: Iterable[Treatment]) -> set[str]:
    return {key for treatment in treatments for key in image_keys(treatment)}


def _safe_segments(path: str) -> bool:
    """No empty segment, none starting with a dot (dot files, dot folders, `.` and `..`),
    no backslash (a separator elsewhere) and no NUL."""
    return all(
        segment and not segment.startswith(".") and "\\" not in segment and "\0" not in segment
        for segment in path.split("/")
    )


class ImageRoute(Route):
    """`/{path:path}` to ImageFiles: the app's last route, taking every path no route
    above takes, so Starlette never answers with a trailing-slash redirect.

    The exact paths of the routes above (`/graphql`, `/healthz`, ...) are left to them even
    for a method they refuse: Starlette prefers any full match to theirs, which only
    matches the path, and a PUT to /graphql would be this route's 404 instead of their 405.
    """

    def __init__(self, images: ImageFiles, routes_above: Iterable[str]) -> None:
        super().__init__("/{path:path}", images, name="media")
        self.routes_above = frozenset(routes_above)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("path") in self.routes_above:
            return Match.NONE, {}
        return super().matches(scope)


class ImageFiles(StaticFiles):
    """The ASGI app of ImageRoute: every image file under the content folder.

    StaticFiles still finds the file (symlinks resolved and kept inside the folder) and
    answers conditional requests (ETag, Last-Modified, 304) and HEAD as it does for any
    folder; the checks above come first.
    """

    def __init__(self, directory: Path, store: ContentStore, settings: Settings) -> None:
        super().__init__(directory=directory, check_dir=False, follow_symlink=False)
        self.store = store
        self.preview_token = settings.preview_token
        self.public_cache = f"public, max-age={settings.cache_max_age}"
        # Copies asked for with query parameters (?w=200&fm=webp&v=...): imaging.py.
        self.imaging = Imaging(settings)
        # (content fingerprint, draft-only keys): swapped whole, so a reader never sees a
        # fingerprint paired with another version's keys.
        self._draft_only: tuple[str, frozenset[str]] = ("", frozenset())

    async def check_config(self) -> None:
        """Nothing to check: with no content folder every image is 404 (StaticFiles would
        fail the request with a RuntimeError)."""

    def get_path(self, scope: Scope) -> str:
        """The path below the content folder, as sent (decoded, not normalised: a `..` is
        refused, not resolved)."""
        return str(scope["path_params"]["path"])

    async def get_response(self, path: str, scope: Scope) -> Response:
        image_type = IMAGE_TYPES.get(posixpath.splitext(path)[1].lower())
        if image_type is None or not _safe_segments(path):
            return refusal(404, "Not Found")
        if scope["method"] not in ("GET", "HEAD"):
            return refusal(405, "Method Not Allowed", {"allow": "GET, HEAD"})
        media_type, sniff = image_type
        transform = None
        if scope.get("query_string"):
            if media_type == SVG_TYPE:
                return refusal(400, "an SVG picture is served as it is, with no parameters")
            try:
                transform = parse_transform(scope["query_string"], self.imaging.max_side)
            except BadParameter as exc:
                return refusal(400, str(exc))
        headers = Headers(scope=scope)
        preview = carries_preview_token(headers, self.preview_token)
        index = self.store.current
        found = await anyio.to_thread.run_sync(self._find, path, sniff, index, preview)
        if found is None:
            return refusal(404, "Not Found")
        full_path, stat_result, draft_only = found
        cache_control = "private, no-store" if draft_only else self.public_cache
        if transform is not None:
            return await self.imaging.respond(
                full_path,
                posixpath.splitext(full_path)[1].lower(),
                media_type,
                transform,
                headers,
                head=scope["method"] == "HEAD",
                cache_control=cache_control,
            )
        extra = SVG_HEADERS if media_type == SVG_TYPE else {}
        response = FileResponse(
            full_path,
            stat_result=stat_result,
            media_type=media_type,
            headers={"cache-control": cache_control, **extra},
        )
        if self.is_not_modified(response.headers, headers):
            # A 304 updates the headers a cache stored: it repeats what keeps an SVG inert.
            not_modified = NotModifiedResponse(response.headers)
            not_modified.headers.update(extra)
            return not_modified
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
            # A symlink inside the folder may still point into a dot folder, at a draft's
            # picture or at a file of another type: the file it resolves to is checked too.
            root = os.path.realpath(str(self.directory))
            resolved = os.path.relpath(full_path, root).replace(os.sep, "/")
            if not _safe_segments(resolved) or posixpath.splitext(resolved)[1].lower() not in (
                IMAGE_TYPES
            ):
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
