"""WebP: an ``XMP `` chunk with the XMP flag set in ``VP8X``.

A simple file (one ``VP8 `` or ``VP8L`` chunk) is turned into the extended form: a ``VP8X``
chunk is put first, its canvas size read from the bitstream header (and its alpha flag from the
VP8L header). The image chunks are copied as they are; the RIFF size is recomputed.
"""

from __future__ import annotations

import hashlib
import struct

from hallmark.errors import UserError
from hallmark.mark.gb45438 import riff
from hallmark.mark.gb45438.exif import read_exif
from hallmark.mark.gb45438.fields import MAX_LABEL_CHARS, AIGCFields, Reading
from hallmark.mark.gb45438.riff import Chunk
from hallmark.mark.gb45438.xmp import read_xmp, write_xmp

VP8, VP8L, VP8X, XMP, EXIF = b"VP8 ", b"VP8L", b"VP8X", b"XMP ", b"EXIF"
IMAGE_CHUNKS = frozenset({VP8, VP8L, b"ALPH", b"ANMF"})
FLAG_XMP, FLAG_ALPHA = 0x04, 0x10
# Chunks outside the content's digest: metadata, and the header that labelling rewrites.
# Left out of the integrity digest: metadata, and C2PA's manifest chunk (signed after this label).
_METADATA = frozenset({VP8X, XMP, EXIF, b"C2PA"})


def chunks(data: bytes) -> list[Chunk]:
    """The file's chunks; UserError for anything that is not a whole WebP."""
    end = riff.form_end(data, b"WEBP", "WebP")
    found = riff.parse_chunks(data, 12, end, kind="WebP", where="the file")
    if not found or not any(c.fourcc in IMAGE_CHUNKS for c in found):
        raise UserError("corrupt WebP: no image data chunk")
    return found


def canvas(chunk: Chunk) -> tuple[int, int, bool]:
    """(width, height, has alpha) from a simple file's bitstream header."""
    data = chunk.data
    if chunk.fourcc == VP8 and len(data) >= 10 and data[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 6)
        return width & 0x3FFF, height & 0x3FFF, False
    if chunk.fourcc == VP8L and len(data) >= 5 and data[0] == 0x2F:
        (bits,) = struct.unpack_from("<I", data, 1)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise UserError(f"corrupt WebP: unreadable {chunk.fourcc.decode().strip()} header")


def _vp8x(width: int, height: int, flags: int) -> Chunk:
    size = struct.pack("<I", width - 1)[:3] + struct.pack("<I", height - 1)[:3]
    return Chunk(VP8X, bytes([flags, 0, 0, 0]) + size)


def read(data: bytes) -> list[Reading]:
    xmp: list[Reading] = []
    exif: list[Reading] = []
    for chunk in chunks(data):
        if len(chunk.data) > MAX_LABEL_CHARS:
            continue
        if chunk.fourcc == XMP:
            xmp.extend(read_xmp(chunk.data))
        elif chunk.fourcc == EXIF:
            exif.extend(read_exif(chunk.data))
    return xmp + exif


def write(data: bytes, fields: AIGCFields) -> bytes:
    found = chunks(data)
    first = found[0]
    if first.fourcc == VP8X:
        if len(first.data) < 10:
            raise UserError("corrupt WebP: the VP8X chunk is too short")
        found[0] = Chunk(VP8X, bytes([first.data[0] | FLAG_XMP]) + first.data[1:])
    elif first.fourcc in (VP8, VP8L):
        width, height, alpha = canvas(first)
        found.insert(0, _vp8x(width, height, FLAG_XMP | (FLAG_ALPHA if alpha else 0)))
    else:
        raise UserError(f"corrupt WebP: unexpected first chunk {first.fourcc!r}")
    existing = next((c.data for c in found if c.fourcc == XMP), None)
    packet = Chunk(XMP, write_xmp(fields.to_json(), existing))
    kept = [c for c in found if c.fourcc != XMP]
    anchors = [i for i, c in enumerate(kept) if c.fourcc == EXIF or c.fourcc in IMAGE_CHUNKS]
    at = max(anchors) + 1
    body = b"WEBP" + b"".join(c.encode() for c in [*kept[:at], packet, *kept[at:]])
    return b"RIFF" + struct.pack("<I", len(body)) + body


def content_digest(data: bytes) -> str:
    """SHA-256 over every chunk except VP8X, XMP and EXIF."""
    sha = hashlib.sha256()
    for chunk in chunks(data):
        if chunk.fourcc not in _METADATA:
            sha.update(chunk.fourcc + struct.pack("<I", len(chunk.data)) + chunk.data)
    return "sha256:" + sha.hexdigest()
