"""The spoken notice of the explicit audio label (``HALLMARK_AUDIO_NOTICE``).

With the ``hum`` fake voice: where the notice goes (start and end, 200 ms of silence, the
programme's samples untouched), its level, what is recorded, one synthesis per text, language
and rate, and which of notice and cue each setting gives. With the real piper voice through the
registry: ``auto`` speaks English labels (eu, us-ca; WAV and MP3) and gives the cue to Chinese
ones (cn), ``spoken`` refuses Chinese, and an inspection of a spoken-notice file still says AI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from test_c2pa_support import provenance
from test_explicit_audio import RATE, cues, mp3_bytes, music, wav_bytes

from fakes.hum import HumVoice
from hallmark.content import Content
from hallmark.errors import ConfigurationError, HallmarkError, UserError
from hallmark.mark.base import LabelContext, apply_labels, plan_labels
from hallmark.mark.explicit_audio import SILENCE, ExplicitAudioLabel, decode_audio, resample
from hallmark.mark.report import inspect_bytes
from hallmark.policy import resolve_policy
from hallmark.registry import Components, load_components
from hallmark.settings import Settings, load_settings
from hallmark.speech.base import Speech
from helpers import run_cli

GAP = round(SILENCE * RATE)
PEAK = 10 ** (-3 / 20)


class EnglishHum(HumVoice):
    name: ClassVar[str] = "hum-en"
    languages: ClassVar[frozenset[str]] = frozenset({"en"})


class MuteVoice(HumVoice):
    name: ClassVar[str] = "mute"

    def synthesize(self, text: str, language: str) -> tuple[Speech, int]:
        return np.zeros(16000, dtype=np.float32), 16000


def context(jurisdiction: str, **changes: Any) -> LabelContext:
    policy = resolve_policy(jurisdiction)
    language = changes.pop("language", policy.language)
    wording = changes.pop("wording", policy.label_text(language))
    return LabelContext(policy, language, wording, provenance(), **changes)


def programme(seconds: float = 1.5, rate: int = RATE) -> np.ndarray:
    """Two different channels, so a swapped or mixed channel shows."""
    return np.stack([music(1, seconds, rate), music(2, seconds, rate)], axis=1)


def split(labelled: Content, original: Content) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start notice, what follows it up to the end notice, end notice) of a labelled WAV."""
    out, before = decode_audio(labelled).samples, decode_audio(original).samples
    twice, odd = divmod(len(out) - len(before) - 2 * GAP, 2)
    assert odd == 0 and twice > 0
    return out[:twice], out[twice:-twice], out[-twice:]


def band_shares(mono: np.ndarray, rate: int) -> list[float]:
    """Share of the energy in 100-500 Hz, 0.5-1, 1-2 and 2-4 kHz."""
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    edges = [(100, 500), (500, 1000), (1000, 2000), (2000, 4000)]
    return [float(power[(freqs >= a) & (freqs < b)].sum() / power.sum()) for a, b in edges]


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples))))


# --- placement and caching, with the fake voice ------------------------------------------------


def test_the_notice_is_at_both_ends_and_the_programme_untouched() -> None:
    hum = HumVoice()
    source = Content("audio", "audio/wav", wav_bytes(programme()))
    labelled = ExplicitAudioLabel([hum], "auto").mark(source, context("eu"))
    start, middle, end = split(labelled, source)
    sentence = "This audio is AI-generated."
    assert hum.said == [(sentence, "en")]
    assert len(start) / RATE == pytest.approx(len(sentence) * 0.060, abs=0.05)
    assert np.array_equal(start, end)
    assert np.array_equal(start[:, 0], start[:, 1])  # every channel says it
    assert np.abs(start).max() == pytest.approx(PEAK, abs=1e-3)
    assert not middle[:GAP].any() and not middle[-GAP:].any()  # 200 ms of silence each side
    assert np.array_equal(middle[GAP:-GAP], decode_audio(source).samples)  # only shifted
    assert cues(labelled) == []
    record = labelled.metadata["audio_notice"]
    assert labelled.metadata["explicit_label"] == sentence
    total = decode_audio(labelled).duration
    seconds = round(len(start) / RATE, 3)
    assert record == {
        "kind": "spoken",
        "text": sentence,
        "language": "en",
        "voice": "hum",
        "time_spans": {
            "start": [0.0, seconds],
            "end": [round(total - len(start) / RATE, 3), round(total, 3)],
        },
    }


def test_one_synthesis_per_text_language_and_rate() -> None:
    hum = HumVoice()
    marker = ExplicitAudioLabel([hum], "spoken")
    clip = programme(0.5)
    for _ in range(2):
        marker.mark(Content("audio", "audio/wav", wav_bytes(clip)), context("us-ca"))
    low = Content("audio", "audio/wav", wav_bytes(programme(0.5, 8000), 8000))
    marker.mark(low, context("us-ca"))
    platform = context("us-ca", role="propagator", classification="possible")
    possibly = context("us-ca", wording=platform.policy.platform_label("possible", "en"))
    labelled = marker.mark(Content("audio", "audio/wav", wav_bytes(clip)), possibly)
    assert hum.said == [
        ("This audio is AI-generated.", "en"),  # 44.1 kHz
        ("This audio is AI-generated.", "en"),  # 8 kHz
        ("This audio is possibly AI-generated.", "en"),
    ]
    assert labelled.metadata["explicit_label"] == "This audio is possibly AI-generated."


def test_a_chinese_label_is_spoken_in_chinese_by_a_voice_that_speaks_it() -> None:
    hum = HumVoice()
    source = Content("audio", "audio/wav", wav_bytes(programme(0.5)))
    labelled = ExplicitAudioLabel([EnglishHum(), hum], "auto").mark(source, context("cn"))
    assert hum.said == [("本音频为AI生成内容。", "zh")]
    assert labelled.metadata["audio_notice"]["voice"] == "hum"


def test_an_add_on_voice_speaks_what_the_built_in_does_not(tmp_path: Path) -> None:
    components = load_components(Settings(home=tmp_path / "home", plugins="fakes.hum"))
    built_in = {"espeak-ng"}  # registered where the espeak-ng program is installed
    names = [voice.name for voice in components.voices if voice.name not in built_in]
    assert names == ["piper-joe", "hum"]
    source = Content("audio", "audio/wav", wav_bytes(programme(0.5)))
    labelled = components.markers.get("explicit.audio").mark(source, context("cn"))
    assert labelled.metadata["audio_notice"]["voice"] == "hum"
    assert labelled.metadata["explicit_label"] == "本音频为AI生成内容。"


def test_auto_gives_the_cue_when_no_voice_speaks_the_language() -> None:
    english = EnglishHum()
    source = Content("audio", "audio/wav", wav_bytes(programme(0.5)))
    labelled = ExplicitAudioLabel([english], "auto").mark(source, context("cn"))
    assert english.said == []
    assert cues(labelled) == ["start", "end"]
    assert labelled.metadata["audio_notice"]["kind"] == "rhythm-cue"
    assert labelled.metadata["explicit_label"] == "rhythm-cue"


def test_cue_gives_the_cue_even_when_a_voice_speaks_the_language() -> None:
    english = EnglishHum()
    source = Content("audio", "audio/wav", wav_bytes(programme(0.5)))
    labelled = ExplicitAudioLabel([english], "cue").mark(source, context("eu"))
    assert english.said == []
    assert cues(labelled) == ["start", "end"]


def test_spoken_without_a_voice_for_the_language_is_a_user_error() -> None:
    source = Content("audio", "audio/wav", wav_bytes(programme(0.5)))
    with pytest.raises(UserError, match=r"speaks the label's language 'zh' \(voices speak: en\)"):
        ExplicitAudioLabel([EnglishHum()], "spoken").mark(source, context("cn"))


def test_a_voice_that_returns_silence_is_an_error() -> None:
    source = Content("audio", "audio/wav", wav_bytes(programme(0.5)))
    with pytest.raises(HallmarkError, match="silence"):
        ExplicitAudioLabel([MuteVoice()], "auto").mark(source, context("eu"))


@pytest.mark.parametrize("target", [8000, 16000, 44100, 48000])
def test_resampling_keeps_pitch_and_level_and_does_not_alias(target: int) -> None:
    t = np.arange(22050) / 22050
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t)
    out = resample(tone, 22050, target)
    assert len(out) == target
    spectrum = np.abs(np.fft.rfft(out[target // 10 : -target // 10]))
    freqs = np.fft.rfftfreq(len(out) - 2 * (target // 10), 1 / target)
    assert freqs[np.argmax(spectrum)] == pytest.approx(1000, abs=6)
    assert rms(out[target // 10 : -target // 10]) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    high = resample(0.5 * np.sin(2 * np.pi * 5000 * t), 22050, target)
    if target < 10000:  # 5 kHz is above the new Nyquist: removed, not folded to 3 kHz
        assert rms(high[target // 10 : -target // 10]) < 0.005


# --- the setting -------------------------------------------------------------------------------


def test_a_bad_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str], tmp_path: Path
) -> None:
    monkeypatch.setenv("HALLMARK_AUDIO_NOTICE", "loud")
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert raised.value.message.startswith("invalid setting HALLMARK_AUDIO_NOTICE: ")
    assert "\n" not in raised.value.message
    sample = tmp_path / "a.wav"
    sample.write_bytes(wav_bytes(programme(0.2)))
    result = run_cli(["inspect", str(sample)], {**cli_env, "HALLMARK_AUDIO_NOTICE": "loud"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: invalid setting HALLMARK_AUDIO_NOTICE: ")


# --- the real voice, through the registry ------------------------------------------------------


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> Components:
    """The built-ins with the default setting (auto): piper speaks English."""
    return load_components(Settings(home=tmp_path_factory.mktemp("spoken") / "home"))


def test_auto_under_eu_speaks_the_notice_with_piper(components: Components) -> None:
    source = Content("audio", "audio/wav", wav_bytes(programme(2.0)))
    labelled = components.markers.get("explicit.audio").mark(source, context("eu"))
    assert cues(labelled) == []
    start, middle, end = split(labelled, source)
    assert 1.0 <= len(start) / RATE <= 4.0
    assert np.array_equal(start, end)
    assert np.array_equal(middle[GAP:-GAP], decode_audio(source).samples)
    speech = start[:, 0]
    assert rms(speech) > 0.03 and np.abs(speech).max() == pytest.approx(PEAK, abs=1e-3)
    assert min(band_shares(speech, RATE)) > 0.01  # broadband speech, not a 1 kHz tone
    record = labelled.metadata["audio_notice"]
    assert (record["kind"], record["voice"], record["language"]) == ("spoken", "piper-joe", "en")


def test_auto_under_cn_writes_the_cue(components: Components) -> None:
    source = Content("audio", "audio/wav", wav_bytes(programme(1.0)))
    labelled = components.markers.get("explicit.audio").mark(source, context("cn"))
    assert cues(labelled) == ["start", "end"]
    assert labelled.metadata["audio_notice"]["kind"] == "rhythm-cue"


def test_spoken_under_cn_is_a_user_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", audio_notice="spoken")
    marker = load_components(settings).markers.get("explicit.audio")
    source = Content("audio", "audio/wav", wav_bytes(programme(0.5)))
    with pytest.raises(UserError, match=r"HALLMARK_AUDIO_NOTICE=spoken.*'zh'"):
        marker.mark(source, context("cn"))


def test_mp3_gets_the_spoken_notice_and_keeps_its_tag(components: Components) -> None:
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0bTIT2\x00\x00\x00\x01\x00\x00\x03"
    source = Content("audio", "audio/mpeg", tag + mp3_bytes(programme(2.0)))
    labelled = components.markers.get("explicit.audio").mark(source, context("us-ca"))
    assert labelled.data.startswith(tag)
    assert cues(labelled) == []
    spans = labelled.metadata["audio_notice"]["time_spans"]
    seconds = spans["start"][1]
    decoded = decode_audio(labelled)
    expected = decode_audio(source).duration + 2 * (seconds + SILENCE)
    assert decoded.duration == pytest.approx(expected, abs=0.06)  # MP3 frame padding
    mono, n = decoded.samples.mean(axis=1), round(seconds * RATE)
    for notice in (mono[:n], mono[-n:]):
        assert rms(notice) > 0.03 and min(band_shares(notice, RATE)) > 0.01
    after = mono[n + round(0.02 * RATE) : n + round(0.18 * RATE)]  # inside the silence
    assert rms(after) < 0.01


def test_a_spoken_notice_file_still_inspects_as_ai(components: Components) -> None:
    """The explicit section is empty (no speech recognition); C2PA and the watermark say AI."""
    labels = context("eu")
    plan = plan_labels(labels.policy, "audio", components.markers)
    source = Content("audio", "audio/wav", wav_bytes(programme(4.0)))
    labelled, schemes = apply_labels(source, plan, labels)
    assert schemes[0] == "explicit" and labelled.metadata["audio_notice"]["kind"] == "spoken"
    report = inspect_bytes(components, labelled.data, filename="notice.wav", quick=True)
    assert report["explicit"] == []
    assert report["c2pa"] is not None and report["watermark"] is not None
    assert report["verdict"] == "confirmed"
