"""The studio's auto-captions on speech whose words and timing are known: fixed English
paragraphs said by the bundled piper voice (noise off, so every run hears the same audio),
one sentence at a time with a second of silence around each.

- ``studio.captions`` (a case): ``captions_for`` on a paragraph's WAV (ffmpeg decode, whisper
  base with word times, snapping word edges to the sound, line breaking) against faster-whisper
  itself on the same file with the same model and settings (``decode_audio``, beam 5, word
  timestamps, VAD filter), its segments read to the end. The ratio is what captioning adds to
  the transcription.
- ``studio.captions`` (a report): the caption text's word error rate against the script, the
  mean absolute error of each sentence's first cue start and last cue end against where the
  sentence really starts and ends, the share of sentences whose cues are within the tests'
  bounds (0.3 s at the start, 0.4 s at the end), and captioning speed in times real time.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from bench.harness import Case, Plan, Report, Skip
from hallmark.speech.piper import PiperSpeech
from hallmark.speech.whisper import BEAM_SIZE, CPU_THREADS, WhisperSpeech, bundled_model
from hallmark.studio.captions import Cue, captions_for, word_error_rate
from hallmark.studio.voiceover import write_wav

PAUSE = 1.0  # seconds of silence before, between and after sentences
PARAGRAPHS = [
    [
        "The harbor wakes up early, long before the shops open.",
        "Fishermen check their nets while the gulls circle above the boats.",
        "By seven the first boats are already out at sea.",
    ],
    [
        "Our new kitchen timer is small enough to fit in your pocket.",
        "Press the button once to start it, and twice to reset it.",
        "It beeps softly when your tea is ready.",
    ],
    [
        "Rain is expected across the north of the country this afternoon.",
        "Temperatures will fall quickly after sunset.",
        "Tomorrow should be dry and bright, with a light wind from the west.",
    ],
    [
        "Welcome back to the channel, and thank you for watching.",
        "Today we are painting a simple landscape with only three colors.",
        "You will need a wide brush, some water and a little patience.",
    ],
]
START_BOUND, END_BOUND = 0.3, 0.4


@dataclass(slots=True)
class Spoken:
    path: Path
    text: str
    spans: list[tuple[float, float]]
    seconds: float


@dataclass(slots=True)
class CaptionBench:
    home: tempfile.TemporaryDirectory[str]
    whisper: WhisperSpeech
    model: Any  # faster_whisper.WhisperModel
    spoken: list[Spoken]

    def close(self) -> None:
        self.home.cleanup()


def _say(paragraph: list[str], voice: PiperSpeech, path: Path) -> Spoken:
    parts: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    rate, at = 22050, 0.0
    for sentence in paragraph:
        samples, rate = voice.synthesize(sentence, "en")
        parts += [np.zeros(int(PAUSE * rate), np.float32), samples]
        at += int(PAUSE * rate) / rate
        spans.append((at, at + len(samples) / rate))
        at += len(samples) / rate
    parts.append(np.zeros(int(PAUSE * rate), np.float32))
    audio = np.concatenate(parts)
    write_wav(path, audio, rate)
    return Spoken(path, " ".join(paragraph), spans, len(audio) / rate)


def open_bench(paragraphs: int) -> CaptionBench:
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:  # pragma: no cover - a dependency
        raise Skip(f"cannot import {exc.name}") from exc
    home = tempfile.TemporaryDirectory(prefix="hallmark-bench-")
    try:
        folder = os.environ.get("HALLMARK_WHISPER_MODEL")
        model_folder = Path(folder) if folder else bundled_model(Path(home.name))
        whisper = WhisperSpeech(Path(home.name), model_folder).prepare()
        model = WhisperModel(
            str(model_folder), device="cpu", compute_type="int8", cpu_threads=CPU_THREADS
        )
        voice = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0)
        spoken = [
            _say(paragraph, voice, Path(home.name) / f"paragraph-{index}.wav")
            for index, paragraph in enumerate(PARAGRAPHS[:paragraphs])
        ]
    except BaseException:
        home.cleanup()
        raise
    return CaptionBench(home, whisper, model, spoken)


def ours(bench: CaptionBench) -> list[list[Cue]]:
    return [captions_for(s.path, bench.whisper, "en") for s in bench.spoken]


def baseline(bench: CaptionBench) -> list[list[Any]]:
    from faster_whisper import decode_audio

    found = []
    for spoken in bench.spoken:
        segments, _ = bench.model.transcribe(
            decode_audio(str(spoken.path)),
            language="en",
            beam_size=BEAM_SIZE,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=True,
        )
        found.append(list(segments))
    return found


CASES: list[Case[Any]] = [
    Case(
        name="studio.captions",
        measures="captions_for on a WAV of piper speech (three sentences, pauses): ffmpeg "
        "decode, whisper base with word times, edges snapped to the sound, line breaking.",
        baseline_is="faster-whisper on the same file with the same model and settings "
        "(decode_audio, beam 5, word_timestamps, vad_filter), segments read to the end.",
        setup=lambda units: open_bench(units),
        ours=ours,
        baseline=baseline,
        teardown=lambda bench: bench.close(),
        units=3,
        quick_units=1,
        unit="paragraph",
    ),
]


def _errors(cues: list[Cue], spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """For each sentence, (|first cue start - start|, |last cue end - end|); a sentence
    without a cue counts its whole length as the error."""
    errors = []
    for start, end in spans:
        around = [c for c in cues if start - PAUSE < (c.start + c.end) / 2 < end + PAUSE]
        if not around:
            errors.append((end - start, end - start))
        else:
            errors.append((abs(around[0].start - start), abs(around[-1].end - end)))
    return errors


def build_report(plan: Plan) -> tuple[Table, dict[str, Any]]:
    bench = open_bench(2 if plan.quick else len(PARAGRAPHS))
    try:
        rows = []
        for index, spoken in enumerate(bench.spoken):
            began = time.perf_counter()
            cues = captions_for(spoken.path, bench.whisper, "en")
            took = time.perf_counter() - began
            text = " ".join(cue.text.replace("\n", " ") for cue in cues)
            errors = _errors(cues, spoken.spans)
            rows.append(
                {
                    "paragraph": index + 1,
                    "audio_s": spoken.seconds,
                    "cues": len(cues),
                    "wer": word_error_rate(spoken.text, text),
                    "start_errors_s": [e[0] for e in errors],
                    "end_errors_s": [e[1] for e in errors],
                    "caption_s": took,
                }
            )
    finally:
        bench.close()
    starts = [e for row in rows for e in row["start_errors_s"]]
    ends = [e for row in rows for e in row["end_errors_s"]]
    within = sum(s <= START_BOUND and e <= END_BOUND for s, e in zip(starts, ends, strict=True))
    audio = sum(row["audio_s"] for row in rows)
    took = sum(row["caption_s"] for row in rows)
    data = {
        "paragraphs": rows,
        "wer_mean": statistics.mean(row["wer"] for row in rows),
        "start_error_mean_s": statistics.mean(starts),
        "end_error_mean_s": statistics.mean(ends),
        "sentences_within_bounds": within,
        "sentences": len(starts),
        "speed_x_realtime": audio / took,
    }
    table = Table(title="studio.captions: piper speech, captioned by whisper base (CPU)")
    for column in ("paragraph", "audio s", "cues", "WER", "start err ms", "end err ms", "× RT"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row["paragraph"]),
            f"{row['audio_s']:.1f}",
            str(row["cues"]),
            f"{row['wer']:.3f}",
            f"{statistics.mean(row['start_errors_s']) * 1000:.0f}",
            f"{statistics.mean(row['end_errors_s']) * 1000:.0f}",
            f"{row['audio_s'] / row['caption_s']:.1f}",
        )
    table.add_row(
        "all",
        f"{audio:.1f}",
        str(sum(row["cues"] for row in rows)),
        f"{data['wer_mean']:.3f}",
        f"{data['start_error_mean_s'] * 1000:.0f}",
        f"{data['end_error_mean_s'] * 1000:.0f}",
        f"{data['speed_x_realtime']:.1f}",
        style="bold",
    )
    table.caption = (
        f"{within} of {len(starts)} sentences have their first cue within {START_BOUND} s of "
        f"the start and their last within {END_BOUND} s of the end"
    )
    return table, data


REPORTS = [Report("studio.captions", build_report)]
