"""Audio perception against exact truth made here: piper speech, a tone and noise mixed at
known times, and what the bundled models find in it."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from hallmark.errors import UserError
from hallmark.perception.audio import (
    AudioPerceiver,
    register,
    sound_findings,
    trim_to_sound,
)
from hallmark.perception.base import Finding, PerceptionInput
from hallmark.perception.yamnet import CLASSES, SoundScores, YamNet
from hallmark.registry import Components
from hallmark.settings import Settings
from hallmark.speech import whisper
from hallmark.speech.piper import PiperSpeech
from hallmark.speech.whisper import WhisperSpeech
from hallmark.studio.captions import word_error_rate

RATE = 22050  # piper's
SAID = "Please open the window and let the fresh air into the kitchen."
SPEECH_AT = 1.0
TONE = (5.0, 7.0)  # 440 Hz
NOISE = (9.0, 10.5)
LENGTH = 11.5
TONE_CLASSES = {"Sine wave", "Dial tone", "Busy signal", "Beep, bleep", "Telephone", "Alarm"}
NOISE_CLASSES = {"White noise", "Noise", "Pink noise", "Static"}


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=60)


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    overlap = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return overlap / (max(a[1], b[1]) - min(a[0], b[0]))


def span(finding: Finding) -> tuple[float, float]:
    assert finding.start is not None and finding.end is not None
    return finding.start, finding.end


def best_iou(findings: list[Finding], labels: set[str], truth: tuple[float, float]) -> float:
    return max((iou(span(f), truth) for f in findings if f.label in labels), default=0.0)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def perceiver(home: Path, shared_whisper_model: Path) -> AudioPerceiver:
    transcriber = WhisperSpeech(home, shared_whisper_model)
    return AudioPerceiver(YamNet(home), lambda: transcriber)


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[float, float]]:
    """The mixed file and the span of the speech in it: where the voice sounds (piper's
    clip ends with a short silence)."""
    voice, rate = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0).synthesize(SAID, "en")
    assert rate == RATE
    samples = np.zeros(int(LENGTH * RATE))
    at = int(SPEECH_AT * RATE)
    samples[at : at + len(voice)] += voice
    tone = np.arange(int((TONE[1] - TONE[0]) * RATE)) / RATE
    samples[int(TONE[0] * RATE) : int(TONE[0] * RATE) + len(tone)] += 0.3 * np.sin(
        2 * np.pi * 440 * tone
    )
    noise = int((NOISE[1] - NOISE[0]) * RATE)
    start = int(NOISE[0] * RATE)
    samples[start : start + noise] += 0.05 * np.random.default_rng(7).standard_normal(noise)
    path = write_wav(tmp_path_factory.mktemp("mix") / "mix.wav", samples)
    voiced = np.flatnonzero(np.abs(voice) > 0.01 * np.abs(voice).max())
    return path, (SPEECH_AT + voiced[0] / RATE, SPEECH_AT + (voiced[-1] + 1) / RATE)


@pytest.fixture(scope="module")
def found(perceiver: AudioPerceiver, mix: tuple[Path, tuple[float, float]]) -> list[Finding]:
    return perceiver.perceive(PerceptionInput(mix[0], "audio/wav"))


def of_kind(findings: list[Finding], kind: str) -> list[Finding]:
    return [finding for finding in findings if finding.kind == kind]


# --- the mix ------------------------------------------------------------------------------------


def test_speech_is_heard_where_it_was_mixed_in(
    found: list[Finding], mix: tuple[Path, tuple[float, float]]
) -> None:
    sounds = of_kind(found, "sound")

    assert best_iou(sounds, {"Speech"}, mix[1]) >= 0.8


def test_the_tone_is_heard_as_a_tone_over_its_span(found: list[Finding]) -> None:
    assert best_iou(of_kind(found, "sound"), TONE_CLASSES, TONE) >= 0.8


def test_the_noise_is_heard_as_noise_over_its_span(found: list[Finding]) -> None:
    assert best_iou(of_kind(found, "sound"), NOISE_CLASSES, NOISE) >= 0.8


def test_no_sound_but_silence_is_named_over_the_silence(
    found: list[Finding], mix: tuple[Path, tuple[float, float]]
) -> None:
    sounding = [mix[1], TONE, NOISE]
    for finding in of_kind(found, "sound"):
        heard = any(iou(span(finding), truth) > 0 for truth in sounding)
        assert heard == (finding.label != "Silence"), finding


def test_voice_activity_is_the_speech_span(
    found: list[Finding], mix: tuple[Path, tuple[float, float]]
) -> None:
    speech = of_kind(found, "speech")

    assert len(speech) == 1
    assert iou(span(speech[0]), mix[1]) >= 0.8
    assert speech[0].score > 0.5


def test_the_words_said_are_written_with_times_inside_the_speech(
    found: list[Finding], mix: tuple[Path, tuple[float, float]]
) -> None:
    words = of_kind(found, "word")

    assert word_error_rate(SAID, " ".join(word.label for word in words)) <= 0.1
    for word in words:
        start, end = span(word)
        assert mix[1][0] - 0.1 <= start < end <= mix[1][1] + 0.1
    starts = [span(word)[0] for word in words]
    assert starts == sorted(starts)


def test_the_speech_finding_holds_the_transcript(found: list[Finding]) -> None:
    (speech,) = of_kind(found, "speech")

    assert word_error_rate(SAID, speech.detail["text"]) <= 0.1


def test_findings_serialize_with_their_spans(found: list[Finding]) -> None:
    for finding in found:
        record = finding.to_dict()
        assert record["start"] <= record["end"] <= LENGTH
        assert type(record["start"]) is float


# --- silence and bad input ----------------------------------------------------------------------


def test_silence_has_no_speech_and_no_words(perceiver: AudioPerceiver, tmp_path: Path) -> None:
    path = write_wav(tmp_path / "quiet.wav", np.zeros(3 * RATE))

    found = perceiver.perceive(PerceptionInput(path, "audio/wav"))

    assert {finding.kind for finding in found} <= {"sound"}
    assert {finding.label for finding in found} <= {"Silence"}


def test_a_corrupt_file_is_refused_naming_it(perceiver: AudioPerceiver, tmp_path: Path) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)

    with pytest.raises(UserError, match=r"broken\.wav"):
        perceiver.perceive(PerceptionInput(path, "audio/wav"))


def test_a_text_file_is_refused_naming_it(perceiver: AudioPerceiver, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a sound at all\n" * 20)

    with pytest.raises(UserError, match=r"notes\.txt"):
        perceiver.perceive(PerceptionInput(path, "text/plain"))


def test_a_video_without_sound_is_refused(perceiver: AudioPerceiver, tmp_path: Path) -> None:
    path = tmp_path / "mute.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1", "-c:v", "mpeg4",
           str(path))  # fmt: skip

    with pytest.raises(UserError, match=r"mute\.mp4 has no audio"):
        perceiver.perceive(PerceptionInput(path, "video/mp4"))


def test_a_missing_file_is_refused(perceiver: AudioPerceiver, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no such file: gone\.wav"):
        perceiver.perceive(PerceptionInput(tmp_path / "gone.wav", "audio/wav"))


def test_a_videos_sound_track_is_heard(perceiver: AudioPerceiver, tmp_path: Path) -> None:
    path = tmp_path / "tone.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=250:duration=2",
           "-c:v", "mpeg4", "-c:a", "aac", "-shortest", str(path))  # fmt: skip

    found = perceiver.perceive(PerceptionInput(path, "video/mp4"))

    assert "Sine wave" in {finding.label for finding in of_kind(found, "sound")}
    assert not of_kind(found, "word")


# --- the pure steps -----------------------------------------------------------------------------


def scores(rows: dict[int, list[float]], patches: int) -> SoundScores:
    values = np.zeros((patches, CLASSES), np.float32)
    for index, column in rows.items():
        values[:, index] = column
    return SoundScores(values)


NAMES = [f"class {index}" for index in range(CLASSES)]


def test_consecutive_patches_of_a_class_make_one_event_a_dip_bridged() -> None:
    grid = scores({7: [0.0, 0.9, 0.1, 0.8, 0.0, 0.0, 0.9]}, 7)

    found = sound_findings(grid, NAMES, duration=3.84)

    assert [(f.label, f.start, f.end) for f in found] == [
        ("class 7", 0.72, 2.16),  # patches 1-3: from the middle of patch 1's hop to patch 3's
        ("class 7", 3.12, 3.84),  # the last patch reaches the end
    ]
    assert found[0].score == pytest.approx((0.9 + 0.1 + 0.8) / 3)
    assert found[0].detail["peak"] == pytest.approx(0.9)


def test_weak_classes_and_those_below_the_best_three_are_left_out() -> None:
    grid = scores({1: [0.9], 2: [0.8], 3: [0.7], 4: [0.6], 5: [0.15]}, 1)

    assert [f.label for f in sound_findings(grid, NAMES, duration=0.96)] == [
        "class 1",
        "class 2",
        "class 3",
    ]


def test_classes_tied_with_the_third_best_are_all_kept() -> None:
    grid = scores({400: [0.68], 401: [0.5], 402: [0.32], 10: [0.32], 11: [0.32]}, 1)

    assert {f.label for f in sound_findings(grid, NAMES, duration=0.96)} == {
        "class 400",
        "class 401",
        "class 402",
        "class 10",
        "class 11",
    }


def test_an_event_is_trimmed_to_where_it_sounds_and_silence_to_where_it_does_not() -> None:
    sounds = np.zeros(300, bool)  # 10 ms frames
    sounds[120:250] = True
    tone = Finding("sound", "Dial tone", start=1.0, end=2.8)
    silence = Finding("sound", "Silence", start=0.0, end=1.5)
    only_quiet = Finding("sound", "Liquid", start=0.2, end=0.9)

    assert span(trim_to_sound(tone, sounds) or tone) == (1.2, 2.5)
    assert span(trim_to_sound(silence, sounds) or silence) == (0.0, 1.2)
    assert trim_to_sound(only_quiet, sounds) is None


# --- registration -------------------------------------------------------------------------------


def test_the_perceiver_finds_the_transcriber_registered_after_it(tmp_path: Path) -> None:
    components = Components(Settings(home=tmp_path))
    register(components)
    perceiver = components.perceivers.get("bundled-audio")
    assert isinstance(perceiver, AudioPerceiver)
    assert perceiver.transcriber is None

    whisper.register(components)

    assert perceiver.transcriber is components.transcribers.get("whisper")
    assert perceiver.media == frozenset({"audio"})
