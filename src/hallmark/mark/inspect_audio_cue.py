"""Reads the explicit audio label back: the rhythm cue (short-long-short-short at 1 kHz) that
``explicit_audio`` writes, found at the start or the end of a WAV or MP3, or of the first audio
stream of an MP4 or MOV (``VideoAudioCueInspector``: ffmpeg decodes only the first and last
``SEARCH`` seconds of that stream, as a mono mix; times are on the video's timeline).

Each 20 ms frame (5 ms hop) is "on" when the 1 kHz band holds most of its energy (so noise,
speech and chords are off even when loud) and the frame is above -45 dBFS. The on-runs must
then be four tones of 100/300/100/100 ms (±40 ms) with gaps of 100 ms (±40 ms), with at least
60 ms of quiet or the file's edge around them. A steady 1 kHz tone, a sweep through 1 kHz or
a melody touching it does not make that pattern.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import EXPLICIT, Finding, Inspector
from hallmark.mark.explicit_audio import CUE_FREQUENCY, CUE_PATTERN, GAP, KINDS, decode_audio
from hallmark.mark.explicit_video import CONTAINERS
from hallmark.mark.gb45438.formats import base_type
from hallmark.mark.video_audio import audio_track, decode_track
from hallmark.registry import Components

FRAME, HOP = 0.020, 0.005  # seconds
TONAL_SHARE = 0.6  # of the frame's energy within ±60 Hz of the cue frequency
MIN_LEVEL = 10 ** (-45 / 20)  # frame RMS
TOLERANCE = 0.040  # seconds, on every tone and gap
QUIET_AROUND = 0.060
SEARCH = 3.0  # seconds at each end of the file

Mono = npt.NDArray[np.float64]


def _on_frames(mono: Mono, rate: int) -> npt.NDArray[np.bool_]:
    size, hop = round(FRAME * rate), max(1, round(HOP * rate))
    if len(mono) < size:
        return np.zeros(0, dtype=bool)
    count = 1 + (len(mono) - size) // hop
    index = np.arange(size)[None, :] + hop * np.arange(count)[:, None]
    frames = mono[index] * np.hanning(size)[None, :]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / rate)
    band = np.abs(freqs - CUE_FREQUENCY) <= 60.0 + rate / size
    share = power[:, band].sum(axis=1) / np.maximum(power.sum(axis=1), 1e-20)
    rms = np.sqrt(np.mean(mono[index] ** 2, axis=1))
    return np.asarray((share >= TONAL_SHARE) & (rms >= MIN_LEVEL))


def _runs(on: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last + 1) frame indices of each run of on-frames."""
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def find_cues(mono: Mono, rate: int) -> list[tuple[float, float]]:
    """(start, end) in seconds of each cue in ``mono``."""
    on = _on_frames(mono, rate)
    runs = _runs(on)
    # An on-run of n frames spans about (n - 1) hops + a frame, less the window's soft edges.
    lengths = [(b - a - 1) * HOP + FRAME * 0.5 for a, b in runs]
    found = []
    n = len(CUE_PATTERN)
    for i in range(len(runs) - n + 1):
        group = runs[i : i + n]
        if not all(abs(lengths[i + k] - CUE_PATTERN[k]) <= TOLERANCE for k in range(n)) or not all(
            abs((group[k + 1][0] - group[k][1] + 1) * HOP - FRAME * 0.5 - GAP) <= TOLERANCE
            for k in range(n - 1)
        ):
            continue
        before = group[0][0] - (runs[i - 1][1] if i > 0 else -(10**9))
        after = (runs[i + n][0] if i + n < len(runs) else 10**9) - group[-1][1]
        if min(before, after) * HOP < QUIET_AROUND:
            continue
        start = group[0][0] * HOP
        found.append((round(start, 3), round(group[-1][1] * HOP + FRAME * 0.5, 3)))
    return found


def cue_findings(
    parts: list[tuple[float, Mono]], rate: int, start: float, end: float
) -> list[Finding]:
    """A finding for the cue at the start and one for the cue at the end of a recording that
    runs from ``start`` to ``end`` seconds, searched in ``parts``: (where it begins, samples)."""
    findings = []
    seen = set()
    for offset, part in parts:
        for t0, t1 in find_cues(part, rate):
            begin, finish = offset + t0, min(end, offset + t1)
            where = "start" if begin + finish < start + end else "end"
            if where in seen:
                continue
            seen.add(where)
            detail: dict[str, Any] = {
                "cue": where,
                "time_span": [round(float(begin), 3), round(float(finish), 3)],
                "pattern": "short-long-short-short",
                "frequency_hz": CUE_FREQUENCY,
            }
            findings.append(Finding(EXPLICIT, "explicit", detail))
    return findings


class AudioCueInspector(Inspector):
    name: ClassVar[str] = "audio-cue"
    media: ClassVar[frozenset[Medium]] = frozenset({"audio"})

    def inspect(self, content: Content) -> list[Finding]:
        if base_type(content.media_type) not in KINDS:
            return []
        try:
            decoded = decode_audio(content)
        except UserError:
            return []
        mono, rate = decoded.samples.mean(axis=1), decoded.rate
        span = round(SEARCH * rate)
        if len(mono) <= 2 * span:
            parts = [(0.0, mono)]
        else:
            parts = [(0.0, mono[:span]), ((len(mono) - span) / rate, mono[-span:])]
        return cue_findings(parts, rate, 0.0, decoded.duration)


class VideoAudioCueInspector(Inspector):
    """The cue in the first audio stream of an MP4 or MOV."""

    name: ClassVar[str] = "audio-cue.video"
    media: ClassVar[frozenset[Medium]] = frozenset({"video"})

    def inspect(self, content: Content) -> list[Finding]:
        if base_type(content.media_type) not in CONTAINERS:
            return []
        with tempfile.TemporaryDirectory(prefix="hallmark-cue-") as folder:
            path = Path(folder) / "in.video"
            path.write_bytes(content.data)
            try:
                track = audio_track(path)
                if track is None:
                    return []
                if track.duration <= 2 * SEARCH:
                    parts = [(track.start, decode_track(path, track, mono=True)[:, 0])]
                else:
                    head = decode_track(path, track, seconds=SEARCH, mono=True)[:, 0]
                    tail_start = track.end - SEARCH
                    tail = decode_track(path, track, start=tail_start, mono=True)[:, 0]
                    parts = [(track.start, head), (tail_start, tail)]
            except UserError:
                return []
        return cue_findings(parts, track.rate, track.start, track.end)


def register(components: Components) -> None:
    components.inspectors.register("audio-cue", AudioCueInspector())
    components.inspectors.register("audio-cue.video", VideoAudioCueInspector())
