"""The explicit label for video (MP4, MOV): GB 45438-2025 asks for a notice on the opening
frames (at least 2 s) and a suitable label during playback.

Two overlays, both drawn with the image label's layout and look (``explicit_image``):

- the corner label, bottom-right on every frame, text height 6% of the shorter side (at least
  the legal 5%), white on a dark rounded box, exactly as on images;
- the opening notice, for the first ``NOTICE_SECONDS`` (the whole clip when it is shorter):
  the wording larger (``NOTICE_SHARE`` of the shorter side) and centred, on a translucent band
  across the frame.

They are rendered once with Pillow as RGBA PNGs, cropped to what they cover, and composited by
the ffmpeg CLI's ``overlay`` filter (which touches only the overlay's rectangle), in the same
pass as the re-encode. ffmpeg is called with an argument list, never through a shell, with a
timeout; its failures become a UserError with ffmpeg's last message.

Encoding: the pixels must change, so the video is re-encoded: H.264 (libx264, CRF 18, preset
veryfast: visually lossless for most sources), 8-bit yuv420p (what every player decodes), same
resolution, every frame with its own timestamp (no frames dropped or duplicated), in the
source's container (MP4 stays MP4, MOV stays MOV). Audio streams are copied packet for packet
(byte-identical, not re-encoded); other streams (subtitles, timecode, data) are dropped. A
rotation in the display matrix is kept: the frames stay stored as they were and the overlays
are rotated so that they appear upright, bottom-right and centred as the video is shown.
Container metadata is copied, so a GB 45438 ``AIGC`` item survives; the GB 45438 and C2PA
markers, which run after this one, write theirs afresh.

The label costs no encode of its own where another encode happens anyway:

- a maker may draw it in its own encode with ``label_overlays`` and ``NOTICE_SECONDS`` (the
  studio's renderer composites both overlays at the end of its filter graph) and say so with
  ``metadata["explicit_label"]`` set to the wording; the marker then checks the container and
  returns the content as it is;
- where the plan writes the watermark after this marker (``LabelContext.later``), the marker
  leaves the wording in ``metadata[PENDING_EXPLICIT]`` and the video watermark draws both
  overlays (``write_overlays``) while it decodes the frames it marks; ``apply_labels`` refuses
  content whose label was left and not drawn.

Content whose ``explicit_label`` is absent or another wording, with no watermark to come, is
labelled as above.

Refused with a UserError: empty, truncated or undecodable files, files without a video stream
(audio-only MP4), bytes that are not the declared type, clips longer than ``MAX_SECONDS`` or
larger than 4K (``MAX_LONG_SIDE`` x ``MAX_SHORT_SIDE``), frames too small for a legal label.
"""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from hallmark.content import Content, Medium
from hallmark.errors import HallmarkError, UserError
from hallmark.mark.base import EXPLICIT, PENDING_EXPLICIT, WATERMARK, LabelContext, Marker
from hallmark.mark.explicit_image import (
    LEGAL_SHARE,
    MIN_TEXT_PX,
    TEXT_FILL,
    LabelLayout,
    draw_label,
    font_for_cap,
)
from hallmark.mark.gb45438.formats import base_type
from hallmark.media_types import sniff
from hallmark.registry import Components

NOTICE_SECONDS = 2.0  # GB 45438-2025: a notice on the opening frames, at least 2 s
NOTICE_SHARE = 0.08  # the notice's text height, of the shorter side
NOTICE_BAND_FILL = (16, 16, 16, 150)  # about 59% opaque
MAX_SECONDS = 600.0
MAX_LONG_SIDE, MAX_SHORT_SIDE = 4096, 2304
VIDEO_CODEC = "libx264"
CRF, PRESET, PIX_FMT = "18", "veryfast", "yuv420p"
PROBE_TIMEOUT_S = 30.0


def encode_timeout(duration: float) -> float:
    """Seconds an ffmpeg pass may take for a clip of ``duration`` seconds (4K on two cores
    encodes at several frames a second)."""
    return 120.0 + 10.0 * duration


# The container ffmpeg writes for each media type: the source's own.
CONTAINERS: dict[str, str] = {"video/mp4": "mp4", "video/quicktime": "mov"}

# Display-matrix rotation (ffprobe's angle, counter-clockwise, mod 360) -> the transposition
# from how the video is shown back to how its frames are stored.
_TO_STORED: dict[int, Image.Transpose] = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


# --- running ffmpeg --------------------------------------------------------------------------


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    return next((line for line in reversed(lines) if line), "no message")


def run_tool(args: list[str], timeout: float, cwd: Path | None = None) -> bytes:
    """Run ffmpeg or ffprobe; their stdout, or a UserError with their last stderr line."""
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, check=False, cwd=cwd)
    except FileNotFoundError as exc:
        raise HallmarkError(
            f"{args[0]} is not installed; the video label needs ffmpeg (Debian: apt install ffmpeg)"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise UserError(
            f"the video cannot be labelled: {args[0]} took longer than {timeout:.0f} s"
        ) from exc
    if done.returncode != 0:
        raise UserError(
            f"corrupt or unsupported video: {args[0]}: {_last_line(done.stderr)}",
        )
    return done.stdout


# --- what the source is ----------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class VideoInfo:
    width: int  # as stored
    height: int
    duration: float  # seconds
    rotation: int  # the display matrix's angle (counter-clockwise): 0, 90, 180 or 270

    @property
    def shown_size(self) -> tuple[int, int]:
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def probe(path: Path) -> VideoInfo:
    """The first video stream's size, the clip's duration and rotation, checked against the
    limits."""
    out = run_tool(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration:stream=codec_type,width,height,duration:stream_side_data=rotation",
            "-of",
            "json",
            str(path),
        ],
        PROBE_TIMEOUT_S,
    )
    try:
        found = json.loads(out)
    except ValueError as exc:
        raise UserError("corrupt or unsupported video: ffprobe gave no description") from exc
    streams = [s for s in found.get("streams", []) if s.get("codec_type") == "video"]
    if not streams:
        raise UserError("the file has no video stream to label (an audio-only MP4?)")
    stream = streams[0]
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise UserError("corrupt or unsupported video: the video stream has no frame size")
    long_side, short_side = max(width, height), min(width, height)
    if long_side > MAX_LONG_SIDE or short_side > MAX_SHORT_SIDE:
        raise UserError(
            f"the video is {width}x{height}; hallmark labels video up to 4K "
            f"({MAX_LONG_SIDE}x{MAX_SHORT_SIDE})"
        )
    duration = _number(found.get("format", {}).get("duration"))
    if duration is None:
        duration = _number(stream.get("duration"))
    if duration is None or duration <= 0:
        raise UserError("corrupt or unsupported video: its duration cannot be read")
    if duration > MAX_SECONDS:
        raise UserError(
            f"the video is {duration:.0f} s long; hallmark labels clips up to "
            f"{MAX_SECONDS / 60:.0f} minutes"
        )
    rotation = 0
    for side_data in stream.get("side_data_list", []):
        angle = _number(side_data.get("rotation"))
        if angle is not None:
            rotation = round(angle) % 360
    return VideoInfo(width, height, duration, rotation if rotation in _TO_STORED else 0)


# --- the overlays ----------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Overlay:
    """An RGBA picture to composite at (x, y) of the stored frames."""

    image: Image.Image
    x: int
    y: int


def _as_stored(canvas: Image.Image, rotation: int) -> Overlay:
    """The part of a shown-size RGBA canvas that was drawn on, turned as the frames are
    stored."""
    undo = _TO_STORED.get(rotation)
    stored = canvas.transpose(undo) if undo is not None else canvas
    box = stored.getchannel("A").getbbox()
    if box is None:
        raise HallmarkError("the video label came out empty")
    return Overlay(stored.crop(box), box[0], box[1])


def corner_label(wording: str, info: VideoInfo) -> tuple[Overlay, LabelLayout]:
    """The image label, bottom-right of the frame as shown."""
    canvas = Image.new("RGBA", info.shown_size, (0, 0, 0, 0))
    layout = draw_label(canvas, wording)
    return _as_stored(canvas, info.rotation), layout


def opening_notice(wording: str, info: VideoInfo) -> Overlay:
    """The wording centred on a translucent band across the frame as shown, text
    ``NOTICE_SHARE`` of the shorter side (smaller where the line would not fit)."""
    width, height = info.shown_size
    short = min(width, height)
    least = max(1, math.ceil(LEGAL_SHARE * short))
    cap = max(MIN_TEXT_PX, math.ceil(NOTICE_SHARE * short))
    while True:
        font = font_for_cap(cap)
        left, top, right, bottom = (int(v) for v in font.getbbox(wording))
        if right - left <= 0.9 * width or cap <= least:
            break
        cap -= 1
    pad = math.ceil(0.6 * cap)
    text_w, text_h = right - left, bottom - top
    band_top = (height - text_h) // 2 - pad
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, band_top, width - 1, band_top + text_h + 2 * pad - 1), fill=NOTICE_BAND_FILL)
    origin = ((width - text_w) // 2 - left, band_top + pad - top)
    draw.text(origin, wording, font=font, fill=TEXT_FILL)
    return _as_stored(canvas, info.rotation)


def label_overlays(wording: str, info: VideoInfo) -> tuple[Overlay, Overlay]:
    """The corner label and the opening notice for frames described by ``info``; a blank
    wording is refused."""
    if not wording.strip():
        raise UserError("the explicit label has no wording")
    corner, _ = corner_label(wording, info)
    return corner, opening_notice(wording, info)


# --- labelling -------------------------------------------------------------------------------


def container_for(content: Content) -> str:
    """The ffmpeg muxer for the content, after checking its bytes are that container."""
    declared = base_type(content.media_type)
    container = CONTAINERS.get(declared)
    if container is None:
        raise UserError(
            f"no explicit label can be drawn on {declared!r} video; "
            f"supported: {', '.join(sorted(CONTAINERS))}"
        )
    actual = sniff(content.data)  # an empty file is refused here
    if actual not in CONTAINERS:
        raise UserError(f"the file was sent as {declared} but is not an MP4 or MOV file")
    return CONTAINERS[actual]


CORNER_PNG, NOTICE_PNG = "corner.png", "notice.png"


def overlay_steps(
    corner: Overlay,
    notice: Overlay,
    pads: tuple[str, str, str],
    source: str,
    target: str,
    then: str = "",
) -> str:
    """The two overlay filters of the label, from the stream ``source`` to ``target``:
    ``pads`` names the corner picture's stream, the notice picture's, and the one between;
    the notice shows for the first ``NOTICE_SECONDS``; ``then`` (``,filter``) follows it in
    the same chain. Any graph that draws the label (this marker's, the studio's render) draws
    it with these steps."""
    corner_pad, notice_pad, between = pads
    return (
        f"[{source}][{corner_pad}]overlay=x={corner.x}:y={corner.y}[{between}];"
        f"[{between}][{notice_pad}]overlay=x={notice.x}:y={notice.y}"
        f":enable='lt(t,{NOTICE_SECONDS})'{then}[{target}]"
    )


def overlay_graph(corner: Overlay, notice: Overlay) -> str:
    """The ``-filter:v`` graph that composites both overlays, read from ``CORNER_PNG`` and
    ``NOTICE_PNG`` in the working folder."""
    sources = f"movie={CORNER_PNG}[corner];movie={NOTICE_PNG}[notice];"
    return sources + overlay_steps(corner, notice, ("corner", "notice", "labelled"), "in", "out")


def write_overlays(folder: Path, wording: str, info: VideoInfo) -> str:
    """Both overlays for frames described by ``info``, saved in ``folder``; the filter graph
    that draws them (run ffmpeg in ``folder``)."""
    corner, notice = label_overlays(wording, info)
    corner.image.save(folder / CORNER_PNG)
    notice.image.save(folder / NOTICE_PNG)
    return overlay_graph(corner, notice)


def encode_args(corner: Overlay, notice: Overlay, container: str) -> list[str]:
    """The ffmpeg command line, run in the folder holding ``in.<container>`` and the overlays'
    PNGs: both overlays in the video stream's own filter graph (with ``-noautorotate`` ffmpeg
    then copies the display matrix; ``-filter_complex`` outputs lose it in ffmpeg 5), video
    re-encoded, audio copied."""
    graph = overlay_graph(corner, notice)
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y"]
    args += ["-noautorotate", "-i", f"in.{container}", "-map", "0:v:0", "-map", "0:a?"]
    args += ["-filter:v", graph, "-c:v", VIDEO_CODEC, "-crf", CRF, "-preset", PRESET]
    args += ["-pix_fmt", PIX_FMT, "-fps_mode", "passthrough", "-c:a", "copy"]
    args += ["-map_metadata", "0"]
    return [*args, "-f", container, f"out.{container}"]


def label_video(data: bytes, container: str, wording: str) -> bytes:
    """``data`` with the corner label and the opening notice, in its own container."""
    if not wording.strip():
        raise UserError("the explicit label has no wording")
    with tempfile.TemporaryDirectory(prefix="hallmark-video-") as folder:
        root = Path(folder)
        source, target = root / f"in.{container}", root / f"out.{container}"
        source.write_bytes(data)
        info = probe(source)
        corner, notice = label_overlays(wording, info)
        corner.image.save(root / CORNER_PNG)
        notice.image.save(root / NOTICE_PNG)
        args = encode_args(corner, notice, container)
        run_tool(args, encode_timeout(info.duration), cwd=root)
        labelled = target.read_bytes() if target.exists() else b""
    if not labelled:
        raise UserError("the video cannot be labelled: ffmpeg wrote nothing")
    return labelled


class ExplicitVideoLabel(Marker):
    scheme: ClassVar[str] = EXPLICIT
    media: ClassVar[frozenset[Medium]] = frozenset({"video"})

    def mark(self, content: Content, context: LabelContext) -> Content:
        container = container_for(content)
        if content.metadata.get("explicit_label") == context.wording:
            return content  # its maker drew this label with ``label_overlays``
        if WATERMARK in context.later:  # the watermark re-encodes anyway: it draws the label
            return content.with_data(content.data, **{PENDING_EXPLICIT: context.wording})
        labelled = label_video(content.data, container, context.wording)
        return content.with_data(labelled, explicit_label=context.wording)


def register(components: Components) -> None:
    components.markers.register("explicit.video", ExplicitVideoLabel())
