"""What a project's media files are, and a project with every source checked and measured.

A project names its media by ``source``: a path (relative to the project file) or ``media:ID``
(an upload the API stored). Before anything is drawn, each source is found, probed with
ffprobe and checked against the clip that uses it: a video clip needs moving pictures, an image
clip a still, an audio clip a sound (a video file with sound will do). A file that ffprobe
cannot read, or whose first moments do not decode, is refused here with its name, rather than
failing half-way through a render with ffmpeg's wording.

``resolve_project`` then fills each open ``out`` with the source's length, so the project's
duration is known, and refuses ``in``/``out`` points beyond the end of the source (a twentieth
of a second of slack is allowed and clamped: container and stream durations disagree by a
frame or two).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from hallmark.errors import UserError
from hallmark.studio.ffmpeg import run_tool
from hallmark.studio.timeline import (
    AudioClip,
    ImageClip,
    InvalidProject,
    Project,
    VideoClip,
    parse_project,
    project_to_dict,
)

PROBE_TIMEOUT_S = 30.0
PROBED_FILES = 256  # probes remembered, by path, size and modification time
SLACK_S = 0.05  # how far an out point may pass the source's end before it is an error
MEDIA_PREFIX = "media:"
# ffprobe's demuxers for single pictures: image2 (by file name) and the *_pipe probes.
_STILL_FORMATS = frozenset({"image2", "image2pipe"})
_ROTATIONS = (90, 270)
_EXIF_ORIENTATION = 0x0112
_EXIF_TURNED = frozenset({5, 6, 7, 8})  # orientations that swap width and height
# Pixel formats that carry transparency (pal8: a PNG palette may hold transparent entries).
_ALPHA_FORMATS = ("rgba", "bgra", "argb", "abgr", "ya", "yuva", "gbrap", "pal8")


class MediaError(UserError):
    code = "invalid_media"


@dataclass(frozen=True, slots=True)
class MediaInfo:
    path: Path
    duration: float  # seconds; 0 for a still image
    width: int | None  # as shown (a rotated phone video is reported upright)
    height: int | None
    fps: float | None
    has_video: bool
    has_audio: bool
    is_image: bool
    has_alpha: bool = False  # the pictures carry transparency (a PNG sticker)


# --- probing ---------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _rate(value: Any) -> float | None:
    """ffprobe's ``30000/1001`` as a number; None for ``0/0`` and other non-rates."""
    if not isinstance(value, str) or "/" not in value:
        return None
    top, _, bottom = value.partition("/")
    numerator, denominator = _number(top), _number(bottom)
    if not numerator or not denominator:
        return None
    return numerator / denominator


def _ffprobe(path: Path) -> dict[str, Any]:
    args = [
        "ffprobe", "-v", "error", "-of", "json",
        "-show_entries",
        "format=format_name,duration:stream=codec_type,width,height,avg_frame_rate,"
        "r_frame_rate,pix_fmt,duration:stream_side_data=rotation:frame=media_type",
        # Decode the first moments too: a file whose header parses but whose data does not
        # decode is refused now, not half-way through a render.
        "-read_intervals", "%+0.3",
        str(path),
    ]  # fmt: skip
    try:
        out = run_tool(
            args, what=f"{path.name}: not a readable media file", timeout=PROBE_TIMEOUT_S
        )
    except UserError as exc:
        raise MediaError(exc.message) from None
    try:
        found: dict[str, Any] = json.loads(out)
    except ValueError:
        raise MediaError(f"{path.name}: not a readable media file") from None
    return found


def probe(path: Path) -> MediaInfo:
    """What ``path`` holds, or a ``MediaError`` naming it when it is missing, unreadable,
    undecodable or holds neither pictures nor sound.

    A file is probed once while it stays the same (its size and modification time): an
    export looks at each of its media several times (checking, planning, rendering)."""
    if not path.is_file():
        raise MediaError(f"media file not found: {path}")
    stat = path.stat()
    if stat.st_size == 0:
        raise MediaError(f"{path.name}: the file is empty")
    return _probed(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=PROBED_FILES)
def _probed(path: Path, size: int, mtime_ns: int) -> MediaInfo:
    found = _ffprobe(path)
    streams = found.get("streams", [])
    video = [s for s in streams if s.get("codec_type") == "video" and s.get("width")]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not video and not audio:
        raise MediaError(f"{path.name}: the file has neither pictures nor sound")
    decoded = {frame.get("media_type") for frame in found.get("frames", [])}
    if not decoded & {"video", "audio"}:
        raise MediaError(f"{path.name}: the file's pictures and sound cannot be decoded")
    format_name = str(found.get("format", {}).get("format_name", ""))
    is_image = (
        bool(video)
        and not audio
        and (format_name in _STILL_FORMATS or format_name.endswith("_pipe"))
    )
    width = height = None
    fps = None
    has_alpha = False
    if video:
        stream = video[0]
        width, height = int(stream["width"]), int(stream.get("height") or 0)
        if height <= 0:
            raise MediaError(f"{path.name}: the picture has no size")
        rotation = 0
        for side_data in stream.get("side_data_list", []):
            angle = _number(side_data.get("rotation"))
            if angle is not None:
                rotation = round(angle) % 360
        if rotation in _ROTATIONS:
            width, height = height, width
        fps = (
            None
            if is_image
            else _rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate"))
        )
        pix_fmt = str(stream.get("pix_fmt", ""))
        has_alpha = pix_fmt.startswith(_ALPHA_FORMATS)
    if is_image:
        (width, height), has_alpha = _still(path)
    duration = 0.0
    if not is_image:
        duration = _number(found.get("format", {}).get("duration")) or max(
            (_number(s.get("duration")) or 0.0 for s in streams), default=0.0
        )
        if duration <= 0:
            raise MediaError(f"{path.name}: the length of the media cannot be read")
    return MediaInfo(
        path=path,
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        has_video=bool(video),
        has_audio=bool(audio),
        is_image=is_image,
        has_alpha=has_alpha,
    )


def _still(path: Path) -> tuple[tuple[int, int], bool]:
    """A still's size as shown (its EXIF orientation applied, as the renderer draws it) and
    whether it has transparency, read by Pillow, which the renderer draws stills with."""
    try:
        with Image.open(path) as opened:
            width, height = opened.size
            if opened.getexif().get(_EXIF_ORIENTATION) in _EXIF_TURNED:
                width, height = height, width
            alpha = opened.mode in {"RGBA", "LA", "PA"} or "transparency" in opened.info
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"{path.name}: the image cannot be read ({exc})") from None
    return (width, height), alpha


# --- finding sources -------------------------------------------------------------------------


class MediaResolver:
    """Turns a clip's ``source`` into a file: ``media:ID`` through ``lookup``, anything else a
    path, relative ones against ``root`` (the project file's folder; the working folder when
    None). What each source is, once probed, is kept."""

    def __init__(
        self, root: Path | None = None, lookup: Callable[[str], Path] | None = None
    ) -> None:
        self.root = root
        self.lookup = lookup
        self._infos: dict[str, MediaInfo] = {}

    def path(self, source: str) -> Path:
        if source.startswith(MEDIA_PREFIX):
            if self.lookup is None:
                raise UserError(
                    f"source {source!r}: media IDs can be used only through the API; "
                    "give a file path instead"
                )
            found = self.lookup(source[len(MEDIA_PREFIX) :])
        else:
            found = Path(source).expanduser()
            if not found.is_absolute():
                found = (self.root if self.root is not None else Path.cwd()) / found
        if not found.is_file():
            raise MediaError(f"source not found: {source}")
        return found

    def info(self, source: str) -> MediaInfo:
        known = self._infos.get(source)
        if known is None:
            known = self._infos[source] = probe(self.path(source))
        return known


# --- checking a project against its media ----------------------------------------------------


def _checked(clip: VideoClip | ImageClip | AudioClip, info: MediaInfo, where: str) -> None:
    name = info.path.name
    if isinstance(clip, VideoClip) and (not info.has_video or info.is_image):
        what = "a still image" if info.is_image else "sound only"
        raise MediaError(f"{where}.source: {name} is {what}; a video clip needs a video")
    if isinstance(clip, ImageClip) and not info.is_image:
        raise MediaError(f"{where}.source: {name} is not a still image (PNG, JPEG or WebP)")
    if isinstance(clip, AudioClip) and not info.has_audio:
        raise MediaError(f"{where}.source: {name} has no sound")


def _measured(clip: VideoClip | AudioClip, info: MediaInfo, where: str) -> VideoClip | AudioClip:
    length = info.duration
    if clip.in_ >= length:
        raise InvalidProject(
            f"{where}.in: {clip.in_:g} s is past the end of {info.path.name} ({length:.3f} s)"
        )
    if clip.out is None:
        return dataclasses.replace(clip, out=length)
    if clip.out > length + SLACK_S:
        raise InvalidProject(
            f"{where}.out: {clip.out:g} s is past the end of {info.path.name} ({length:.3f} s)"
        )
    return dataclasses.replace(clip, out=min(clip.out, length))


def resolve_project(project: Project, resolver: MediaResolver) -> Project:
    """``project`` with every source checked and every ``out`` known; errors name the clip
    (``tracks[0].clips[2].source: source not found: intro.mp4``)."""
    tracks = []
    for t, track in enumerate(project.tracks):
        clips = []
        for c, clip in enumerate(track.clips):
            if isinstance(clip, VideoClip | ImageClip | AudioClip):
                where = f"tracks[{t}].clips[{c}]"
                try:
                    info = resolver.info(clip.source)
                except MediaError as exc:
                    raise MediaError(f"{where}.source: {exc.message}") from None
                except UserError as exc:
                    raise type(exc)(f"{where}.source: {exc.message}") from None
                _checked(clip, info, where)
                if isinstance(clip, VideoClip | AudioClip):
                    clip = _measured(clip, info, where)
            clips.append(clip)
        tracks.append(dataclasses.replace(track, clips=tuple(clips)))
    resolved = dataclasses.replace(project, tracks=tuple(tracks))
    # Known lengths can break rules that open ones could not (fades longer than the clip).
    return parse_project(project_to_dict(resolved))
