"""The watermark marker and inspector on files: formats, modes and metadata kept, refusals as
UserError, and both registered through the plugin hook."""

from __future__ import annotations

import io
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin
from test_watermark_support import (
    FORMATS,
    decoded,
    encoded,
    label_context,
    new_key,
    new_payload,
    psnr,
    scene_bytes,
)

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.base import inspect_all
from hallmark.mark.watermark import (
    KeyStore,
    WatermarkInspector,
    detect,
    embed,
    raster,
    watermark_id,
)
from hallmark.mark.watermark.attacks import synthetic_scene
from hallmark.mark.watermark.raster import ImageTooLarge
from hallmark.registry import load_components
from hallmark.settings import Settings


def scene(mode: str = "RGB", size: tuple[int, int] = (320, 256)) -> Image.Image:
    picture = synthetic_scene(5, *size)
    if mode in ("RGBA", "LA"):
        alpha = Image.linear_gradient("L").resize(size)
        picture = picture.convert(mode[:-1])
        picture.putalpha(alpha)
        return picture
    return picture.convert(mode)


@pytest.mark.parametrize(
    ("fmt", "mode", "save"),
    [
        ("png", "RGB", {}),
        ("png", "RGBA", {}),
        ("png", "L", {}),
        ("png", "LA", {}),
        ("jpeg", "RGB", {}),
        ("jpeg", "L", {}),
        ("webp", "RGB", {}),
        ("webp", "RGBA", {}),
        ("webp", "RGB", {"lossless": True}),
    ],
)
def test_format_mode_size_and_alpha_are_kept(
    fmt: str, mode: str, save: dict[str, bool], tmp_path: Path
) -> None:
    key = new_key(tmp_path)
    source = scene(mode)
    data = encoded(source, fmt, **save)
    payload = new_payload(key)
    result = embed(data, FORMATS[fmt][1], payload, key)
    out = decoded(result.data)
    assert (out.format, out.mode, out.size) == (FORMATS[fmt][0], mode, source.size)
    if "A" in mode:
        assert out.getchannel("A").tobytes() == decoded(data).getchannel("A").tobytes()
    assert result.psnr >= 38.0
    found = detect(result.data, FORMATS[fmt][1], key)
    assert found is not None and found.payload == payload


def test_a_palette_png_becomes_rgb(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    data = encoded(scene().quantize(64), "png")
    result = embed(data, "image/png", new_payload(key), key)
    assert decoded(result.data).mode == "RGB"
    assert detect(result.data, "image/png", key) is not None


def test_jpeg_keeps_its_tables_sampling_and_metadata(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    exif = Image.Exif()
    exif[0x010E] = "a description"
    icc = b"\x00" * 128  # opaque to Pillow: carried, not parsed
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = encoded(
        scene(),
        "jpeg",
        quality=70,
        subsampling=2,
        exif=exif,
        icc_profile=icc,
        xmp=xmp,
        comment=b"made here",
    )
    result = embed(data, "image/jpeg", new_payload(key), key)
    before, after = decoded(data), decoded(result.data)
    assert after.quantization == before.quantization  # type: ignore[attr-defined]
    assert after.info["icc_profile"] == icc and after.info["comment"] == b"made here"
    assert after.getexif()[0x010E] == "a description"
    assert after.info["xmp"] == before.info["xmp"]
    assert JpegImagePlugin.get_sampling(after) == JpegImagePlugin.get_sampling(before) == 2


def test_png_keeps_its_text_chunks(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", '{"Label": "1"}')
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>标签</x:xmpmeta>")
    data = encoded(scene(), "png", pnginfo=info)
    result = embed(data, "image/png", new_payload(key), key)
    text = decoded(result.data).text  # type: ignore[attr-defined]
    assert text["AIGC"] == '{"Label": "1"}'
    assert text["XML:com.adobe.xmp"] == "<x:xmpmeta>标签</x:xmpmeta>"


def test_the_mark_is_upright_in_a_rotated_jpeg(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways; viewers rotate it 90 degrees clockwise
    data = encoded(synthetic_scene(6, 512, 384), "jpeg", exif=exif)
    payload = new_payload(key)
    result = embed(data, "image/jpeg", payload, key)
    upright = ImageOps.exif_transpose(decoded(result.data))
    found = detect(encoded(upright, "png"), "image/png", key)  # no orientation tag any more
    assert found is not None and found.payload == payload


def test_too_small_images_are_refused_with_the_minimum(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    data = encoded(scene(size=(400, 100)), "png")
    with pytest.raises(UserError, match="at least 128 px"):
        embed(data, "image/png", new_payload(key), key)


def png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims ``width`` x ``height``: a decompression bomb's shape."""
    data = bytearray(encoded(Image.new("L", (1, 1)), "png"))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


@pytest.mark.parametrize("size", [(7_000, 7_000), (60_000, 60_000)])
def test_decompression_bombs_are_refused_before_decoding(
    size: tuple[int, int], tmp_path: Path
) -> None:
    key = new_key(tmp_path)
    with pytest.raises(ImageTooLarge) as refused:
        embed(png_claiming(*size), "image/png", new_payload(key), key)
    assert isinstance(refused.value, UserError) and refused.value.status == 413
    with pytest.raises(ImageTooLarge):
        detect(png_claiming(*size), "image/png", key)


@pytest.mark.parametrize(
    ("data", "media_type", "message"),
    [
        (b"\x89PNG\r\n\x1a\nnot really", "image/png", "not a readable PNG"),
        (scene_bytes(3)[:5000], "image/png", "not a readable PNG"),
        (scene_bytes(3, fmt="jpeg"), "image/png", "not a readable PNG"),
        (scene_bytes(3), "image/gif", "supported: image/png"),
        (encoded(scene().convert("CMYK"), "jpeg"), "image/jpeg", "CMYK"),
    ],
)
def test_bad_input_is_a_user_error(
    data: bytes, media_type: str, message: str, tmp_path: Path
) -> None:
    key = new_key(tmp_path)
    with pytest.raises(UserError, match=message):
        embed(data, media_type, new_payload(key), key)
    if media_type != "image/gif" and "CMYK" not in message:
        assert detect(data, media_type, key) is None  # the inspector just finds nothing


def test_animated_images_are_refused(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    frames = [scene(), scene().rotate(180)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(UserError, match="animated"):
        embed(buffer.getvalue(), "image/webp", new_payload(key), key)


def test_marker_and_inspector_through_the_plugin_hook(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    components = load_components(settings)
    marker, inspector = components.markers.get("watermark"), components.inspectors.get("watermark")
    assert marker.scheme == "watermark" and marker.media == frozenset({"image"})

    content = Content("image", "image/png", scene_bytes(8))
    assert inspect_all([inspector], content) == []  # no key yet, and reading creates none
    assert not settings.keys_dir.exists()

    context = label_context()
    labelled = marker.mark(content, context)
    record = labelled.metadata["watermark"]
    key = KeyStore(settings.keys_dir).for_reading()
    assert key is not None
    assert record["id"] == watermark_id(context.provenance.content_id, key)
    assert record["payload"].startswith(record["id"]) and record["psnr"] >= 38.0
    key_file = next(settings.keys_dir.glob("watermark*"))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    (finding,) = inspect_all(components.inspectors, labelled)
    assert (finding.scheme, finding.kind) == ("watermark", "trace")
    assert finding.detail["found"] is True
    assert finding.detail["payload"] == record["payload"]
    assert 0.5 <= finding.detail["confidence"] <= 1.0
    assert finding.detail["bit_accuracy_estimate"] >= 0.95
    assert "suspected" in finding.detail["note"]
    assert inspect_all(components.inspectors, content) == []  # the unmarked original


def test_a_propagator_keeps_an_existing_mark(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    marker = load_components(settings).markers.get("watermark")
    produced = marker.mark(Content("image", "image/png", scene_bytes(9)), label_context())
    received = Content("image", "image/png", produced.data)
    relabelled = marker.mark(received, label_context(role="propagator"))
    assert relabelled.data == produced.data
    assert relabelled.metadata["watermark"]["id"] == produced.metadata["watermark"]["id"]
    assert relabelled.metadata["watermark"]["existing"] is True

    fresh = marker.mark(
        Content("image", "image/png", scene_bytes(10)), label_context(role="propagator")
    )
    assert "existing" not in fresh.metadata["watermark"]


def test_inspector_ignores_media_it_does_not_read(tmp_path: Path) -> None:
    inspector = WatermarkInspector(KeyStore(tmp_path / "keys"))
    new_key(tmp_path)
    assert inspector.inspect(Content("image", "image/gif", b"GIF89a")) == []
    pixels = np.zeros((64, 64), dtype=np.uint8)
    assert inspector.inspect(Content("image", "image/png", encoded(Image.fromarray(pixels)))) == []


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_the_recorded_psnr_is_that_of_the_pixels_written(mode: str, tmp_path: Path) -> None:
    pixels = np.array(scene(mode))
    pixels[:48], pixels[-48:] = 255, 0  # where rounding and clipping change the mark
    source = Image.fromarray(pixels, mode)
    key = new_key(tmp_path)
    result = embed(encoded(source, "png"), "image/png", new_payload(key), key)
    assert abs(psnr(source, decoded(result.data)) - result.psnr) < 0.01


def test_a_colour_jpeg_is_marked_in_its_luminance_alone(tmp_path: Path) -> None:
    picture = raster.decode(encoded(scene(), "jpeg"), "image/jpeg")
    before = np.array(picture.image.convert("YCbCr"))
    delta = np.random.default_rng(3).normal(0.0, 6.0, before.shape[:2]).astype(np.float32)
    expected = np.clip(before[..., 0] + np.rint(delta), 0, 255)
    marked, mse = picture.add_luma(delta.copy())
    after = np.array(marked.convert("YCbCr"))
    assert np.array_equal(after[..., 1:], before[..., 1:])
    assert np.array_equal(after[..., 0], expected)
    assert mse == pytest.approx(np.mean((expected - before[..., 0]) ** 2), rel=1e-4)
