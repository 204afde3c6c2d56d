"""Media types from the bytes themselves: a file's name or declared type can lie.

``sniff`` looks at magic numbers; text is recognised by decoding as UTF-8. A declared type is
used only to tell Markdown from plain text, since their bytes look alike.
"""

from __future__ import annotations

from hallmark.content import Medium
from hallmark.errors import UserError

_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"OggS", "audio/ogg"),
    (0, b"\x1a\x45\xdf\xa3", "video/x-matroska"),
)
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_QUICKTIME_BRANDS = {b"qt  "}
_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B "}
_MARKDOWN_HINTS = ("text/markdown", "text/x-markdown", ".md", ".markdown")

MEDIUM_BY_TYPE: dict[str, Medium] = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/webp": "image",
    "image/gif": "image",
    "audio/mpeg": "audio",
    "audio/wav": "audio",
    "audio/flac": "audio",
    "audio/ogg": "audio",
    "audio/mp4": "audio",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/x-matroska": "video",
    "video/x-msvideo": "video",
    "application/pdf": "document",
    "text/plain": "document",
    "text/markdown": "document",
}


def _is_mp3_frame(data: bytes) -> bool:
    return len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0 and data[1] & 0x06 != 0


def _looks_like_text(data: bytes) -> bool:
    sample = data[:65536]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is still text.
        return exc.start >= len(sample) - 3 and len(data) > len(sample)
    return True


def sniff(data: bytes, hint: str | None = None) -> str:
    """The media type of ``data``; ``hint`` (a declared type or file name) only picks Markdown."""
    if not data:
        raise UserError("the file is empty")
    for offset, magic, media_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return media_type
    if data[:4] == b"RIFF" and len(data) >= 12 and data[8:12] in _RIFF:
        return _RIFF[data[8:12]]
    if data[4:8] == b"ftyp" and len(data) >= 12:
        brand = data[8:12]
        if brand in _QUICKTIME_BRANDS:
            return "video/quicktime"
        return "audio/mp4" if brand in _AUDIO_MP4_BRANDS else "video/mp4"
    if _is_mp3_frame(data):
        return "audio/mpeg"
    if _looks_like_text(data):
        hinted = (hint or "").lower()
        if any(hinted.endswith(h) or hinted.startswith(h) for h in _MARKDOWN_HINTS):
            return "text/markdown"
        return "text/plain"
    raise UserError("unsupported file: not a known image, audio, video or text format")


def medium_for(media_type: str) -> Medium:
    try:
        return MEDIUM_BY_TYPE[media_type]
    except KeyError:
        raise UserError(f"unsupported media type {media_type!r}") from None
