"""The watermark's signal processing, on luminance arrays (numpy only; no file formats here).

**Embedding.** A tile of ``CELLS`` x ``CELLS`` cells is repeated over the image with a period
tied to the image's size: ``TILES`` periods along the short side, square tiles. Each cell is a
smooth bump (sin^2 across the cell, zero at its edges, so neighbouring cells do not bleed into
each other) of sign +1 or -1. A keyed random 394 of the 1,024 cells are the *pilot*, fixed
signs the decoder aligns on; the other 630 carry the 210 code bits of the payload, three
scattered cells per bit, each cell's sign scrambled by the key. The pattern is scaled by a
texture mask (more where the image is busy, less on flat areas) and then to a fixed PSNR, and
added to the luminance.

**Why this survives.** A resize maps tiles onto tiles, since the period is a fraction of the
size. A crop leaves the period in pixels unchanged and shifts the tiles cyclically. JPEG,
blur and brightness changes mostly keep the low-frequency, cell-sized structure the decoder
reads, and the sign of a correlation does not care about a gain.

**Decoding.** The luminance is resampled to a short side of ``WORKING_SIDE`` and high-pass
filtered with a local contrast normalisation (the image is the noise here). Then:

1. the period is searched, square, from the size-derived one to that of an image whose short
   side was cut by up to ``MAX_CUT``: for each candidate the image is *folded* onto one tile
   (pixels of equal tile phase averaged) and circularly correlated with the pilot (one FFT),
   on a half-resolution copy first, then refined at full resolution and per axis;
2. the fold with the sharpest pilot peak gives the cyclic shift; undoing it, each cell's
   reading is its bump-weighted sum, and each code bit's soft value the sum of its three
   cells' descrambled readings, handed to the Viterbi decoder (``payload.decode``).

The pilot's peak height in standard deviations (``sync``) says whether anything is there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from hallmark.mark.watermark.payload import CODE_BITS

TILES = 2  # tile periods along the short side
CELLS = 32  # cells along a tile side
OVERSAMPLE = 4  # tile samples per cell along each axis
GRID = CELLS * OVERSAMPLE
REPEATS = 3  # cells per code bit
PILOT_CELLS = CELLS * CELLS - REPEATS * CODE_BITS  # the rest of the tile: 394 cells
MIN_SIDE = 128  # the short side an image needs to carry the watermark
MIN_READ_SIDE = MIN_SIDE // 2  # smaller than this, the decoder does not look
WORKING_SIDE = 256  # the decoder resamples the short side to this
MAX_CUT = 0.12  # the decoder finds the tiles of images whose short side lost up to 12%
COARSE_STEP = 0.003  # relative period step of the coarse search
FINE_STEP = 0.001  # and of the refinement around its best peaks
COARSE_PEAKS = 2
TARGET_PSNR = 40.0  # dB: the strength of the delta, before rounding and clipping
MASK_RANGE = (0.15, 2.5)  # local contrast relative to the image's median, clipped to this
MASK_EXPONENT = 0.5

Array = npt.NDArray[np.float32]
Floats = npt.NDArray[np.float64]
Complex = npt.NDArray[np.complex128]
Code = npt.NDArray[np.uint8]


@dataclass(slots=True, frozen=True)
class Layout:
    """The keyed arrangement of one tile: which cells are pilots, which carry which code bit,
    and each cell's sign (the pilot's value, or the scrambling of a code bit)."""

    pilot: npt.NDArray[np.intp]  # flat cell indices
    data: npt.NDArray[np.intp]  # (REPEATS, CODE_BITS) flat cell indices
    signs: Floats  # (CELLS * CELLS,) +-1

    def cells(self, code: Code) -> Floats:
        """The tile's cell values (CELLS x CELLS, +-1) for these code bits."""
        values = np.ones(CELLS * CELLS)
        values[self.data] = (code.astype(np.float64) * 2.0 - 1.0)[np.newaxis, :]
        return (values * self.signs).reshape(CELLS, CELLS)

    def pilot_cells(self) -> Floats:
        """The pilot alone: what the decoder aligns on (0 on the data cells)."""
        values = np.zeros(CELLS * CELLS)
        values[self.pilot] = self.signs[self.pilot]
        return values.reshape(CELLS, CELLS)


@lru_cache(maxsize=8)
def layout(seed: bytes) -> Layout:
    """The tile arrangement for a key's pattern seed."""
    words = np.frombuffer(hashlib.sha256(b"layout\n" + seed).digest(), dtype=np.uint32)
    rng = np.random.default_rng(words)
    order = rng.permutation(CELLS * CELLS)
    signs = rng.choice(np.array([-1.0, 1.0]), size=CELLS * CELLS)
    data = order[PILOT_CELLS:].reshape(REPEATS, CODE_BITS)
    return Layout(np.sort(order[:PILOT_CELLS]), data, signs)


@lru_cache(maxsize=1)
def _bump() -> Floats:
    """A cell's profile along one axis, sampled OVERSAMPLE times: sin^2, zero at the edges."""
    return np.sin(np.pi * (np.arange(OVERSAMPLE) + 0.5) / OVERSAMPLE) ** 2


def tile_pattern(cells: Floats) -> Floats:
    """One tile (GRID x GRID, unit RMS): each cell's value times the bump."""
    grid = np.kron(cells, np.outer(_bump(), _bump()))
    out: Floats = (grid / float(np.sqrt(np.mean(grid**2)))).astype(np.float64)
    return out


def _phases(length: int, period: float) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], Array]:
    """For each pixel along an axis: the two tile samples around its phase and the weight of
    the second. Pixel centres; the tiles start at the image's first pixel."""
    position = ((np.arange(length) + 0.5) / period % 1.0) * GRID - 0.5
    first = np.floor(position)
    weight = (position - first).astype(np.float32, copy=False)
    index = first.astype(np.intp) % GRID
    return index, (index + 1) % GRID, weight


def tiled(tile: Floats, height: int, width: int) -> Array:
    """The tile repeated over a height x width image, bilinearly interpolated."""
    period = min(height, width) / TILES
    y0, y1, wy = _phases(height, period)
    x0, x1, wx = _phases(width, period)
    pattern = tile.astype(np.float32, copy=False)
    rows0, rows1 = pattern[y0], pattern[y1]
    top = rows0[:, x0] * (1 - wx) + rows0[:, x1] * wx
    bottom = rows1[:, x0] * (1 - wx) + rows1[:, x1] * wx
    out = (top * (1 - wy)[:, np.newaxis] + bottom * wy[:, np.newaxis]).astype(
        np.float32, copy=False
    )
    return out


def box_blur(image: Array, radius: int) -> Array:
    """The mean over a (2r+1)-square window, edges replicated (cumulative sums per axis)."""
    if radius < 1:
        return image
    size = 2 * radius + 1
    out = image
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius + 1, radius)
        total = np.cumsum(np.pad(out, pad, mode="edge"), axis=axis, dtype=np.float32)
        ahead = np.take(total, np.arange(size, total.shape[axis]), axis=axis)
        behind = np.take(total, np.arange(0, total.shape[axis] - size), axis=axis)
        out = (ahead - behind) / np.float32(size)
    return out


def reduce(image: Array, factor: int) -> Array:
    """The mean of each ``factor`` x ``factor`` block (a remainder at the edges is dropped)."""
    if factor <= 1:
        return image
    height, width = image.shape[0] // factor, image.shape[1] // factor
    total = np.zeros((height, width), dtype=np.float32)
    for dy in range(factor):
        for dx in range(factor):
            total += image[dy : height * factor : factor, dx : width * factor : factor]
    out = (total / np.float32(factor * factor)).astype(np.float32, copy=False)
    return out


def texture_mask(luma: Array) -> Array:
    """How much the eye tolerates where: local contrast relative to the image's median
    contrast, clipped to MASK_RANGE and softened by MASK_EXPONENT (computed at about the
    working resolution and spread back over the full image)."""
    factor = max(1, min(luma.shape) // WORKING_SIDE)
    small = reduce(luma, factor)
    mean = box_blur(small, 2)
    spread = np.sqrt(np.maximum(box_blur(small * small, 2) - mean * mean, 0.0))
    typical = float(np.median(spread)) + 1.0
    relative = np.clip((spread + 1.0) / typical, *MASK_RANGE) ** MASK_EXPONENT
    mask = box_blur(relative.astype(np.float32), 1)
    if factor > 1:
        mask = np.repeat(np.repeat(mask, factor, axis=0), factor, axis=1)
        pad_y, pad_x = luma.shape[0] - mask.shape[0], luma.shape[1] - mask.shape[1]
        mask = np.pad(mask, ((0, pad_y), (0, pad_x)), mode="edge")
    return mask


def embed_delta(luma: Array, code: Code, seed: bytes) -> Array:
    """The luminance change (float, to add to R, G and B alike) that writes ``code``."""
    height, width = luma.shape
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"the watermark needs at least {MIN_SIDE} px on the short side")
    pattern = tiled(tile_pattern(layout(seed).cells(code)), height, width)
    delta = pattern * texture_mask(luma)
    rms = 255.0 / 10 ** (TARGET_PSNR / 20)
    scale = rms / max(float(np.sqrt(np.mean(delta * delta, dtype=np.float64))), 1e-6)
    out: Array = delta * np.float32(scale)
    return out


@dataclass(slots=True, frozen=True)
class Reading:
    """What the decoder found: soft code values, and how clear the alignment was."""

    soft: Floats  # (CODE_BITS,), positive means 1
    sync: float  # the pilot's peak, in standard deviations of the correlation surface
    period: tuple[float, float]  # (y, x) tile period found, in input pixels
    shift: tuple[float, float]  # (y, x) where the first tile starts, in input pixels


def _area_matrix(size: int, target: int) -> Array:
    """The (target, size) matrix that area-averages ``size`` samples into ``target``."""
    edges = np.linspace(0.0, size, target + 1)
    start = np.arange(size)
    right = np.minimum(start + 1, edges[1:, np.newaxis])
    left = np.maximum(start, edges[:-1, np.newaxis])
    weights = np.clip(right - left, 0.0, None) / (edges[1:] - edges[:-1])[:, np.newaxis]
    out: Array = weights.astype(np.float32, copy=False)
    return out


def working_copy(luma: Array) -> tuple[Array, float]:
    """The luminance resampled so its short side is WORKING_SIDE (never enlarged), and the
    factor from working pixels back to input pixels."""
    short = min(luma.shape)
    if short <= WORKING_SIDE:
        return luma, 1.0
    small = reduce(luma, short // WORKING_SIDE)
    scale = WORKING_SIDE / min(small.shape)
    height, width = (max(1, round(n * scale)) for n in small.shape)
    rows = _area_matrix(small.shape[0], height)
    columns = _area_matrix(small.shape[1], width)
    out = (rows @ small @ columns.T).astype(np.float32, copy=False)
    return out, luma.shape[0] / height


def whiten(luma: Array) -> Array:
    """Keep the band the cells live in, and even out the contrast: to the decoder the image
    is noise, and a busy region should not outvote a quiet one."""
    cell = max(1, round(min(luma.shape) / TILES / CELLS))
    band = luma - box_blur(box_blur(luma, cell), cell)
    scale = np.sqrt(box_blur(band * band, cell)) + np.float32(1.0)
    out: Array = np.clip(band / scale, -3.0, 3.0)
    return out


def fold(signal: Array, period_y: float, period_x: float, grid: int = GRID) -> Floats:
    """The mean of the signal over pixels of equal tile phase, on a grid x grid fold."""
    height, width = signal.shape
    rows = (((np.arange(height) + 0.5) / period_y % 1.0) * grid).astype(np.intp) % grid
    cols = (((np.arange(width) + 0.5) / period_x % 1.0) * grid).astype(np.intp) % grid
    index = (rows[:, np.newaxis] * grid + cols[np.newaxis, :]).ravel()
    sums = np.bincount(index, weights=signal.ravel(), minlength=grid * grid)
    counts = np.bincount(index, minlength=grid * grid)
    folded = sums / np.maximum(counts, 1)
    out: Floats = (folded - folded.mean()).reshape(grid, grid)
    return out


@dataclass(slots=True, frozen=True)
class _Match:
    sync: float
    period_y: float
    period_x: float
    spectrum: Complex  # of the fold
    shift: tuple[int, int]  # of the fold against the pilot, in fold samples


def _match(signal: Array, period_y: float, period_x: float, pilot: Complex) -> _Match:
    """How well the fold at these periods matches the pilot, at its best cyclic shift.
    ``pilot`` is the conjugate spectrum of the pilot tile, on the fold's grid."""
    grid = pilot.shape[0]
    spectrum = np.fft.rfft2(fold(signal, period_y, period_x, grid))
    surface = np.fft.irfft2(spectrum * pilot, s=(grid, grid))
    flat = int(np.argmax(surface))
    y, x = divmod(flat, grid)
    sync = (surface[y, x] - surface.mean()) / (surface.std() + 1e-12)
    return _Match(float(sync), period_y, period_x, spectrum, (y, x))


def _local_peaks(scores: Floats) -> list[int]:
    """Indices of local maxima, highest first."""
    padded = np.concatenate(([-np.inf], scores, [-np.inf]))
    peaks = np.flatnonzero((scores >= padded[:-2]) & (scores >= padded[2:]))
    return [int(i) for i in peaks[np.argsort(-scores[peaks])]]


def search(signal: Array, pilot_tile: Floats) -> _Match:
    """The tile period and shift with the sharpest pilot peak: a coarse scan of one (square)
    period on a half-resolution copy with a half-size fold, from the size-derived period to
    that of an image cut by MAX_CUT; the best peaks refined at full resolution, then each
    axis alone (resampling may round the two sides differently)."""
    coarse = reduce(signal, 2)
    half = pilot_tile.reshape(GRID // 2, 2, GRID // 2, 2).mean(axis=(1, 3))
    coarse_pilot = np.conj(np.fft.rfft2(half))
    nominal = min(coarse.shape) / TILES
    periods = np.exp(
        np.arange(np.log(nominal * (1 - COARSE_STEP)), np.log(nominal / (1 - MAX_CUT)), COARSE_STEP)
    )
    scores = np.array([_match(coarse, p, p, coarse_pilot).sync for p in periods])
    pilot = np.conj(np.fft.rfft2(pilot_tile))
    steps = np.exp(np.arange(-COARSE_STEP, COARSE_STEP + 1e-9, FINE_STEP))
    best: _Match | None = None
    for index in _local_peaks(scores)[:COARSE_PEAKS]:
        for period in 2 * periods[index] * steps:
            found = _match(signal, period, period, pilot)
            if best is None or found.sync > best.sync:
                best = found
    assert best is not None
    for axis in (0, 1):
        start = best
        for step in steps:
            period_y = start.period_y * (step if axis == 0 else 1.0)
            period_x = start.period_x * (step if axis == 1 else 1.0)
            found = _match(signal, period_y, period_x, pilot)
            if found.sync > best.sync:
                best = found
    return best


def _cell_sums(spectrum: Complex, shift: tuple[int, int]) -> Floats:
    """Each cell's bump-weighted sum, after undoing the fold's cyclic shift."""
    fy = np.fft.fftfreq(GRID)[:, np.newaxis]
    fx = np.fft.rfftfreq(GRID)[np.newaxis, :]
    ramp = np.exp(2j * np.pi * (fy * shift[0] + fx * shift[1]))
    aligned = np.fft.irfft2(spectrum * ramp, s=(GRID, GRID))
    blocks = aligned.reshape(CELLS, OVERSAMPLE, CELLS, OVERSAMPLE)
    sums: Floats = np.einsum("aibj,ij->ab", blocks, np.outer(_bump(), _bump())).ravel()
    return sums


def read(luma: Array, seed: bytes) -> Reading | None:
    """Find the tiles and read the soft code values; None when the image is too small."""
    if min(luma.shape) < MIN_READ_SIDE:
        return None
    small, factor = working_copy(luma)
    plan = layout(seed)
    best = search(whiten(small), tile_pattern(plan.pilot_cells()))
    cells = _cell_sums(best.spectrum, best.shift) * plan.signs
    soft = cells[plan.data].sum(axis=0)
    soft = soft / (float(np.sqrt(np.mean(soft**2))) + 1e-12)
    shift = (
        best.shift[0] / GRID * best.period_y * factor,
        best.shift[1] / GRID * best.period_x * factor,
    )
    return Reading(soft, best.sync, (best.period_y * factor, best.period_x * factor), shift)
