"""The piper voice speaks English of plausible length and level, registered as a built-in; it
refuses other languages; first calls from several threads all get speech."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from hallmark.errors import UserError
from hallmark.registry import load_components
from hallmark.settings import Settings
from hallmark.speech.base import voice_for
from hallmark.speech.piper import PiperSpeech

VOICE = PiperSpeech()  # one load for the module
SHORT = "This audio is AI-generated."
LONG = (
    "This audio is AI-generated. It was made by a machine learning system, "
    "and every copy of it carries this notice at the start and at the end."
)


def band_shares(speech: np.ndarray, rate: int) -> list[float]:
    """Share of the energy in 100-500 Hz, 0.5-1, 1-2 and 2-4 kHz."""
    power = np.abs(np.fft.rfft(speech)) ** 2
    freqs = np.fft.rfftfreq(len(speech), 1 / rate)
    edges = [(100, 500), (500, 1000), (1000, 2000), (2000, 4000)]
    return [float(power[(freqs >= a) & (freqs < b)].sum() / power.sum()) for a, b in edges]


def test_speaks_english_of_plausible_length_and_level() -> None:
    speech, rate = VOICE.synthesize(SHORT, "en")
    assert rate == 22050 and speech.dtype == np.float32 and speech.ndim == 1
    assert 1.0 <= len(speech) / rate <= 4.0  # five words
    assert 0.0 < np.abs(speech).max() <= 1.0
    assert np.sqrt(np.mean(speech**2)) > 0.03  # speech, not silence or a click
    assert min(band_shares(speech, rate)) > 0.01  # voiced and fricative energy: broadband


def test_longer_text_takes_longer() -> None:
    short, rate = VOICE.synthesize(SHORT, "en")
    long, long_rate = VOICE.synthesize(LONG, "en")
    assert long_rate == rate
    assert len(long) > 3 * len(short)
    assert np.sqrt(np.mean(long**2)) > 0.03


def test_other_languages_are_refused() -> None:
    with pytest.raises(UserError, match="'zh'"):
        VOICE.synthesize("本音频为AI生成内容。", "zh")


def test_first_calls_from_several_threads_share_one_load() -> None:
    fresh = PiperSpeech()
    texts = ["Hello.", SHORT, LONG]
    with ThreadPoolExecutor(3) as pool:
        spoken = list(pool.map(lambda text: fresh.synthesize(text, "en")[0], texts))
    assert len(spoken[0]) < len(spoken[1]) < len(spoken[2])
    assert all(np.sqrt(np.mean(speech**2)) > 0.03 for speech in spoken)


def test_registered_as_the_built_in_english_voice(tmp_path: Path) -> None:
    voices = load_components(Settings(home=tmp_path / "home")).voices
    assert "piper-joe" in voices
    assert isinstance(voice_for(voices, "en"), PiperSpeech)
    assert voice_for(voices, "zh") is None
