"""The container formats that carry the label, by media type: one module each, same three
functions (``read``, ``write``, ``content_digest``). ``ContainerFormat.open`` gives a file to
use several of them on; a format that can parse the file once for all of them (JPEG) says so
with ``parse``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hallmark.errors import UserError
from hallmark.mark.gb45438 import jpeg, mp3, mp4, pdf, png, text, wav, webp
from hallmark.mark.gb45438.fields import AIGCFields, Reading


class Container(Protocol):
    """One file of a format: its labels, its content digest, and the file with a new label."""

    def read(self) -> list[Reading]: ...

    def content_digest(self) -> str: ...

    def write(self, fields: AIGCFields) -> bytes: ...


@dataclass(slots=True, frozen=True)
class ContainerFormat:
    name: str
    magic: Callable[[bytes], bool]
    read: Callable[[bytes], list[Reading]]
    write: Callable[[bytes, AIGCFields], bytes]
    content_digest: Callable[[bytes], str]
    parse: Callable[[bytes], Container] | None = None

    def open(self, data: bytes) -> Container:
        """The file, parsed once where the format can (``parse``), else on each call."""
        return self.parse(data) if self.parse is not None else _Unparsed(self, data)


@dataclass(slots=True, frozen=True)
class _Unparsed:
    format: ContainerFormat
    data: bytes

    def read(self) -> list[Reading]:
        return self.format.read(self.data)

    def content_digest(self) -> str:
        return self.format.content_digest(self.data)

    def write(self, fields: AIGCFields) -> bytes:
        return self.format.write(self.data, fields)


_PNG = ContainerFormat(
    "PNG", lambda d: d.startswith(png.SIGNATURE), png.read, png.write, png.content_digest
)
_JPEG = ContainerFormat(
    "JPEG",
    lambda d: d.startswith(jpeg.SOI),
    jpeg.read,
    jpeg.write,
    jpeg.content_digest,
    jpeg.JpegFile,
)
_WEBP = ContainerFormat(
    "WebP",
    lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP",
    webp.read,
    webp.write,
    webp.content_digest,
)
_MP4 = ContainerFormat(
    "MP4/MOV", lambda d: d[4:8] in mp4.FIRST_BOXES, mp4.read, mp4.write, mp4.content_digest
)
_MP3 = ContainerFormat(
    "MP3",
    lambda d: d.startswith(mp3.ID3) or (len(d) > 1 and d[0] == 0xFF and d[1] & 0xE0 == 0xE0),
    mp3.read,
    mp3.write,
    mp3.content_digest,
)
_WAV = ContainerFormat(
    "WAV",
    lambda d: d[:4] in (b"RIFF", b"RF64") and d[8:12] == b"WAVE",
    wav.read,
    wav.write,
    wav.content_digest,
)
_PDF = ContainerFormat("PDF", pdf.is_pdf, pdf.read, pdf.write, pdf.content_digest)
_TEXT = ContainerFormat("text", lambda d: True, text.read, text.write, text.content_digest)
_BINARY = (_PNG, _JPEG, _WEBP, _MP4, _MP3, _WAV, _PDF)

FORMATS: dict[str, ContainerFormat] = {
    "image/png": _PNG,
    "image/jpeg": _JPEG,
    "image/jpg": _JPEG,
    "image/webp": _WEBP,
    "text/markdown": _TEXT,
    "text/x-markdown": _TEXT,
    "text/plain": _TEXT,
    "application/pdf": _PDF,
    "audio/mpeg": _MP3,
    "audio/mp3": _MP3,
    "audio/wav": _WAV,
    "audio/x-wav": _WAV,
    "audio/wave": _WAV,
    "audio/vnd.wave": _WAV,
    "audio/mp4": _MP4,
    "video/mp4": _MP4,
    "video/quicktime": _MP4,
}
SUPPORTED = (
    "text/markdown",
    "text/plain",
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "audio/mpeg",
    "audio/wav",
    "audio/mp4",
    "video/mp4",
    "video/quicktime",
)


def base_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def format_for(media_type: str, data: bytes) -> ContainerFormat | None:
    """The format of ``media_type`` (None when unsupported), after checking the bytes are of
    that format: a PNG sent as image/jpeg is a UserError naming what it really is."""
    found = FORMATS.get(base_type(media_type))
    if found is None:
        return None
    if not data and found is not _TEXT:
        raise UserError(f"the {found.name} file is empty")
    if not found.magic(data):
        actual = next((f.name for f in _BINARY if f.magic(data)), None)
        what = f"not a {found.name} file"
        if actual:
            what = f"a {actual} file, {what}"
        raise UserError(f"the file was sent as {base_type(media_type)} but is {what}")
    return found
