"""The edits the watermark is specified to survive, and synthetic scenes to try them on.

Both are shared by the tests and the benchmark, so the two measure the same thing. Each attack
takes and returns a Pillow image; the result is decoded at its own size (nothing is scaled
back). The crops remove 10% of the area: ``crop-centre`` keeps the middle (about 2.6% off each
side), ``crop-corner`` keeps the top-left corner (about 5.1% off the right and the bottom).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

Attack = Callable[[Image.Image], Image.Image]
KEEP = math.sqrt(0.9)  # the side kept by a crop that removes 10% of the area


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def resize(image: Image.Image, factor: float) -> Image.Image:
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.BICUBIC)


def crop_centre(image: Image.Image) -> Image.Image:
    width, height = round(image.width * KEEP), round(image.height * KEEP)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def crop_corner(image: Image.Image) -> Image.Image:
    return image.crop((0, 0, round(image.width * KEEP), round(image.height * KEEP)))


def brightness(image: Image.Image, factor: float) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def blur(image: Image.Image, sigma: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(sigma))  # Pillow's radius is the sigma


ATTACKS: dict[str, Attack] = {
    "none": lambda image: image,
    "jpeg-q50": lambda image: jpeg(image, 50),
    "resize-0.5x": lambda image: resize(image, 0.5),
    "crop-10%-centre": crop_centre,
    "crop-10%-corner": crop_corner,
    "brightness+20%": lambda image: brightness(image, 1.2),
    "brightness-20%": lambda image: brightness(image, 0.8),
    "blur-sigma1": lambda image: blur(image, 1.0),
}


def synthetic_scene(seed: int, width: int = 512, height: int = 512) -> Image.Image:
    """A natural-looking RGB test image: a colour gradient, 1/f (natural-spectrum) texture,
    soft-edged shapes, a band of fine stripes and sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    y, x = y / height, x / width
    low, right, down = rng.uniform(30, 220, (3, 3))
    pixels = low + (right - low) * 0.8 * x[..., None] + (down - low) * 0.6 * y[..., None]
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0
    spectrum = (rng.normal(size=radius.shape) + 1j * rng.normal(size=radius.shape)) / radius
    texture = np.fft.irfft2(spectrum, s=(height, width))
    texture /= texture.std()
    pixels = pixels + texture[..., None] * rng.uniform(8, 25) * rng.uniform(0.5, 1.0, 3)
    for _ in range(8):
        cy, cx = rng.uniform(0, 1, 2)
        ry, rx = rng.uniform(0.05, 0.25, 2)
        inside = 1 - ((y - cy) / ry) ** 2 - ((x - cx) / rx) ** 2
        edge = np.clip(inside * rng.uniform(5, 40), 0, 1)[..., None]
        pixels = pixels * (1 - edge) + rng.uniform(0, 255, 3) * edge
    stripes = np.sin(2 * np.pi * (x * rng.uniform(20, 60) + y * rng.uniform(5, 30)))
    band = np.abs(y - rng.uniform(0.2, 0.8)) < 0.15
    pixels = pixels + (stripes * band * 12)[..., None]
    pixels = pixels + rng.normal(0, 2.0, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
