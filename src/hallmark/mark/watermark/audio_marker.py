"""The audio watermark's two sides on files (WAV, MP3): the marker writes the content's
watermark id (the same 64-bit payload and key as the image watermark), the inspector reads it.

The file round trip is ``explicit_audio``'s: WAV samples rewritten in place with every other
chunk kept (but C2PA's), MP3 decoded and re-encoded with libmp3lame at its own bitrate and
rate, its ID3 tags copied. Clips under ``audio.MIN_SECONDS`` are refused (``UserError``): they
cannot hold every code bit. The record in ``metadata["watermark"]`` has the image marker's
fields, with the mark's SNR in place of a PSNR; a propagator keeps a mark of ours already there.
``mark_samples`` and ``detect_mono`` work on samples alone: the video watermark uses them on a
video's audio track.

Detection needs the sync peak above ``SYNC_THRESHOLD`` standard deviations (unmarked clips
measured 3.5-5.5, marked ones 20-26 after an MP3 128 kbit/s re-encode) and a matching CRC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.explicit_audio import (
    KINDS,
    Decoded,
    Samples,
    decode_audio,
    encode_audio,
    resample,
)
from hallmark.mark.gb45438.formats import base_type
from hallmark.mark.watermark import audio
from hallmark.mark.watermark.audio import Floats
from hallmark.mark.watermark.inspector import Detection, KeyedInspector
from hallmark.mark.watermark.marker import PayloadMarker
from hallmark.mark.watermark.payload import Payload, WatermarkKey, decode, encode

ALGORITHM = "hallmark-audio-ss-v1"
SYNC_THRESHOLD = 9.0
WRITTEN_RATES = (44_100, 48_000)  # the rates audio is most often produced (and marked) at
STRONG_SYNC = 15.0


def audio_seed(key: WatermarkKey) -> bytes:
    return key.mac(b"audio pattern")


@dataclass(slots=True, frozen=True)
class MarkedAudio:
    data: bytes
    payload: Payload
    snr: float  # dB: programme over mark, as written (before an MP3 encoder)


def unfit(rate: int, seconds: float) -> str | None:
    """Why a clip of ``seconds`` at ``rate`` Hz cannot carry the mark; None when it can."""
    if rate < audio.MIN_RATE:
        return f"the audio watermark needs at least {audio.MIN_RATE} Hz sampling"
    if seconds < audio.MIN_SECONDS:
        return (
            f"the clip is {seconds:.2f} s; the audio watermark needs at least "
            f"{audio.MIN_SECONDS:g} s"
        )
    return None


def mark_samples(
    samples: Samples, rate: int, payload: Payload, key: WatermarkKey
) -> tuple[Samples, float]:
    """``samples`` (frames, channels) with the mark of ``payload`` in every channel, and the
    SNR in dB (programme over mark)."""
    host = samples.mean(axis=1)
    delta = audio.embed_delta(host, encode(payload.bits()), audio_seed(key), rate)
    power = float(np.sum(samples**2))
    noise = float(np.sum(delta**2)) * samples.shape[1]
    snr = 99.0 if noise == 0 or power == 0 else round(float(10 * np.log10(power / noise)), 2)
    return samples + delta[:, None], snr


def embed_audio(content: Content, payload: Payload, key: WatermarkKey) -> MarkedAudio:
    """The WAV or MP3 file with ``payload`` watermarked into it, in the same format."""
    decoded = decode_audio(content)
    reason = unfit(decoded.rate, decoded.duration)
    if reason is not None:
        raise UserError(reason)
    marked, snr = mark_samples(decoded.samples, decoded.rate, payload, key)
    return MarkedAudio(encode_audio(decoded, marked), payload, snr)


def detect_mono(mono: Floats, rate: int, key: WatermarkKey) -> Detection | None:
    """The watermark in a mono mix at ``rate`` Hz, or None.

    The carrier is drawn for the rate the mark was written at, so a clip resampled since
    (44.1 kHz to 32 kHz, say) is read again at each of ``WRITTEN_RATES``: an unmarked clip at
    another rate costs up to three readings.
    """
    found = _detect_at(mono, rate, key)
    for written in WRITTEN_RATES:
        if found is not None:
            break
        if written != rate:
            found = _detect_at(resample(mono, rate, written), written, key)
    return found


def _detect_at(mono: Floats, rate: int, key: WatermarkKey) -> Detection | None:
    reading = audio.read(mono, audio_seed(key), rate)
    if reading is None or reading.sync < SYNC_THRESHOLD:
        return None
    bits = decode(reading.soft)
    payload = Payload.from_bits(bits)
    if payload is None:
        return None
    agreement = float(np.mean((reading.soft > 0) == encode(bits).astype(bool)))
    return Detection(
        payload,
        reading.sync,
        agreement,
        key.key_id,
        threshold=SYNC_THRESHOLD,
        strong=STRONG_SYNC,
        algorithm=ALGORITHM,
    )


def detect_samples(decoded: Decoded, key: WatermarkKey) -> Detection | None:
    return detect_mono(decoded.samples.mean(axis=1), decoded.rate, key)


def detect_audio(content: Content, key: WatermarkKey) -> Detection | None:
    """The watermark in a WAV or MP3 file, or None (also for a file that cannot be read)."""
    try:
        decoded = decode_audio(content)
    except UserError:
        return None
    return detect_samples(decoded, key)


class AudioWatermarkMarker(PayloadMarker):
    media: ClassVar[frozenset[Medium]] = frozenset({"audio"})
    algorithm: ClassVar[str] = ALGORITHM

    def detect(self, content: Content, key: WatermarkKey) -> Detection | None:
        return detect_samples(decode_audio(content), key)

    def embed(
        self, content: Content, payload: Payload, key: WatermarkKey
    ) -> tuple[bytes, dict[str, Any]]:
        marked = embed_audio(content, payload, key)
        return marked.data, {"snr": marked.snr}


class AudioWatermarkInspector(KeyedInspector):
    name: ClassVar[str] = "watermark.audio"
    media: ClassVar[frozenset[Medium]] = frozenset({"audio"})

    def reads(self, content: Content) -> bool:
        return base_type(content.media_type) in KINDS

    def detect(self, content: Content, key: WatermarkKey) -> dict[str, Any] | None:
        found = detect_audio(content, key)
        return None if found is None else found.to_dict()
