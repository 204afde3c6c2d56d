"""A text clip drawn as a transparent picture, and where it sits on the canvas.

The studio draws titles and captions with Pillow rather than ffmpeg's ``drawtext``: one look
whatever ffmpeg was built with, the same wrapping the editor shows, and CJK text in the
bundled WenQuanYi Micro Hei (``hallmark.mark.explicit_image.label_font``, cached per size).

Wrapping: lines break at spaces between words, and anywhere between CJK characters (which
are written without spaces), but never before closing punctuation (``，。！？」`` and the like
stay on the line they close); a word wider than the line is broken between letters. The
text's own newlines are kept.

The look: the text size is ``style.size`` of the canvas height; an outline of ``style.stroke``
of the text size in ``stroke_color``; ``bold`` thickens the glyphs with a stroke in the
text's own colour (the font has one weight); ``box_color`` puts a rounded box behind the
block. Each part is drawn on its own transparent layer whose colour is already the ink's, and
the layers are composited, so antialiased edges keep their colour (no dark fringes) and a
translucent colour stays translucent over the outline.
"""

from __future__ import annotations

import math
import unicodedata

from PIL import Image, ImageDraw, ImageFont

from hallmark.mark.explicit_image import label_font
from hallmark.studio.timeline import TextClip

RGBA = tuple[int, int, int, int]

BOLD_SHARE = 0.035  # the extra stroke of bold text, of the text size
BOX_PAD_SHARE = 0.35  # the box's padding, of the text size
LINE_GAP_SHARE = 0.15  # extra space between lines, of the text size
# Characters a line may not start with (Chinese and Japanese line-breaking rules).
NO_LINE_START = frozenset("，。、；：！？）」』》〉】〕…～·ー,.;:!?)]}%")


def parse_color(value: str) -> RGBA:
    """``#RRGGBB`` or ``#RRGGBBAA`` as an RGBA tuple."""
    digits = value.lstrip("#")
    alpha = int(digits[6:8], 16) if len(digits) == 8 else 255
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), alpha


def is_cjk(char: str) -> bool:
    """Written without spaces between words: Han, kana, Hangul and full-width forms."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK punctuation, kana, CJK ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # compatibility forms
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3FFFF  # ideograph extensions
        or unicodedata.east_asian_width(char) == "W"
    )


def _pieces(paragraph: str) -> list[tuple[str, bool]]:
    """The paragraph as unbreakable pieces, each with whether a space comes before it."""
    pieces: list[tuple[str, bool]] = []
    word, word_spaced, spaced = "", False, False

    def flush() -> None:
        nonlocal word
        if word:
            pieces.append((word, word_spaced))
            word = ""

    for char in paragraph:
        if char.isspace():
            flush()
            spaced = True
        elif char in NO_LINE_START and pieces and not word and not spaced:
            text, before = pieces[-1]
            pieces[-1] = (text + char, before)
        elif is_cjk(char):
            flush()
            pieces.append((char, spaced))
            spaced = False
        else:
            if not word:
                word_spaced, spaced = spaced, False
            word += char
    flush()
    return pieces


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` pixels where it can be."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for piece, spaced in _pieces(paragraph):
            candidate = f"{line} {piece}" if spaced and line else line + piece
            if not line or font.getlength(candidate) <= width:
                line = candidate
            else:
                lines.append(line)
                line = piece
            while font.getlength(line) > width and len(line) > 1:
                cut = _fitting(line, font, width)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def _fitting(line: str, font: ImageFont.FreeTypeFont, width: float) -> int:
    """How many of ``line``'s first characters fit in ``width`` (at least one)."""
    count = 1
    while count < len(line) and font.getlength(line[: count + 1]) <= width:
        count += 1
    return count


def render_text(
    clip: TextClip, canvas_width: int, canvas_height: int
) -> tuple[Image.Image, tuple[int, int]]:
    """The clip's text as an RGBA picture, and its top-left on the canvas so that the block's
    centre falls at (``clip.x``, ``clip.y``) of the canvas."""
    style = clip.style
    size = max(4, round(style.size * canvas_height))
    font = label_font(size)
    outline = round(style.stroke * size)
    bold = max(1, round(BOLD_SHARE * size)) if style.bold else 0
    ink = outline + bold  # how far the drawing reaches beyond the glyphs
    pad = math.ceil(BOX_PAD_SHARE * size) if style.box_color else 0
    margin = ink + pad + math.ceil(0.06 * size)  # glyphs overhang their advance a little
    lines = wrap(clip.text, font, max(1.0, style.max_width * canvas_width - 2 * ink))
    ascent, descent = font.getmetrics()
    pitch = ascent + descent + round(LINE_GAP_SHARE * size)
    widths = [font.getlength(line) for line in lines]
    block_w = math.ceil(max(widths))
    block_h = pitch * (len(lines) - 1) + ascent + descent
    image_w, image_h = block_w + 2 * margin, block_h + 2 * margin

    fill = parse_color(style.color)
    picture = Image.new("RGBA", (image_w, image_h), (*fill[:3], 0))
    if style.box_color:
        box = parse_color(style.box_color)
        layer = Image.new("RGBA", picture.size, (*box[:3], 0))
        inset = margin - ink - pad
        ImageDraw.Draw(layer).rounded_rectangle(
            (inset, inset, image_w - 1 - inset, image_h - 1 - inset),
            radius=round(0.25 * size),
            fill=box,
        )
        picture = Image.alpha_composite(picture, layer)
    origins = [
        (margin + _indent(style.align, block_w, width), margin + n * pitch)
        for n, width in enumerate(widths)
    ]
    if ink:
        stroke = parse_color(style.stroke_color) if outline else fill
        picture = Image.alpha_composite(
            picture, _layer(picture.size, lines, origins, font, stroke, ink)
        )
    picture = Image.alpha_composite(picture, _layer(picture.size, lines, origins, font, fill, bold))
    left = round(clip.x * canvas_width - image_w / 2)
    top = round(clip.y * canvas_height - image_h / 2)
    return picture, (left, top)


def _indent(align: str, block_width: int, line_width: float) -> int:
    if align == "left":
        return 0
    if align == "right":
        return round(block_width - line_width)
    return round((block_width - line_width) / 2)


def _layer(
    size: tuple[int, int],
    lines: list[str],
    origins: list[tuple[int, int]],
    font: ImageFont.FreeTypeFont,
    color: RGBA,
    stroke: int,
) -> Image.Image:
    """The lines in one colour on a transparent layer of that colour, ``stroke`` px thicker."""
    layer = Image.new("RGBA", size, (*color[:3], 0))
    draw = ImageDraw.Draw(layer)
    for line, origin in zip(lines, origins, strict=True):
        draw.text(origin, line, font=font, fill=color, stroke_width=stroke, stroke_fill=color)
    return layer
