"""The whisper transcriber on the model hallmark ships, fed speech from the piper voice."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from hallmark.screen.audio import resample
from hallmark.speech.base import STT_RATE, Speech
from hallmark.speech.piper import PiperSpeech
from hallmark.speech.whisper import BUNDLED_SIZE, WhisperSpeech, bundled_model

SENTENCE = "The weather is lovely today, and we went for a walk in the park."


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def whisper(home: Path) -> WhisperSpeech:
    return WhisperSpeech(home).prepare()


@pytest.fixture(scope="module")
def speech() -> Speech:
    samples, rate = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0).synthesize(SENTENCE, "en")
    return resample(samples, rate)


def test_the_transcript_has_the_words_said_in_order(whisper: WhisperSpeech, speech: Speech) -> None:
    segments = whisper.transcribe(speech, "en")

    text = " ".join(segment.text for segment in segments).lower()
    for word in ("weather", "lovely", "walk", "park"):
        assert word in text
    words = [word for segment in segments for word in segment.words]
    assert "park" in words[-1].text.lower()
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    duration = len(speech) / STT_RATE
    assert 0 <= words[0].start < words[-1].end <= duration + 0.5


def test_the_language_is_detected_when_not_given(whisper: WhisperSpeech, speech: Speech) -> None:
    text = " ".join(segment.text for segment in whisper.transcribe(speech)).lower()
    assert "weather" in text


def test_silence_has_no_words(whisper: WhisperSpeech) -> None:
    segments = whisper.transcribe(np.zeros(2 * STT_RATE, np.float32), "en")
    assert [s for s in segments if any(c.isalpha() for c in s.text)] == []


def test_the_model_is_assembled_once_and_reused(whisper: WhisperSpeech, home: Path) -> None:
    model = home / "models" / "whisper-base" / "model.bin"
    before = model.stat()
    assert before.st_size == BUNDLED_SIZE

    assert bundled_model(home) == model.parent
    after = model.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in model.parent.parent.iterdir()] == ["whisper-base"]


def test_a_damaged_model_is_assembled_again(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "whisper-base"
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"half a model")

    assert bundled_model(tmp_path) == folder
    assert (folder / "model.bin").stat().st_size == BUNDLED_SIZE
    assert {p.name for p in folder.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }


def test_a_configured_model_folder_replaces_the_bundled_one(tmp_path: Path) -> None:
    from hallmark.errors import HallmarkError

    with pytest.raises(HallmarkError, match="cannot load the whisper model"):
        WhisperSpeech(tmp_path, tmp_path / "nowhere").prepare()
    assert not (tmp_path / "models").exists()
