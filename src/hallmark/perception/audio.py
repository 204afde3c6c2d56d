"""What is heard in a recording: sound events, stretches of speech and the words said, each
with its time span, so that an answer about the sound can point at when each thing happens.

Three bundled models, each doing what it is best at:

- YAMNet (``perception.yamnet``) names sound events with AudioSet's 521 classes. A class is
  counted in a 0.96 s patch when it scores at least ``SOUND_THRESHOLD`` and is among the
  patch's ``TOP_CLASSES`` best (ties included: the quantized scores tie often); consecutive
  counted patches, a one-patch dip bridged, become one ``sound`` finding, scored by the mean
  probability over the run. The threshold is low because the quantized model's logits come
  in steps of 0.76: white noise reaches only 0.32–0.82, where speech and tones reach 0.9+.
  A patch stands for the 0.48 s around its centre; then the event's edges are trimmed to
  where the sound is (10 ms frames within 40 dB of the loudest), so that a patch that only
  reaches into a sound does not date it early. On the tests' mix, the best-placed finding for
  a 440 Hz tone at 5–7 s ("Telephone") and for noise at 9–10.5 s ("White noise") is exact.
  AudioSet's hierarchy is not collapsed: "Speech" and a child such as "Narration, monologue"
  may both be found over one stretch, as the model scores them; "Silence" is a finding like
  any other (what YAMNet hears in a silent stretch), trimmed to where it is quiet.
- Silero VAD (the studio's smart cut) finds where someone speaks: ``speech`` findings.
- Whisper (the registered transcriber) writes the words with their times: ``word`` findings.
  It runs only when Silero found speech, so silence and noise cannot make it invent words.
  Each speech finding's ``detail`` holds the text said in it (``text``) and, where known, the
  language, so the transcript is the speech findings' texts in order.

``perceive_samples`` is the core, on 16 kHz mono samples, shared with a video's sound track;
``AudioPerceiver`` decodes a file with ffmpeg first, as the captions do (``extract_speech``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from hallmark.perception.base import Finding, PerceivedMedium, Perceiver, PerceptionInput
from hallmark.perception.yamnet import SoundScores, YamNet
from hallmark.registry import Components
from hallmark.speech.base import STT_RATE, SpeechToText, Word
from hallmark.studio.captions import extract_speech, join_words, transcribe_words
from hallmark.studio.smartcut import CutOptions, speech_spans, vad_probabilities

SOUND_THRESHOLD = 0.2
TOP_CLASSES = 3  # per patch: keeps the model's long tail of weak, related classes out
BRIDGED_PATCHES = 1  # a class missing from this many patches in a run is still one event
# Speech as found for grounding: no margins (the span is when the voice sounds), pauses under
# 0.3 s are inside a phrase, and a sound under 0.25 s is not speech.
SPEECH = CutOptions(threshold=0.5, margin=0.0, min_silence=0.3, min_speech=0.25)
MILLI = 3
SILENCE = "Silence"  # YAMNet's class for a silent patch
FRAME = STT_RATE // 100  # 10 ms, for where a sound starts and ends inside a patch
FRAME_SECONDS = FRAME / STT_RATE
QUIET_DB = -40.0
QUIET_FLOOR = 1e-4  # -80 dBFS

Samples = npt.NDArray[np.float32]
Transcriber = Callable[[], SpeechToText | None]


# --- from model outputs to findings (pure) -----------------------------------------------------


def sound_findings(
    scores: SoundScores,
    names: Sequence[str],
    duration: float,
    threshold: float = SOUND_THRESHOLD,
    top: int = TOP_CLASSES,
) -> list[Finding]:
    """YAMNet's patch scores as sound events, by start time, the surer first at a tie."""
    values = scores.values
    if len(values) == 0:
        return []
    # The quantized scores tie often (white noise gives several classes 0.68): a class counts
    # when it scores at least the patch's ``top``-th best score, so a tie never hides one.
    kth = np.sort(values, axis=1)[:, -min(top, values.shape[1])]
    counted = values >= np.maximum(kth, threshold)[:, None]
    found: list[Finding] = []
    for index in np.flatnonzero(counted.any(axis=0)):
        for first, last in _runs(counted[:, index], BRIDGED_PATCHES):
            start, end = _patch_span(first, last, len(values), scores, duration)
            if end <= start:
                continue
            run = values[first : last + 1, index]
            found.append(
                Finding(
                    "sound",
                    names[int(index)],
                    score=float(run.mean()),
                    start=start,
                    end=end,
                    detail={"peak": round(float(run.max()), 4)},
                )
            )
    return sorted(found, key=lambda f: (f.start, -f.score, f.label))


def sounding(samples: Samples) -> npt.NDArray[np.bool_]:
    """For each 10 ms frame, whether it sounds: louder than ``QUIET_DB`` under the loudest
    frame (and than a floor, so that dither in a silent file is not sound)."""
    frames = len(samples) // FRAME
    if frames == 0:
        return np.zeros(0, bool)
    rms = np.sqrt(np.mean(samples[: frames * FRAME].reshape(frames, FRAME) ** 2, axis=1))
    return np.asarray(rms > max(float(rms.max()) * 10 ** (QUIET_DB / 20), QUIET_FLOOR))


def trim_to_sound(finding: Finding, sounds: npt.NDArray[np.bool_]) -> Finding | None:
    """A sound event with the quiet frames at its edges cut off (a "Silence" with the loud
    ones), or None when no frame of it fits. A patch counts a sound that fills only part of
    it, so an event is otherwise dated up to a quarter-patch early and late, and a patch
    that barely reaches into a sound can name a class over the silence before it."""
    if finding.kind != "sound" or finding.start is None or finding.end is None:
        return finding
    first = round(finding.start / FRAME_SECONDS)
    last = min(round(finding.end / FRAME_SECONDS), len(sounds))
    fitting = np.flatnonzero(sounds[first:last] != (finding.label == SILENCE))
    if len(fitting) == 0:
        return None if last > first else finding
    start = max(finding.start, (first + int(fitting[0])) * FRAME_SECONDS)
    end = min(finding.end, (first + int(fitting[-1]) + 1) * FRAME_SECONDS)
    return replace(finding, start=round(start, MILLI), end=round(end, MILLI))


def _runs(present: npt.NDArray[np.bool_], bridged: int) -> list[tuple[int, int]]:
    """The first and last index of each run of True, gaps of up to ``bridged`` closed."""
    runs: list[tuple[int, int]] = []
    for index in np.flatnonzero(present):
        if runs and index - runs[-1][1] <= bridged + 1:
            runs[-1] = (runs[-1][0], int(index))
        else:
            runs.append((int(index), int(index)))
    return runs


def _patch_span(
    first: int, last: int, count: int, scores: SoundScores, duration: float
) -> tuple[float, float]:
    """The time patches ``first`` to ``last`` stand for: the hop around each one's centre,
    the first patch reaching back to 0 and the last to the end of the sound."""
    margin = (scores.patch_seconds - scores.hop_seconds) / 2
    start = 0.0 if first == 0 else first * scores.hop_seconds + margin
    end = (
        duration if last == count - 1 else last * scores.hop_seconds + scores.patch_seconds - margin
    )
    return round(start, MILLI), round(min(end, duration), MILLI)


def speech_findings(
    probabilities: npt.NDArray[np.float32],
    window: float,
    duration: float,
    words: Sequence[Word] = (),
    language: str | None = None,
) -> list[Finding]:
    """Silero's stretches of speech, each scored by its mean speech probability and holding
    the words said in it (each word goes to the stretch nearest its middle) and, where it is
    known, their language (``transcribe_words`` tells only the CJK ones)."""
    spans = speech_spans(probabilities, window, SPEECH, duration)
    said: list[list[str]] = [[] for _ in spans]
    for word in words:
        if spans and (text := word.text.strip()):
            said[_nearest(spans, (word.start + word.end) / 2)].append(text)
    found = []
    for (start, end), texts in zip(spans, said, strict=True):
        inside = probabilities[
            int(start / window) : max(int(start / window) + 1, int(end / window))
        ]
        detail: dict[str, object] = {"text": join_words(texts)}
        if language:
            detail["language"] = language
        found.append(
            Finding(
                "speech",
                "Speech",
                score=float(inside.mean()),
                start=round(start, MILLI),
                end=round(end, MILLI),
                detail=detail,
            )
        )
    return found


def _nearest(spans: Sequence[tuple[float, float]], at: float) -> int:
    return min(range(len(spans)), key=lambda i: max(spans[i][0] - at, at - spans[i][1], 0.0))


def word_findings(words: Sequence[Word]) -> list[Finding]:
    """Each word said, as written (without its leading space), with its time."""
    return [
        Finding("word", text, start=round(float(w.start), MILLI), end=round(float(w.end), MILLI))
        for w in words
        if (text := w.text.strip())
    ]


# --- the core, on samples ----------------------------------------------------------------------


def perceive_samples(
    samples: Samples, transcriber: SpeechToText | None, tagger: YamNet
) -> list[Finding]:
    """What is heard in 16 kHz mono ``samples``: sound events, then stretches of speech, then
    words (none without a transcriber). Silence gives only YAMNet's "Silence"."""
    if len(samples) == 0:
        return []
    duration = len(samples) / STT_RATE
    sounds = sound_findings(tagger.scores(samples), tagger.class_names, duration)
    frames = sounding(samples)
    sounds = [kept for f in sounds if (kept := trim_to_sound(f, frames)) is not None]
    probabilities, window = vad_probabilities(samples)
    words: list[Word] = []
    language = None
    if transcriber is not None and speech_spans(probabilities, window, SPEECH, duration):
        words, language = transcribe_words(samples, transcriber)
    speech = speech_findings(probabilities, window, duration, words, language)
    return [*sounds, *speech, *word_findings(words)]


# --- the perceiver (I/O) -----------------------------------------------------------------------


class AudioPerceiver(Perceiver):
    """The bundled models on a sound file, or on the sound track of a video file."""

    name: ClassVar[str] = "bundled-audio"
    media: ClassVar[frozenset[PerceivedMedium]] = frozenset({"audio"})

    def __init__(self, tagger: YamNet, transcriber: Transcriber = lambda: None) -> None:
        self.tagger = tagger
        self._transcriber = transcriber  # asked at each use: registration order is free

    @property
    def transcriber(self) -> SpeechToText | None:
        return self._transcriber()

    def perceive(self, source: PerceptionInput, question: str | None = None) -> list[Finding]:
        """``question`` is not used: the bundled models cannot be told what to listen for."""
        return self.perceive_samples(extract_speech(source.path, "listen to"))

    def perceive_samples(self, samples: Samples) -> list[Finding]:
        return perceive_samples(samples, self.transcriber, self.tagger)


def register(components: Components) -> None:
    def first_transcriber() -> SpeechToText | None:
        return next(iter(components.transcribers), None)

    components.perceivers.register(
        AudioPerceiver.name, AudioPerceiver(YamNet(components.settings.home), first_transcriber)
    )
