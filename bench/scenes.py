"""Drawn subjects that the bundled detectors find, for benchmarks and tests alike.

Exact truth needs pictures drawn at known places, and a drawing a real detector takes for
what it shows is found by trial; once found, it lives here once, so that a test and a
benchmark that both claim "NudeNet finds this face" measure the same face.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter


def person(size: int = 110) -> Image.Image:
    """A flat cartoon of a head and shoulders that NudeNet takes for a face (about 0.7):
    hair, a skin-coloured oval with eyes, brows, nose and mouth, a neck and a shirt.

    ``size`` is the head's width; the figure is ``1.8 * size`` wide and ``2.08 * size`` tall,
    transparent around the drawing, its head centred at the top."""
    w, h = size, int(size * 1.3)
    head = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(head)
    draw.ellipse((0, 0, w, h * 0.75), fill=(60, 40, 25, 255))
    draw.rectangle((w * 0.35, h * 0.7, w * 0.65, h), fill=(224, 172, 140, 255))
    draw.ellipse((w * 0.1, h * 0.12, w * 0.9, h * 0.88), fill=(230, 180, 150, 255))
    for cx in (0.33, 0.67):
        draw.ellipse((w * (cx - 0.09), h * 0.40, w * (cx + 0.09), h * 0.47), fill="white")
        draw.ellipse((w * (cx - 0.04), h * 0.41, w * (cx + 0.04), h * 0.465), fill=(60, 40, 30))
        draw.line((w * (cx - 0.1), h * 0.36, w * (cx + 0.1), h * 0.35), fill=(60, 40, 25), width=3)
    draw.polygon([(w * 0.5, h * 0.45), (w * 0.44, h * 0.6), (w * 0.56, h * 0.6)], (205, 150, 120))
    draw.chord((w * 0.36, h * 0.64, w * 0.64, h * 0.74), 0, 180, fill=(170, 70, 70))
    head = head.filter(ImageFilter.GaussianBlur(size / 100))
    figure = Image.new("RGBA", (int(w * 1.8), int(h * 1.6)), (0, 0, 0, 0))
    body = ImageDraw.Draw(figure)
    body.rounded_rectangle(
        (0, h * 0.92, figure.width, figure.height + 40), radius=int(w * 0.4), fill=(40, 80, 160)
    )
    figure.paste(head, ((figure.width - w) // 2, 0), head)
    return figure
