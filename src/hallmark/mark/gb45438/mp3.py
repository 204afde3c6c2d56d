"""MP3: an ID3v2 ``TXXX`` frame with description ``AIGC`` and the label's JSON as its value.

The tag at the start of the file is rebuilt, keeping its version (2.3 or 2.4; a new tag is 2.4),
every other frame as it was, and its padding; the first AIGC ``TXXX`` is replaced in place and
any other dropped. ID3v2.4 text is UTF-8, ID3v2.3 text UTF-16 (2.3 has no UTF-8). A 2.3 tag
unsynchronised as a whole is written back without unsynchronisation (its frames decoded), and
an extended header (whose CRC would no longer match) is dropped. The audio after the tag, and an
ID3v1 tag at the end, are copied as they are. ID3v2.2 (three-letter frames) is refused.

``parse_tag`` / ``tag_with_label`` serve the ``id3 `` chunk of WAV files too.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, replace

from hallmark.errors import UserError
from hallmark.mark.gb45438.fields import MAX_LABEL_CHARS, AIGCFields, Reading, reading

ID3 = b"ID3"
TXXX = b"TXXX"
KEY = "AIGC"
FLAG_UNSYNC, FLAG_EXTENDED, FLAG_FOOTER = 0x80, 0x40, 0x10
ID3V1_SIZE = 128
MAX_TAG = (1 << 28) - 1  # a syncsafe 28-bit size
_ENCODINGS = {0: ("latin-1", b"\x00"), 1: ("utf-16", b"\x00\x00"), 2: ("utf-16-be", b"\x00\x00")}
_ENCODINGS[3] = ("utf-8", b"\x00")


@dataclass(slots=True, frozen=True)
class Frame:
    id: bytes
    flags: bytes
    payload: bytes


@dataclass(slots=True, frozen=True)
class Tag:
    version: int  # 3 or 4
    flags: int
    frames: tuple[Frame, ...]
    padding: int
    size: int  # bytes the tag takes in the file, header (and footer) included

    def encode(self) -> bytes:
        body = b"".join(_encode_frame(self.version, f) for f in self.frames)
        body += b"\x00" * self.padding
        if len(body) > MAX_TAG:
            raise UserError("the ID3 tag with the AIGC label would exceed 256 MB")
        flags = self.flags & ~FLAG_EXTENDED
        if self.version == 3:
            flags &= ~FLAG_UNSYNC  # the frames were decoded when the tag was read
        header = bytes([self.version, 0, flags]) + _syncsafe(len(body))
        footer = b"3DI" + header if flags & FLAG_FOOTER else b""
        return ID3 + header + body + footer


def _syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _unsyncsafe(raw: bytes, what: str) -> int:
    if any(b & 0x80 for b in raw):
        raise UserError(f"corrupt ID3 tag: the {what} size is not a syncsafe integer")
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _encode_frame(version: int, frame: Frame) -> bytes:
    size = _syncsafe(len(frame.payload)) if version == 4 else struct.pack(">I", len(frame.payload))
    return frame.id + size + frame.flags + frame.payload


def parse_tag(data: bytes) -> Tag | None:
    """The ID3v2 tag at the start of ``data``, or None when there is none."""
    if not data.startswith(ID3):
        return None
    if len(data) < 10:
        raise UserError("truncated MP3: the file ends inside the ID3 header")
    version, flags = data[3], data[5]
    if version == 2:
        raise UserError("ID3v2.2 tags are not supported: re-save the tags as ID3v2.3 or 2.4")
    if version not in (3, 4):
        raise UserError(f"corrupt MP3: unknown ID3 version 2.{version}")
    size = _unsyncsafe(data[6:10], "tag")
    end = 10 + size + (10 if version == 4 and flags & FLAG_FOOTER else 0)
    if end > len(data):
        raise UserError(f"truncated MP3: the ID3 tag claims {size} bytes, past the end of the file")
    body = data[10 : 10 + size]
    if version == 3 and flags & FLAG_UNSYNC:
        body = body.replace(b"\xff\x00", b"\xff")
    pos = 0
    if flags & FLAG_EXTENDED:
        if len(body) < 4:
            raise UserError("corrupt ID3 tag: the extended header is cut off")
        if version == 3:
            pos = 4 + struct.unpack_from(">I", body)[0]
        else:
            pos = _unsyncsafe(body[:4], "extended header")
    frames: list[Frame] = []
    while pos + 10 <= len(body) and body[pos : pos + 4].isalnum():
        frame_id = body[pos : pos + 4]
        raw = body[pos + 4 : pos + 8]
        length = _unsyncsafe(raw, "frame") if version == 4 else struct.unpack(">I", raw)[0]
        if pos + 10 + length > len(body):
            raise UserError(
                f"corrupt ID3 tag: frame {frame_id.decode()} at byte {10 + pos} claims "
                f"{length} bytes, past the end of the tag"
            )
        frames.append(Frame(frame_id, body[pos + 8 : pos + 10], body[pos + 10 : pos + 10 + length]))
        pos += 10 + length
    return Tag(version, flags, tuple(frames), max(len(body) - pos, 0), end)


def _split_text(encoding: int, raw: bytes) -> list[str]:
    """The NUL-separated strings of a text frame's payload (after its encoding byte)."""
    codec, nul = _ENCODINGS.get(encoding, _ENCODINGS[0])
    parts: list[bytes] = []
    start = at = 0
    while True:
        at = raw.find(nul, at)
        if at < 0:
            parts.append(raw[start:])
            break
        if len(nul) == 2 and (at - start) % 2:
            at += 1  # a NUL pair across two UTF-16 units is not a terminator
            continue
        parts.append(raw[start:at])
        start = at = at + len(nul)
    return [p.decode(codec, errors="replace") for p in parts]


def _frame_data(version: int, frame: Frame) -> bytes | None:
    """The frame's payload with its per-frame encoding undone; None when it is compressed or
    encrypted (a label is never written so)."""
    flags = frame.flags[1]
    payload = frame.payload
    if version == 3:
        if flags & 0xC0:
            return None
        return payload[1:] if flags & 0x20 else payload
    if flags & 0x0C:
        return None
    if flags & 0x02:
        payload = payload.replace(b"\xff\x00", b"\xff")
    return payload[4:] if flags & 0x01 else payload


def _txxx(version: int, frame: Frame) -> tuple[str, str] | None:
    """(description, value) of a TXXX frame."""
    payload = _frame_data(version, frame)
    if frame.id != TXXX or payload is None or not 1 < len(payload) <= MAX_LABEL_CHARS:
        return None
    texts = _split_text(payload[0], payload[1:])
    return (texts[0], texts[1]) if len(texts) > 1 else None


def tag_readings(tag: Tag, serialization: str = "id3-txxx") -> list[Reading]:
    found: list[Reading] = []
    for frame in tag.frames:
        text = _txxx(tag.version, frame)
        if text is not None and text[0].strip().upper() == KEY:
            found.append(reading(serialization, text[1]))
    return found


def _label_frame(version: int, json_text: str) -> Frame:
    if version == 4:
        payload = b"\x03" + KEY.encode() + b"\x00" + json_text.encode("utf-8")
    else:
        payload = b"\x01" + KEY.encode("utf-16") + b"\x00\x00" + json_text.encode("utf-16")
    return Frame(TXXX, b"\x00\x00", payload)


def tag_with_label(tag: Tag | None, json_text: str) -> Tag:
    """The tag (a new ID3v2.4 one when None) with one AIGC TXXX frame holding ``json_text``."""
    if tag is None:
        tag = Tag(4, 0, (), 0, 0)
    label = _label_frame(tag.version, json_text)
    frames: list[Frame] = []
    placed = False
    for frame in tag.frames:
        text = _txxx(tag.version, frame)
        if text is None or text[0].strip().upper() != KEY:
            frames.append(frame)
        elif not placed:
            frames.append(label)
            placed = True
    if not placed:
        frames.append(label)
    return replace(tag, frames=tuple(frames))


def _audio(data: bytes) -> tuple[Tag | None, int, int]:
    """(tag, audio start, audio end): the MPEG frames between the ID3v2 tag and an ID3v1 tag."""
    if not data:
        raise UserError("the MP3 file is empty")
    tag = parse_tag(data)
    start = 0 if tag is None else tag.size
    end = len(data)
    if end - start >= ID3V1_SIZE and data[end - ID3V1_SIZE : end - ID3V1_SIZE + 3] == b"TAG":
        end -= ID3V1_SIZE
    sync = start
    while sync < end and data[sync] == 0:  # padding some writers leave after the tag
        sync += 1
    if sync + 1 >= end or data[sync] != 0xFF or data[sync + 1] & 0xE0 != 0xE0:
        where = "after the ID3 tag" if tag else "at the start"
        raise UserError(f"not an MP3 file: no MPEG audio frame {where}")
    return tag, start, end


def read(data: bytes) -> list[Reading]:
    if data.startswith(ID3 + b"\x02"):
        return []  # ID3v2.2 (three-letter frames): nothing hallmark reads, so no label found
    tag, _, _ = _audio(data)
    return [] if tag is None else tag_readings(tag)


def write(data: bytes, fields: AIGCFields) -> bytes:
    tag, start, _ = _audio(data)
    return tag_with_label(tag, fields.to_json()).encode() + data[start:]


def content_digest(data: bytes) -> str:
    """SHA-256 of the audio: everything after the ID3v2 tag (which holds this label and C2PA's
    ``GEOB`` frame) and before an ID3v1 tag."""
    _, start, end = _audio(data)
    return "sha256:" + hashlib.sha256(memoryview(data)[start:end]).hexdigest()
