"""WebP: an XMP chunk with the VP8X flag; simple files turned into the extended form with the
canvas from the bitstream; image chunks untouched; the RIFF size right."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image
from test_gb45438_support import (
    exiftool_warnings,
    exiftool_xmp,
    image,
    label,
    needs_exiftool,
    pixels,
)

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.gb45438 import GB45438Inspector, KeyStore
from hallmark.mark.gb45438.webp import FLAG_ALPHA, FLAG_XMP, chunks

WEBP = "image/webp"


def inspect(data: bytes, keys: KeyStore) -> list[dict[str, object]]:
    return [f.detail for f in GB45438Inspector(keys).inspect(Content("image", WEBP, data))]


def fourccs(data: bytes) -> list[bytes]:
    return [c.fourcc for c in chunks(data)]


def vp8x_canvas(data: bytes) -> tuple[int, int, int]:
    payload = chunks(data)[0].data
    width = int.from_bytes(payload[4:7], "little") + 1
    height = int.from_bytes(payload[7:10], "little") + 1
    return payload[0], width, height


@pytest.mark.parametrize(
    ("mode", "save", "image_chunk", "alpha"),
    [
        ("RGB", {"quality": 80}, b"VP8 ", 0),
        ("RGBA", {"lossless": True}, b"VP8L", FLAG_ALPHA),
        ("RGB", {"lossless": True}, b"VP8L", 0),
    ],
)
def test_simple_files_become_extended_with_pixels_untouched(
    mode: str, save: dict[str, object], image_chunk: bytes, alpha: int, keys: KeyStore
) -> None:
    original = image("webp", mode=mode, **save)
    assert fourccs(original) == [image_chunk]
    labelled, _ = label(original, WEBP, keys)
    assert fourccs(labelled) == [b"VP8X", image_chunk, b"XMP "]
    flags, width, height = vp8x_canvas(labelled)
    assert (flags, width, height) == (FLAG_XMP | alpha, 64, 48)
    assert chunks(labelled)[1] == chunks(original)[0]
    assert struct.unpack_from("<I", labelled, 4)[0] == len(labelled) - 8
    assert pixels(labelled) == pixels(original)
    assert inspect(labelled, keys)[0]["integrity"] == "valid"
    with Image.open(io.BytesIO(labelled)) as picture:
        assert "TC260:AIGC" in picture.info["xmp"].decode()


def test_extended_files_keep_their_flags_and_exif(keys: KeyStore) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    original = image("webp", exif=exif.tobytes())
    assert fourccs(original)[0] == b"VP8X"
    labelled, _ = label(original, WEBP, keys)
    assert fourccs(labelled) == [b"VP8X", b"VP8 ", b"EXIF", b"XMP "]
    assert vp8x_canvas(labelled)[0] == vp8x_canvas(original)[0] | FLAG_XMP
    twice, fields = label(labelled, WEBP, keys)
    assert fourccs(twice) == fourccs(labelled)
    assert inspect(twice, keys)[0]["ProduceID"] == fields.ProduceID
    with Image.open(io.BytesIO(twice)) as picture:
        assert picture.getexif()[0x010F] == "Camera Maker"


@needs_exiftool
def test_exiftool_reads_the_xmp(tmp_path: Path, keys: KeyStore) -> None:
    labelled, fields = label(image("webp"), WEBP, keys)
    path = tmp_path / "labelled.webp"
    path.write_bytes(labelled)
    assert fields.to_json().replace('"', "&quot;") in exiftool_xmp(path)
    assert "Warning" not in exiftool_warnings(path)


def test_one_changed_image_byte_makes_the_label_invalid(keys: KeyStore) -> None:
    labelled, _ = label(image("webp"), WEBP, keys)
    at = labelled.index(b"VP8 ") + 40
    changed = labelled[:at] + bytes([labelled[at] ^ 0x04]) + labelled[at + 1 :]
    assert inspect(changed, keys)[0]["integrity"] == "invalid"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d[:-10], "truncated WebP"),
        (lambda d: d[:16] + b"\xff\xff\xff\x7f" + d[20:], "past the end"),
        (lambda d: d[:8] + b"WAVE" + d[12:], "not a WebP"),
        (lambda d: d[:20] + b"\x00" * 10 + d[30:], "unreadable VP8 header"),
        (lambda d: d[:4] + struct.pack("<I", 4) + d[8:12], "no image data"),
    ],
)
def test_broken_files_are_user_errors(mutate: object, message: str, keys: KeyStore) -> None:
    broken = mutate(image("webp"))  # type: ignore[operator]
    with pytest.raises(UserError, match=message):
        label(broken, WEBP, keys)
