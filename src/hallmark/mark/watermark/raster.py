"""Image files to pixels and back, for the watermark: PNG, JPEG and WebP through Pillow.

Decoding refuses what could hurt the server or cannot carry the mark, as a ``UserError``: a
file of another format than declared, corrupt data, more than ``MAX_PIXELS`` pixels (checked
from the header, before anything is decompressed), animation, and pixel modes that cannot hold
a small luminance change (bilevel, 16-bit, CMYK...). Palette images become RGB(A).

Encoding writes the same format, mode and alpha, and keeps what else the file said: the ICC
profile, EXIF, XMP, PNG text chunks (where GB 45438 labels live), the JPEG comment, density,
and its quantisation tables and chroma subsampling (so the source's quality, not a guess; 92
when the source has none), WebP lossless or lossy (quality 92). Other private chunks or
segments (a C2PA manifest among them, which a pixel change invalidates anyway) are dropped.

Pixels are handled in display orientation: an EXIF Orientation tag is applied before
embedding or reading and undone after, so a viewer's upright picture carries the upright mark.

A colour JPEG is decoded to its YCbCr planes and the mark written into its Y plane alone
(``Picture``); reading one (``decode_luma``) decodes the Y plane only. Other images are
read as RGB(A) or L(A), their luminance Pillow's ITU-R 601 sum, rounded to 8 bits.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, JpegImagePlugin, PngImagePlugin

from hallmark.errors import PayloadTooLarge, UserError

MAX_PIXELS = 40_000_000
DEFAULT_QUALITY = 92
FORMATS: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/webp": "WEBP",
}
SUPPORTED = ("image/png", "image/jpeg", "image/webp")
# Modes the mark is written into as they are; palette images are widened first.
WRITABLE_MODES = frozenset({"L", "LA", "RGB", "RGBA"})
WIDENED = {"P": "RGB", "PA": "RGBA"}

Pixels = npt.NDArray[np.uint8]
Array = npt.NDArray[np.float32]
_CORRUPT = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)

# EXIF Orientation -> (stored array -> display array, display array -> stored array)
_ORIENT: dict[int, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    2: (np.fliplr, np.fliplr),
    3: (lambda a: np.rot90(a, 2), lambda a: np.rot90(a, 2)),
    4: (np.flipud, np.flipud),
    5: (lambda a: np.swapaxes(a, 0, 1), lambda a: np.swapaxes(a, 0, 1)),
    6: (lambda a: np.rot90(a, -1), lambda a: np.rot90(a, 1)),
    7: (lambda a: np.rot90(np.swapaxes(a, 0, 1), 2), lambda a: np.swapaxes(np.rot90(a, 2), 0, 1)),
    8: (lambda a: np.rot90(a, 1), lambda a: np.rot90(a, -1)),
}


class ImageTooLarge(PayloadTooLarge):
    """More pixels than the watermark handles: refused before decompressing them."""


def base_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def format_of(media_type: str) -> str | None:
    """Pillow's name for a media type the watermark handles, or None."""
    return FORMATS.get(base_type(media_type))


@dataclass(slots=True)
class Picture:
    """A decoded image: the Pillow object (for its metadata) and its format.

    A colour JPEG is decoded to its YCbCr planes (``draft``), not to RGB: its Y plane is the
    luminance, the mark is added to that plane alone (one plane of arithmetic, not three) and
    the chroma planes go back to the encoder untouched. Adding the same change to R, G and B
    is the same change, up to the clipping of saturated colours."""

    image: Image.Image
    format: str
    _plane: Pixels | None = field(default=None, repr=False)

    @property
    def orientation(self) -> int:
        value = self.image.getexif().get(0x0112, 1)
        return value if isinstance(value, int) and value in _ORIENT else 1

    def luma8(self) -> Pixels:
        """The luminance (ITU-R 601; for RGB, Pillow's rounded fixed-point sum), 8 bits, in
        display orientation."""
        if self._plane is None:
            self._plane = _luma_plane(self.image)
        return self._to_display(self._plane)

    def luma(self) -> Array:
        """The luminance as float, in display orientation."""
        return self.luma8().astype(np.float32)

    def _to_display(self, values: Pixels) -> Pixels:
        orientation = self.orientation
        return _ORIENT[orientation][0](values) if orientation != 1 else values

    def add_luma(self, delta: Array) -> tuple[Image.Image, float]:
        """The image with ``delta`` (display orientation) added to each colour channel (to
        the Y plane of a YCbCr image), rounded and clipped, and the mean square of the change
        per colour sample. A Y plane is changed in the decoded image itself (``image``), the
        other modes in a copy; ``delta`` is used as scratch space."""
        orientation = self.orientation
        if orientation != 1:
            delta = _ORIENT[orientation][1](delta)
        image = self.image
        if image.mode in ("L", "LA", "YCbCr"):
            if self._plane is None:
                self._plane = _luma_plane(image)
            self._plane, mse = _add_to_plane(self._plane, delta)
            image.im.putband(Image.fromarray(self._plane).im, 0)
            return image, mse
        if image.mode in WIDENED:
            mode = "RGBA" if image.mode == "PA" or "transparency" in image.info else "RGB"
            image = image.convert(mode)
        pixels = np.array(image, dtype=np.uint8)
        colour = pixels[..., :3]
        changed = colour.astype(np.float32)
        changed += delta[..., np.newaxis]
        np.rint(changed, out=changed)
        np.clip(changed, 0, 255, out=changed)
        difference = changed - colour
        mse = _mean_square(difference)
        np.copyto(colour, changed, casting="unsafe")
        return Image.fromarray(pixels, image.mode), mse


def _luma_plane(image: Image.Image) -> Pixels:
    """The luminance in stored orientation."""
    if image.mode in ("L", "LA", "YCbCr"):
        band = image if image.mode == "L" else image.getchannel(0)
    elif image.mode in WIDENED:
        band = image.convert(WIDENED[image.mode]).convert("L")
    else:
        band = image.convert("L")
    return np.asarray(band, dtype=np.uint8)


def _mean_square(values: Array) -> float:
    flat = np.ravel(values)
    return float(np.dot(flat, flat)) / max(flat.size, 1)


def _add_to_plane(plane: Pixels, delta: Array) -> tuple[Pixels, float]:
    """``plane`` plus ``delta`` (in place), rounded and clipped, and the mean square change."""
    change = np.rint(delta, out=delta)
    mse = _mean_square(change)
    np.add(change, plane, out=change)
    if change.min() < 0 or change.max() > 255:  # clipped: the change is not the rounded delta
        np.clip(change, 0, 255, out=change)
        mse = _mean_square(np.subtract(change, plane, dtype=np.float32))
    out: Pixels = np.ascontiguousarray(change.astype(np.uint8))
    return out, mse


def _open(data: bytes, media_type: str) -> tuple[Image.Image, str]:
    """The image opened (its header read, nothing decoded yet) after the checks that need no
    pixels: format, size, animation, pixel mode."""
    name = format_of(media_type)
    if name is None:
        raise UserError(
            f"the watermark cannot be read from or written into {base_type(media_type)!r} "
            f"files; supported: {', '.join(SUPPORTED)}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[name])
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageTooLarge(
                    f"the image is {width}x{height} px; the watermark handles at most "
                    f"{MAX_PIXELS:,} pixels"
                )
            if getattr(image, "n_frames", 1) > 1:
                raise UserError("animated images cannot carry the watermark")
    except UserError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"the image is too large to decode safely: {exc}") from exc
    except _CORRUPT as exc:
        raise UserError(f"the file is not a readable {name} image: {exc}") from exc
    if image.mode not in WRITABLE_MODES and image.mode not in WIDENED:
        raise UserError(
            f"the watermark cannot be written into {image.mode} images; "
            "supported pixel modes: L, LA, RGB, RGBA and palette"
        )
    return image, name


def _load(image: Image.Image, name: str, draft: str | None) -> None:
    """Decode the pixels; a colour JPEG stored as YCbCr straight to ``draft`` ("YCbCr", or
    "L" for its Y plane alone)."""
    if draft and name == "JPEG" and image.mode == "RGB" and image.info.get("adobe_transform") != 0:
        image.draft(draft, None)
    try:
        image.load()
    except _CORRUPT as exc:
        raise UserError(f"the file is not a readable {name} image: {exc}") from exc


def decode(data: bytes, media_type: str) -> Picture:
    """Decode an image file to write the mark into, or raise a UserError that says what is
    wrong with it."""
    image, name = _open(data, media_type)
    _load(image, name, "YCbCr")
    return Picture(image, name)


def decode_luma(data: bytes, media_type: str) -> Array:
    """Only the luminance of an image file, in display orientation, for reading the mark
    (a colour JPEG's chroma is never decoded); the same UserErrors as ``decode``."""
    image, name = _open(data, media_type)
    _load(image, name, "L")
    return Picture(image, name).luma()


def _webp_lossless(data: bytes) -> bool:
    """Whether a WebP file's bitstream is VP8L (lossless)."""
    offset = 12
    while offset + 8 <= len(data):
        tag = data[offset : offset + 4]
        if tag in (b"VP8L", b"VP8 "):
            return tag == b"VP8L"
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        offset += 8 + size + (size & 1)
    return False


def _png_info(source: Image.Image) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    text: dict[str, Any] = getattr(source, "text", {})
    for keyword, value in text.items():
        if isinstance(value, PngImagePlugin.iTXt):
            info.add_itxt(keyword, value, value.lang or "", value.tkey or "")
        else:
            info.add_text(keyword, value)
    return info


def encode(picture: Picture, image: Image.Image, source_bytes: bytes) -> bytes:
    """``image`` written in the source's format, with the source's metadata and settings."""
    source = picture.image
    info = source.info
    options: dict[str, Any] = {}
    for name in ("icc_profile", "exif", "dpi"):
        if info.get(name):
            options[name] = info[name]
    if picture.format == "PNG":
        options["pnginfo"] = _png_info(source)
        if image.mode in ("L", "RGB") and "transparency" in info:
            options["transparency"] = info["transparency"]
    elif picture.format == "JPEG":
        quantization = getattr(source, "quantization", None)
        if quantization:
            options["qtables"] = quantization
            sampling = JpegImagePlugin.get_sampling(source)
            if sampling != -1:
                options["subsampling"] = sampling
        else:
            options["quality"] = DEFAULT_QUALITY
        for name in ("xmp", "comment"):
            if info.get(name):
                options[name] = info[name]
        if info.get("progressive") or info.get("progression"):
            options["progressive"] = True
    else:
        if info.get("xmp"):
            options["xmp"] = info["xmp"]
        if _webp_lossless(source_bytes):
            options["lossless"] = True
        else:
            options["quality"] = DEFAULT_QUALITY
        if "A" in image.mode:
            options["exact"] = True
    out = io.BytesIO()
    image.save(out, format=picture.format, **options)
    return out.getvalue()
