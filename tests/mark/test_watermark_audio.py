"""The audio watermark on WAV and MP3: the exact payload after an MP3 128 kbit/s re-encode and
a trim, the mark about 30 dB under the programme, no detection in 20 unmarked clips or with
another key, short clips and bad input refused."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from test_explicit_audio import RATE, mp3_bytes, music, wav_bytes
from test_watermark_support import label_context

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.explicit_audio import decode_audio, resample
from hallmark.mark.watermark import (
    AudioWatermarkMarker,
    KeyStore,
    Payload,
    WatermarkKey,
    detect_audio,
    embed_audio,
)
from hallmark.mark.watermark.audio_marker import AudioWatermarkInspector
from hallmark.registry import load_components
from hallmark.settings import Settings


def new_key(tmp_path: Path) -> WatermarkKey:
    return KeyStore(tmp_path / "keys").for_writing()


def wav_content(seconds: float, seed: int = 1, channels: int = 1) -> Content:
    samples = np.repeat(music(seed, seconds)[:, None], channels, axis=1)
    return Content("audio", "audio/wav", wav_bytes(samples))


def test_wav_payload_snr_and_mp3_128k(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    payload = Payload.for_content(uuid.uuid4().hex, key)
    marked = embed_audio(wav_content(10.0, channels=2), payload, key)
    assert marked.snr >= 30.0
    content = Content("audio", "audio/wav", marked.data)
    found = detect_audio(content, key)
    assert found is not None and found.payload == payload
    samples = decode_audio(content).samples
    reencoded = Content("audio", "audio/mpeg", mp3_bytes(samples, bitrate=128_000))
    found = detect_audio(reencoded, key)
    assert found is not None and found.payload == payload
    assert found.bit_accuracy_estimate >= 0.95
    trimmed = Content("audio", "audio/wav", wav_bytes(samples[RATE // 3 + 17 :]))
    found = detect_audio(trimmed, key)
    assert found is not None and found.payload == payload


def test_mp3_in_mp3_out(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    payload = Payload.for_content("c-1", key)
    source = Content("audio", "audio/mpeg", mp3_bytes(music(2, 5.0), bitrate=128_000))
    marked = embed_audio(source, payload, key)
    assert marked.data[:2] == b"\xff\xfb" or marked.data[:3] == b"ID3"
    found = detect_audio(Content("audio", "audio/mpeg", marked.data), key)
    assert found is not None and found.payload == payload


def test_no_false_positives(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    rng = np.random.default_rng(9)
    for seed in range(20):
        samples = 0.1 * rng.standard_normal(4 * RATE) if seed % 4 == 3 else music(100 + seed, 4.0)
        assert detect_audio(Content("audio", "audio/wav", wav_bytes(samples)), key) is None
    other = KeyStore(tmp_path / "other").for_writing()
    marked = embed_audio(wav_content(4.0), Payload.for_content("x", other), other)
    assert detect_audio(Content("audio", "audio/wav", marked.data), key) is None


def test_short_and_bad_input(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    payload = Payload.for_content("x", key)
    with pytest.raises(UserError, match="at least 3 s"):
        embed_audio(wav_content(2.0), payload, key)
    for media_type, data in [
        ("audio/wav", b""),
        ("audio/mpeg", b"ID3\x03"),
        ("audio/ogg", b"OggS"),
    ]:
        with pytest.raises(UserError):
            embed_audio(Content("audio", media_type, data), payload, key)
        assert detect_audio(Content("audio", media_type, data), key) is None


def test_marker_and_inspector_through_the_registry(tmp_path: Path) -> None:
    components = load_components(Settings(home=tmp_path / "home"))
    marker = components.markers.get("watermark.audio")
    inspector = components.inspectors.get("watermark.audio")
    assert isinstance(marker, AudioWatermarkMarker)
    assert isinstance(inspector, AudioWatermarkInspector)
    context = label_context()
    marked = marker.mark(wav_content(4.0), context)
    record = marked.metadata["watermark"]
    assert record["snr"] >= 30.0 and len(record["payload"]) == 16
    findings = inspector.inspect(marked)
    assert [(f.scheme, f.kind, f.detail["payload"]) for f in findings] == [
        ("watermark", "trace", record["payload"])
    ]
    assert inspector.inspect(wav_content(4.0, seed=7)) == []


def test_a_clip_resampled_since_marking_is_still_read(tmp_path: Path) -> None:
    key = new_key(tmp_path)
    payload = Payload.for_content("resampled", key)
    marked = embed_audio(wav_content(8.0), payload, key)
    samples = decode_audio(Content("audio", "audio/wav", marked.data)).samples[:, 0]
    for rate in (32_000, 22_050):
        resampled = resample(samples, RATE, rate)
        found = detect_audio(Content("audio", "audio/wav", wav_bytes(resampled, rate)), key)
        assert found is not None and found.payload == payload, rate
    unmarked = resample(music(77, 8.0), RATE, 32_000)
    assert detect_audio(Content("audio", "audio/wav", wav_bytes(unmarked, 32_000)), key) is None
