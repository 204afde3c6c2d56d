"""Samples and helpers for the watermark tests: synthetic natural-looking images saved in each
format, a key in a temporary folder, and a PSNR. Other test modules import these helpers."""

from __future__ import annotations

import functools
import io
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hallmark.mark.base import LabelContext, Provenance
from hallmark.mark.watermark import KeyStore, Payload, WatermarkKey
from hallmark.mark.watermark.attacks import synthetic_scene
from hallmark.policy import resolve_policy

FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}
PRODUCER = "001191110102MACQD9K64010000"


def encoded(picture: Image.Image, fmt: str = "png", **save: Any) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": 92} if fmt in ("jpeg", "webp") and "lossless" not in save else {}
    picture.save(buffer, format=FORMATS[fmt][0], **(options | save))
    return buffer.getvalue()


@functools.cache
def scene_bytes(seed: int, width: int = 512, height: int = 512, fmt: str = "png") -> bytes:
    return encoded(synthetic_scene(seed, width, height), fmt)


def decoded(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def psnr(before: Image.Image, after: Image.Image) -> float:
    a = np.asarray(before.convert("RGB"), dtype=np.float64)
    b = np.asarray(after.convert("RGB"), dtype=np.float64)
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


def new_key(tmp_path: Path) -> WatermarkKey:
    return KeyStore(tmp_path / "keys").for_writing()


def new_payload(key: WatermarkKey) -> Payload:
    return Payload.for_content(uuid.uuid4().hex, key)


def label_context(content_id: str | None = None, **changes: Any) -> LabelContext:
    provenance = Provenance(
        content_id or uuid.uuid4().hex, "hallmark/echo-1", PRODUCER, "2025-09-01T00:00:00Z"
    )
    policy = resolve_policy(["cn"])
    return LabelContext(policy, "zh", policy.label_text("zh"), provenance, **changes)


def test_scenes_are_distinct_natural_looking_images() -> None:
    first, second = (decoded(scene_bytes(seed)) for seed in (1, 2))
    assert first.size == (512, 512) and first.mode == "RGB"
    pixels = np.asarray(first, dtype=np.float64)
    assert 20 < pixels.std() < 100  # neither flat nor noise
    assert psnr(first, second) < 20
