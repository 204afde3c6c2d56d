"""The watermark's specification, end to end on files: the exact payload comes back after each
attack the benchmark applies (decoded at the attacked size), it stays out of sight (PSNR), and
unwatermarked images, or images watermarked under another key, give no detection."""

from __future__ import annotations

import functools
import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_watermark_support import decoded, encoded, new_key, new_payload, psnr, scene_bytes

from hallmark.mark.watermark import Marked, Payload, WatermarkKey, detect, embed
from hallmark.mark.watermark.attacks import ATTACKS, synthetic_scene

# Two square scenes and a non-square one (its short side is the height).
SCENES = {"scene-a": (11, 512, 512), "scene-b": (12, 512, 512), "wide": (13, 704, 480)}


@functools.cache
def shared_key() -> WatermarkKey:
    return new_key(Path(tempfile.mkdtemp(prefix="hallmark-watermark-")))


@functools.cache
def marked(scene: str) -> tuple[Marked, Payload]:
    seed, width, height = SCENES[scene]
    payload = new_payload(shared_key())
    return embed(scene_bytes(seed, width, height), "image/png", payload, shared_key()), payload


def png(picture: Image.Image) -> bytes:
    return encoded(picture.convert("RGB"), "png")


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("scene", list(SCENES))
def test_the_exact_payload_survives(scene: str, attack: str) -> None:
    result, payload = marked(scene)
    attacked = ATTACKS[attack](decoded(result.data))
    found = detect(png(attacked), "image/png", shared_key())
    assert found is not None, f"no watermark found after {attack}"
    assert found.payload == payload
    assert found.bit_accuracy_estimate >= 0.9
    assert found.confidence >= 0.9


def test_a_one_sided_crop_and_a_crop_after_downscaling_are_survived() -> None:
    result, payload = marked("wide")
    picture = decoded(result.data)
    strip = picture.crop((round(picture.width * 0.1), 0, picture.width, picture.height))
    smaller = ATTACKS["crop-10%-corner"](ATTACKS["resize-0.5x"](picture))
    for attacked in (strip, smaller):
        found = detect(png(attacked), "image/png", shared_key())
        assert found is not None and found.payload == payload


def test_the_mark_is_out_of_sight() -> None:
    for scene, (seed, width, height) in SCENES.items():
        result, _ = marked(scene)
        measured = psnr(decoded(scene_bytes(seed, width, height)), decoded(result.data))
        assert measured >= 38.0, scene
        assert abs(measured - result.psnr) < 0.05


def test_unwatermarked_images_give_no_detection() -> None:
    rng = np.random.default_rng(2024)
    samples = []
    for index in range(16):
        width, height = (int(n) for n in rng.integers(160, 900, 2))
        samples.append(synthetic_scene(100 + index, width, height))
    noise = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    samples += [Image.fromarray(noise), Image.new("RGB", (300, 300), (90, 120, 200))]
    samples += [Image.new("L", (256, 512), 128), synthetic_scene(200, 128, 128)]
    for picture in samples:
        assert detect(png(picture), "image/png", shared_key()) is None


def test_another_key_reads_nothing(tmp_path: Path) -> None:
    result, _ = marked("scene-a")
    assert detect(result.data, "image/png", new_key(tmp_path)) is None


def test_different_content_ids_give_different_payloads() -> None:
    key = shared_key()
    payloads = {new_payload(key).hex for _ in range(50)}
    assert len(payloads) == 50
    first, _ = marked("scene-a")
    second = embed(scene_bytes(11), "image/png", new_payload(key), key)
    assert first.payload != second.payload
    assert first.data != second.data
    found = detect(second.data, "image/png", key)
    assert found is not None and found.payload == second.payload


def test_jpeg_at_its_own_quality_is_still_read(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    payload = new_payload(key)
    result = embed(scene_bytes(14, fmt="jpeg"), "image/jpeg", payload, key)
    recompressed = io.BytesIO()
    decoded(result.data).save(recompressed, format="JPEG", quality=50)
    found = detect(recompressed.getvalue(), "image/jpeg", key)
    assert found is not None and found.payload == payload
