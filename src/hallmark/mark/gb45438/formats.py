"""The container formats that carry the label, by media type: one module each, same three
functions (``read``, ``write``, ``content_digest``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hallmark.errors import UserError
from hallmark.mark.gb45438 import jpeg, png, text, webp
from hallmark.mark.gb45438.fields import AIGCFields, Reading


@dataclass(slots=True, frozen=True)
class ContainerFormat:
    name: str
    magic: Callable[[bytes], bool]
    read: Callable[[bytes], list[Reading]]
    write: Callable[[bytes, AIGCFields], bytes]
    content_digest: Callable[[bytes], str]


_PNG = ContainerFormat(
    "PNG", lambda d: d.startswith(png.SIGNATURE), png.read, png.write, png.content_digest
)
_JPEG = ContainerFormat(
    "JPEG", lambda d: d.startswith(jpeg.SOI), jpeg.read, jpeg.write, jpeg.content_digest
)
_WEBP = ContainerFormat(
    "WebP",
    lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP",
    webp.read,
    webp.write,
    webp.content_digest,
)
_TEXT = ContainerFormat("text", lambda d: True, text.read, text.write, text.content_digest)

FORMATS: dict[str, ContainerFormat] = {
    "image/png": _PNG,
    "image/jpeg": _JPEG,
    "image/jpg": _JPEG,
    "image/webp": _WEBP,
    "text/markdown": _TEXT,
    "text/x-markdown": _TEXT,
    "text/plain": _TEXT,
}
SUPPORTED = ("text/markdown", "text/plain", "image/png", "image/jpeg", "image/webp")


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
        actual = next((f.name for f in (_PNG, _JPEG, _WEBP) if f.magic(data)), None)
        what = f"a {actual} file" if actual else f"not a {found.name} file"
        raise UserError(f"the file was sent as {base_type(media_type)} but is {what}")
    return found
