"""The explicit image label: drawn bottom-right, text at least 5% of the shorter side, legible on
any background (proved by OCR reading it back), in the same format and mode with the metadata
kept; bad input is a UserError. Other test modules import the sample helpers from here.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, PngImagePlugin
from test_c2pa_support import label_context, provenance

from hallmark.content import Content
from hallmark.errors import HallmarkError, UserError
from hallmark.mark import explicit_image
from hallmark.mark.base import LabelContext, inspect_all, plan_labels
from hallmark.mark.explicit_image import (
    MAX_PIXELS,
    ExplicitImageLabel,
    layout_label,
    webp_is_lossless,
)
from hallmark.mark.gb45438 import jpeg
from hallmark.mark.gb45438.png import SIGNATURE, Chunk
from hallmark.mark.inspect_image_text import shared_reader
from hallmark.policy import resolve_policy
from hallmark.registry import load_components
from hallmark.settings import Settings

MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
WORDING = {"zh": "AI生成", "en": "AI-generated"}
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="sample"/></rdf:RDF></x:xmpmeta>'
)


# --- samples ---------------------------------------------------------------------------------


def photo(size: tuple[int, int] = (400, 300), mode: str = "RGB") -> Image.Image:
    """Photo-like detail: colour gradients under noise, so nothing in it is flat."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.linear_gradient("L").rotate(90).resize(size)
    base = Image.merge("RGB", (red, green, blue))
    noise = Image.effect_noise(size, 80).convert("RGB")
    return Image.blend(base, noise, 0.45).convert(mode)


def solid(color: Any, size: tuple[int, int] = (400, 300), mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, color)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def context(language: str = "zh", wording: str | None = None) -> LabelContext:
    policy = resolve_policy("cn")
    return LabelContext(policy, language, wording or WORDING[language], provenance())


def mark(data: bytes, fmt: str = "PNG", language: str = "zh", wording: str | None = None) -> bytes:
    content = Content("image", MEDIA_TYPES[fmt], data)
    return ExplicitImageLabel().mark(content, context(language, wording)).data


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def ocr_lines(image: Image.Image) -> list[str]:
    return [line.text for line in shared_reader().read(image.convert("RGB"))]


def reads(image: Image.Image, wording: str) -> bool:
    squeezed = wording.replace(" ", "")
    return any(squeezed in text.replace(" ", "") for text in ocr_lines(image))


def text_box(before: Image.Image, after: Image.Image) -> tuple[int, int, int, int]:
    """The bounding box of the drawn text: on a black image the box stays near black and only
    the white text changes much."""
    diff = ImageChops.difference(before.convert("L"), after.convert("L"))
    box = diff.point(lambda v: 255 if v > 128 else 0).getbbox()
    assert box is not None
    return box


# --- size and position -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [(320, 240), (1024, 768), (300, 900), (2000, 500), (96, 64)])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_text_is_at_least_5_percent_of_the_shorter_side_in_the_corner(
    size: tuple[int, int], language: str
) -> None:
    black = solid((0, 0, 0), size)
    after = decoded(mark(encode(black, "PNG"), language=language))
    _, y0, x1, y1 = text_box(black, after)
    short = min(size)
    assert y1 - y0 >= 0.05 * short
    assert x1 > 0.85 * size[0] and y1 > 0.85 * size[1]  # bottom-right
    layout = layout_label(WORDING[language], *size)
    assert layout.cap_height >= 0.05 * short  # capitals alone, not only the whole line


def test_a_long_wording_on_a_small_image_shrinks_to_the_legal_minimum_and_no_further() -> None:
    layout = layout_label("Suspected AI-generated", 160, 120)
    assert layout.cap_height >= 0.05 * 120
    assert layout.box[0] >= 0
    tiny = layout_label("AI生成", 20, 20)  # legal, if not much use
    assert tiny.cap_height >= 1 and tiny.box[0] >= 0
    with pytest.raises(UserError, match="too small"):
        mark(encode(solid((0, 0, 0), (100, 100)), "PNG"), wording="AI-generated " * 4)


# --- legibility: OCR reads the wording back ---------------------------------------------------


@pytest.mark.parametrize("background", ["white", "black", "noisy"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_label_is_legible_on_any_background(background: str, language: str) -> None:
    samples = {
        "white": solid((255, 255, 255), (320, 240)),
        "black": solid((0, 0, 0), (320, 240)),
        "noisy": photo((320, 240)),
    }
    image = samples[background]
    assert not reads(image, WORDING[language])
    labelled = decoded(mark(encode(image, "PNG"), language=language))
    assert reads(labelled, WORDING[language]), ocr_lines(labelled)


def test_the_label_is_legible_on_a_lossy_jpeg_photo() -> None:
    labelled = decoded(mark(encode(photo((640, 480)), "JPEG", quality=70), "JPEG"))
    assert reads(labelled, "AI生成")


# --- format, mode and metadata ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode", "options"),
    [
        ("PNG", "RGB", {}),
        ("PNG", "RGBA", {}),
        ("PNG", "L", {}),
        ("PNG", "LA", {}),
        ("JPEG", "RGB", {"quality": 80}),
        ("JPEG", "L", {"quality": 80}),
        ("JPEG", "CMYK", {"quality": 80}),
        ("WEBP", "RGB", {"quality": 80}),
        ("WEBP", "RGBA", {"lossless": True}),
    ],
)
def test_format_and_mode_are_kept(fmt: str, mode: str, options: dict[str, Any]) -> None:
    image = photo((400, 300), mode)
    if "A" in mode:  # a transparent half: alpha must survive outside the label
        alpha = Image.new("L", image.size, 255)
        alpha.paste(0, (0, 0, 200, 300))
        image.putalpha(alpha)
    data = encode(image, fmt, **options)
    after = decoded(mark(data, fmt))
    assert (after.format, after.mode, after.size) == (fmt, mode, image.size)
    if "A" in mode:
        assert after.getchannel("A").crop((0, 0, 200, 300)).getextrema() == (0, 0)
    if fmt == "PNG":  # lossless: everything outside the label is the same pixel for pixel
        changed = ImageChops.difference(decoded(data).convert("RGBA"), after.convert("RGBA"))
        bbox = changed.getbbox(alpha_only=False)
        assert bbox is not None and bbox[0] > 400 * 0.5 and bbox[1] > 300 * 0.8


def test_palette_images_become_rgb_and_bilevel_grey() -> None:
    palette = photo().convert("P", palette=Image.Palette.ADAPTIVE)
    assert decoded(mark(encode(palette, "PNG"))).mode == "RGB"
    assert decoded(mark(encode(photo().convert("1"), "PNG"))).mode == "L"


def test_png_metadata_is_kept() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone")
    info.add_text("Comment", "zipped text " * 20, zip=True)
    info.add_itxt("Title", "标题", lang="zh", tkey="Title")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"gAMA", struct.pack(">I", 45455))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    data = encode(photo(), "PNG", pnginfo=info, icc_profile=icc, exif=exif)
    after = decoded(mark(data))
    assert after.info["icc_profile"] == icc
    assert after.getexif()[0x010F] == "Camera Maker"
    assert after.text["Author"] == "someone"
    assert after.text["Comment"] == "zipped text " * 20
    assert after.text["Title"] == "标题"
    assert after.info["xmp"] == XMP
    assert after.info["gamma"] == pytest.approx(0.45455)


def test_jpeg_metadata_and_quality_are_kept() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    source = photo((640, 480))
    data = encode(source, "JPEG", quality=72, icc_profile=icc, exif=exif, xmp=XMP, comment=b"hi")
    iptc = _segment(0xED, b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00\x00\x00\x00\x00")
    jumbf = _segment(0xEB, b"JP\x00\x00\x00\x00\x00\x01old manifest")
    data = data[:2] + iptc + jumbf + data[2:]
    labelled = mark(data, "JPEG")
    segments = [(s.marker, s.raw) for s in jpeg.layout(labelled).header]
    assert (0xED, iptc) in segments  # IPTC kept as it was
    assert 0xEB not in [marker for marker, _ in segments]  # the old C2PA store dropped
    after = decoded(labelled)
    assert after.info["icc_profile"] == icc
    assert after.getexif()[0x010F] == "Camera Maker"
    assert after.info["xmp"] == XMP
    assert after.info["comment"] == b"hi"
    assert after.quantization == decoded(data).quantization  # the source's own tables
    assert len(mark(data, "JPEG")) < 1.2 * len(data)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def test_webp_metadata_and_losslessness_are_kept() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    for lossless in (True, False):
        data = encode(photo(), "WEBP", lossless=lossless, icc_profile=icc, exif=exif, xmp=XMP)
        labelled = mark(data, "WEBP")
        after = decoded(labelled)
        assert webp_is_lossless(labelled) is lossless
        assert after.info["icc_profile"] == icc
        assert after.getexif()[0x010F] == "Camera Maker"
        assert after.info["xmp"] == XMP


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_label_is_bottom_right_as_the_image_is_shown(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(solid((0, 0, 0), (400, 240)), "JPEG", quality=95, exif=exif)
    labelled = mark(data, "JPEG")
    stored = decoded(labelled)
    assert stored.size == (400, 240) and stored.getexif()[0x0112] == orientation
    before, after = ImageOps.exif_transpose(decoded(data)), ImageOps.exif_transpose(stored)
    _, _, x1, y1 = text_box(before, after)
    assert x1 > 0.85 * after.width and y1 > 0.85 * after.height
    if orientation == 6:
        assert reads(after, "AI生成")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_an_outside_gb45438_label_stays_and_a_c2pa_manifest_goes(fmt: str, tmp_path: Path) -> None:
    components = load_components(Settings(home=tmp_path / "home"))
    content = Content("image", MEDIA_TYPES[fmt], encode(photo(), fmt))
    producer = label_context()
    for scheme in ("gb45438", "c2pa"):
        content = components.markers.get(scheme).mark(content, producer)
    found = {f.scheme: f for f in inspect_all(components.inspectors, content)}
    assert {"gb45438", "c2pa"} <= set(found)

    labelled = ExplicitImageLabel().mark(content, context())
    after = {f.scheme: f for f in inspect_all(components.inspectors, labelled)}
    assert "c2pa" not in after  # its hash binding could not match the new pixels
    label = after["gb45438"].detail
    assert label["ProduceID"] == found["gb45438"].detail["ProduceID"]
    assert label["integrity"] == "invalid"  # the producer's code covered the old pixels
    assert any("AI生成" in f.detail.get("text", "") for f in after.values() if f.kind == "explicit")


def test_a_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(explicit_image, "FONT_PACKAGE", "no_such_font_package")
    explicit_image._font_data.cache_clear()
    try:
        with pytest.raises(HallmarkError, match="no_such_font_package"):
            explicit_image.label_font.__wrapped__(20)
    finally:
        explicit_image._font_data.cache_clear()


def test_the_marker_is_registered_and_planned_first(tmp_path: Path) -> None:
    components = load_components(Settings(home=tmp_path / "home"))
    assert "explicit.image" in components.markers.names()
    plan = plan_labels(
        resolve_policy("cn"), "image", components.markers, waived=frozenset({"watermark"})
    )
    assert isinstance(plan[0], ExplicitImageLabel)


# --- bad input -------------------------------------------------------------------------------


def _png_claiming(width: int, height: int) -> bytes:
    header = Chunk.make(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    pixels = Chunk.make(b"IDAT", zlib.compress(b"\x00" * 64))
    return SIGNATURE + header.raw + pixels.raw + Chunk.make(b"IEND", b"").raw


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("PNG", b""),
        ("JPEG", b""),
        ("PNG", SIGNATURE + b"\x00" * 40),
        ("PNG", encode(photo(), "PNG")[:3000]),
        ("JPEG", encode(photo(), "JPEG")[:2000]),
        ("WEBP", encode(photo(), "WEBP")[:500]),
        ("PNG", _png_claiming(100_000, 100_000)),
        ("PNG", _png_claiming(9_000, 9_000)),
        ("PNG", _png_claiming(0, 10)),
    ],
    ids=[
        "empty-png",
        "empty-jpeg",
        "garbage",
        "cut-png",
        "cut-jpeg",
        "cut-webp",
        "bomb",
        "huge",
        "zero",
    ],
)
def test_bad_images_are_user_errors(fmt: str, data: bytes) -> None:
    with pytest.raises(UserError):
        mark(data, fmt)


def test_a_bomb_is_refused_before_its_pixels_are_decoded() -> None:
    assert MAX_PIXELS < 9_000 * 9_000
    with pytest.raises(UserError, match="megapixels"):
        mark(_png_claiming(9_000, 9_000))
    with pytest.raises(UserError, match="corrupt or unsupported image"):
        mark(_png_claiming(100_000, 100_000))


def test_unsupported_types_are_named() -> None:
    gif = Content("image", "image/gif", encode(photo(), "GIF"))
    with pytest.raises(UserError, match="image/gif"):
        ExplicitImageLabel().mark(gif, context())
    png_as_jpeg = Content("image", "image/jpeg", encode(photo(), "PNG"))
    with pytest.raises(UserError, match="PNG"):
        ExplicitImageLabel().mark(png_as_jpeg, context())
