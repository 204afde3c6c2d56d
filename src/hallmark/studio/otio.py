"""OpenTimelineIO in and out, so projects move to and from professional editors.

Export turns each hallmark track into an OTIO track (visual and text tracks of kind Video,
audio tracks of kind Audio) in the same bottom-to-top order: clips laid end to end with Gaps
for empty time. Video and audio clips point at their ``source`` through an ExternalReference
(kept as written: a relative path stays relative, ``media:ID`` stays as is), images too (with
an available range of their duration), while cards and texts are GeneratorReferences
(``SolidColor`` or ``hallmark.card``, ``hallmark.text``) whose parameters hold colour, text
and style. Everything OTIO has no field for (position, scale, crop, opacity, fades, volume,
ducking, styles, track roles, the canvas) rides in ``metadata["hallmark"]``, so hallmark ->
OTIO -> hallmark is lossless, while timing always comes from OTIO's own ranges: a clip moved or
trimmed in an editor comes back moved or trimmed.

Times are RationalTimes at the project's frame rate whose value is ``seconds * fps``: a
fractional frame count when a time falls between frames. OTIO allows that, and it makes the
round trip exact to float precision where rounding to whole frames would move clips.

Crossfades. Hallmark lets a clip overlap the one before it by its ``transition``; OTIO lays
items end to end, and a Transition at a cut shows media beyond it: ``in_offset`` seconds of the
later clip before the cut and ``out_offset`` seconds of the earlier one after it. An overlap of
O seconds is exported as the earlier clip trimmed by O, then a SMPTE_Dissolve with in_offset 0
and out_offset O: the cut falls on the later clip's start, which so keeps its time, and the
dissolve shows the earlier clip's trimmed O seconds over it. Import reads any dissolve
(in_offset a, out_offset b) as the later clip starting a seconds before the cut (its ``in``
moved back by a), the earlier clip running b seconds past it, and ``transition`` a + b.

Timelines from other editors carry no hallmark metadata: their clips are read from what OTIO
says (``file://`` URLs become paths, an image extension makes an image clip), and what
hallmark cannot show (missing media, unknown generators, disabled clips) is skipped with a
warning rather than failing the import. Every import goes through ``parse_project``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import opentimelineio as otio  # type: ignore[import-untyped]

from hallmark.errors import UserError
from hallmark.files import write_atomically
from hallmark.studio.timeline import (
    AudioClip,
    CardClip,
    Clip,
    ImageClip,
    InvalidProject,
    Project,
    TextClip,
    Track,
    VideoClip,
    clip_length,
    parse_project,
    project_to_dict,
)

KEY = "hallmark"  # the metadata namespace
ADAPTER = "otio_json"
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
CARD = "hallmark.card"
SOLID = "SolidColor"
TEXT = "hallmark.text"

# The clip fields OTIO itself carries: never taken from metadata on import.
_TIMING = frozenset({"start", "in", "out", "duration", "source"})
_MANGLED = re.compile(r" \(of type '[^']*'\)")
_EPSILON = 1e-9  # seconds: closer than this, two times are the same


class Imported(NamedTuple):
    project: Project
    warnings: list[str]  # what could not be brought over, one line each


# --- export ----------------------------------------------------------------------------------


def to_otio(project: Project) -> Any:
    """The project as an ``otio.schema.Timeline`` at the project's frame rate."""
    data = project_to_dict(project)
    rate = project.fps
    timeline = otio.schema.Timeline(name=project.name)
    timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    timeline.metadata[KEY] = {key: value for key, value in data.items() if key != "tracks"}
    for index, (track, track_data) in enumerate(zip(project.tracks, data["tracks"], strict=True)):
        timeline.tracks.append(_export_track(index, track, track_data, rate))
    return timeline


def export_otio_string(project: Project) -> str:
    text: str = otio.adapters.write_to_string(to_otio(project), ADAPTER)
    return text


def export_otio(project: Project, path: Path) -> None:
    """Write the project as OTIO JSON (``.otio``) to ``path``, whole or not at all."""
    text = export_otio_string(project)
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def _export_track(index: int, track: Track, data: dict[str, Any], rate: float) -> Any:
    kind = otio.schema.TrackKind.Audio if track.kind == "audio" else otio.schema.TrackKind.Video
    out = otio.schema.Track(name=track.name or _track_label(index, track), kind=kind)
    out.enabled = not (track.muted if track.kind == "audio" else track.hidden)
    out.metadata[KEY] = {key: value for key, value in data.items() if key != "clips"}
    previous: Any = None  # the OTIO clip before, while nothing else came between
    end = 0.0  # where the clip before ends on the hallmark timeline
    for i in sorted(range(len(track.clips)), key=lambda i: track.clips[i].start):
        clip = track.clips[i]
        overlap = end - clip.start
        if previous is not None and overlap > _EPSILON:
            _trim_end(previous, overlap, rate)
            out.append(
                otio.schema.Transition(
                    transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=_time(0.0, rate),
                    out_offset=_time(overlap, rate),
                )
            )
        elif clip.start - end > _EPSILON:
            out.append(otio.schema.Gap(duration=_time(clip.start - end, rate)))
        previous = _export_clip(clip, data["clips"][i], rate)
        out.append(previous)
        length = clip_length(clip)
        end = math.inf if length is None else clip.start + length
    return out


def _export_clip(clip: Clip, data: dict[str, Any], rate: float) -> Any:
    metadata = {key: value for key, value in data.items() if key not in _TIMING}
    length = clip_length(clip)
    reference: Any
    if isinstance(clip, VideoClip | AudioClip):
        reference = otio.schema.ExternalReference(target_url=clip.source)
        if length is None:  # to the end of a source whose length is not known yet
            metadata["in"] = clip.in_
        if isinstance(clip, AudioClip) and clip.loop:
            metadata["out"] = clip.out  # the looped part; the clip's range is its duration
        start = clip.in_
    elif isinstance(clip, ImageClip):
        reference = otio.schema.ExternalReference(
            target_url=clip.source, available_range=_range(0.0, clip.duration, rate)
        )
        start = 0.0
    elif isinstance(clip, CardClip):
        parameters: dict[str, Any] = {"color": clip.color}
        if clip.gradient_to is not None:
            parameters |= {"gradient_to": clip.gradient_to, "direction": clip.direction}
        reference = otio.schema.GeneratorReference(
            generator_kind=SOLID if clip.gradient_to is None else CARD,
            parameters=parameters,
            available_range=_range(0.0, clip.duration, rate),
        )
        start = 0.0
    else:
        reference = otio.schema.GeneratorReference(
            generator_kind=TEXT,
            parameters={"text": clip.text, "style": data["style"], "x": clip.x, "y": clip.y},
            available_range=_range(0.0, clip.duration, rate),
        )
        start = 0.0
    item = otio.schema.Clip(
        name=_clip_label(clip),
        media_reference=reference,
        source_range=None if length is None else _range(start, length, rate),
    )
    item.metadata[KEY] = metadata
    return item


def _trim_end(item: Any, seconds: float, rate: float) -> None:
    kept = item.source_range
    item.source_range = otio.opentime.TimeRange(
        kept.start_time, kept.duration - _time(seconds, rate)
    )


def _track_label(index: int, track: Track) -> str:
    return f"{track.kind.capitalize()} {index + 1}"


def _clip_label(clip: Clip) -> str:
    if isinstance(clip, VideoClip | ImageClip | AudioClip):
        return PurePosixPath(clip.source).name or clip.source
    if isinstance(clip, TextClip):
        line = clip.text.splitlines()[0] if clip.text.strip() else clip.text
        return line if len(line) <= 40 else line[:39] + "…"
    return "Card" if clip.gradient_to is None else "Gradient card"


def _time(seconds: float, rate: float) -> Any:
    return otio.opentime.RationalTime(seconds * rate, rate)


def _range(start: float, duration: float, rate: float) -> Any:
    return otio.opentime.TimeRange(_time(start, rate), _time(duration, rate))


# --- import ----------------------------------------------------------------------------------


def import_otio_string(text: str, *, width: int = 1920, height: int = 1080) -> Imported:
    return from_otio(_read(text, "the timeline"), width=width, height=height)


def import_otio(path: Path, *, width: int = 1920, height: int = 1080) -> Imported:
    """The project in the OTIO JSON file at ``path``, with what could not be imported."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no such timeline file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the timeline {path}: {exc}") from None
    return from_otio(_read(text, path.name), width=width, height=height)


def from_otio(timeline: Any, *, width: int = 1920, height: int = 1080) -> Imported:
    """A checked project from an OTIO timeline; ``width``/``height`` make the canvas unless
    hallmark metadata names one."""
    if not isinstance(timeline, otio.schema.Timeline):
        raise InvalidProject(f"expected an OTIO Timeline, not {_what(timeline)}")
    warnings: list[str] = []
    project: dict[str, Any] = {
        "width": width,
        "height": height,
        "fps": _rate(timeline),
        "name": timeline.name or "",
    }
    project |= _metadata(timeline)
    tracks = []
    for index, track in enumerate(timeline.tracks):
        if not isinstance(track, otio.schema.Track):
            raise InvalidProject(
                f"tracks[{index}] is {_what(track)}, not a track; hallmark reads only tracks "
                "of clips: flatten it in the editor before exporting"
            )
        imported = _import_track(index, track, warnings)
        if imported is not None:
            tracks.append(imported)
    project["tracks"] = tracks
    return Imported(parse_project(project), warnings)


def _read(text: str, label: str) -> Any:
    try:
        return otio.adapters.read_from_string(text, ADAPTER)
    except Exception as exc:  # the C++ core raises ValueError, KeyError, TypeError, OTIOError...
        # the C++ core names its types mangled ("N14opentimelineio7v0_18_14ClipE"): drop them
        problem = _MANGLED.sub("", str(exc)).strip(" \n\"'") or type(exc).__name__
        raise InvalidProject(f"{label} is not valid OpenTimelineIO JSON: {problem}") from None


def _import_track(index: int, track: Any, warnings: list[str]) -> dict[str, Any] | None:
    metadata = _metadata(track)
    where = f"track {index + 1} ({track.name})" if track.name else f"track {index + 1}"
    kind = metadata.get("kind") or _track_kind(track)
    if kind is None:
        warnings.append(f"{where}: a {track.kind} track is not video or audio; it was skipped")
        return None
    out: dict[str, Any] = {"kind": kind, "name": track.name}
    if not track.enabled:
        out["muted" if kind == "audio" else "hidden"] = True
    out |= metadata
    clips: list[dict[str, Any]] = []
    cursor = 0.0  # the OTIO time of the next item
    previous: dict[str, Any] | None = None  # the clip just before, when nothing came between
    dissolve: tuple[float, float] | None = None  # a transition waiting for the clip after it
    open_ended: str | None = None  # a clip whose length is not known: it must come last
    for position, item in enumerate(track):
        what = f"{where}, item {position + 1}"
        if isinstance(item, otio.schema.Transition):
            if previous is None:
                warnings.append(f"{what}: a transition not after a clip was dropped")
            else:
                dissolve = (item.in_offset.to_seconds(), item.out_offset.to_seconds())
                if item.transition_type != otio.schema.TransitionTypes.SMPTE_Dissolve:
                    warnings.append(f"{what}: a {item.transition_type} became a crossfade")
            continue
        if open_ended is not None:
            raise InvalidProject(f"{open_ended} has no known length, yet items follow it")
        if isinstance(item, otio.core.Composition):
            raise InvalidProject(
                f"{what} is {_what(item)} nested in a track; flatten it in the editor first"
            )
        length = _length(item)
        clip = (
            _import_clip(item, kind, what, warnings) if isinstance(item, otio.schema.Clip) else None
        )
        if clip is None:  # a gap, or what hallmark cannot show: time passes
            if not isinstance(item, otio.schema.Gap | otio.schema.Clip):
                warnings.append(f"{what}: a {_what(item)} was skipped")
            if dissolve is not None:
                warnings.append(f"{what}: a transition into a gap was dropped")
            if length is None:
                open_ended = what
            cursor += length or 0.0
            previous, dissolve = None, None
            continue
        clip["start"] = cursor
        if dissolve is not None and previous is not None:
            before, after = dissolve
            before = _lengthen_start(clip, before, what, warnings)
            _lengthen_end(previous, after)
            clip["start"] = cursor - before
            clip.setdefault("transition", before + after)
            dissolve = None
        clips.append(clip)
        previous = clip
        if length is None:
            open_ended = what
        else:
            cursor += length
    if dissolve is not None:
        warnings.append(f"{where}: a transition at the end of the track was dropped")
    out["clips"] = clips
    return out


def _track_kind(track: Any) -> str | None:
    if track.kind == otio.schema.TrackKind.Audio:
        return "audio"
    if track.kind != otio.schema.TrackKind.Video:
        return None
    generators = [
        getattr(item.media_reference, "generator_kind", None)
        for item in track
        if isinstance(item, otio.schema.Clip)
    ]
    return "text" if generators and all(kind == TEXT for kind in generators) else "visual"


def _import_clip(
    item: Any, track_kind: str, what: str, warnings: list[str]
) -> dict[str, Any] | None:
    """The hallmark clip for an OTIO clip, without its ``start``; None when it is skipped."""
    if not item.enabled:
        warnings.append(f"{what}: clip {item.name!r} is disabled; it was skipped")
        return None
    if len(item.effects):
        names = ", ".join(effect.effect_name or effect.schema_name() for effect in item.effects)
        warnings.append(f"{what}: the effects on clip {item.name!r} were ignored ({names})")
    metadata = _metadata(item)
    reference = item.media_reference
    length = _length(item)
    if isinstance(reference, otio.schema.ExternalReference):
        return _import_media(item, reference, metadata, track_kind, length, what, warnings)
    if isinstance(reference, otio.schema.GeneratorReference):
        return _import_generator(item, reference, metadata, track_kind, length, what, warnings)
    warnings.append(f"{what}: clip {item.name!r} has no media; it was skipped")
    return None


def _import_media(
    item: Any,
    reference: Any,
    metadata: dict[str, Any],
    track_kind: str,
    length: float | None,
    what: str,
    warnings: list[str],
) -> dict[str, Any] | None:
    source = _source(reference.target_url or "")
    if not source:
        warnings.append(f"{what}: clip {item.name!r} has no media URL; it was skipped")
        return None
    if track_kind == "text":
        warnings.append(f"{what}: a text track cannot hold media clip {item.name!r}; skipped")
        return None
    if track_kind == "audio":
        kind = "audio"
    elif metadata.get("kind") in {"video", "image"}:
        kind = metadata["kind"]
    else:
        suffix = PurePosixPath(source.split("?")[0]).suffix.lower()
        kind = "image" if suffix in IMAGE_EXTENSIONS else "video"
    clip: dict[str, Any] = {**metadata, "kind": kind, "source": source}
    if kind == "image":
        if length is None or length <= 0:
            warnings.append(f"{what}: image clip {item.name!r} has no length; it was skipped")
            return None
        clip["duration"] = length
        return clip
    start = _source_start(item, metadata)
    clip["in"] = start
    if kind == "audio" and metadata.get("loop"):
        clip["duration"] = length
    else:
        clip["out"] = None if length is None else start + length
    return clip


def _import_generator(
    item: Any,
    reference: Any,
    metadata: dict[str, Any],
    track_kind: str,
    length: float | None,
    what: str,
    warnings: list[str],
) -> dict[str, Any] | None:
    generator = reference.generator_kind
    parameters = _plain(reference.parameters)
    wanted = {TEXT: "text", CARD: "visual", SOLID: "visual"}.get(generator)
    if wanted is None:
        warnings.append(
            f"{what}: clip {item.name!r} is made by an unknown generator {generator!r}; skipped"
        )
        return None
    if wanted != track_kind:
        warnings.append(f"{what}: a {track_kind} track cannot hold {generator} clip; skipped")
        return None
    if length is None or length <= 0:
        warnings.append(f"{what}: clip {item.name!r} has no length; it was skipped")
        return None
    clip: dict[str, Any] = dict(metadata)
    if generator == TEXT:
        clip |= {key: parameters[key] for key in ("text", "style", "x", "y") if key in parameters}
        clip["kind"] = "text"
    else:
        clip["kind"] = "card"
        color = _color(parameters.get("color"))
        if color is None and "color" not in metadata:
            warnings.append(f"{what}: the colour of clip {item.name!r} is not understood; black")
        clip["color"] = color or metadata.get("color", "#000000")
        gradient = _color(parameters.get("gradient_to")) if generator == CARD else None
        if gradient is not None:
            clip |= {"gradient_to": gradient, "direction": parameters.get("direction", "vertical")}
    clip["duration"] = length
    return clip


def _lengthen_start(clip: dict[str, Any], seconds: float, what: str, warnings: list[str]) -> float:
    """Let ``clip`` begin ``seconds`` sooner in its source; the seconds it could begin sooner."""
    if seconds <= 0:
        return 0.0
    if "out" in clip and not clip.get("loop"):  # media played in..out: the handle before in
        handle = min(seconds, float(clip["in"]))
        if handle < seconds - _EPSILON:
            warnings.append(f"{what}: the source has only {handle:g} s before the transition")
        clip["in"] -= handle
        return handle
    clip["duration"] += seconds
    return seconds


def _lengthen_end(clip: dict[str, Any], seconds: float) -> None:
    if seconds <= 0:
        return
    if "out" in clip and not clip.get("loop"):
        if clip["out"] is not None:
            clip["out"] += seconds
    else:
        clip["duration"] += seconds


def _length(item: Any) -> float | None:
    """Seconds the item lasts in its track; None when neither it nor its media says."""
    if item.source_range is not None:
        seconds: float = item.source_range.duration.to_seconds()
        return seconds
    available = getattr(getattr(item, "media_reference", None), "available_range", None)
    return None if available is None else float(available.duration.to_seconds())


def _source_start(item: Any, metadata: dict[str, Any]) -> float:
    """Where the clip begins in its file, in seconds from the file's start: editors count
    source time from the media's own start timecode."""
    available = item.media_reference.available_range
    origin = 0.0 if available is None else available.start_time.to_seconds()
    if item.source_range is None:
        return float(metadata.get("in", 0.0))
    return max(0.0, float(item.source_range.start_time.to_seconds() - origin))


def _source(url: str) -> str:
    if url.startswith("file:"):
        path: str = otio.url_utils.filepath_from_url(url)
        return path
    return url


def _rate(timeline: Any) -> float:
    """The frame rate an editor's timeline runs at: its start time's, else its first clip's."""
    candidates = []
    if timeline.global_start_time is not None:
        candidates.append(timeline.global_start_time.rate)
    for clip in timeline.find_clips():
        if clip.source_range is not None:
            candidates.append(clip.source_range.duration.rate)
            break
    for rate in candidates:
        if 0 < rate <= 120:
            return float(rate)
    return 30.0


def _color(value: Any) -> str | None:
    """``#RRGGBB`` from an editor's colour: already hex, or 3-4 channels (0-1 or 0-255)."""
    if isinstance(value, str):
        text = value if value.startswith("#") else f"#{value}"
        return text.upper() if len(text) in {7, 9} and _is_hex(text[1:]) else None
    if isinstance(value, Sequence) and len(value) in {3, 4}:
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return None
        scale = 255 if all(0 <= v <= 1 for v in value) else 1
        channels = [round(v * scale) for v in value]
        if not all(0 <= c <= 255 for c in channels):
            return None
        return "#" + "".join(f"{c:02X}" for c in channels)
    return None


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdefABCDEF" for char in text)


def _metadata(thing: Any) -> dict[str, Any]:
    value = thing.metadata.get(KEY)
    return _plain(value) if isinstance(value, Mapping) else {}


def _plain(value: Any) -> Any:
    """OTIO's AnyDictionary and AnyVector as plain dicts and lists, all the way down."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value


def _what(thing: Any) -> str:
    unknown = getattr(thing, "original_schema_name", None)  # otio's UnknownSchema, not exported
    if unknown is not None:
        return f"an unknown {unknown!r} object"
    if isinstance(thing, otio.core.SerializableObject):
        return f"a {thing.schema_name()}"
    return "plain JSON"
