"""The audio watermark's signal processing, on mono float arrays: keyed spread spectrum in the
1-4 kHz band.

A *block* of 256 segments of 10 ms (2.56 s) repeats through the whole clip. The key fixes a
band-limited noise carrier as long as a block (white Gaussian noise with its spectrum cut to
``LOW``-``HIGH`` Hz, unit RMS) and which segments carry what: 46 segments carry a known ±1 sync
pattern, the other 210 one code bit each (``payload.CODE_BITS``), both scattered over the block
by a keyed permutation. The mark is the carrier times each segment's ±1, scaled by the host's
20 ms RMS envelope to ``STRENGTH`` of it (about 30 dB under the programme, and nothing in
silence), added to every channel.

Reading: the clip is whitened (its spectrum divided by a smoothed copy of its magnitude, in
the band only, a zero-phase filter that flattens tones and loud bands) and normalised to unit
local RMS, then folded: cut into block-long pieces that are summed, so every repetition adds
up and the programme averages out. A circular cross-correlation of the fold with the sync
pattern finds where the block starts (any offset, so a trimmed clip or a codec delay is
found), and each data segment's correlation with the carrier there is its soft code bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from hallmark.mark.watermark.payload import CODE_BITS

Floats = npt.NDArray[np.float64]

SEGMENTS = 256
SYNC_SEGMENTS = SEGMENTS - CODE_BITS  # 46
SEGMENT_SECONDS = 0.010
LOW, HIGH = 1000.0, 4000.0  # Hz
STRENGTH = 10 ** (-31 / 20)  # of the host's envelope: the mark about 31 dB under it
ENVELOPE_SECONDS = 0.020
FLOOR = 1e-6
MIN_RATE = 8000
MIN_SECONDS = 3.0  # more than one block, so every code bit is there at least once
SMOOTH_HZ = 40.0  # the whitening's smoothing of the magnitude spectrum


@dataclass(slots=True, frozen=True)
class Pattern:
    """What the key fixes at one sample rate."""

    segment: int  # samples
    carrier: Floats  # one block, unit RMS
    sync_slots: npt.NDArray[np.int64]
    data_slots: npt.NDArray[np.int64]
    sync_signs: Floats

    @property
    def block(self) -> int:
        return self.segment * SEGMENTS

    def template(self, code: Floats) -> Floats:
        """One block of the mark for ±1 ``code`` values (zeros leave a segment out)."""
        signs = np.zeros(SEGMENTS)
        signs[self.sync_slots] = self.sync_signs
        signs[self.data_slots] = code
        return np.asarray(np.repeat(signs, self.segment) * self.carrier)

    def sync_template(self) -> Floats:
        signs = np.zeros(SEGMENTS)
        signs[self.sync_slots] = self.sync_signs
        return np.asarray(np.repeat(signs, self.segment) * self.carrier)


@lru_cache(maxsize=8)
def pattern(seed: bytes, rate: int) -> Pattern:
    """What ``seed`` fixes at ``rate`` Hz (kept: marking or reading a clip at a rate seen
    before skips the carrier's FFTs). Shared: not to be changed by the caller."""
    rng = np.random.default_rng(np.frombuffer(seed, dtype=np.uint32))
    segment = round(SEGMENT_SECONDS * rate)
    block = segment * SEGMENTS
    spectrum = np.fft.rfft(rng.standard_normal(block))
    freqs = np.fft.rfftfreq(block, 1 / rate)
    spectrum[(freqs < LOW) | (freqs > min(HIGH, 0.45 * rate))] = 0
    carrier = np.fft.irfft(spectrum, block)
    carrier /= np.sqrt(np.mean(carrier**2))
    slots = rng.permutation(SEGMENTS)
    signs = rng.choice(np.array([-1.0, 1.0]), SYNC_SEGMENTS)
    return Pattern(segment, carrier, slots[:SYNC_SEGMENTS], slots[SYNC_SEGMENTS:], signs)


def _moving_mean(x: Floats, width: int) -> Floats:
    """``np.convolve(x, ones(width) / width, mode="same")`` for ``len(x) >= width``, from a
    running sum: linear time however wide the window (a direct convolution over a whole clip
    takes seconds). ``running[j]`` is the sum of ``x`` before index ``j - width - 1``, clamped
    to the clip, so each window is the difference of two slices."""
    width = max(1, width)
    ahead = (width - 1) // 2 + 1
    size = len(x)
    running = np.zeros(width + 1 + size + ahead)
    np.cumsum(x, out=running[width + 1 : width + 1 + size])
    running[width + 1 + size :] = running[width + size]
    out = running[ahead + width : ahead + width + size] - running[ahead : ahead + size]
    out /= width
    return out


def _moving_rms(x: Floats, width: int) -> Floats:
    mean = _moving_mean(np.square(x), width)
    np.maximum(mean, 0.0, out=mean)  # a running sum's rounding can leave -1e-18 in silence
    return np.sqrt(mean, out=mean)


def embed_delta(host: Floats, code_bits: npt.NDArray[np.uint8], seed: bytes, rate: int) -> Floats:
    """The mark to add to every channel of a clip whose mono mix is ``host``."""
    found = pattern(seed, rate)
    block = found.template(code_bits.astype(np.float64) * 2.0 - 1.0) * STRENGTH
    delta = _moving_rms(host, round(ENVELOPE_SECONDS * rate))
    np.maximum(delta, FLOOR, out=delta)
    for start in range(0, len(delta), len(block)):
        piece = delta[start : start + len(block)]
        piece *= block[: len(piece)]
    return delta


@dataclass(slots=True, frozen=True)
class Reading:
    sync: float  # the sync peak in standard deviations of the correlation over all offsets
    offset: int  # samples: where the first whole block starts, modulo a block
    soft: Floats  # the code bits' correlations, unit standard deviation


def _whitened(signal: Floats, rate: int) -> Floats:
    spectrum = np.fft.rfft(signal)
    freqs = np.fft.rfftfreq(len(signal), 1 / rate)
    width = max(1, round(SMOOTH_HZ * len(signal) / rate))
    magnitude = _moving_mean(np.abs(spectrum), width)
    band = (freqs >= LOW) & (freqs <= min(HIGH, 0.45 * rate))
    flat = np.where(band, spectrum / np.maximum(magnitude, 1e-12), 0)
    out = np.fft.irfft(flat, len(signal))
    return np.asarray(out / np.maximum(_moving_rms(out, round(ENVELOPE_SECONDS * rate)), 1e-12))


def read(signal: Floats, seed: bytes, rate: int) -> Reading | None:
    """The sync strength and soft code bits in a mono clip; None when it is too short."""
    if rate < MIN_RATE or len(signal) < MIN_SECONDS * rate:
        return None
    found = pattern(seed, rate)
    white = _whitened(signal, rate)
    pieces = -(-len(white) // found.block)
    padded = np.zeros(pieces * found.block)
    padded[: len(white)] = white
    fold = padded.reshape(pieces, found.block).sum(axis=0)
    sync = np.fft.irfft(
        np.fft.rfft(fold) * np.conj(np.fft.rfft(found.sync_template())), found.block
    )
    offset = int(np.argmax(sync))
    spread = float(np.std(sync))
    if spread == 0:
        return None
    strength = float((sync[offset] - np.mean(sync)) / spread)
    aligned = np.roll(fold, -offset).reshape(SEGMENTS, found.segment)
    per_segment = (aligned * found.carrier.reshape(SEGMENTS, found.segment)).sum(axis=1)
    soft = per_segment[found.data_slots]
    scale = float(np.std(soft)) or 1.0
    return Reading(strength, offset, soft / scale)
