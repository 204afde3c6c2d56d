"""Sample images and readers for the GB 45438 tests, and proof the samples are what they claim.

Images come from Pillow (64x48, one odd pixel so a change shows); exiftool is the independent
reader. Other test modules import these helpers.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hallmark.mark.base import Provenance
from hallmark.mark.gb45438 import AIGCFields, KeyStore, format_for, produce

PRODUCER = "001191110102MACQD9K64010000"
FOREIGN = "001191310000MA1FL8XQ3000001"
PROVENANCE = Provenance("content-1", "hallmark/echo-1", PRODUCER, "2025-09-01T00:00:00Z")
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")


def image(fmt: str, *, mode: str = "RGB", **save: Any) -> bytes:
    """A small Pillow image in ``fmt`` (png, jpeg, webp)."""
    color = (30, 140, 220, 200)[: len(mode)]
    picture = Image.new(mode, (64, 48), color)
    picture.putpixel((5, 7), (250, 10, 10, 255)[: len(mode)])
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt.upper(), **save)
    return buffer.getvalue()


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return picture.mode, picture.size, picture.tobytes()


def label(data: bytes, media_type: str, keys: KeyStore) -> tuple[bytes, AIGCFields]:
    """``data`` with a producer's label written, and that label."""
    found = format_for(media_type, data)
    assert found is not None
    fields = produce(PROVENANCE, found.content_digest(data), keys.for_writing())
    return found.write(data, fields), fields


def exiftool_json(path: Path) -> dict[str, Any]:
    assert EXIFTOOL is not None
    out = subprocess.run(
        [EXIFTOOL, "-j", "-XMP:all", "-PNG:all", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out)[0]
    return result


def exiftool_xmp(path: Path) -> str:
    assert EXIFTOOL is not None
    out = subprocess.run([EXIFTOOL, "-b", "-XMP", str(path)], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def exiftool_warnings(path: Path) -> str:
    assert EXIFTOOL is not None
    args = [EXIFTOOL, "-validate", "-warning", "-error", "-a", "-s", str(path)]
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_samples_are_real_images(fmt: str) -> None:
    mode, size, _ = pixels(image(fmt))
    assert (mode, size) == ("RGB", (64, 48))
