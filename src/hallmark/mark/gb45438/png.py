"""PNG: an ``iTXt`` chunk keyword ``AIGC`` holding the JSON, and an ``iTXt``
``XML:com.adobe.xmp`` chunk holding the XMP packet, both before the first ``IDAT``.

Chunks are copied as they are (pixels are never decoded); only the chunks written get new CRCs.
Readers also accept ``tEXt`` and ``zTXt`` ``AIGC`` chunks and EXIF in ``eXIf``.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

from hallmark.errors import UserError
from hallmark.mark.gb45438.exif import read_exif
from hallmark.mark.gb45438.fields import MAX_LABEL_CHARS, AIGCFields, Reading, reading
from hallmark.mark.gb45438.xmp import read_xmp, write_xmp

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"AIGC"
XMP_KEYWORD = b"XML:com.adobe.xmp"
TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})
# Chunks outside the content's digest: metadata that labelling (ours or anyone's) may change.
# Left out of the integrity digest: metadata, and ``caBX`` (C2PA's manifest, signed after this
# label is written, so it must not invalidate it).
METADATA_CHUNKS = TEXT_CHUNKS | {b"eXIf", b"tIME", b"caBX"}
_SERIALIZATION = {b"tEXt": "png-text", b"zTXt": "png-ztxt", b"iTXt": "png-itxt"}


@dataclass(slots=True, frozen=True)
class Chunk:
    type: bytes
    data: bytes
    raw: bytes  # length + type + data + CRC, as found, so untouched chunks stay byte-identical

    @classmethod
    def make(cls, kind: bytes, data: bytes) -> Chunk:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return cls(kind, data, struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc))


def chunks(data: bytes) -> list[Chunk]:
    """The file's chunks up to IEND; UserError for anything that is not a whole PNG."""
    if not data:
        raise UserError("the PNG file is empty")
    if not data.startswith(SIGNATURE):
        raise UserError("not a PNG file: the PNG signature is missing")
    found: list[Chunk] = []
    pos = len(SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise UserError("truncated PNG: the file ends before its IEND chunk")
        length, kind = struct.unpack_from(">I4s", data, pos)
        if not kind.isalpha():
            raise UserError(f"corrupt PNG: bad chunk type {kind!r} at byte {pos}")
        end = pos + 12 + length
        if end > len(data):
            raise UserError(
                f"corrupt PNG: chunk {kind.decode()} at byte {pos} claims {length} bytes, "
                "past the end of the file"
            )
        found.append(Chunk(kind, data[pos + 8 : end - 4], data[pos:end]))
        pos = end
        if kind == b"IEND":
            break
    if found[0].type != b"IHDR" or not any(c.type == b"IDAT" for c in found):
        raise UserError("corrupt PNG: no IHDR chunk first or no IDAT image data")
    return found


def _text_chunk(chunk: Chunk) -> tuple[bytes, str] | None:
    """(keyword, text) of a tEXt/zTXt/iTXt chunk; None when it is malformed or too large."""
    keyword, sep, rest = chunk.data.partition(b"\x00")
    if not sep:
        return None
    try:
        if chunk.type == b"tEXt":
            return keyword, rest.decode("latin-1")
        if chunk.type == b"zTXt":
            return keyword, _inflate(rest[1:]).decode("latin-1")
        compressed, _method = rest[:1] == b"\x01", rest[1:2]
        _language, _, rest = rest[2:].partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        return keyword, (_inflate(text) if compressed else text).decode("utf-8", errors="replace")
    except (ValueError, zlib.error):
        return None


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_LABEL_CHARS)
    if inflater.unconsumed_tail:
        raise ValueError("compressed text larger than the metadata limit")
    return out


def _itxt(keyword: bytes, text: str) -> Chunk:
    return Chunk.make(b"iTXt", keyword + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def _is_label(chunk: Chunk) -> bool:
    if chunk.type not in TEXT_CHUNKS:
        return False
    keyword = chunk.data.partition(b"\x00")[0]
    return keyword.upper() == KEYWORD or (chunk.type == b"iTXt" and keyword == XMP_KEYWORD)


def read(data: bytes) -> list[Reading]:
    """XMP first (the preferred serialization), then AIGC text chunks, then EXIF."""
    xmp: list[Reading] = []
    text: list[Reading] = []
    exif: list[Reading] = []
    for chunk in chunks(data):
        if chunk.type == b"eXIf":
            exif.extend(read_exif(chunk.data))
        if chunk.type not in TEXT_CHUNKS or len(chunk.data) > MAX_LABEL_CHARS:
            continue
        parsed = _text_chunk(chunk)
        if parsed is None:
            continue
        keyword, value = parsed
        if keyword == XMP_KEYWORD:
            xmp.extend(read_xmp(value))
        elif keyword.upper() == KEYWORD:
            text.append(reading(_SERIALIZATION[chunk.type], value))
    return xmp + text + exif


def write(data: bytes, fields: AIGCFields) -> bytes:
    found = chunks(data)
    existing = next(
        (
            parsed[1]
            for c in found
            if c.type == b"iTXt" and (parsed := _text_chunk(c)) and parsed[0] == XMP_KEYWORD
        ),
        None,
    )
    json_text = fields.to_json()
    packet = write_xmp(json_text, existing).decode("utf-8")
    kept = [c for c in found if not _is_label(c)]
    at = next(i for i, c in enumerate(kept) if c.type == b"IDAT")
    labels = [_itxt(KEYWORD, json_text), _itxt(XMP_KEYWORD, packet)]
    return SIGNATURE + b"".join(c.raw for c in kept[:at] + labels + kept[at:])


def content_digest(data: bytes) -> str:
    """SHA-256 over every chunk's type and data except the metadata chunks."""
    sha = hashlib.sha256()
    for chunk in chunks(data):
        if chunk.type not in METADATA_CHUNKS:
            sha.update(chunk.type + struct.pack(">I", len(chunk.data)) + chunk.data)
    return "sha256:" + sha.hexdigest()
