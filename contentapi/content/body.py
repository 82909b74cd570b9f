"""Page bodies: the packed format (html, text, Markdown, headings, sections and front
matter in one blob) and the file store that keeps them on disk, an append-only temporary
file read back by offset.

A worker serving 10,000 pages would otherwise hold every page's body in memory (18 MB
even compressed, about half of what its pages take). The bodies read last are kept in
memory within BODIES_KEPT_BYTES (KeptBodies), so a page asked for on every request is
not read from disk on every request."""

from __future__ import annotations

import os
import struct
import tempfile
import threading
import weakref
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from contentapi.bounded import BoundedCache, sized

if TYPE_CHECKING:  # the model reads bodies through this module: no import at run time
    from contentapi.content.model import Heading, Image, SectionSpan


class BodySource(Protocol):
    """Where stored bodies are read back from: a BodyFile (by byte offset) or a built
    index file (indexfile.py: by document row)."""

    def read(self, offset: int, length: int) -> bytes:
        """The `length` bytes of the body kept at `offset`."""
        ...


# The bodies read last kept in memory, in bytes: a page asked for again (its html, its
# text) is not read again. A read costs more between requests than in a loop of reads:
# from a built index (SQLite: lock, query, row) a 6 KB body took 4.6 us in a loop and
# about 10 us between requests (in process, the JIT's answer to one treatment went from
# 48 to 39 us when kept); from a BodyFile (one `pread`) 1.1 us in a loop, and keeping
# them took bench/protocol.py's uncached (a) from 29.0 to 27.4 us and (b) from 34.6 to
# 32.4 (one process switching every batch, best of 15). 8 MB holds every body of 1,000
# generated pages (5.6 MB), and is taken only as pages are asked for.
BODIES_KEPT_BYTES = 8 * 1024 * 1024


class KeptBodies:
    """A BodySource that keeps the bodies it read last (see BODIES_KEPT_BYTES); `_read`
    reads one from where the bodies are stored."""

    def __init__(self) -> None:
        self._kept = BoundedCache[bytes](BODIES_KEPT_BYTES)

    def read(self, offset: int, length: int) -> bytes:
        """The `length` bytes of the body kept at `offset`."""
        # Both in the key: an empty body lies at the offset of the body after it.
        key = offset.to_bytes(8, "big") + length.to_bytes(8, "big")
        kept = self._kept.get(key)
        if kept is None:
            kept = self._read(offset, length)
            self._kept.put(key, kept, len(kept))
        return kept

    def _read(self, offset: int, length: int) -> bytes:
        raise NotImplementedError


class BodyFile(KeptBodies):
    """An unlinked temporary file that bodies are appended to; it goes when it is dropped."""

    def __init__(self, directory: str | None = None) -> None:
        super().__init__()
        descriptor, path = tempfile.mkstemp(prefix="contentapi-bodies-", dir=directory)
        os.unlink(path)
        self._descriptor = descriptor
        # Pages outlive any one index (a reload keeps the unchanged ones): the file is
        # closed when the last page using it is gone, not at any point of our choosing.
        weakref.finalize(self, os.close, descriptor)
        self._end = 0
        self._lock = threading.Lock()

    def keep(self, data: bytes) -> StoredBody:
        """Append `data`; raises OSError if it cannot be written (a full disk)."""
        with self._lock:
            offset = self._end
            written = 0
            while written < len(data):
                written += os.pwrite(self._descriptor, data[written:], offset + written)
            self._end += len(data)
        return StoredBody(self, offset, len(data))

    def _read(self, offset: int, length: int) -> bytes:
        data = os.pread(self._descriptor, length, offset)
        if len(data) != length:
            end = offset + len(data)
            raise OSError(f"the body file ends at byte {end}, in a body of {length} bytes")
        return data


@dataclass(frozen=True, slots=True)
class StoredBody:
    """Where one body lies in a BodySource (a BodyFile or a built index file)."""

    file: BodySource
    offset: int
    length: int

    def read(self) -> bytes:
        """The body's bytes."""
        return self.file.read(self.offset, self.length)

    def __reduce__(self) -> tuple[Any, ...]:
        # A temporary file means nothing to another process: a pickled body is its bytes.
        return (bytes, (self.read(),))


# A packed body: the byte lengths of its html, mdast tree, text and Markdown; the html as
# UTF-8 and the tree as mdast.rich_text packs it, neither compressed (one of them is read
# on most requests, and bodies live on disk, not in memory); then one zlib stream of the
# text, the Markdown, and the headings, sections and front matter as JSON (the text
# repeats the Markdown, so they pack to a third together).
_LENGTHS = struct.Struct("<IIII")


def pack_body(
    html: str,
    text: str,
    markdown: str,
    toc: tuple[Heading, ...],
    sections: tuple[SectionSpan, ...],
    front_matter: dict[str, Any],
    ast: bytes = b"",
) -> bytes:
    """A page's body as one blob (see _LENGTHS for its layout); `ast` is its mdast tree as
    mdast.rich_text packed it ("" for none)."""
    html_bytes, text_bytes, markdown_bytes = html.encode(), text.encode(), markdown.encode()
    meta = orjson.dumps(
        {
            "toc": [(h.level, h.title, h.anchor) for h in toc],
            # A section i belongs to heading i: only where its html and text lie is kept.
            "sections": [(*s.html_span, *s.text_span, s.own_text) for s in sections],
            "front_matter": front_matter,
        }
    )
    lengths = _LENGTHS.pack(len(html_bytes), len(ast), len(text_bytes), len(markdown_bytes))
    stream = zlib.compress(text_bytes + markdown_bytes + meta, 6)
    return b"".join((lengths, html_bytes, ast, stream))


def pack_images(images: Sequence[Image]) -> bytes:
    """Images kept as a page keeps them (their page and position are the page's)."""
    return sized(orjson.dumps([(i.src, i.alt, i.title, i.width, i.height) for i in images]))


def is_packed_body(body: bytes) -> bool:
    """Whether `body` is laid out as pack_body lays it out: lengths, the html and tree they
    give and a stream after them (a cheap check of bytes read back from a cache, not of
    their text)."""
    if len(body) < _LENGTHS.size:
        return False
    # An empty stream still compresses to some bytes: the tree never ends the blob.
    html_length: int
    ast_length: int
    html_length, ast_length = _LENGTHS.unpack_from(body)[:2]
    return _LENGTHS.size + html_length + ast_length < len(body)


def _inflate(body: bytes, upto: int | None = None) -> bytes:
    """The compressed stream of a packed body, unpacked, or only its first `upto` bytes."""
    html_length, ast_length = _LENGTHS.unpack_from(body)[:2]
    stream = memoryview(body)[_LENGTHS.size + html_length + ast_length :]
    if upto is None:
        return zlib.decompress(stream)
    # A max_length of 0 means "no limit" to zlib.
    return zlib.decompressobj().decompress(stream, upto) if upto else b""


def packed_meta(body: bytes) -> tuple[str, dict[str, Any]]:
    """A packed body's text and the JSON at the end of its stream (headings, sections,
    front matter)."""
    stream = _inflate(body)
    _, _, text_length, markdown_length = _LENGTHS.unpack_from(body)
    meta: dict[str, Any] = orjson.loads(stream[text_length + markdown_length :])
    return stream[:text_length].decode(), meta


def packed_html(body: bytes) -> str:
    """A packed body's html (stored as it is: read without inflating anything)."""
    return str(
        memoryview(body)[_LENGTHS.size : _LENGTHS.size + _LENGTHS.unpack_from(body)[0]], "utf-8"
    )


def packed_ast(body: bytes) -> bytes:
    """A packed body's mdast tree as mdast.rich_text packed it (stored as it is)."""
    html_length, ast_length = _LENGTHS.unpack_from(body)[:2]
    start = _LENGTHS.size + html_length
    return body[start : start + ast_length]


def packed_text(body: bytes) -> str:
    """A packed body's plain text (only the start of the stream is inflated)."""
    return _inflate(body, _LENGTHS.unpack_from(body)[2]).decode()


def packed_markdown(body: bytes) -> str:
    """A packed body's Markdown source."""
    _, _, text_length, markdown_length = _LENGTHS.unpack_from(body)
    return _inflate(body, text_length + markdown_length)[text_length:].decode()
