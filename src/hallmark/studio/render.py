"""A project rendered to an MP4: one ffmpeg filter graph, one ffmpeg run.

The renderer measured two ways to composite (``bench/bench_studio.py``): decoding and encoding
with PyAV and compositing frames with numpy, or describing the whole edit as one ffmpeg
``-filter_complex`` graph and letting the ffmpeg CLI run it. The graph wins: it composites in
yuv420p without converting every frame to RGB and back, touches only the pixels a clip
covers, and decodes, filters and encodes on separate threads. So this module is a compiler
from a ``Project`` to an ffmpeg command, plus the edges that run it.

The graph:

- a ``color`` source for the background, the length of the project;
- visual and text tracks composited bottom to top with ``overlay``, each clip shown from its
  ``start`` for its length (``enable`` with the half-open interval, the clip's frames shifted
  to its start with ``setpts``). A clip is cut down to what is visible before it is scaled
  (``crop`` then ``scale``: cover, contain or fill of the canvas, times ``scale``, centred at
  ``x``, ``y``), so a landscape source covering a portrait frame scales only the part shown;
- video clips are read with input seeking (``-ss``/``-t``: only ``in``..``out`` is decoded),
  brought to the output rate (``fps``); stills are drawn with Pillow (EXIF orientation
  honoured, Lanczos scaling) at the size they are shown, decoded once and repeated with
  ``loop``; Ken Burns moves go through ``zoompan`` on a picture twice the shown size at the
  strongest zoom, so its whole-pixel steps are half an output pixel or less (no jitter);
  gradient cards and text clips (``text_image``) are Pillow pictures too;
- opacity, fades and crossfades are alpha: ``format=yuva420p``, ``lut`` on the alpha plane,
  ``fade=alpha=1``; a crossfade (``transition``) is the later clip fading in over the earlier,
  which keeps showing to its own end;
- every sound (audio clips and the sound of visible video clips; muted tracks left out) is
  resampled to the output rate in stereo, trimmed, looped (``aloop``), faded, ducked and
  delayed to its start (``adelay``), and the sounds summed (``amix`` without normalising, so a
  clip's volume is what it says); a project without sound still gets a silent track, which
  players and the platforms expect. Ducking is a ``volume`` expression of time: the clip's
  ``duck`` gain while a clip of a ``voice`` track plays, ramped over ``duck_fade`` seconds
  before and after.

When the export preset's frame has another shape than the project's canvas, the canvas is
composed at its largest size that fits and padded with the background (letterbox), so nothing
of the edit is cut off. Given the wording of the explicit AI label, the render draws it last,
over everything (captions and titles included), in the output frame: the corner label and the
opening notice of ``mark.explicit_video`` (its ``label_overlays`` pictures, drawn with its
``overlay_steps``), so the marker need not encode the video a second time.

The graph goes to ffmpeg in a file (``-filter_complex_script``): a project with hundreds of
captions would otherwise pass the limit on one argument's length.

Runs: ffmpeg is given an argument list (never a shell) and a timeout; it writes progress on
stdout (``-progress pipe:1``), which becomes ``progress(fraction, "rendering")`` calls at most
ten a second; a progress callback that raises stops the render. The MP4 is written beside
``out`` under a temporary name and moved into place when complete: a failed or cancelled
render leaves no file and an existing ``out`` untouched.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps

from hallmark.errors import UserError
from hallmark.mark.explicit_video import VideoInfo, label_overlays, overlay_steps
from hallmark.studio.ffmpeg import run_streaming
from hallmark.studio.media import MediaInfo, MediaResolver, resolve_project
from hallmark.studio.presets import Preset, even, preview_of
from hallmark.studio.text_image import parse_color, render_text
from hallmark.studio.timeline import (
    AudioClip,
    CardClip,
    Crop,
    ImageClip,
    InvalidProject,
    Project,
    TextClip,
    Track,
    VideoClip,
    clip_end,
    clip_length,
    project_duration,
)

Progress = Callable[[float, str], None]

PROGRESS_INTERVAL_S = 0.1  # at most ten progress calls a second
KEN_BURNS_DETAIL = 2  # the zoompan picture's size, in shown sizes at the strongest zoom
KEN_BURNS_MAX_SIDE = 8192
EDGE_S = 1e-3  # clip times are compared this much early: frame times are rounded fractions
GRAPH_FILE = "graph.txt"


def render_timeout(duration: float) -> float:
    """Seconds a render may take by default: a 1080x1920 project encodes at about real time
    on two cores, so thirty times its length is a stuck ffmpeg, not a slow machine."""
    return 300.0 + 30.0 * duration


# --- the output --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Output:
    """What the render produces and where the project's canvas sits in it."""

    preset: Preset  # the encoding, with the output frame size
    rate: Fraction  # frames per second
    canvas: tuple[int, int]  # the size the project is composed at
    offset: tuple[int, int]  # the canvas's top-left in the frame
    duration: float
    sample_rate: int

    @property
    def frames(self) -> int:
        return max(1, math.ceil(self.duration * self.rate - 1e-6))


def frame_rate(fps: float) -> Fraction:
    """``fps`` as the fraction ffmpeg should use: 29.97 is 30000/1001, 23.976 24000/1001."""
    ntsc = round(fps * 1.001)
    if abs(fps - round(fps)) > 0.005 and abs(fps - ntsc / 1.001) < 0.005:
        return Fraction(ntsc * 1000, 1001)
    return Fraction(fps).limit_denominator(1000)


def output_for(
    project: Project, duration: float, preset: Preset | None = None, *, preview: bool = False
) -> Output:
    if preset is None:
        preset = Preset(
            "project", project.width, project.height, max_fps=120, audio_rate=project.sample_rate
        )
    if preview:
        preset = preview_of(preset)
    width, height = preset.width, preset.height
    shrink = min(width / project.width, height / project.height)
    canvas = (
        min(width, even(project.width * shrink)),
        min(height, even(project.height * shrink)),
    )
    offset = ((width - canvas[0]) // 2, (height - canvas[1]) // 2)
    rate = frame_rate(min(project.fps, preset.max_fps))
    return Output(preset, rate, canvas, offset, duration, preset.audio_rate)


# --- where a picture goes ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """The part of a source that is visible, and where: ``region`` (x, y, w, h in source
    pixels) is scaled to ``size`` and drawn with its top-left at ``at`` on the canvas.
    ``shown`` is the whole source's rectangle on the canvas, visible or not."""

    region: tuple[float, float, float, float]
    size: tuple[int, int]
    at: tuple[int, int]
    shown: tuple[float, float, float, float]


def place(
    source: tuple[int, int],
    fit: str,
    scale: float,
    x: float,
    y: float,
    canvas: tuple[int, int],
    crop: Crop | None = None,
) -> Placement | None:
    """Where a ``source``-sized picture (its ``crop`` of it) goes; None when off the canvas."""
    left, top, width, height = (
        (0, 0, *source) if crop is None else (crop.x, crop.y, crop.width, crop.height)
    )
    cw, ch = canvas
    if fit == "fill":
        fx, fy = cw / width * scale, ch / height * scale
    else:
        pick = max if fit == "cover" else min
        fx = fy = pick(cw / width, ch / height) * scale
    dw, dh = width * fx, height * fy
    dx, dy = x * cw - dw / 2, y * ch - dh / 2
    x0, y0 = max(0, round(dx)), max(0, round(dy))
    x1, y1 = min(cw, round(dx + dw)), min(ch, round(dy + dh))
    if x1 <= x0 or y1 <= y0:
        return None
    rx0, ry0 = max(0.0, (x0 - dx) / fx), max(0.0, (y0 - dy) / fy)
    rx1, ry1 = min(float(width), (x1 - dx) / fx), min(float(height), (y1 - dy) / fy)
    region = (left + rx0, top + ry0, rx1 - rx0, ry1 - ry0)
    return Placement(region, (x1 - x0, y1 - y0), (x0, y0), (dx, dy, dw, dh))


def _pixel_box(
    region: tuple[float, float, float, float], bound: tuple[int, int]
) -> tuple[int, ...]:
    """``region`` in whole pixels inside a ``bound``-sized source: (x, y, w, h)."""
    x, y = min(int(region[0]), bound[0] - 1), min(int(region[1]), bound[1] - 1)
    w = max(1, min(bound[0] - x, round(region[0] + region[2]) - x))
    h = max(1, min(bound[1] - y, round(region[1] + region[3]) - y))
    return x, y, w, h


# --- the pictures Pillow draws -----------------------------------------------------------------


def _open_still(path: Path) -> Image.Image:
    """A still, upright (EXIF orientation applied)."""
    try:
        with Image.open(path) as opened:
            upright = ImageOps.exif_transpose(opened)
            upright.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UserError(f"{path.name}: the image cannot be read ({exc})") from None
    return upright


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info


def still_picture(
    path: Path, region: tuple[float, float, float, float], size: tuple[int, int]
) -> Image.Image:
    """``region`` of the still at ``path`` scaled to ``size``: RGBA if it has transparency."""
    image = _open_still(path)
    mode = "RGBA" if _has_alpha(image) else "RGB"
    x, y, w, h = region
    return image.convert(mode).resize(size, Image.Resampling.LANCZOS, box=(x, y, x + w, y + h))


def gradient_picture(card: CardClip, size: tuple[int, int]) -> Image.Image:
    """The card's two-colour linear gradient, top to bottom, left to right or corner to
    corner."""
    width, height = size
    start = np.array(parse_color(card.color), dtype=np.float32)
    end = np.array(parse_color(card.gradient_to or card.color), dtype=np.float32)
    across = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    down = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    if card.direction == "vertical":
        share = np.broadcast_to(down, (height, width))
    elif card.direction == "horizontal":
        share = np.broadcast_to(across, (height, width))
    else:
        share = np.broadcast_to((across + down) / np.float32(2), (height, width))
    pixels = start + (end - start) * share[..., None]
    return Image.fromarray(np.round(pixels).astype(np.uint8), "RGBA")


# --- the command -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Picture:
    """A PNG to write into the work folder before ffmpeg runs, drawn when written."""

    name: str
    draw: Callable[[], Image.Image]


@dataclass(frozen=True, slots=True)
class Command:
    """An ffmpeg run: its arguments (the graph read from ``GRAPH_FILE`` in ``folder``), the
    graph itself, and the pictures it reads from ``folder``."""

    args: tuple[str, ...]
    graph: str
    pictures: tuple[Picture, ...]
    output: Output


def _num(value: float) -> str:
    """A number as ffmpeg reads it: no exponent, no needless digits."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


def _enable(start: float, end: float) -> str:
    return f"enable='gte(t,{_num(start - EDGE_S)})*lt(t,{_num(end - EDGE_S)})'"


def _hex(color: str) -> str:
    return "0x" + color.lstrip("#")


@dataclass(slots=True)
class _Builder:
    """The graph under construction: inputs, chains and the names of the streams."""

    project: Project
    media: Mapping[str, MediaInfo]
    output: Output
    folder: Path
    inputs: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    sounds: list[str] = field(default_factory=list)
    count: int = 0

    def label(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def add_input(self, args: list[str]) -> int:
        self.inputs.append(args)
        return len(self.inputs) - 1

    def add_picture(self, draw: Callable[[], Image.Image]) -> int:
        name = f"picture-{len(self.pictures)}.png"
        self.pictures.append(Picture(name, draw))
        return self.add_input(["-i", str(self.folder / name)])

    @property
    def rate(self) -> str:
        rate = self.output.rate
        return (
            str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"
        )


def _opacity(opacity: float) -> list[str]:
    """Opacity as a scaled alpha plane (before a picture is repeated: done once)."""
    return [f"lut=a='val*{_num(opacity)}'"] if opacity < 1 else []


def _fades(fade_in: float, fade_out: float, start: float, end: float) -> list[str]:
    """Fades in and out of the alpha plane, in timeline time."""
    filters = []
    if fade_in > 0:
        filters.append(f"fade=t=in:st={_num(start)}:d={_num(fade_in)}:alpha=1")
    if fade_out > 0:
        filters.append(f"fade=t=out:st={_num(end - fade_out)}:d={_num(fade_out)}:alpha=1")
    return filters


def _repeated(frames: int, start: float, rate: str) -> list[str]:
    """One picture shown for ``frames`` frames from ``start``."""
    return [
        f"loop=loop={frames - 1}:size=1:start=0",
        f"setpts={_num(start)}/TB+N/({rate})/TB",
    ]


def _visual(
    builder: _Builder, clip: VideoClip | ImageClip | CardClip | TextClip, number: int | None
) -> tuple[str, tuple[int, int]] | None:
    """The clip's chain (a video clip's pictures come from input ``number``); the stream's
    label and where it goes on the canvas (None: unseen)."""
    canvas = builder.output.canvas
    start = clip.start
    length = clip_length(clip)
    assert length is not None  # resolve_project filled every out
    end = start + length
    fade_in = max(clip.fade_in, clip.transition)
    frames = max(1, math.ceil(length * builder.output.rate - 1e-6)) + 1
    translucent = fade_in > 0 or clip.fade_out > 0
    steps: list[str]
    if isinstance(clip, TextClip):
        picture, at = render_text(clip, *canvas)
        index = builder.add_picture(lambda: picture)
        steps = ["format=yuva420p", *_repeated(frames, start, builder.rate)]
        steps += _fades(fade_in, clip.fade_out, start, end)
        return _chain(builder, f"[{index}:v]", steps), at
    if isinstance(clip, CardClip):
        opacity = clip.opacity
        alpha = translucent or opacity < 1 or parse_color(clip.color)[3] < 255
        if clip.gradient_to is not None:
            alpha = alpha or parse_color(clip.gradient_to)[3] < 255
            index = builder.add_picture(lambda: gradient_picture(clip, canvas))
            source = f"[{index}:v]"
            steps = [f"format={'yuva420p' if alpha else 'yuv420p'}", *_opacity(opacity)]
            steps += _repeated(frames, start, builder.rate)
        else:
            source = ""
            steps = [
                f"color=c={_hex(clip.color)}:s={canvas[0]}x{canvas[1]}:r={builder.rate}"
                f":d={_num(length)}",
                f"format={'yuva420p' if alpha else 'yuv420p'}",
                *_opacity(opacity),  # the colour source draws once and repeats the frame
                f"setpts=PTS-STARTPTS+{_num(start)}/TB",
            ]
        steps += _fades(fade_in, clip.fade_out, start, end)
        return _chain(builder, source, steps), (0, 0)
    info = builder.media[clip.source]
    size = (info.width or 0, info.height or 0)
    placement = place(size, clip.fit, clip.scale, clip.x, clip.y, canvas, clip.crop)
    if placement is None:
        return None
    alpha = translucent or clip.opacity < 1 or info.has_alpha
    pix_fmt = "yuva420p" if alpha else "yuv420p"
    if isinstance(clip, VideoClip):
        x, y, w, h = _pixel_box(placement.region, size)
        steps = [f"setpts=PTS-STARTPTS+{_num(start)}/TB", f"fps={builder.rate}"]
        if (x, y, w, h) != (0, 0, *size):
            steps.append(f"crop={w}:{h}:{x}:{y}")
        if (w, h) != placement.size:
            steps.append(f"scale={placement.size[0]}:{placement.size[1]}")
        if alpha:
            steps.append(f"format={pix_fmt}")
        steps += [*_opacity(clip.opacity), *_fades(fade_in, clip.fade_out, start, end)]
        return _chain(builder, f"[{number}:v]", steps), placement.at
    if clip.zoom_from == clip.zoom_to and clip.pan_from == clip.pan_to:
        zoomed = _zoomed(placement, clip, size, clip.zoom_from, clip.pan_from)
        index = builder.add_picture(lambda: still_picture(info.path, zoomed, placement.size))
        steps = [f"format={pix_fmt}", *_opacity(clip.opacity)]
        steps += _repeated(frames, start, builder.rate)
        steps += _fades(fade_in, clip.fade_out, start, end)
        return _chain(builder, f"[{index}:v]", steps), placement.at
    return _ken_burns(builder, clip, info, size, placement, frames, pix_fmt, fade_in)


def _zoomed(
    placement: Placement,
    clip: ImageClip,
    size: tuple[int, int],
    zoom: float,
    pan: tuple[float, float],
) -> tuple[float, float, float, float]:
    """The source region a still zoomed by ``zoom`` around ``pan`` shows in the visible part."""
    left, top, width, height = (
        (0, 0, *size)
        if clip.crop is None
        else (clip.crop.x, clip.crop.y, clip.crop.width, clip.crop.height)
    )
    if zoom == 1:
        return placement.region
    view_w, view_h = width / zoom, height / zoom
    view_x = min(max(pan[0] * width - view_w / 2, 0.0), width - view_w)
    view_y = min(max(pan[1] * height - view_h / 2, 0.0), height - view_h)
    rx, ry, rw, rh = placement.region
    return (
        left + view_x + (rx - left) / zoom,
        top + view_y + (ry - top) / zoom,
        rw / zoom,
        rh / zoom,
    )


def _ken_burns(
    builder: _Builder,
    clip: ImageClip,
    info: MediaInfo,
    size: tuple[int, int],
    placement: Placement,
    frames: int,
    pix_fmt: str,
    fade_in: float,
) -> tuple[str, tuple[int, int]]:
    """A moving view over a still: ``zoompan`` draws the source's whole shown rectangle, which
    is then cut to the visible part."""
    shown_x, shown_y, shown_w, shown_h = placement.shown
    x0, y0 = round(shown_x), round(shown_y)
    out_w = max(1, round(shown_x + shown_w) - x0)
    out_h = max(1, round(shown_y + shown_h) - y0)
    detail = KEN_BURNS_DETAIL * max(clip.zoom_from, clip.zoom_to)
    detail = min(detail, KEN_BURNS_MAX_SIDE / max(out_w, out_h))
    base = (even(out_w * detail), even(out_h * detail))
    left, top, width, height = (
        (0, 0, *size)
        if clip.crop is None
        else (clip.crop.x, clip.crop.y, clip.crop.width, clip.crop.height)
    )
    region = (float(left), float(top), float(width), float(height))
    index = builder.add_picture(lambda: still_picture(info.path, region, base))
    last = max(1, frames - 2)  # the clip's last frame (the one after it is never shown)
    share = f"min(on/{last},1)"
    zoom = f"{_num(clip.zoom_from)}+{_num(clip.zoom_to - clip.zoom_from)}*{share}"
    (px0, py0), (px1, py1) = clip.pan_from, clip.pan_to
    pan_x = f"({_num(px0)}+{_num(px1 - px0)}*{share})"
    pan_y = f"({_num(py0)}+{_num(py1 - py0)}*{share})"
    steps = [
        f"format={pix_fmt}",
        *_opacity(clip.opacity),
        f"zoompan=z='{zoom}':x='clip({pan_x}*iw-iw/zoom/2,0,iw-iw/zoom)'"
        f":y='clip({pan_y}*ih-ih/zoom/2,0,ih-ih/zoom)':d={frames}:s={out_w}x{out_h}"
        f":fps={builder.rate}",
        f"setpts=PTS-STARTPTS+{_num(clip.start)}/TB",
    ]
    (at_x, at_y), (w, h) = placement.at, placement.size
    if (w, h) != (out_w, out_h):
        steps.append(f"crop={w}:{h}:{at_x - x0}:{at_y - y0}")
    steps += _fades(fade_in, clip.fade_out, clip.start, clip.start + clip.duration)
    return _chain(builder, f"[{index}:v]", steps), placement.at


def _chain(builder: _Builder, source: str, steps: Sequence[str]) -> str:
    label = builder.label("c")
    builder.chains.append(f"{source}{','.join(steps)}[{label}]")
    return label


# --- sound -------------------------------------------------------------------------------------


def _voice_spans(project: Project) -> list[tuple[float, float]]:
    spans = []
    for track in project.tracks:
        if track.role != "voice" or track.muted:
            continue
        for clip in track.clips:
            end = clip_end(clip)
            if end is not None:
                spans.append((clip.start, end))
    return sorted(spans)


def _merged(spans: list[tuple[float, float]], ramp: float) -> list[tuple[float, float]]:
    """Spans joined where their ramps would meet, so at most one ramp acts at a time."""
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start - ramp <= merged[-1][1] + ramp:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def duck_expression(
    duck: float, ramp: float, voices: list[tuple[float, float]], start: float, end: float
) -> str | None:
    """The ``volume`` expression of a clip's local time ``t`` (it plays ``start``..``end`` on
    the timeline) that is ``duck`` while a voice plays; None when no voice meets it."""
    terms = []
    for a, b in _merged(voices, ramp):
        if b + ramp <= start or a - ramp >= end:
            continue
        now = f"(t+{_num(start)})"
        if ramp > 0:
            terms.append(
                f"clip(min(({now}-{_num(a - ramp)})/{_num(ramp)},"
                f"({_num(b + ramp)}-{now})/{_num(ramp)}),0,1)"
            )
        else:
            terms.append(f"between({now},{_num(a)},{_num(b)})")
    if not terms:
        return None
    return f"1-{_num(1 - duck)}*min(1,{'+'.join(terms)})"


def _sound(
    builder: _Builder,
    source: str,
    clip: VideoClip | AudioClip,
    voices: list[tuple[float, float]],
    on_voice_track: bool,
) -> None:
    rate = builder.output.sample_rate
    length = clip_length(clip)
    assert length is not None and clip.out is not None
    steps = [
        f"aresample={rate}",
        f"aformat=sample_fmts=fltp:sample_rates={rate}:channel_layouts=stereo",
        "asetpts=PTS-STARTPTS",
    ]
    if isinstance(clip, AudioClip) and clip.loop:
        steps.append(f"aloop=loop=-1:size={max(1, round((clip.out - clip.in_) * rate))}")
    steps.append(f"atrim=duration={_num(length)}")
    if clip.volume != 1:
        steps.append(f"volume={_num(clip.volume)}")
    if clip.fade_in > 0 or clip.transition > 0:
        steps.append(f"afade=t=in:st=0:d={_num(max(clip.fade_in, clip.transition))}")
    if clip.fade_out > 0:
        steps.append(f"afade=t=out:st={_num(length - clip.fade_out)}:d={_num(clip.fade_out)}")
    if isinstance(clip, AudioClip) and clip.duck < 1 and not on_voice_track:
        gain = duck_expression(clip.duck, clip.duck_fade, voices, clip.start, clip.start + length)
        if gain is not None:
            steps.append(f"volume='{gain}':eval=frame")
    if clip.start > 0:
        steps.append(f"adelay=delays={round(clip.start * 1000)}:all=1")
    builder.sounds.append(_chain(builder, source, steps))


def _mix(builder: _Builder) -> str:
    output = builder.output
    rate, duration = output.sample_rate, _num(output.duration)
    label = "aout"
    if not builder.sounds:
        builder.chains.append(f"anullsrc=r={rate}:cl=stereo,atrim=duration={duration}[{label}]")
        return label
    streams = "".join(f"[{sound}]" for sound in builder.sounds)
    steps = []
    if len(builder.sounds) > 1:
        steps.append(
            f"amix=inputs={len(builder.sounds)}:normalize=0:dropout_transition=0:duration=longest"
        )
    else:
        steps.append("anull")
    steps += [
        f"aformat=sample_fmts=fltp:sample_rates={rate}:channel_layouts=stereo",
        f"apad=whole_dur={duration}",
        f"atrim=duration={duration}",
    ]
    builder.chains.append(f"{streams}{','.join(steps)}[{label}]")
    return label


# --- the explicit label ------------------------------------------------------------------------


def _draw_label(builder: _Builder, wording: str, source: str, target: str) -> None:
    """The corner label on every frame of ``source`` and the opening notice on its first
    ``NOTICE_SECONDS``, as ``explicit_video.label_video`` draws them on a file of this size."""
    preset = builder.output.preset
    info = VideoInfo(preset.width, preset.height, builder.output.duration, 0)
    corner, notice = label_overlays(wording, info)
    first = builder.add_picture(lambda: corner.image)
    second = builder.add_picture(lambda: notice.image)
    pads = (f"{first}:v", f"{second}:v", "cornered")
    builder.chains.append(overlay_steps(corner, notice, pads, source, target, ",format=yuv420p"))


# --- putting it together -----------------------------------------------------------------------


def _tracks(project: Project) -> Iterator[tuple[Track, list[int]]]:
    """Each track with its clips' indices in timeline order."""
    for track in project.tracks:
        yield track, sorted(range(len(track.clips)), key=lambda i: track.clips[i].start)


def build_command(
    project: Project,
    media: Mapping[str, MediaInfo],
    output: Output,
    folder: Path,
    target: Path,
    label: str | None = None,
) -> Command:
    """The ffmpeg run that renders ``project`` (every ``out`` known) to ``target``, reading
    ``media`` (each source's ``MediaInfo``) and the pictures and graph it puts in ``folder``;
    with ``label``, the explicit AI label in that wording drawn over the finished frame.
    Pure: nothing is read or written until the pictures are drawn."""
    builder = _Builder(project, media, output, folder)
    cw, ch = output.canvas
    duration = _num(output.duration)
    builder.chains.append(
        f"color=c={_hex(project.background[:7])}:s={cw}x{ch}:r={builder.rate}:d={duration},"
        f"format=yuv420p[base]"
    )
    base = "base"
    voices = _voice_spans(project)
    for track, order in _tracks(project):
        for index in order:
            clip = track.clips[index]
            if track.hidden and not isinstance(clip, AudioClip):
                continue
            audible = not track.muted and not isinstance(clip, ImageClip | CardClip | TextClip)
            number = None
            if isinstance(clip, VideoClip | AudioClip):
                info = media[clip.source]
                audible = audible and clip.volume > 0 and info.has_audio
                if isinstance(clip, VideoClip) or audible:
                    length = _num((clip.out or 0) - clip.in_)
                    number = builder.add_input(
                        ["-ss", _num(clip.in_), "-t", length, "-i", str(info.path)]
                    )
                if audible:
                    _sound(builder, f"[{number}:a]", clip, voices, track.role == "voice")
            if isinstance(clip, AudioClip):
                continue
            placed = _visual(builder, clip, number)
            if placed is None:
                continue
            stream, (x, y) = placed
            end = clip_end(clip)
            assert end is not None
            composed = builder.label("v")
            builder.chains.append(
                f"[{base}][{stream}]overlay=x={x}:y={y}:eof_action=pass:"
                f"{_enable(clip.start, end)}[{composed}]"
            )
            base = composed
    width, height = output.preset.width, output.preset.height
    finish = "format=yuv420p"
    if (cw, ch) != (width, height):
        ox, oy = output.offset
        finish = f"pad={width}:{height}:{ox}:{oy}:color={_hex(project.background[:7])},{finish}"
    if label is None:
        builder.chains.append(f"[{base}]{finish}[vout]")
    else:
        builder.chains.append(f"[{base}]{finish}[framed]")
        _draw_label(builder, label, "framed", "vout")
    sound = _mix(builder)
    graph = ";\n".join(builder.chains) + "\n"
    preset = output.preset
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    for given in builder.inputs:
        args += given
    args += ["-filter_complex_script", str(folder / GRAPH_FILE)]
    args += ["-map", "[vout]", "-map", f"[{sound}]"]
    args += ["-c:v", preset.video_codec, "-profile:v", preset.profile, "-pix_fmt", preset.pix_fmt]
    args += ["-crf", str(preset.crf), "-preset", preset.x264_preset, "-r", builder.rate]
    args += ["-c:a", preset.audio_codec, "-b:a", preset.audio_bitrate]
    args += ["-ar", str(output.sample_rate), "-ac", "2"]
    args += ["-t", duration, "-movflags", "+faststart", "-max_muxing_queue_size", "4096"]
    args += ["-progress", "pipe:1", "-nostats", "-f", preset.container, str(target)]
    return Command(tuple(args), graph, tuple(builder.pictures), output)


# --- running it --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderResult:
    path: Path
    duration: float
    width: int
    height: int
    fps: float
    frames: int
    seconds: float  # wall time


def _run(args: Sequence[str], duration: float, timeout: float, progress: Progress | None) -> int:
    """Run ffmpeg, turning its ``-progress`` lines into ``progress`` calls; the frames it
    wrote. ffmpeg's failure, or its running past ``timeout``, is a UserError."""
    frames = 0

    def consume(stdout: IO[bytes]) -> None:
        nonlocal frames
        last_report = 0.0
        for raw in stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "frame" and value.isdigit():
                frames = int(value)
            elif key == "out_time_us" and value.lstrip("-").isdigit() and progress is not None:
                now = time.monotonic()
                if now - last_report >= PROGRESS_INTERVAL_S:
                    last_report = now
                    done = min(1.0, max(0.0, int(value) / 1e6 / duration))
                    progress(done, "rendering")

    run_streaming(args, timeout=timeout, what="the render failed", consume=consume)
    return frames


def render_project(
    project: Project,
    out: Path,
    resolver: MediaResolver,
    *,
    preset: Preset | None = None,
    preview: bool = False,
    progress: Progress | None = None,
    timeout: float | None = None,
    label: str | None = None,
) -> RenderResult:
    """Render ``project`` to the MP4 ``out`` with ``preset`` (the project's canvas and rate
    when None; ``preview``: the low-resolution draft), calling ``progress(fraction, stage)``
    as it goes; with ``label``, the explicit AI label in that wording drawn as
    ``mark.explicit_video`` draws it. ``out`` appears only complete; on failure it is left as
    it was."""
    began = time.monotonic()
    resolved = resolve_project(project, resolver)
    duration = project_duration(resolved)
    if duration <= 0 or not any(track.clips for track in resolved.tracks):
        raise InvalidProject("the project is empty: add a clip before rendering")
    out = Path(out)
    if out.is_dir():
        raise UserError(f"the output {out} is a folder; give a file name such as video.mp4")
    if not out.parent.is_dir():
        raise UserError(f"the output folder {out.parent} does not exist")
    media = {
        clip.source: resolver.info(clip.source)
        for track in resolved.tracks
        for clip in track.clips
        if isinstance(clip, VideoClip | ImageClip | AudioClip)
    }
    output = output_for(resolved, duration, preset, preview=preview)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=".part")
    os.close(handle)
    target = Path(temporary)
    try:
        with tempfile.TemporaryDirectory(prefix="hallmark-render-") as work:
            folder = Path(work)
            command = build_command(resolved, media, output, folder, target, label)
            for picture in command.pictures:
                picture.draw().save(folder / picture.name, compress_level=1)
            (folder / GRAPH_FILE).write_text(command.graph, encoding="utf-8")
            if progress is not None:
                progress(0.0, "rendering")
            frames = _run(
                command.args,
                duration,
                timeout if timeout is not None else render_timeout(duration),
                progress,
            )
        if target.stat().st_size == 0:
            raise UserError("the render failed: ffmpeg wrote nothing")
        os.replace(target, out)
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    if progress is not None:
        progress(1.0, "done")
    return RenderResult(
        path=out,
        duration=duration,
        width=output.preset.width,
        height=output.preset.height,
        fps=float(output.rate),
        frames=frames or output.frames,
        seconds=time.monotonic() - began,
    )
