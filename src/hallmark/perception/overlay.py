"""Pictures of what was perceived, for a person to check the grounding at a glance: the image
with its findings' boxes drawn, and for sound a timeline with a lane of bars per kind.

Each kind has its colour (``KIND_COLORS``); what the answer names (its entities) is drawn over
the rest in ``HIGHLIGHT``, labelled with the answer's own words rather than the finding's label,
so a wrong link shows as a phrase on the wrong thing. Labels are set in the CJK font the
explicit image label uses (WenQuanYi Micro Hei), so Chinese text read by OCR draws as itself,
and are kept inside the picture. Findings without a place (colours, layout) are not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from hallmark.errors import UserError
from hallmark.mark.explicit_image import label_font
from hallmark.perception.base import Box, Entity, Finding, FindingKind

RGB = tuple[int, int, int]
KIND_COLORS: dict[FindingKind, RGB] = {
    "text": (0, 140, 255),
    "face": (255, 130, 0),
    "person": (40, 180, 80),
    "nsfw": (225, 30, 60),
    "object": (160, 70, 230),
    "sound": (60, 110, 220),
    "speech": (40, 170, 90),
    "word": (230, 140, 20),
    "color": (120, 120, 120),
    "layout": (120, 120, 120),
}
HIGHLIGHT: RGB = (255, 210, 0)
LABEL_TEXT: RGB = (255, 255, 255)
HIGHLIGHT_TEXT: RGB = (20, 20, 20)
MAX_LABEL_CHARS = 40
AUDIO_LANES: tuple[FindingKind, ...] = ("sound", "speech", "word")
MIN_TIMELINE_WIDTH = 200

# The timeline's geometry, in pixels.
LANE_NAMES_WIDTH = 90
ROW_HEIGHT = 26
ROW_GAP = 4
LANE_GAP = 10
AXIS_HEIGHT = 34
MARGIN = 12
TIMELINE_FONT = 14
TARGET_TICKS = 10


# --- the image -------------------------------------------------------------------------------


def draw_overlay(
    image: Image.Image, findings: Sequence[Finding], entities: Sequence[Entity] = ()
) -> Image.Image:
    """An RGB copy of ``image`` with each boxed finding outlined and labelled, and each entity
    with a box highlighted and labelled with its phrase (the finding it names drawn once)."""
    canvas = _rgb(image)
    if canvas.width == 0 or canvas.height == 0:
        return canvas
    draw = ImageDraw.Draw(canvas)
    short = min(canvas.size)
    line = max(1, round(short / 240))
    font = label_font(max(10, min(40, round(short * 0.035))))
    named = {entity.finding for entity in entities if entity.box is not None}
    for index, finding in enumerate(findings):
        if finding.box is None or index in named:
            continue
        color = KIND_COLORS[finding.kind]
        _outline(draw, finding.box, color, line)
        _label(draw, canvas.size, finding.box, _caption(finding), font, color, LABEL_TEXT)
    for entity in entities:
        if entity.box is None:
            continue
        _outline(draw, entity.box, HIGHLIGHT, line * 2)
        _label(draw, canvas.size, entity.box, _short(entity.text), font, HIGHLIGHT, HIGHLIGHT_TEXT)
    return canvas


def _rgb(image: Image.Image) -> Image.Image:
    if image.has_transparency_data:
        backdrop = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(backdrop, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")  # a copy even when it is RGB already


def _caption(finding: Finding) -> str:
    if finding.kind == "text":
        return _short(f"“{finding.label}”")
    if finding.kind == "face" and (gender := finding.detail.get("gender")):
        return f"face ({gender})"
    return _short(finding.label)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _outline(draw: ImageDraw.ImageDraw, box: Box, color: RGB, width: int) -> None:
    """The box's border, drawn inside the box (so a box at the image's edge shows whole)."""
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return
    draw.rectangle((x, y, x + w - 1, y + h - 1), outline=color, width=min(width, w, h))


def _label(
    draw: ImageDraw.ImageDraw,
    size: tuple[int, int],
    box: Box,
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: RGB,
    ink: RGB,
) -> None:
    """A filled tag with ``text``: above the box where there is room, else just inside its top;
    moved left or up as needed to stay inside the image."""
    left, top, right, bottom = (round(v) for v in draw.textbbox((0, 0), text, font=font))
    pad = max(2, round(font.size * 0.2))
    tag_w, tag_h = right - left + 2 * pad, bottom - top + 2 * pad
    x, y = box[0], box[1] - tag_h if box[1] >= tag_h else box[1]
    x = max(0, min(x, size[0] - tag_w))
    y = max(0, min(y, size[1] - tag_h))
    draw.rectangle((x, y, x + tag_w - 1, y + tag_h - 1), fill=fill)
    draw.text((x + pad - left, y + pad - top), text, font=font, fill=ink)


# --- the timeline ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bar:
    finding: int
    lane: int
    row: int
    start: float
    end: float


def draw_timeline(
    duration: float,
    findings: Sequence[Finding],
    entities: Sequence[Entity] = (),
    width: int = 1200,
) -> Image.Image:
    """A ``width``-pixel-wide picture of ``duration`` seconds: a lane per kind (sound, speech
    and word always, then any other kind with time spans), each span a labelled bar, bars that
    overlap in time on rows of their own, the entities' spans highlighted with their phrase,
    and a time axis with ticks under it all."""
    if not math.isfinite(duration) or duration <= 0:
        raise UserError(f"a timeline needs a positive duration in seconds, not {duration}")
    if width < MIN_TIMELINE_WIDTH:
        raise UserError(f"a timeline is at least {MIN_TIMELINE_WIDTH} pixels wide, not {width}")
    kinds = list(AUDIO_LANES)
    for finding in findings:
        if _span(finding) is not None and finding.kind not in kinds:
            kinds.append(finding.kind)
    bars, rows = _stacked(findings, kinds)
    lane_tops, y = [], MARGIN
    for lane_rows in rows:
        lane_tops.append(y)
        y += lane_rows * (ROW_HEIGHT + ROW_GAP) - ROW_GAP + LANE_GAP
    axis_top = y
    canvas = Image.new("RGB", (width, axis_top + AXIS_HEIGHT + MARGIN), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = label_font(TIMELINE_FONT)
    plot_left, plot_right = LANE_NAMES_WIDTH, width - MARGIN

    def x_of(seconds: float) -> int:
        share = min(max(seconds / duration, 0.0), 1.0)
        return round(plot_left + share * (plot_right - plot_left))

    for lane, (kind, top) in enumerate(zip(kinds, lane_tops, strict=True)):
        bottom = top + rows[lane] * (ROW_HEIGHT + ROW_GAP) - ROW_GAP
        draw.rectangle((plot_left, top, plot_right, bottom), fill=(244, 244, 244))
        draw.text((MARGIN, (top + bottom) // 2), kind, font=font, fill=(60, 60, 60), anchor="lm")
    entity_of = {e.finding: e for e in entities if e.start is not None and e.end is not None}
    for bar in bars:
        top = lane_tops[bar.lane] + bar.row * (ROW_HEIGHT + ROW_GAP)
        x0, x1 = x_of(bar.start), max(x_of(bar.end), x_of(bar.start) + 2)
        entity = entity_of.get(bar.finding)
        fill = HIGHLIGHT if entity else KIND_COLORS[kinds[bar.lane]]
        ink = HIGHLIGHT_TEXT if entity else LABEL_TEXT
        text = entity.text if entity else findings[bar.finding].label
        draw.rectangle((x0, top, x1 - 1, top + ROW_HEIGHT - 1), fill=fill)
        _bar_text(draw, (x0, top, x1, top + ROW_HEIGHT), text, font, ink)
    on_bars = {bar.finding for bar in bars}
    for entity in entities:  # those whose finding is not on the timeline: their own span
        if entity.finding in on_bars or entity.start is None or entity.end is None:
            continue
        if entity.kind not in kinds:
            continue
        top = lane_tops[kinds.index(entity.kind)]
        x0, x1 = x_of(entity.start), max(x_of(entity.end), x_of(entity.start) + 2)
        draw.rectangle((x0, top, x1 - 1, top + ROW_HEIGHT - 1), outline=HIGHLIGHT, width=3)
        _bar_text(draw, (x0, top, x1, top + ROW_HEIGHT), entity.text, font, HIGHLIGHT_TEXT)
    _axis(draw, duration, axis_top, (plot_left, plot_right), x_of, font)
    return canvas


def _span(finding: Finding) -> tuple[float, float] | None:
    if finding.start is None or finding.end is None or finding.end < finding.start:
        return None
    return finding.start, finding.end


def _stacked(findings: Sequence[Finding], kinds: list[FindingKind]) -> tuple[list[_Bar], list[int]]:
    """Each spanned finding on the first row of its lane free at its start; the rows per lane."""
    row_ends: list[list[float]] = [[] for _ in kinds]
    bars = []
    spanned = [(i, f, span) for i, f in enumerate(findings) if (span := _span(f)) is not None]
    for index, finding, (start, end) in sorted(spanned, key=lambda item: item[2]):
        lane = kinds.index(finding.kind)
        ends = row_ends[lane]
        row = next((r for r, last in enumerate(ends) if last <= start), len(ends))
        if row == len(ends):
            ends.append(end)
        else:
            ends[row] = end
        bars.append(_Bar(index, lane, row, start, end))
    return bars, [max(1, len(ends)) for ends in row_ends]


def _bar_text(
    draw: ImageDraw.ImageDraw,
    rect: tuple[int, int, int, int],
    text: str,
    font: ImageFont.FreeTypeFont,
    ink: RGB,
) -> None:
    """``text`` inside the bar, shortened with an ellipsis to fit; nothing if nothing fits."""
    room = rect[2] - rect[0] - 6
    text = _short(text)
    while text and draw.textlength(text, font=font) > room:
        text = text[:-2] + "…" if len(text) > 2 else ""
    if text:
        draw.text((rect[0] + 3, (rect[1] + rect[3]) // 2), text, font=font, fill=ink, anchor="lm")


def tick_step(duration: float, target: int = TARGET_TICKS) -> float:
    """The 1, 2 or 5 times a power of ten that cuts ``duration`` into about ``target`` steps."""
    raw = duration / target
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * 0.999)


def tick_label(seconds: float, step: float) -> str:
    if step >= 60 or seconds >= 600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes}:{rest:02d}"
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{seconds:.{decimals}f}s"


def _axis(
    draw: ImageDraw.ImageDraw,
    duration: float,
    top: int,
    plot: tuple[int, int],
    x_of: Callable[[float], int],
    font: ImageFont.FreeTypeFont,
) -> None:
    draw.line((plot[0], top, plot[1], top), fill=(60, 60, 60), width=1)
    step = tick_step(duration)
    count = math.floor(duration / step + 1e-9)
    for i in range(count + 1):
        seconds = i * step
        x = x_of(seconds)
        draw.line((x, top, x, top + 6), fill=(60, 60, 60), width=1)
        anchor = "la" if i == 0 else "ra" if x >= plot[1] - 20 else "ma"
        draw.text(
            (x, top + 9), tick_label(seconds, step), font=font, fill=(60, 60, 60), anchor=anchor
        )
