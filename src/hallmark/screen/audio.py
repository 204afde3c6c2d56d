"""The audio screen: speech to text, then the text screens over the transcript, with each hit
placed in time.

The file is decoded (WAV and MP3 by :func:`hallmark.mark.explicit_audio.decode_audio`, other
formats by ffmpeg) to 16 kHz mono and transcribed by the first registered transcriber
(``Components.transcribers``; built in: whisper). The segments' words are joined into one
transcript, so a phrase said across two segments is still found, and every registered screen
of text reads it. A hit's span of characters is mapped back to the words it covers and becomes
a ``TimeSpan`` from the first word's start to the last word's end; a hit on the whole text (the
classifier's) spans all the speech. Hits are named ``audio/<text screen>``.

Audio longer than ``HALLMARK_MAX_SCREEN_AUDIO_SECONDS`` is refused rather than screened in part.
The video screen reuses ``AudioScreen.hits_in`` for a video's soundtrack.
"""

from __future__ import annotations

import subprocess
import tempfile
from bisect import bisect_right
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from hallmark.content import Content, Medium
from hallmark.errors import HallmarkError, PayloadTooLarge, UserError
from hallmark.mark.explicit_audio import KINDS, decode_audio
from hallmark.mark.gb45438.formats import base_type
from hallmark.registry import Components, Registry
from hallmark.screen.base import Hit, Screen, TextSpan, TimeSpan
from hallmark.speech.base import STT_RATE, Segment, Speech, SpeechToText

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"]
TOOL_TIMEOUT_S = 300.0


def run_ffmpeg(args: list[str], *, what: str, data: bytes | None = None) -> bytes:
    """ffmpeg's stdout; a UserError naming ``what`` (``audio``, ``video``) when it cannot read
    the input."""
    try:
        done = subprocess.run(
            [*FFMPEG, *args], input=data, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except FileNotFoundError as exc:
        raise HallmarkError(
            f"ffmpeg is not installed; screening {what} needs it (Debian: apt install ffmpeg)"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise UserError(f"the {what} cannot be screened: ffmpeg took too long") from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        raise UserError(f"corrupt or unsupported {what}: ffmpeg: {lines[-1].strip()}")
    return done.stdout


def resample(samples: np.ndarray, rate: int) -> Speech:
    """Mono ``samples`` at ``rate`` Hz as float32 at ``STT_RATE``, by ffmpeg's resampler."""
    mono = np.ascontiguousarray(samples, dtype="<f4")
    if rate == STT_RATE:
        return mono
    raw = run_ffmpeg(
        ["-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "-", "-ar", str(STT_RATE),
         "-f", "f32le", "-"],
        what="audio",
        data=mono.tobytes(),
    )  # fmt: skip
    return np.frombuffer(raw, "<f4").copy()


def decode_file(path: Path, *, what: str, seconds: float) -> Speech:
    """The first audio stream of a file as float32 mono at ``STT_RATE``, at most ``seconds``."""
    raw = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-t", f"{seconds:.3f}", "-ac", "1",
         "-ar", str(STT_RATE), "-f", "f32le", "-"],
        what=what,
    )  # fmt: skip
    return np.frombuffer(raw, "<f4").copy()


def check_length(seconds: float, limit: float, what: str = "audio") -> None:
    if seconds > limit:
        raise PayloadTooLarge(
            f"the {what} is {seconds:.0f} s long; at most {limit:.0f} s is screened "
            "(HALLMARK_MAX_SCREEN_AUDIO_SECONDS)"
        )


def speech_of(content: Content, limit: float, scratch: Path) -> Speech:
    """The audio file's samples at ``STT_RATE``, mono; ``scratch`` is a folder for ffmpeg's
    input where the format needs it."""
    if base_type(content.media_type) in KINDS:
        decoded = decode_audio(content)
        check_length(decoded.duration, limit)
        return resample(decoded.samples.mean(axis=1), decoded.rate)
    source = scratch / "audio"
    source.write_bytes(content.data)
    # decoding a little past the limit tells a file that is too long from one that fits
    speech = decode_file(source, what="audio", seconds=limit + 1.0)
    check_length(len(speech) / STT_RATE, limit)
    if len(speech) == 0:
        raise UserError("the audio file holds no audio samples")
    return speech


@dataclass(slots=True, frozen=True)
class Transcript:
    """The words of the segments joined into one text, with where each word lies in it."""

    text: str
    starts: tuple[int, ...]  # the character offset of each word
    times: tuple[tuple[float, float], ...]  # each word's (start, end) in seconds

    @classmethod
    def of(cls, segments: list[Segment]) -> Transcript:
        parts: list[str] = []
        starts: list[int] = []
        times: list[tuple[float, float]] = []
        offset = 0
        for segment in segments:
            words = [(w.text, w.start, w.end) for w in segment.words]
            if not words:
                words = [(segment.text, segment.start, segment.end)]
            for text, start, end in words:
                piece = text if text[:1].isspace() or not parts else f" {text}"
                starts.append(offset)
                times.append((start, end))
                parts.append(piece)
                offset += len(piece)
        return cls("".join(parts), tuple(starts), tuple(times))

    def span(self, start: int, end: int) -> TimeSpan:
        """The time of the words that characters ``start:end`` fall in."""
        first = max(0, bisect_right(self.starts, start) - 1)
        last = max(first, bisect_right(self.starts, max(start, end - 1)) - 1)
        return TimeSpan(self.times[first][0], self.times[last][1])

    def whole(self) -> TimeSpan:
        return TimeSpan(self.times[0][0], self.times[-1][1])


class AudioScreen(Screen):
    name: ClassVar[str] = "audio"
    media: ClassVar[frozenset[Medium]] = frozenset({"audio"})

    def __init__(
        self, screens: Registry[Screen], transcribers: Registry[SpeechToText], limit: float
    ) -> None:
        self._screens = screens  # looked up when used, so add-ons registered later count
        self._transcribers = transcribers
        self.limit = limit

    def transcriber(self) -> SpeechToText:
        found = next(iter(self._transcribers), None)
        if found is None:
            raise HallmarkError("no transcriber is registered; the audio screen needs one")
        return found

    def text_screens(self) -> list[Screen]:
        return [screen for screen in self._screens if "text" in screen.media]

    def prepare(self) -> AudioScreen:
        # The transcriber stays lazy: a server that never sees audio should not assemble and
        # load a 145 MB model at startup. Its first audio pays about two seconds for it.
        for screen in self.text_screens():
            screen.prepare()
        return self

    def find(self, content: Content) -> list[Hit]:
        with tempfile.TemporaryDirectory(prefix="hallmark-audio-") as scratch:
            speech = speech_of(content, self.limit, Path(scratch))
        return self.hits_in(speech)

    def hits_in(self, speech: Speech, offset: float = 0.0) -> list[Hit]:
        """The text screens' hits in what ``speech`` (``STT_RATE`` mono) says, their times
        moved by ``offset`` seconds."""
        segments = self.transcriber().transcribe(speech, None)
        transcript = Transcript.of([s for s in segments if s.text.strip()])
        if not transcript.text.strip():
            return []
        found = Content.from_text(transcript.text)
        hits: list[Hit] = []
        for screen in self.text_screens():
            for hit in screen.find(found):
                span = hit.evidence
                time = (
                    transcript.span(span.start, span.end)
                    if isinstance(span, TextSpan)
                    else transcript.whole()
                )
                moved = TimeSpan(round(time.start_s + offset, 3), round(time.end_s + offset, 3))
                hits.append(replace(hit, screen=f"{self.name}/{hit.screen}", evidence=moved))
        return hits


def register(components: Components) -> None:
    components.screens.register(
        AudioScreen.name,
        AudioScreen(
            components.screens,
            components.transcribers,
            components.settings.max_screen_audio_seconds,
        ),
    )
