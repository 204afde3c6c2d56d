"""The rhythm cue on WAV and MP3: written at the start and end, found again (also after an MP3
128 kbit/s re-encode), never found in unlabelled tones, sweeps or noise bursts; bad input is a
UserError. The marker is set to the cue (``HALLMARK_AUDIO_NOTICE=cue``) where the test is about
it: under ``auto`` these English (us-ca) labels would be spoken (test_spoken_notice). Other test
modules import the sample helpers."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest
from test_c2pa_support import label_context

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.explicit_audio import ExplicitAudioLabel, decode_audio, encode_mp3
from hallmark.mark.inspect_audio_cue import AudioCueInspector
from hallmark.registry import load_components
from hallmark.settings import Settings

RATE = 44100
CUE_LABEL = ExplicitAudioLabel(notice="cue")


def music(seed: int, seconds: float, rate: int = RATE) -> np.ndarray:
    """Notes with harmonics and decay, a little noise: music-like, peak 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    x = np.zeros_like(t)
    for n in range(int(seconds * 4)):
        f = rng.choice([220, 262, 330, 392, 440, 523, 659, 784]) * rng.choice([1, 2])
        a, b = int(n * rate / 4), int((n + 1) * rate / 4)
        for h in range(1, 6):
            x[a:b] += 0.3 / h * np.sin(2 * np.pi * f * h * t[a:b]) * np.exp(-3 * (t[a:b] - t[a]))
    x += 0.02 * rng.standard_normal(len(t))
    return np.asarray(0.5 * x / np.max(np.abs(x)))


def wav_bytes(samples: np.ndarray, rate: int = RATE, width: int = 2) -> bytes:
    frames = samples if samples.ndim == 2 else samples[:, None]
    full = float(1 << (8 * width - 1))
    ints = np.clip(np.round(frames * full), -full, full - 1).astype(np.int64)
    if width == 1:
        raw = (ints + 128).astype(np.uint8).tobytes()
    elif width == 3:
        u = (ints & 0xFFFFFF).astype(np.uint32).reshape(-1)
        raw = np.stack([u & 0xFF, (u >> 8) & 0xFF, u >> 16], axis=1).astype(np.uint8).tobytes()
    else:
        raw = ints.astype("<i2" if width == 2 else "<i4").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(frames.shape[1])
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(raw)
    return out.getvalue()


def mp3_bytes(samples: np.ndarray, rate: int = RATE, bitrate: int = 128_000) -> bytes:
    frames = samples if samples.ndim == 2 else samples[:, None]
    return encode_mp3(frames, rate, bitrate)


def cues(content: Content) -> list[str]:
    return [f.detail["cue"] for f in AudioCueInspector().inspect(content)]


@pytest.mark.parametrize(
    ("width", "channels", "rate"), [(1, 1, 8000), (2, 2, 44100), (3, 1, 48000), (4, 2, 22050)]
)
def test_wav_round_trip(width: int, channels: int, rate: int) -> None:
    programme = np.repeat(music(1, 1.5, rate)[:, None], channels, axis=1)
    source = Content("audio", "audio/wav", wav_bytes(programme, rate, width))
    labelled = CUE_LABEL.mark(source, label_context())
    assert labelled.metadata["explicit_label"] == "rhythm-cue"
    assert labelled.metadata["audio_notice"]["kind"] == "rhythm-cue"
    decoded = decode_audio(labelled)
    assert (decoded.rate, decoded.sample_width, decoded.samples.shape[1]) == (rate, width, channels)
    assert decoded.duration == pytest.approx(1.5 + 2 * 1.1, abs=0.01)
    found = AudioCueInspector().inspect(labelled)
    assert [f.detail["cue"] for f in found] == ["start", "end"]
    assert found[0].detail["time_span"][0] == pytest.approx(0.0, abs=0.03)
    assert found[0].kind == "explicit" and found[0].scheme == "explicit"
    assert cues(source) == []


def test_mp3_keeps_id3_and_survives_a_128k_reencode() -> None:
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0bTIT2\x00\x00\x00\x01\x00\x00\x03"
    source = Content("audio", "audio/mpeg", tag + mp3_bytes(music(2, 2.0), bitrate=192_000))
    labelled = CUE_LABEL.mark(source, label_context())
    assert labelled.data.startswith(tag)
    assert decode_audio(labelled).bitrate == 192_000
    assert cues(labelled) == ["start", "end"]
    again = Content("audio", "audio/mpeg", mp3_bytes(decode_audio(labelled).samples))
    assert cues(again) == ["start", "end"]


def _unlabelled() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    t = np.arange(3 * RATE) / RATE
    chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (500, 1000, 1500, 2000))
    sweep = 0.3 * np.sin(2 * np.pi * (200 * t + 300 * t * t))  # 200 Hz to 2 kHz
    beeps = 0.3 * np.sin(2 * np.pi * 1000 * t) * ((t * 5) % 1 < 0.5)  # 100 ms on/off
    bursts = rng.standard_normal(len(t)) * 0.2 * ((t * 3) % 1 < 0.4)  # speech-like bursts
    return [chord, sweep, beeps, bursts, music(4, 3.0), 0.25 * np.sin(2 * np.pi * 1000 * t)]


def test_no_cue_in_unlabelled_audio() -> None:
    for samples in _unlabelled():
        assert cues(Content("audio", "audio/wav", wav_bytes(samples))) == []


@pytest.mark.parametrize(
    ("media_type", "data", "message"),
    [
        ("audio/wav", b"", "empty"),
        ("audio/wav", b"RIFF\x00\x01\x00\x00WAVEfmt ", "truncated"),
        ("audio/mpeg", b"\xff\xfb" + bytes(50), "MP3"),
        ("audio/wav", b"garbage bytes here", "not a WAV"),
        ("audio/flac", b"fLaC" + bytes(40), "audio/flac"),
    ],
)
def test_bad_input_is_a_user_error(media_type: str, data: bytes, message: str) -> None:
    with pytest.raises(UserError, match=message):
        CUE_LABEL.mark(Content("audio", media_type, data), label_context())
    assert AudioCueInspector().inspect(Content("audio", media_type, data)) == []


def test_an_mp3_named_wav_is_refused() -> None:
    data = mp3_bytes(music(5, 1.0))
    with pytest.raises(UserError, match="MP3"):
        CUE_LABEL.mark(Content("audio", "audio/wav", data), label_context())


@pytest.mark.parametrize("notice", ["auto", "cue", "spoken"])
def test_registered_with_the_setting_and_the_voices(tmp_path: Path, notice: str) -> None:
    settings = Settings(home=tmp_path / "home", audio_notice=notice)
    components = load_components(settings)
    marker = components.markers.get("explicit.audio")
    assert isinstance(marker, ExplicitAudioLabel)
    assert marker.notice == notice and marker.voices is components.voices
    assert "audio-cue" in components.inspectors


def test_a_cue_setting_gives_the_cue_whatever_the_voices(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", audio_notice="cue")
    marker = load_components(settings).markers.get("explicit.audio")
    source = Content("audio", "audio/wav", wav_bytes(music(6, 1.0)))
    assert cues(marker.mark(source, label_context())) == ["start", "end"]
