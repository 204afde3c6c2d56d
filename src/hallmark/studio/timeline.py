"""The studio's project: a versioned JSON timeline, parsed into plain frozen data classes.

A project is a canvas (size, frame rate, audio rate, background) and tracks drawn bottom to top.
A track holds one kind of clip:

- ``visual`` tracks: ``video`` clips (a file's ``in``..``out``), ``image`` clips (a still, with
  an optional Ken Burns zoom and pan) and ``card`` clips (a colour or a two-colour gradient);
- ``text`` tracks: ``text`` clips (titles and captions, drawn with Pillow);
- ``audio`` tracks: ``audio`` clips (a file's ``in``..``out``, volume, fades, ducking).

Times are seconds, on the timeline (``start``) or in the source (``in``, ``out``). Positions are
fractions of the canvas, the clip's centre at ``x``, ``y``. Within one track a clip may overlap
the one before it only by its own ``transition`` (a crossfade): the later clip fades in over it.
An audio clip with ``duck`` below 1 is multiplied by it while any clip of a ``voice`` track
plays, with ``duck_fade`` seconds of ramp either side.

``parse_project`` turns JSON-like data into a ``Project`` or raises ``InvalidProject`` naming
the first problems by their path (``tracks[1].clips[0].out: must be greater than in``);
``project_to_dict`` is its inverse. Media ``source`` values are kept as written: a path
relative to the project file (CLI) or ``media:ID`` (API); ``studio.media`` resolves them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.dataclasses import dataclass

from hallmark.errors import UserError

FORMAT_VERSION = 1
MAX_DURATION = 3 * 3600.0  # seconds of timeline a project may span
MAX_SIDE = 4096
COLOR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")

_STRICT = ConfigDict(extra="forbid", populate_by_name=True)

Seconds = Annotated[float, Field(ge=0, le=MAX_DURATION, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=-1, le=2, allow_inf_nan=False)]  # may sit off-canvas
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Color = Annotated[str, Field(pattern=COLOR.pattern)]
Fit = Literal["cover", "contain", "fill"]


class InvalidProject(UserError):
    code = "invalid_project"


@dataclass(frozen=True, slots=True, config=_STRICT)
class Crop:
    """A source rectangle in pixels: what of the source is shown."""

    x: Annotated[int, Field(ge=0)]
    y: Annotated[int, Field(ge=0)]
    width: Annotated[int, Field(gt=0)]
    height: Annotated[int, Field(gt=0)]


@dataclass(frozen=True, slots=True, config=_STRICT)
class VideoClip:
    source: Annotated[str, Field(min_length=1)]
    start: Seconds = 0.0
    in_: Seconds = Field(default=0.0, alias="in")
    out: Seconds | None = None  # None: to the end of the source
    fit: Fit = "cover"
    x: Fraction = 0.5
    y: Fraction = 0.5
    scale: Annotated[float, Field(gt=0, le=10)] = 1.0
    crop: Crop | None = None
    opacity: Unit = 1.0
    fade_in: Seconds = 0.0
    fade_out: Seconds = 0.0
    transition: Seconds = 0.0  # crossfade over the previous clip of the track
    volume: Annotated[float, Field(ge=0, le=4)] = 1.0
    kind: Literal["video"] = "video"


@dataclass(frozen=True, slots=True, config=_STRICT)
class ImageClip:
    source: Annotated[str, Field(min_length=1)]
    duration: Annotated[float, Field(gt=0, le=MAX_DURATION)]
    start: Seconds = 0.0
    fit: Fit = "cover"
    x: Fraction = 0.5
    y: Fraction = 0.5
    scale: Annotated[float, Field(gt=0, le=10)] = 1.0
    crop: Crop | None = None
    opacity: Unit = 1.0
    fade_in: Seconds = 0.0
    fade_out: Seconds = 0.0
    transition: Seconds = 0.0
    zoom_from: Annotated[float, Field(ge=1, le=4)] = 1.0  # Ken Burns: zoom at the start ...
    zoom_to: Annotated[float, Field(ge=1, le=4)] = 1.0  # ... and at the end
    pan_from: tuple[Unit, Unit] = (0.5, 0.5)  # the centre of the view, fractions of the image
    pan_to: tuple[Unit, Unit] = (0.5, 0.5)
    kind: Literal["image"] = "image"


@dataclass(frozen=True, slots=True, config=_STRICT)
class CardClip:
    """A generated background: ``color``, or a gradient from ``color`` to ``gradient_to``."""

    duration: Annotated[float, Field(gt=0, le=MAX_DURATION)]
    start: Seconds = 0.0
    color: Color = "#000000"
    gradient_to: Color | None = None
    direction: Literal["vertical", "horizontal", "diagonal"] = "vertical"
    opacity: Unit = 1.0
    fade_in: Seconds = 0.0
    fade_out: Seconds = 0.0
    transition: Seconds = 0.0
    kind: Literal["card"] = "card"


@dataclass(frozen=True, slots=True, config=_STRICT)
class TextStyle:
    size: Annotated[float, Field(gt=0, le=0.5)] = 0.05  # text height, of the canvas height
    color: Color = "#FFFFFF"
    stroke_color: Color = "#000000"
    stroke: Annotated[float, Field(ge=0, le=0.2)] = 0.08  # outline width, of the text size
    box_color: Color | None = None  # a box behind the text, e.g. "#00000099"
    align: Literal["left", "center", "right"] = "center"
    max_width: Annotated[float, Field(gt=0, le=1)] = 0.86  # wrap width, of the canvas width
    bold: bool = False


@dataclass(frozen=True, slots=True, config=_STRICT)
class TextClip:
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    duration: Annotated[float, Field(gt=0, le=MAX_DURATION)]
    start: Seconds = 0.0
    x: Fraction = 0.5
    y: Fraction = 0.82
    style: TextStyle = TextStyle()
    fade_in: Seconds = 0.0
    fade_out: Seconds = 0.0
    transition: Seconds = 0.0
    kind: Literal["text"] = "text"


@dataclass(frozen=True, slots=True, config=_STRICT)
class AudioClip:
    source: Annotated[str, Field(min_length=1)]
    start: Seconds = 0.0
    in_: Seconds = Field(default=0.0, alias="in")
    out: Seconds | None = None
    volume: Annotated[float, Field(ge=0, le=4)] = 1.0
    fade_in: Seconds = 0.0
    fade_out: Seconds = 0.0
    transition: Seconds = 0.0
    duck: Unit = 1.0  # gain while a voice track plays (1: no ducking)
    duck_fade: Annotated[float, Field(ge=0, le=5)] = 0.25
    loop: bool = False  # repeat the source to fill ``duration``
    duration: Annotated[float, Field(gt=0, le=MAX_DURATION)] | None = None  # with loop
    kind: Literal["audio"] = "audio"


VisualClip = Annotated[VideoClip | ImageClip | CardClip, Field(discriminator="kind")]
Clip = VideoClip | ImageClip | CardClip | TextClip | AudioClip
MediaClip = VideoClip | ImageClip | AudioClip  # the clips with a ``source``

TrackKind = Literal["visual", "text", "audio"]
_CLIP_KINDS: dict[str, frozenset[str]] = {
    "visual": frozenset({"video", "image", "card"}),
    "text": frozenset({"text"}),
    "audio": frozenset({"audio"}),
}


@dataclass(frozen=True, slots=True, config=_STRICT)
class Track:
    kind: TrackKind
    clips: tuple[Annotated[Clip, Field(discriminator="kind")], ...] = ()
    name: str = ""
    role: Literal["main", "overlay", "caption", "voice", "music", "sound"] | None = None
    muted: bool = False
    hidden: bool = False


@dataclass(frozen=True, slots=True, config=_STRICT)
class Project:
    width: Annotated[int, Field(ge=16, le=MAX_SIDE, multiple_of=2)] = 1080
    height: Annotated[int, Field(ge=16, le=MAX_SIDE, multiple_of=2)] = 1920
    fps: Annotated[float, Field(gt=0, le=120)] = 30.0
    sample_rate: Literal[22050, 32000, 44100, 48000] = 44100
    background: Color = "#000000"
    tracks: tuple[Track, ...] = ()
    name: str = ""
    language: str | None = None  # ISO 639-1 of the spoken and written text, when known
    version: Literal[1] = 1  # FORMAT_VERSION


_ADAPTER: TypeAdapter[Project] = TypeAdapter(Project)


# --- parsing and writing -------------------------------------------------------------------


def parse_project(data: Any) -> Project:
    """A checked ``Project`` from JSON-like data, or ``InvalidProject`` naming the problems."""
    if not isinstance(data, dict):
        raise InvalidProject("a project must be a JSON object")
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise InvalidProject(
            f"version: this hallmark reads project format {FORMAT_VERSION}, not {version!r}"
        )
    try:
        project = _ADAPTER.validate_python(data)
    except PydanticValidationError as exc:
        problems = [_describe(error) for error in exc.errors()[:5]]
        raise InvalidProject("; ".join(problems), problems=problems) from None
    problems = list(_check(project))
    if problems:
        raise InvalidProject("; ".join(problems[:5]), problems=problems[:5])
    return project


def project_to_dict(project: Project) -> dict[str, Any]:
    data: dict[str, Any] = _ADAPTER.dump_python(project, mode="json", by_alias=True)
    return data


def load_project(path: Path) -> Project:
    """The project in the JSON file at ``path``; a UserError for a missing or broken file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no such project file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the project {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidProject(
            f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    return parse_project(data)


def dump_project(project: Project) -> str:
    return json.dumps(project_to_dict(project), ensure_ascii=False, indent=2) + "\n"


def _describe(error: Any) -> str:
    path = _path(error["loc"])
    message = str(error["msg"])
    if error["type"] in {"extra_forbidden", "unexpected_keyword_argument"}:
        message = "is not a known field"
    elif error["type"] == "missing":
        message = "is required"
    elif error["type"] == "union_tag_invalid":
        message = f"unknown kind; expected one of {error['ctx']['expected_tags']}"
    elif error["type"] == "string_pattern_mismatch":
        message = "must be a colour like #RRGGBB or #RRGGBBAA"
    return f"{path}: {message}" if path else message


def _path(location: Sequence[Any]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"video", "image", "card", "text", "audio"} and text.endswith("]"):
            continue  # the union member pydantic tried: not a place in the document
        else:
            text += ("." if text else "") + str(part)
    return text


# --- the checks the schema cannot express ----------------------------------------------------


def _check(project: Project) -> Iterator[str]:
    for t, track in enumerate(project.tracks):
        allowed = _CLIP_KINDS[track.kind]
        previous_end: float | None = None
        in_order = sorted(range(len(track.clips)), key=lambda i: track.clips[i].start)
        for c, index in enumerate(in_order):
            clip = track.clips[index]
            where = f"tracks[{t}].clips[{index}]"
            if clip.kind not in allowed:
                yield f"{where}: a {track.kind} track cannot hold a {clip.kind} clip"
                continue
            if (
                isinstance(clip, VideoClip | AudioClip)
                and clip.out is not None
                and clip.out <= clip.in_
            ):
                yield f"{where}.out: must be greater than in ({clip.in_})"
                continue
            if isinstance(clip, AudioClip) and clip.loop and clip.duration is None:
                yield f"{where}.duration: a looping clip needs its duration"
            length = clip_length(clip)
            if length is not None:
                if clip.fade_in + clip.fade_out > length + 1e-6:
                    yield f"{where}: fade_in + fade_out is longer than the clip ({length:g} s)"
                if clip.transition > length + 1e-6:
                    yield f"{where}.transition: longer than the clip ({length:g} s)"
            if previous_end is not None and c > 0:
                overlap = previous_end - clip.start
                if overlap > clip.transition + 1e-6:
                    yield (
                        f"{where}.start: overlaps the clip before it by {overlap:.3g} s; "
                        f"clips of one track may overlap only by the later clip's transition"
                    )
            end = None if length is None else clip.start + length
            previous_end = end if end is not None else math.inf


def clip_length(clip: Clip) -> float | None:
    """The clip's length on the timeline; None for media whose ``out`` is not known yet."""
    if isinstance(clip, AudioClip) and clip.loop:
        return clip.duration
    if isinstance(clip, VideoClip | AudioClip):
        return None if clip.out is None else clip.out - clip.in_
    return clip.duration


def clip_end(clip: Clip) -> float | None:
    length = clip_length(clip)
    return None if length is None else clip.start + length


def project_duration(project: Project) -> float:
    """Where the last clip ends, in seconds. Every ``out`` must be known (``media.resolve``)."""
    ends = []
    for track in project.tracks:
        for clip in track.clips:
            end = clip_end(clip)
            if end is None:
                raise InvalidProject("the project has clips whose source length is not known yet")
            ends.append(end)
    return max(ends, default=0.0)


def media_clips(project: Project) -> Iterator[tuple[int, int, MediaClip]]:
    """Every clip with a ``source``, with its track and clip index."""
    for t, track in enumerate(project.tracks):
        for c, clip in enumerate(track.clips):
            if isinstance(clip, VideoClip | ImageClip | AudioClip):
                yield t, c, clip


def text_of(project: Project) -> str:
    """All the words the project shows, in timeline order: what the create flow screens."""
    texts = sorted(
        (clip.start, clip.text)
        for track in project.tracks
        for clip in track.clips
        if isinstance(clip, TextClip)
    )
    return "\n".join(text for _, text in texts)
