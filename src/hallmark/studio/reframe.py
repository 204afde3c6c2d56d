"""Reframe a landscape video to portrait (9:16) by following the person in it.

A portrait crop of a landscape frame keeps about a third of its width, so where the window
sits decides whether the speaker is in the picture. Four steps, the middle two pure:

1. ``detect_subjects``: frames sampled a few times a second, downscaled by ffmpeg to NudeNet's
   own 320 px input, and NudeNet's ``FACE_FEMALE``/``FACE_MALE`` boxes as the faces.
   (OpenCV 5, as installed, no longer ships the Haar cascades, and its YuNet detector needs
   weights that no package here bundles; NudeNet's YOLOv8n comes with its weights and is the
   process's shared model already.) A face is followed: the one nearest the last, else the
   largest. Faces under about 16 px at 320 px are missed, so a face should be at least ~5%
   of the frame's longer side.
2. ``crop_path``: the window's left edge at each sample: centred on the face, holding still
   where no face was found (before the first face: at the first face; with none at all:
   centred), smoothed by a centred moving average (no lag, unlike a spring) and limited in
   speed, so the virtual camera pans rather than jumps.
3. ``crop_filter``: the path as one ffmpeg ``crop`` filter whose ``x`` is a piecewise-linear
   expression of ``t`` (the filter evaluates it per frame), the path first simplified to the
   points that matter within a pixel so that a long clip stays a short expression. Path
   times count from the first frame, as ``t`` does: ffmpeg starts each input's timeline at
   zero (a video stream that starts a frame after the sound shifts the path by that frame).
4. ``reframe``: one ffmpeg pass: crop, scale to the target size, H.264 High and AAC, faststart;
   written to a temporary file beside the output and moved into place when whole.

A source already narrower than the target shape keeps its full width and is cropped in
height instead, vertically centred (cropping, not padding, so the output is filled).
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from hallmark.errors import UserError
from hallmark.studio.ffmpeg import run_streaming
from hallmark.studio.media import probe

Box = tuple[int, int, int, int]  # x, y, width, height in source pixels
PathPoint = tuple[float, int]  # seconds, the crop window's left edge in source pixels
Progress = Callable[[float], None]  # fraction done, 0 to 1

DETECT_SIDE = 320  # NudeNet's input: larger frames are only shrunk again inside it
FACE_LABELS = frozenset({"FACE_FEMALE", "FACE_MALE"})
MIN_FACE_SCORE = 0.3
DETECTORS = ("face", "center")
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow")
SIMPLIFY_PX = 1.0  # the crop path may be off by this much where it is simplified
DETECT_SHARE = 0.2  # of the progress bar: detection; the rest is the encode


@dataclass(frozen=True, slots=True)
class Subject:
    t: float  # seconds from the start of the video
    box: Box | None  # None: no face in this sample


@dataclass(frozen=True, slots=True)
class ReframeResult:
    path: Path
    points: tuple[PathPoint, ...]  # the crop path, before simplification
    found: int  # samples with a face
    sampled: int  # samples looked at (0 with the "center" detector)
    crop_width: int
    crop_height: int


# --- the crop window (pure) --------------------------------------------------------------------


def crop_size(width: int, height: int, aspect: float) -> tuple[int, int]:
    """The largest even window of ``aspect`` (width / height) in a ``width`` x ``height``
    frame: the full height where the frame is wider than ``aspect``, else the full width."""
    if width < 2 or height < 2 or not aspect > 0:
        raise UserError(f"cannot crop a {width}x{height} frame to the aspect {aspect:g}")
    crop_w = _even(height * aspect)
    if crop_w <= width:
        return max(2, crop_w), _even(height)
    return _even(width), max(2, min(_even(width / aspect), _even(height)))


def _even(value: float) -> int:
    return round(value) // 2 * 2


def pick_subject(boxes: Sequence[Box], previous: Box | None) -> Box | None:
    """The face to follow: the one nearest the last one followed, else the largest."""
    if not boxes:
        return None
    if previous is None:
        return max(boxes, key=lambda box: box[2] * box[3])
    px, py = _centre(previous)
    return min(boxes, key=lambda box: math.dist(_centre(box), (px, py)))


def _centre(box: Box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def crop_path(
    subjects: Sequence[Subject],
    width: int,
    height: int,
    aspect: float = 9 / 16,
    smoothing: float = 1.0,
    max_speed: float = 0.5,
) -> list[PathPoint]:
    """The crop window's left edge at each subject's time, following the subjects' centres.

    ``smoothing``: seconds of the centred moving average (0: none). ``max_speed``: the fastest
    the window moves, in frame widths per second.
    """
    if not smoothing >= 0 or not max_speed > 0:
        raise UserError("smoothing must be 0 or more and max_speed more than 0")
    crop_w, _ = crop_size(width, height, aspect)
    span = width - crop_w  # the window's left edge lies in [0, span]
    ordered = sorted(subjects, key=lambda subject: subject.t)
    if not ordered:
        return [(0.0, span // 2)]
    times = np.array([subject.t for subject in ordered], dtype=np.float64)
    centres = np.array(
        [np.nan if s.box is None else _centre(s.box)[0] for s in ordered], dtype=np.float64
    )
    targets = np.clip(_held(centres, width / 2) - crop_w / 2, 0, span)
    smoothed = _moving_average(times, targets, smoothing)
    path = np.empty_like(smoothed)
    path[0] = smoothed[0]
    steps = np.diff(times, prepend=times[0]) * max_speed * width
    for index in range(1, len(path)):
        move = smoothed[index] - path[index - 1]
        path[index] = path[index - 1] + max(-steps[index], min(steps[index], move))
    edges = np.clip(np.floor(path + 0.5), 0, span).astype(int)
    return [(float(t), int(x)) for t, x in zip(times, edges, strict=True)]


def _held(values: np.ndarray, default: float) -> np.ndarray:
    """``values`` with each gap (NaN) holding the value before it; a leading gap takes the
    first value found (the camera starts on the subject), all gaps ``default``."""
    found = np.flatnonzero(~np.isnan(values))
    if not len(found):
        return np.full_like(values, default)
    last = np.maximum.accumulate(np.where(np.isnan(values), -1, np.arange(len(values))))
    return np.asarray(values[np.where(last < 0, found[0], last)])


def _moving_average(times: np.ndarray, values: np.ndarray, seconds: float) -> np.ndarray:
    """The mean of ``values`` within ``seconds / 2`` either side of each time. Near the ends
    the window shrinks on both sides alike, so a steady pan stays a steady pan to its end."""
    if seconds <= 0 or len(values) < 2:
        return values
    half = np.minimum(np.minimum(times - times[0], times[-1] - times), seconds / 2)
    sums = np.concatenate(([0.0], np.cumsum(values)))
    low = np.searchsorted(times, times - half - 1e-9, side="left")
    high = np.searchsorted(times, times + half + 1e-9, side="right")
    return np.asarray((sums[high] - sums[low]) / (high - low))


def simplify(points: Sequence[PathPoint], tolerance: float = SIMPLIFY_PX) -> list[PathPoint]:
    """The fewest of ``points`` (sorted, distinct times) whose straight lines pass within
    ``tolerance`` pixels of every point dropped (Ramer-Douglas-Peucker, on x)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    pending = [(0, len(points) - 1)]
    while pending:
        first, last = pending.pop()
        (t0, x0), (t1, x1) = points[first], points[last]
        worst, worst_at = tolerance, -1
        for index in range(first + 1, last):
            t, x = points[index]
            along = x0 + (x1 - x0) * (t - t0) / (t1 - t0)
            if abs(x - along) > worst:
                worst, worst_at = abs(x - along), index
        if worst_at >= 0:
            keep[worst_at] = True
            pending += [(first, worst_at), (worst_at, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def crop_filter(
    path_points: Sequence[PathPoint], width: int, height: int, crop_w: int, crop_h: int
) -> str:
    """An ffmpeg ``crop`` filter moving its window along ``path_points``.

    ``x`` is ``x0 + sum(dx_i * clip((t - t_i) / d_i, 0, 1))``: one ramp per straight piece, so
    it is exact at every point, flat before the first and after the last, and as long as the
    simplified path (a few dozen characters a piece) rather than the clip. The window is
    vertically centred.
    """
    if not 0 < crop_w <= width or not 0 < crop_h <= height:
        raise UserError(f"a {crop_w}x{crop_h} window does not fit a {width}x{height} frame")
    distinct: dict[str, int] = {}
    for t, x in sorted(path_points):
        distinct[_seconds(t)] = min(max(0, x), width - crop_w)  # the last x at a time wins
    points = simplify([(float(t), x) for t, x in distinct.items()])
    if not points:
        points = [(0.0, (width - crop_w) // 2)]
    terms = [str(points[0][1])]
    for (t0, x0), (t1, x1) in itertools.pairwise(points):
        if x1 != x0:
            sign = "+" if x1 > x0 else "-"
            ramp = f"clip((t-{_seconds(t0)})/{_seconds(t1 - t0)},0,1)"
            terms.append(f"{sign}{abs(x1 - x0)}*{ramp}")
    y = (height - crop_h) // 2
    return f"crop=w={crop_w}:h={crop_h}:x='{''.join(terms)}':y={y}"


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True, slots=True)
class _Video:
    width: int  # as shown, a rotated phone video upright
    height: int
    duration: float
    has_audio: bool


def _probe(path: Path) -> _Video:
    info = probe(path)
    if not info.has_video or info.is_image or not info.width or not info.height:
        raise UserError(f"{path.name} has no video to reframe")
    return _Video(info.width, info.height, info.duration, info.has_audio)


def _float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


# --- finding the subject (I/O) -----------------------------------------------------------------


def detect_subjects(
    path: Path,
    sample_fps: float = 4.0,
    detector: str = "face",
    progress: Progress | None = None,
) -> list[Subject]:
    """The face followed in each of ``sample_fps`` frames a second, in source pixels. The
    ``center`` detector looks at nothing and returns no samples."""
    _check_detection(detector, sample_fps)
    return _subjects(path, _probe(path), sample_fps, detector, progress)


def _check_detection(detector: str, sample_fps: float) -> None:
    if detector not in DETECTORS:
        raise UserError(f"unknown detector {detector!r}; expected one of {', '.join(DETECTORS)}")
    if not 0 < sample_fps <= 30:
        raise UserError("sample_fps must be more than 0 and at most 30")


def _subjects(
    path: Path, video: _Video, sample_fps: float, detector: str, progress: Progress | None
) -> list[Subject]:
    if detector == "center":
        return []
    return _detect_faces(path, video, sample_fps, progress)


def _detect_faces(
    path: Path, video: _Video, sample_fps: float, progress: Progress | None
) -> list[Subject]:
    from PIL import Image

    from hallmark.screen.image import shared_nudity_detector

    model = shared_nudity_detector()
    scale = min(1.0, DETECT_SIDE / max(video.width, video.height))
    small_w = max(2, round(video.width * scale))
    small_h = max(2, round(video.height * scale))
    frame_bytes = small_w * small_h * 3
    expected = max(1, math.ceil(video.duration * sample_fps))
    subjects: list[Subject] = []

    def consume(out: IO[bytes]) -> None:
        previous: Box | None = None
        while len(frame := out.read(frame_bytes)) == frame_bytes:
            image = Image.frombytes("RGB", (small_w, small_h), frame)
            boxes = [
                _to_source(part.box, video.width / small_w, video.height / small_h)
                for part in model.detect(image)
                if part.label in FACE_LABELS and part.score >= MIN_FACE_SCORE
            ]
            chosen = pick_subject(boxes, previous)
            previous = chosen or previous
            subjects.append(Subject(len(subjects) / sample_fps, chosen))
            if progress is not None:
                progress(min(1.0, len(subjects) / expected))

    args = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-an",
            "-vf", f"fps={sample_fps:g},scale={small_w}:{small_h}:flags=area",
            "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]  # fmt: skip
    run_streaming(
        args,
        timeout=60 + video.duration * 5,
        what=f"corrupt or unsupported video {path.name}",
        consume=consume,
    )
    return subjects


def _to_source(box: tuple[float, float, float, float], sx: float, sy: float) -> Box:
    left, top, right, bottom = box
    return (
        round(left * sx),
        round(top * sy),
        round((right - left) * sx),
        round((bottom - top) * sy),
    )


# --- the reframed video -----------------------------------------------------------------------


def reframe(
    src: Path,
    out: Path,
    *,
    width: int = 1080,
    height: int = 1920,
    detector: str = "face",
    progress: Progress | None = None,
    x264_preset: str = "veryfast",
    crf: int = 20,
    sample_fps: float = 4.0,
    smoothing: float = 1.0,
    max_speed: float = 0.5,
) -> ReframeResult:
    """``src`` cropped to follow its subject and scaled to ``width`` x ``height``, written to
    ``out`` (MP4: H.264 High yuv420p, AAC 44.1 kHz, faststart) whole or not at all."""
    _check_output(src, out, width, height, x264_preset, crf)
    video = _probe(src)
    _check_detection(detector, sample_fps)
    detecting = None if progress is None else _part(progress, 0.0, DETECT_SHARE)
    subjects = _subjects(src, video, sample_fps, detector, detecting)
    aspect = width / height
    points = crop_path(subjects, video.width, video.height, aspect, smoothing, max_speed)
    crop_w, crop_h = crop_size(video.width, video.height, aspect)
    graph = (
        crop_filter(points, width=video.width, height=video.height, crop_w=crop_w, crop_h=crop_h)
        + f",scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p"
    )
    encoding = None if progress is None else _part(progress, DETECT_SHARE, 1.0)
    _encode(src, out, graph, video, x264_preset, crf, encoding)
    if progress is not None:
        progress(1.0)
    found = sum(subject.box is not None for subject in subjects)
    return ReframeResult(out, tuple(points), found, len(subjects), crop_w, crop_h)


def _check_output(src: Path, out: Path, width: int, height: int, preset: str, crf: int) -> None:
    for name, side in (("width", width), ("height", height)):
        if not 16 <= side <= 4096 or side % 2:
            raise UserError(f"the output {name} must be an even number from 16 to 4096")
    if preset not in X264_PRESETS:
        raise UserError(f"unknown x264 preset {preset!r}; expected one of {X264_PRESETS}")
    if not 0 <= crf <= 51:
        raise UserError("crf must be from 0 to 51")
    if not out.parent.is_dir():
        raise UserError(f"no such folder for the output: {out.parent}")
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise UserError("the output must not overwrite the source")


def _part(progress: Progress, low: float, high: float) -> Progress:
    return lambda fraction: progress(low + (high - low) * max(0.0, min(1.0, fraction)))


def _encode(
    src: Path,
    out: Path,
    graph: str,
    video: _Video,
    preset: str,
    crf: int,
    progress: Progress | None,
) -> None:
    audio = ["-map", "0:a:0", "-c:a", "aac", "-b:a", "160k", "-ar", "44100"]
    if not video.has_audio:
        audio = ["-an"]
    handle, temp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".part.mp4", dir=out.parent)
    os.close(handle)
    script = Path(f"{temp}.filter")
    try:
        # A long crop path makes a long expression: a script file has no argument-length limit.
        script.write_text(graph, encoding="utf-8")
        args = ["ffmpeg", "-nostdin", "-v", "error", "-nostats", "-y", "-i", str(src),
                "-filter_script:v", str(script), "-map", "0:v:0", *audio,
                "-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p",
                "-preset", preset, "-crf", str(crf), "-movflags", "+faststart",
                "-progress", "pipe:1", "-f", "mp4", temp]  # fmt: skip

        def consume(stdout: IO[bytes]) -> None:
            for line in stdout:
                key, _, value = line.decode("ascii", "replace").strip().partition("=")
                if progress is not None and key == "out_time_us" and video.duration > 0:
                    progress(_float(value) / 1e6 / video.duration)

        run_streaming(
            args,
            timeout=120 + video.duration * 30,
            what=f"corrupt or unsupported video {src.name}",
            consume=consume,
        )
        if os.path.getsize(temp) == 0:
            raise UserError(f"{src.name}: ffmpeg wrote nothing")
        os.replace(temp, out)
    finally:
        script.unlink(missing_ok=True)
        Path(temp).unlink(missing_ok=True)
