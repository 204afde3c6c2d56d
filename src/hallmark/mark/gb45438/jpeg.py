"""JPEG: the XMP packet in an APP1 segment (``http://ns.adobe.com/xap/1.0/\\0``), placed after
SOI and any leading APP0 (JFIF) / APP1 (EXIF) segments, replacing an existing XMP segment.

Only the segments before the first scan are parsed; the scan data and everything after it are
copied as they are. Readers also take ``{"AIGC": {...}}`` from EXIF UserComment.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import NamedTuple

from hallmark.errors import UserError
from hallmark.mark.gb45438.exif import EXIF_HEADER, read_exif
from hallmark.mark.gb45438.fields import AIGCFields, Reading
from hallmark.mark.gb45438.xmp import read_xmp, write_xmp

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
APP0, APP1, APP13, SOS, COM = 0xE0, 0xE1, 0xED, 0xDA, 0xFE
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
MAX_SEGMENT = 0xFFFF - 2
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Segments outside the content's digest: metadata that labelling may change.
APP11 = 0xEB  # JUMBF: where C2PA stores its manifest
# Left out of the integrity digest: metadata, and the C2PA manifest, which is signed after
# this label is written and must not invalidate it.
_METADATA = frozenset({APP1, APP11, APP13, COM})


class Segment(NamedTuple):
    """One header segment: its marker and its bytes, marker and length included."""

    marker: int
    raw: bytes

    @property
    def payload(self) -> bytes:
        return self.raw[4:]

    @property
    def is_xmp(self) -> bool:
        return self.marker == APP1 and self.raw.startswith(XMP_HEADER, 4)

    @property
    def is_exif(self) -> bool:
        return self.marker == APP1 and self.raw.startswith(EXIF_HEADER, 4)


@dataclass(slots=True, frozen=True)
class Layout:
    header: list[Segment]  # the segments between SOI and the first SOS
    scan_start: int  # where the first SOS marker starts; the scan runs to the end of the file


def layout(data: bytes) -> Layout:
    """The file's header segments and scan; UserError for anything not a whole JPEG."""
    if not data:
        raise UserError("the JPEG file is empty")
    if not data.startswith(SOI):
        raise UserError("not a JPEG file: the start-of-image marker is missing")
    header: list[Segment] = []
    pos, size = len(SOI), len(data)
    while True:
        if pos + 2 > size:
            raise UserError("truncated JPEG: the file ends before its image data")
        if data[pos] != 0xFF:
            raise UserError(f"corrupt JPEG: expected a marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            header.append(Segment(marker, data[pos : pos + 2]))
            pos += 2
            continue
        if marker == EOI[1]:
            raise UserError("corrupt JPEG: end of image before any image data")
        if pos + 4 > size:
            raise UserError("truncated JPEG: the file ends inside a segment header")
        end = pos + 2 + ((data[pos + 2] << 8) | data[pos + 3])
        if end < pos + 4 or end > size:
            raise UserError(
                f"corrupt JPEG: segment 0xFF{marker:02X} at byte {pos} claims {end - pos - 2} "
                "bytes, past the end of the file"
            )
        if marker == SOS:
            break
        header.append(Segment(marker, data[pos:end]))
        pos = end
    if not any(s.marker in _SOF for s in header):
        raise UserError("corrupt JPEG: no frame header (SOF) before the image data")
    if data.rfind(EOI) <= pos:
        raise UserError("truncated JPEG: the end-of-image marker is missing")
    return Layout(header, pos)


class JpegFile:
    """A JPEG parsed once (``layout``), then its labels read, its content digested and a new
    label written, in any order."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.layout = layout(data)

    def read(self) -> list[Reading]:
        header = self.layout.header
        xmp = [r for s in header if s.is_xmp for r in read_xmp(s.raw[4 + len(XMP_HEADER) :])]
        exif = [r for s in header if s.is_exif for r in read_exif(s.payload)]
        return xmp + exif

    def write(self, fields: AIGCFields) -> bytes:
        header = self.layout.header
        existing = next((s.raw[4 + len(XMP_HEADER) :] for s in header if s.is_xmp), None)
        payload = XMP_HEADER + write_xmp(fields.to_json(), existing)
        if len(payload) > MAX_SEGMENT:
            raise UserError(
                "the JPEG's XMP packet with the AIGC label exceeds one 64 KiB APP1 segment "
                "(extended XMP is not written)"
            )
        segment = bytes([0xFF, APP1]) + struct.pack(">H", len(payload) + 2) + payload
        kept = [s for s in header if not s.is_xmp]
        at = 0
        while at < len(kept) and (kept[at].marker == APP0 or kept[at].is_exif):
            at += 1
        head = b"".join(s.raw for s in kept[:at]) + segment + b"".join(s.raw for s in kept[at:])
        return b"".join((SOI, head, memoryview(self.data)[self.layout.scan_start :]))

    def content_digest(self) -> str:
        """SHA-256 over the non-metadata header segments and everything from the first scan
        on."""
        sha = hashlib.sha256()
        for segment in self.layout.header:
            if segment.marker not in _METADATA:
                sha.update(segment.raw)
        sha.update(memoryview(self.data)[self.layout.scan_start :])
        return "sha256:" + sha.hexdigest()


def read(data: bytes) -> list[Reading]:
    return JpegFile(data).read()


def write(data: bytes, fields: AIGCFields) -> bytes:
    return JpegFile(data).write(fields)


def content_digest(data: bytes) -> str:
    return JpegFile(data).content_digest()
