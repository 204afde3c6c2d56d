"""Media types come from the bytes, whatever a file is called."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hallmark.errors import UserError
from hallmark.media_types import medium_for, sniff


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "expected"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_images_are_known_by_their_bytes_not_their_name(fmt: str, expected: str) -> None:
    assert sniff(image_bytes(fmt), "photo.txt") == expected


def test_text_and_markdown() -> None:
    assert sniff("你好, world".encode()) == "text/plain"
    assert sniff(b"# Title\n", "notes.md") == "text/markdown"
    assert sniff(b"# Title\n", "text/markdown; charset=utf-8") == "text/markdown"


def test_containers() -> None:
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00") == "video/mp4"
    assert sniff(b"\x00\x00\x00\x14ftypqt  ") == "video/quicktime"
    assert sniff(b"ID3\x04\x00\x00") == "audio/mpeg"
    assert sniff(b"%PDF-1.7\n") == "application/pdf"


def test_empty_and_unknown_bytes_are_user_errors() -> None:
    with pytest.raises(UserError, match="empty"):
        sniff(b"")
    with pytest.raises(UserError, match="unsupported file"):
        sniff(b"\x00\x01\x02\x03binary")
    with pytest.raises(UserError, match="unsupported media type"):
        medium_for("application/zip")
