"""Reading EXIF ``UserComment`` (some services put ``{"AIGC": {...}}`` there).

A small TIFF reader: IFD0 -> the Exif IFD (tag 0x8769) -> UserComment (tag 0x9286). Every
offset is checked against the data, so a broken EXIF block reads as "no comment", never as a
crash. Used for JPEG APP1, PNG ``eXIf`` and WebP ``EXIF`` alike.
"""

from __future__ import annotations

import struct

from hallmark.mark.gb45438.fields import MAX_LABEL_CHARS, Reading, reading

EXIF_HEADER = b"Exif\x00\x00"
_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}
_CHARSETS = {b"ASCII\x00\x00\x00": "ascii", b"JIS\x00\x00\x00\x00\x00": "shift_jis"}


def _entries(tiff: bytes, order: str, offset: int) -> dict[int, tuple[int, int, int]]:
    """tag -> (type, count, value offset) for the IFD at ``offset``; {} when it is out of range."""
    if offset < 8 or offset + 2 > len(tiff):
        return {}
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    entries = {}
    for index in range(count):
        at = offset + 2 + 12 * index
        if at + 12 > len(tiff):
            break
        tag, kind, n = struct.unpack_from(order + "HHI", tiff, at)
        size = _TYPE_SIZES.get(kind, 1) * n
        value_at = at + 8 if size <= 4 else struct.unpack_from(order + "I", tiff, at + 8)[0]
        entries[tag] = (kind, n, value_at)
    return entries


def user_comment(block: bytes) -> str | None:
    """The decoded UserComment of an EXIF block (with or without the ``Exif\\0\\0`` header)."""
    tiff = block[len(EXIF_HEADER) :] if block.startswith(EXIF_HEADER) else block
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (magic, ifd0) = struct.unpack_from(order + "HI", tiff, 2)
    if magic != 42:
        return None
    pointer = _entries(tiff, order, ifd0).get(_EXIF_IFD)
    if pointer is None or pointer[2] + 4 > len(tiff):
        return None
    (exif_ifd,) = struct.unpack_from(order + "I", tiff, pointer[2])
    comment = _entries(tiff, order, exif_ifd).get(_USER_COMMENT)
    if comment is None:
        return None
    _, count, at = comment
    if count > MAX_LABEL_CHARS or at + count > len(tiff) or count < 8:
        return None
    raw = tiff[at : at + count]
    prefix, body = raw[:8], raw[8:]
    if prefix == b"UNICODE\x00":
        text = body.decode("utf-16-le" if order == "<" else "utf-16-be", errors="replace")
        if "{" not in text:  # writers disagree on UTF-16 byte order; try the other one
            text = body.decode("utf-16-be" if order == "<" else "utf-16-le", errors="replace")
    else:
        text = body.decode(_CHARSETS.get(prefix, "utf-8"), errors="replace")
    return text.strip("\x00 \t\r\n")


def read_exif(block: bytes) -> list[Reading]:
    """The AIGC label in the block's UserComment, if it holds one."""
    comment = user_comment(block)
    if not comment or "aigc" not in comment.lower():
        return []
    return [reading("exif-usercomment", comment)]
