"""The explicit label for images (PNG, JPEG, WebP): the label wording drawn in the bottom-right
corner (GB 45438-2025: a text label in a suitable position, text height at least 5% of the
shorter side).

Size: the text's cap height (the height of a capital "A", less than a CJK glyph's and less than
the whole line's ink) is 6% of the shorter side and at least 12 px, so rounding never takes it
under 5%. An image too narrow for the line at that size gets smaller text, down to the legal 5%;
one too small even for that is refused.

Legibility on any background: white text on a rounded, 72%-opaque near-black box. On white the
box reads as mid-grey (contrast about 7:1 with the text), on black as black.

Encoding: the pixels are re-encoded (unavoidable), in the same format and mode: alpha is kept;
palette images become RGB(A) (a palette may lack the label's colours), bilevel and 16-bit grey
become 8-bit grey, colour-key transparency becomes an alpha channel. JPEG is written with the
source's own quantization tables and chroma subsampling (so quality matches the source exactly;
quality 90 when the tables are unknown); lossless WebP stays lossless, lossy WebP is written at
quality 90. An EXIF orientation is honoured: the label is drawn where the image is shown, and
the stored pixels and the EXIF stay as they were.

Metadata kept: EXIF, ICC profile, XMP, in PNG every text chunk (``tEXt``/``zTXt``/``iTXt``) and
the colour-space and safe-to-copy chunks, byte for byte; in JPEG the comment and the APP segments
that describe the picture (IPTC, extended XMP, others). So a GB 45438 ``AIGC`` label in an input
survives as it was, but its producer's integrity code (ReservedCode1) no longer matches the
changed pixels: the GB 45438 marker, which runs after this one, adds a propagator's code that
does, and ``verify`` trusts the latest code. A C2PA manifest does not survive (PNG ``caBX``,
JPEG APP11, the WebP ``C2PA`` chunk): its hash binding cannot match re-encoded pixels; the C2PA
marker, which runs last, writes a new one. Dropped too: JPEG MPF (its offsets point into the old
file) and PNG ``tIME`` (the image has changed since). An EXIF thumbnail is kept as it was, so it
shows the image without the label.

Decompression bombs: nothing over ``MAX_PIXELS`` is decoded; every decoder error becomes a
UserError.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

from PIL import Image, ImageDraw, ImageFont, JpegImagePlugin

from hallmark.content import Content, Medium
from hallmark.errors import HallmarkError, UserError
from hallmark.mark.base import EXPLICIT, LabelContext, Marker
from hallmark.mark.gb45438 import jpeg, png
from hallmark.mark.gb45438.formats import base_type, format_for
from hallmark.registry import Components

# Below Pillow's own DecompressionBombWarning threshold (about 89.5 million pixels), so a
# picture we accept never warns and one we refuse is refused before its pixels are decoded.
MAX_PIXELS = 80_000_000
TEXT_SHARE = 0.06  # of the shorter side; GB 45438-2025 asks for at least 5%
LEGAL_SHARE = 0.05
MIN_TEXT_PX = 12
BOX_FILL = (16, 16, 16, 184)
TEXT_FILL = (255, 255, 255, 255)
FONT_PACKAGE = "paperang_p2_fonts_cjk"  # PyPI paperang-p2-fonts-cjk: WenQuanYi Micro Hei
FONT_FILE = "fonts/wqy-microhei.ttc"
JPEG_DEFAULT_QUALITY = 90
WEBP_LOSSY_QUALITY = 90
ORIENTATION = 0x0112  # the EXIF tag

PILLOW_FORMATS: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/webp": "WEBP",
}

_DECODE_ERRORS = (
    Image.DecompressionBombError,
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
)


# --- decoding ------------------------------------------------------------------------------


@contextlib.contextmanager
def decoding(pillow_format: str) -> Iterator[None]:
    """Pillow's errors (a bomb, a truncated or corrupt file) as one UserError."""
    try:
        yield
    except _DECODE_ERRORS as exc:
        raise UserError(
            f"corrupt or unsupported image: the {pillow_format} data cannot be decoded ({exc})"
        ) from exc


def open_image(data: bytes, pillow_format: str) -> Image.Image:
    """The image with its header read and its size checked; pixels are not decoded yet."""
    if not data:
        raise UserError(f"corrupt or unsupported image: the {pillow_format} file is empty")
    with decoding(pillow_format):
        image = Image.open(io.BytesIO(data), formats=[pillow_format])
    width, height = image.size
    if width <= 0 or height <= 0:
        raise UserError(f"corrupt or unsupported image: it claims {width}x{height} pixels")
    if width * height > MAX_PIXELS:
        raise UserError(
            f"corrupt or unsupported image: {width}x{height} pixels is more than the "
            f"{MAX_PIXELS // 1_000_000} megapixels hallmark decodes"
        )
    return image


def decode_image(data: bytes, pillow_format: str) -> Image.Image:
    image = open_image(data, pillow_format)
    with decoding(pillow_format):
        image.load()
    return image


# --- the font and the label's layout ---------------------------------------------------------


@functools.cache
def _font_data() -> bytes:
    try:
        return resources.files(FONT_PACKAGE).joinpath(FONT_FILE).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise HallmarkError(
            f"the label font {FONT_FILE} of the package {FONT_PACKAGE} is missing; "
            "reinstall hallmark with its dependencies (pip install paperang-p2-fonts-cjk)"
        ) from exc


@functools.lru_cache(maxsize=64)
def label_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(_font_data()), size)


def cap_height(font: ImageFont.FreeTypeFont) -> int:
    _, top, _, bottom = font.getbbox("A")
    return int(bottom - top)


def font_for_cap(cap: int) -> ImageFont.FreeTypeFont:
    """The smallest font whose capitals are at least ``cap`` pixels tall."""
    size = max(1, math.ceil(cap / 0.72))
    while cap_height(label_font(size)) < cap:
        size += 1
    while size > 1 and cap_height(label_font(size - 1)) >= cap:
        size -= 1
    return label_font(size)


@dataclass(slots=True, frozen=True)
class LabelLayout:
    font_size: int
    cap_height: int  # pixels: the text height the standard measures
    box: tuple[int, int, int, int]  # the label's box (x0, y0, x1, y1), as the image is shown
    origin: tuple[int, int]  # where the text is drawn (Pillow's "la" anchor)


def layout_label(wording: str, width: int, height: int) -> LabelLayout:
    """Where the label goes on a ``width`` x ``height`` image, and how large."""
    short = min(width, height)
    wanted = max(MIN_TEXT_PX, math.ceil(TEXT_SHARE * short))
    least = max(1, math.ceil(LEGAL_SHARE * short))
    margin = max(2, round(0.02 * short))
    for cap in range(wanted, least - 1, -1):
        font = font_for_cap(cap)
        left, top, right, bottom = (int(v) for v in font.getbbox(wording))
        pad_x, pad_y = math.ceil(0.5 * cap), math.ceil(0.4 * cap)
        box_w, box_h = right - left + 2 * pad_x, bottom - top + 2 * pad_y
        if box_w + margin <= width and box_h + margin <= height:
            x1, y1 = width - margin, height - margin
            x0, y0 = x1 - box_w, y1 - box_h
            origin = (x0 + pad_x - left, y0 + pad_y - top)
            return LabelLayout(int(font.size), cap, (x0, y0, x1, y1), origin)
    raise UserError(
        f"the image ({width}x{height}) is too small for the label {wording!r} with text at "
        f"least {LEGAL_SHARE:.0%} of its shorter side"
    )


# --- drawing ---------------------------------------------------------------------------------

_T = Image.Transpose
# EXIF orientation: the transposition that shows the stored pixels, and the one that undoes it.
_TO_SHOWN: dict[int, Image.Transpose] = {
    2: _T.FLIP_LEFT_RIGHT,
    3: _T.ROTATE_180,
    4: _T.FLIP_TOP_BOTTOM,
    5: _T.TRANSPOSE,
    6: _T.ROTATE_270,
    7: _T.TRANSVERSE,
    8: _T.ROTATE_90,
}
_UNDO = {_T.ROTATE_90: _T.ROTATE_270, _T.ROTATE_270: _T.ROTATE_90}


def _moved_box(
    box: tuple[int, int, int, int], size: tuple[int, int], method: Image.Transpose
) -> tuple[int, int, int, int]:
    """Where ``box`` of an image of ``size`` lies after ``image.transpose(method)``."""
    x0, y0, x1, y1 = box
    w, h = size
    moved = {
        _T.FLIP_LEFT_RIGHT: (w - x1, y0, w - x0, y1),
        _T.FLIP_TOP_BOTTOM: (x0, h - y1, x1, h - y0),
        _T.ROTATE_180: (w - x1, h - y1, w - x0, h - y0),
        _T.ROTATE_90: (y0, w - x1, y1, w - x0),
        _T.ROTATE_270: (h - y1, x0, h - y0, x1),
        _T.TRANSPOSE: (y0, x0, y1, x1),
        _T.TRANSVERSE: (h - y1, w - x1, h - y0, w - x0),
    }
    return moved[method]


def orientation_of(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and value in _TO_SHOWN else 1


def draw_label(image: Image.Image, wording: str, orientation: int = 1) -> LabelLayout:
    """Draw the label on ``image`` in place (modes L, LA, RGB, RGBA, CMYK), in the bottom-right
    corner of the image as shown under EXIF ``orientation``; return its layout as shown."""
    to_shown = _TO_SHOWN.get(orientation)
    width, height = image.size
    shown = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    layout = layout_label(wording, *shown)
    x0, y0, x1, y1 = layout.box
    overlay = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    radius = max(2, round(0.25 * (y1 - y0)))
    draw.rounded_rectangle((0, 0, x1 - x0 - 1, y1 - y0 - 1), radius=radius, fill=BOX_FILL)
    text_at = (layout.origin[0] - x0, layout.origin[1] - y0)
    draw.text(text_at, wording, font=label_font(layout.font_size), fill=TEXT_FILL)
    box = layout.box
    if to_shown is not None:
        undo = _UNDO.get(to_shown, to_shown)
        overlay = overlay.transpose(undo)
        box = _moved_box(box, shown, undo)
    region = image.crop(box).convert("RGBA")
    region.alpha_composite(overlay)
    # Only the pixels the label covers change (a CMYK round trip through RGB is not exact).
    touched = overlay.getchannel("A").point(lambda alpha: 255 if alpha else 0)
    image.paste(region.convert(image.mode), box[:2], touched)
    return layout


def _drawable(image: Image.Image) -> Image.Image:
    """The image in a mode the label can be drawn in, as close to its own as there is."""
    mode = image.mode
    keyed = "transparency" in image.info
    if mode in ("RGB", "L") and keyed:
        return image.convert(mode + "A")  # a colour key could make the white text transparent
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return image
    if mode in ("P", "PA"):
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I"):
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


# --- encoding, one function per format -------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Source:
    """What the encoders keep from the input: its bytes, the decoded image (JPEG tables and
    sampling), and its metadata as Pillow read it."""

    data: bytes
    image: Image.Image
    info: dict[str | tuple[int, int], Any]


# PNG chunks that describe how to read the pixel values: kept although unsafe to copy.
_PNG_COLOUR = frozenset({b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCV", b"cLLI"})
# Chunks tied to the old pixel data or the old file: written anew or dropped.
_PNG_REPLACED = frozenset(
    {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"bKGD", b"hIST", b"sBIT", b"tIME"}
    | {b"acTL", b"fcTL", b"fdAT"}
)


def _png_kept(chunk: png.Chunk) -> bool:
    """PNG's copy rule: after the pixels change, keep ancillary chunks marked safe to copy
    (4th letter lower case) and the colour-space chunks we know; unsafe unknown chunks, such as
    C2PA's ``caBX``, go."""
    kind = chunk.type
    if kind in _PNG_REPLACED:
        return False
    return kind in _PNG_COLOUR or (kind[:1].islower() and kind[3:4].islower())


def _encode_png(labelled: Image.Image, source: Source) -> bytes:
    out = io.BytesIO()
    labelled.save(out, format="PNG")
    fresh = png.chunks(out.getvalue())
    old = png.chunks(source.data)
    first_idat = next(i for i, chunk in enumerate(old) if chunk.type == b"IDAT")
    before = [c for c in old[:first_idat] if _png_kept(c)]
    after = [c for c in old[first_idat:] if _png_kept(c)]
    body = [c for c in fresh if c.type not in (b"IHDR", b"IEND")]
    ordered = [fresh[0], *before, *body, *after, fresh[-1]]
    return png.SIGNATURE + b"".join(chunk.raw for chunk in ordered)


def _jpeg_kept(segment: jpeg.Segment) -> bool:
    """The header segments copied as they are: the comment and the APP segments that describe
    the picture. EXIF, the main XMP and ICC are passed to the encoder; JFIF and Adobe are the
    encoder's own; MPF and C2PA (APP11) point into the old file."""
    marker = segment.marker
    if marker == jpeg.COM:
        return True
    if not 0xE0 <= marker <= 0xEF or marker in (jpeg.APP0, 0xE2, jpeg.APP11, 0xEE):
        return False
    return not (segment.is_exif or segment.is_xmp)


def _encode_jpeg(labelled: Image.Image, source: Source) -> bytes:
    options: dict[str, Any] = {}
    qtables = getattr(source.image, "quantization", None)
    if qtables:
        options["qtables"] = qtables
    else:
        options["quality"] = JPEG_DEFAULT_QUALITY
    sampling = JpegImagePlugin.get_sampling(source.image)
    if sampling != -1:
        options["subsampling"] = sampling
    for key in ("exif", "icc_profile", "xmp", "dpi", "progressive"):
        if source.info.get(key):
            options[key] = source.info[key]
    extra = b"".join(s.raw for s in jpeg.layout(source.data).header if _jpeg_kept(s))
    out = io.BytesIO()
    labelled.save(out, format="JPEG", extra=extra, **options)
    return out.getvalue()


def webp_is_lossless(data: bytes) -> bool:
    """Whether the WebP's image chunk is ``VP8L`` (lossless) rather than ``VP8 ``."""
    pos = 12
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if kind in (b"VP8L", b"VP8 "):
            return kind == b"VP8L"
        pos += 8 + size + (size & 1)
    return False


def _encode_webp(labelled: Image.Image, source: Source) -> bytes:
    options: dict[str, Any] = {}
    if webp_is_lossless(source.data):
        options.update(lossless=True, quality=100, exact=True)
    else:
        options.update(quality=WEBP_LOSSY_QUALITY)
    for key in ("exif", "icc_profile", "xmp"):
        if source.info.get(key):
            options[key] = source.info[key]
    out = io.BytesIO()
    labelled.save(out, format="WEBP", **options)
    return out.getvalue()


_ENCODERS: dict[str, Callable[[Image.Image, Source], bytes]] = {
    "PNG": _encode_png,
    "JPEG": _encode_jpeg,
    "WEBP": _encode_webp,
}


def pillow_format_for(content: Content) -> str:
    media_type = base_type(content.media_type)
    found = PILLOW_FORMATS.get(media_type)
    if found is None:
        raise UserError(
            f"no explicit label can be drawn on {media_type!r} images; "
            f"supported: {', '.join(sorted(set(PILLOW_FORMATS) - {'image/jpg'}))}"
        )
    format_for(media_type, content.data)  # a PNG sent as image/jpeg is refused by name
    return found


def label_image(data: bytes, pillow_format: str, wording: str) -> bytes:
    """``data`` with the label drawn, re-encoded in its own format."""
    if not wording.strip():
        raise UserError("the explicit label has no wording")
    image = decode_image(data, pillow_format)
    if getattr(image, "is_animated", False):
        raise UserError(f"animated {pillow_format} images cannot be labelled yet")
    source = Source(data, image, dict(image.info))
    with decoding(pillow_format):
        labelled = _drawable(image)  # the decoded image itself where its mode allows
        draw_label(labelled, wording, orientation_of(image))
        labelled.info = {}  # metadata is passed on explicitly, never from stale info
        return _ENCODERS[pillow_format](labelled, source)


class ExplicitImageLabel(Marker):
    scheme: ClassVar[str] = EXPLICIT
    media: ClassVar[frozenset[Medium]] = frozenset({"image"})

    def mark(self, content: Content, context: LabelContext) -> Content:
        pillow_format = pillow_format_for(content)
        labelled = label_image(content.data, pillow_format, context.wording)
        return content.with_data(labelled, explicit_label=context.wording)


def register(components: Components) -> None:
    components.markers.register("explicit.image", ExplicitImageLabel())
