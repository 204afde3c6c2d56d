"""WAV (RIFF WAVE): the label in a ``LIST``/``INFO`` sub-chunk with the id ``AIGC`` (the RIFF
INFO convention of the TC260 video guide for AVI, which is RIFF too) and in an XMP packet in a
``_PMX`` chunk (XMP's own convention for WAV).

Existing chunks are updated in place (an INFO list keeps its other entries, an XMP packet its
other properties); new ones go before the ``data`` chunk, as ffmpeg places its INFO list. A
top-level ``AIGC`` chunk or an AIGC ``TXXX`` in an ``id3 `` chunk, if some writer left one, is
updated too, so no stale copy remains. The ``ICMT`` comment is never written (it is the user's
comment), only read when it holds ``AIGC={...}`` or ``AIGC: {...}``. Chunks are copied as they are;
the RIFF size is recomputed and odd chunks get their pad byte.
"""

from __future__ import annotations

import hashlib
import re
import struct

from hallmark.errors import UserError
from hallmark.mark.gb45438 import mp3, riff
from hallmark.mark.gb45438.fields import MAX_LABEL_CHARS, AIGCFields, Reading, reading
from hallmark.mark.gb45438.riff import LIST, Chunk
from hallmark.mark.gb45438.xmp import read_xmp, write_xmp

INFO, XMP, DATA, KEY = b"INFO", b"_PMX", b"data", b"AIGC"
ID3_CHUNKS = frozenset({b"id3 ", b"ID3 "})
# Left out of the integrity digest: metadata and padding chunks, and C2PA's manifest chunk
# (signed after this label is written). ``LIST`` only when it is an INFO or adtl list.
_METADATA = frozenset({XMP, KEY, b"C2PA", b"JUNK", b"junk", b"PAD ", b"FLLR", b"bext", b"iXML"})
_METADATA_LISTS = frozenset({INFO, b"adtl"})
_COMMENT = re.compile(r"\s*AIGC\s*[:=]\s*(\{.*\})\s*$", re.DOTALL)


def is_metadata(chunk: Chunk) -> bool:
    return chunk.fourcc in _METADATA | ID3_CHUNKS or chunk.list_type in _METADATA_LISTS


def parse_chunks(data: bytes, start: int, end: int, where: str) -> list[Chunk]:
    return riff.parse_chunks(data, start, end, kind="WAV", where=where)


def chunks(data: bytes) -> tuple[list[Chunk], bytes]:
    """The file's chunks and any bytes after the RIFF form; UserError for a broken WAV."""
    if data[:4] == b"RF64":
        raise UserError("RF64 (64-bit WAV) files are not supported")
    end = riff.form_end(data, b"WAVE", "WAV")
    found = parse_chunks(data, 12, end, "the file")
    kinds = {c.fourcc for c in found}
    if b"fmt " not in kinds or DATA not in kinds:
        raise UserError("corrupt WAV: no fmt or no data chunk")
    return found, data[end:]


def _info(chunk: Chunk) -> list[Chunk]:
    return parse_chunks(chunk.data, 4, len(chunk.data), "the INFO list")


def _id3(chunk: Chunk) -> mp3.Tag | None:
    """The ID3 tag of an ``id3 `` chunk; None when there is none or it cannot be read (then
    the chunk is kept as it is)."""
    if chunk.fourcc not in ID3_CHUNKS:
        return None
    try:
        return mp3.parse_tag(chunk.data)
    except UserError:
        return None


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("utf-8", errors="replace")


def read(data: bytes) -> list[Reading]:
    """XMP first, then the INFO ``AIGC`` entry, a top-level ``AIGC`` chunk, an ID3 chunk's
    ``TXXX:AIGC``, and an ``ICMT`` comment holding ``AIGC=``."""
    xmp: list[Reading] = []
    info: list[Reading] = []
    other: list[Reading] = []
    comments: list[Reading] = []
    for chunk in chunks(data)[0]:
        if len(chunk.data) > MAX_LABEL_CHARS and chunk.fourcc != LIST:
            continue
        if chunk.fourcc == XMP:
            xmp.extend(read_xmp(chunk.data))
        elif chunk.fourcc == KEY:
            other.append(reading("wav-chunk", _text(chunk.data)))
        elif (tag := _id3(chunk)) is not None:
            other.extend(mp3.tag_readings(tag, "wav-id3"))
        elif chunk.list_type == INFO:
            for entry in _info(chunk):
                if len(entry.data) > MAX_LABEL_CHARS:
                    continue
                if entry.fourcc == KEY:
                    info.append(reading("wav-info", _text(entry.data)))
                elif entry.fourcc == b"ICMT" and (found := _COMMENT.match(_text(entry.data))):
                    comments.append(reading("wav-comment", found.group(1)))
    return xmp + info + other + comments


def _labelled_info(chunk: Chunk | None, json_text: str | None) -> Chunk:
    """The INFO list with its AIGC entry set to ``json_text`` (in place, or added at the end),
    or with AIGC entries removed when ``json_text`` is None."""
    entries = [] if chunk is None else _info(chunk)
    kept = [e for e in entries if e.fourcc != KEY]
    if json_text is not None:
        at = next((i for i, e in enumerate(entries) if e.fourcc == KEY), len(kept))
        kept.insert(at, Chunk(KEY, json_text.encode("utf-8") + b"\x00"))
    return Chunk(LIST, INFO + b"".join(e.encode() for e in kept))


def write(data: bytes, fields: AIGCFields) -> bytes:
    found, trailing = chunks(data)
    json_text = fields.to_json()
    out: list[Chunk] = []
    wrote_xmp = wrote_info = False
    for chunk in found:
        if chunk.fourcc == XMP and not wrote_xmp:
            out.append(Chunk(XMP, write_xmp(json_text, chunk.data)))
            wrote_xmp = True
        elif chunk.list_type == INFO:  # a second INFO list keeps all but a stale label
            out.append(_labelled_info(chunk, None if wrote_info else json_text))
            wrote_info = True
        elif chunk.fourcc == KEY:
            out.append(Chunk(KEY, json_text.encode("utf-8")))
        elif (tag := _id3(chunk)) is not None:
            labelled = bool(mp3.tag_readings(tag))
            encoded = mp3.tag_with_label(tag, json_text).encode() if labelled else chunk.data
            out.append(Chunk(chunk.fourcc, encoded))
        elif chunk.fourcc != XMP:  # one XMP packet is enough
            out.append(chunk)
    at = next(i for i, c in enumerate(out) if c.fourcc == DATA)
    added = ([] if wrote_info else [_labelled_info(None, json_text)]) + (
        [] if wrote_xmp else [Chunk(XMP, write_xmp(json_text))]
    )
    body = b"WAVE" + b"".join(c.encode() for c in [*out[:at], *added, *out[at:]])
    if len(body) > 0xFFFFFFFF:
        raise UserError("the WAV file with the label would exceed the 4 GB RIFF limit")
    return b"RIFF" + struct.pack("<I", len(body)) + body + trailing


def content_digest(data: bytes) -> str:
    """SHA-256 over every chunk but the metadata ones (INFO, XMP, ID3, AIGC, C2PA, padding)."""
    sha = hashlib.sha256()
    for chunk in chunks(data)[0]:
        if not is_metadata(chunk):
            sha.update(chunk.fourcc + struct.pack("<I", len(chunk.data)) + chunk.data)
    return "sha256:" + sha.hexdigest()
