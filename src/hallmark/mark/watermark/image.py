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
   on a half-resolution copy first, then refined at full resolution and per axis around the
   coarse peaks that stand out of the noise (``COARSE_SYNC``; an unmarked image has none, and
   its search ends there);
2. the fold with the sharpest pilot peak gives the cyclic shift; undoing it, each cell's
   reading is its bump-weighted sum, and each code bit's soft value the sum of its three
   cells' descrambled readings, handed to the Viterbi decoder (``payload.decode``).

The pilot's peak height in standard deviations (``sync``) says whether anything is there.
"""

from __future__ import annotations

import hashlib
import math
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
COARSE_SYNC = 5.5  # a coarse peak worth refining
TARGET_PSNR = 40.0  # dB: the strength of the delta, before rounding and clipping
MASK_RANGE = (0.15, 2.5)  # local contrast relative to the image's median, clipped to this
MASK_EXPONENT = 0.5

Array = npt.NDArray[np.float32]
Luma = npt.NDArray[np.float32] | npt.NDArray[np.uint8]  # what the embedding side reads
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


def _interpolated(tile: Floats, height: int, width: int, period: float) -> Array:
    """The tile repeated with ``period`` over height x width pixels, bilinearly interpolated:
    along the columns on the tile itself, then along the rows (whole rows gathered)."""
    y0, y1, wy = _phases(height, period)
    x0, x1, wx = _phases(width, period)
    pattern = tile.astype(np.float32, copy=False)
    columns = pattern[:, x0] * (1 - wx) + pattern[:, x1] * wx
    out: Array = columns[y0]
    out *= (1 - wy)[:, np.newaxis]
    out += columns[y1] * wy[:, np.newaxis]
    return out


def _span(period: float) -> int:
    """After how many pixels every pixel's tile phase repeats: the period, or twice it (the
    short side) when the period is a half pixel."""
    return round(period) if float(period).is_integer() else round(2 * period)


def tiled(tile: Floats, height: int, width: int) -> Array:
    """The tile repeated over a height x width image, bilinearly interpolated (one span of
    it interpolated, then copied over the rest)."""
    period = min(height, width) / TILES
    span = _span(period)
    block = _interpolated(tile, min(height, span), min(width, span), period)
    out: Array = np.empty((height, width), dtype=np.float32)
    for top in range(0, height, span):
        for left in range(0, width, span):
            rows, columns = min(span, height - top), min(span, width - left)
            out[top : top + rows, left : left + columns] = block[:rows, :columns]
    return out


def box_blur(image: Array, radius: int) -> Array:
    """The mean over a (2r+1)-square window, edges replicated (shifted sums per axis)."""
    if radius < 1:
        return image
    size = 2 * radius + 1
    out = image
    for axis in (0, 1):
        length = out.shape[axis]
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="edge")
        if axis == 0:
            windows = [padded[k : k + length] for k in range(size)]
        else:
            windows = [padded[:, k : k + length] for k in range(size)]
        total = windows[0].astype(np.float32, copy=True)
        for window in windows[1:]:
            total += window
        total /= np.float32(size)
        out = total
    return out


def reduce(image: Luma, factor: int) -> Array:
    """The mean of each ``factor`` x ``factor`` block (a remainder at the edges is dropped)."""
    if factor <= 1:
        return image.astype(np.float32, copy=False)
    height, width = image.shape[0] // factor, image.shape[1] // factor
    whole = image[: height * factor, : width * factor]
    rows = whole.reshape(height, factor, width * factor).sum(axis=1, dtype=np.float32)
    total: Array = rows[:, 0::factor].copy()
    for dx in range(1, factor):
        total += rows[:, dx::factor]
    total /= np.float32(factor * factor)
    return total


def _median(values: Array) -> float:
    flat = values.ravel()
    middle = flat.size // 2
    if flat.size % 2:
        return float(np.partition(flat, middle)[middle])
    low, high = np.partition(flat, (middle - 1, middle))[middle - 1 : middle + 1]
    return (float(low) + float(high)) / 2


def coarse_texture_mask(luma: Luma) -> tuple[Array, int]:
    """How much the eye tolerates where: local contrast relative to the image's median
    contrast, clipped to MASK_RANGE and softened by MASK_EXPONENT. Computed at about the
    working resolution: one value per ``factor`` x ``factor`` block, the factor returned."""
    factor = max(1, min(luma.shape) // WORKING_SIDE)
    small = reduce(luma, factor)
    mean = box_blur(small, 2)
    spread = np.sqrt(np.maximum(box_blur(small * small, 2) - mean * mean, 0.0))
    typical = _median(spread) + 1.0
    relative = np.clip((spread + 1.0) / typical, *MASK_RANGE) ** MASK_EXPONENT
    return box_blur(relative.astype(np.float32), 1), factor


def _spread_columns(mask: Array, factor: int, rows: int, width: int) -> Array:
    """The coarse mask with each value repeated ``factor`` times along a row, the last row and
    column repeated to cover ``rows`` block rows and ``width`` pixels."""
    wide = np.repeat(mask, factor, axis=1)
    out: Array = np.pad(wide, ((0, rows - mask.shape[0]), (0, width - wide.shape[1])), mode="edge")
    return out


def texture_mask(luma: Luma) -> Array:
    """The texture mask (``coarse_texture_mask``) spread back over the full image."""
    mask, factor = coarse_texture_mask(luma)
    height, width = luma.shape
    rows = -(-height // factor)
    wide = _spread_columns(mask, factor, rows, width)
    out: Array = np.repeat(wide, factor, axis=0)[:height]
    return out


def masked_pattern(luma: Luma, code: Code, seed: bytes) -> Array:
    """The tiled pattern for ``code`` times the texture mask of ``luma``, not yet scaled.

    One block of the pattern is interpolated, as tall as a whole number of both the pattern's
    span and the mask's blocks, and written over the image block by block, multiplied by the
    mask on the way (each mask row broadcast over its ``factor`` pixel rows)."""
    height, width = luma.shape
    mask, factor = coarse_texture_mask(luma)
    rows = -(-height // factor)  # mask rows; the last covers the remainder
    padded = rows * factor
    period = min(height, width) / TILES
    span = _span(period)
    span_y = math.lcm(span, factor)
    block = _interpolated(
        tile_pattern(layout(seed).cells(code)), min(padded, span_y), min(width, span), period
    )
    strips = block.reshape(block.shape[0] // factor, factor, block.shape[1])
    weights = _spread_columns(mask, factor, rows, width)[:, np.newaxis, :]
    out: Array = np.empty((padded, width), dtype=np.float32)
    blocks = out.reshape(rows, factor, width)
    for top in range(0, rows, span_y // factor):
        bottom = min(rows, top + span_y // factor)
        for left in range(0, width, span):
            right = min(width, left + span)
            np.multiply(
                strips[: bottom - top, :, : right - left],
                weights[top:bottom, :, left:right],
                out=blocks[top:bottom, :, left:right],
            )
    return out[:height]


def delta_scale(pattern: Array) -> float:
    """The factor that brings the masked pattern to TARGET_PSNR."""
    rms = 255.0 / 10 ** (TARGET_PSNR / 20)
    flat = pattern.reshape(-1)
    return rms / max(float(np.sqrt(np.dot(flat, flat) / max(flat.size, 1))), 1e-6)


def embed_delta(luma: Luma, code: Code, seed: bytes) -> Array:
    """The luminance change (float, to add to R, G and B alike) that writes ``code``."""
    height, width = luma.shape
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"the watermark needs at least {MIN_SIDE} px on the short side")
    delta = masked_pattern(luma, code, seed)
    delta *= np.float32(delta_scale(delta))
    return delta


@dataclass(slots=True, frozen=True)
class Reading:
    """What the decoder found: soft code values, and how clear the alignment was."""

    soft: Floats  # (CODE_BITS,), positive means 1
    sync: float  # the pilot's peak, in standard deviations of the correlation surface
    period: tuple[float, float]  # (y, x) tile period found, in input pixels
    shift: tuple[float, float]  # (y, x) where the first tile starts, in input pixels


def _area_resample(values: Array, target: int, axis: int) -> Array:
    """``values`` area-averaged along ``axis`` into ``target`` samples: each output sample is
    the mean of the input over its share of the axis (a difference of the running integral)."""
    size = values.shape[axis]
    if size == target:
        return values
    samples = np.moveaxis(values, axis, 0).astype(np.float64)
    integral = np.concatenate((np.zeros_like(samples[:1]), np.cumsum(samples, axis=0)))
    edges = np.linspace(0.0, size, target + 1)
    whole = np.minimum(np.floor(edges).astype(np.intp), size - 1)
    extra = (edges - whole)[:, np.newaxis]
    at = integral[whole] + extra * samples[whole]
    means = (at[1:] - at[:-1]) / (edges[1:] - edges[:-1])[:, np.newaxis]
    out: Array = np.moveaxis(means, 0, axis).astype(np.float32)
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
    out = _area_resample(_area_resample(small, height, 0), width, 1)
    return out, luma.shape[0] / height


def whiten(luma: Array) -> Array:
    """Keep the band the cells live in, and even out the contrast: to the decoder the image
    is noise, and a busy region should not outvote a quiet one."""
    cell = max(1, round(min(luma.shape) / TILES / CELLS))
    band = luma - box_blur(box_blur(luma, cell), cell)
    scale = np.sqrt(box_blur(band * band, cell)) + np.float32(1.0)
    out: Array = np.clip(band / scale, -3.0, 3.0)
    return out


def _phase_bins(length: int, period: float, grid: int) -> npt.NDArray[np.intp]:
    """The fold row (or column) of each pixel along an axis."""
    out: npt.NDArray[np.intp] = (((np.arange(length) + 0.5) / period % 1.0) * grid).astype(
        np.intp
    ) % grid
    return out


def fold(signal: Array | Floats, period_y: float, period_x: float, grid: int = GRID) -> Floats:
    """The mean of the signal over pixels of equal tile phase, on a grid x grid fold."""
    height, width = signal.shape
    rows = _phase_bins(height, period_y, grid)
    cols = _phase_bins(width, period_x, grid)
    index = (rows[:, np.newaxis] * grid + cols[np.newaxis, :]).ravel()
    sums = np.bincount(index, weights=signal.ravel(), minlength=grid * grid)
    # The bins are a product of row and column bins, so are their pixel counts.
    counts = np.outer(np.bincount(rows, minlength=grid), np.bincount(cols, minlength=grid))
    folded = sums / np.maximum(counts.ravel(), 1)
    out: Floats = (folded - folded.mean()).reshape(grid, grid)
    return out


@dataclass(slots=True, frozen=True)
class _Match:
    sync: float
    period_y: float
    period_x: float
    spectrum: Complex  # of the fold
    shift: tuple[int, int]  # of the fold against the pilot, in fold samples


def _matches(signal: Floats, periods: list[tuple[float, float]], pilot: Complex) -> list[_Match]:
    """How well the fold at each (y, x) period matches the pilot, at its best cyclic shift.
    ``pilot`` is the conjugate spectrum of the pilot tile, on the fold's grid; the folds'
    FFTs and statistics are taken together, one call for all."""
    grid = pilot.shape[0]
    spectra = np.fft.rfft2(np.stack([fold(signal, y, x, grid) for y, x in periods]))
    surfaces = np.fft.irfft2(spectra * pilot, s=(grid, grid)).reshape(len(periods), -1)
    peaks = np.argmax(surfaces, axis=1)
    heights = surfaces[np.arange(len(periods)), peaks]
    syncs = (heights - surfaces.mean(axis=1)) / (surfaces.std(axis=1) + 1e-12)
    return [
        _Match(float(syncs[k]), y, x, spectra[k], divmod(int(peaks[k]), grid))
        for k, (y, x) in enumerate(periods)
    ]


def _local_peaks(scores: Floats) -> list[int]:
    """Indices of local maxima, highest first."""
    padded = np.concatenate(([-np.inf], scores, [-np.inf]))
    peaks = np.flatnonzero((scores >= padded[:-2]) & (scores >= padded[2:]))
    return [int(i) for i in peaks[np.argsort(-scores[peaks])]]


def search(signal: Array, pilot_tile: Floats) -> _Match:
    """The tile period and shift with the sharpest pilot peak: a coarse scan of one (square)
    period on a half-resolution copy with a half-size fold, from the size-derived period to
    that of an image cut by MAX_CUT; the best peaks refined at full resolution, then each
    axis alone (resampling may round the two sides differently). A coarse peak under
    COARSE_SYNC is noise: unmarked images measured under 5, marked ones 10 and up after the
    attacks of ``attacks`` and 6.8 and up after harsher ones that still decoded. When no peak
    reaches it, the best is matched once at full resolution, without refining."""
    coarse = reduce(signal, 2).astype(np.float64)
    full = signal.astype(np.float64)
    half = pilot_tile.reshape(GRID // 2, 2, GRID // 2, 2).mean(axis=(1, 3))
    coarse_pilot = np.conj(np.fft.rfft2(half))
    nominal = min(coarse.shape) / TILES
    periods = np.exp(
        np.arange(np.log(nominal * (1 - COARSE_STEP)), np.log(nominal / (1 - MAX_CUT)), COARSE_STEP)
    )
    scores = np.array([m.sync for m in _matches(coarse, [(p, p) for p in periods], coarse_pilot)])
    pilot = np.conj(np.fft.rfft2(pilot_tile))
    peaks = [i for i in _local_peaks(scores)[:COARSE_PEAKS] if scores[i] >= COARSE_SYNC]
    if not peaks:
        period = 2 * float(periods[int(np.argmax(scores))])
        return _matches(full, [(period, period)], pilot)[0]
    steps = np.exp(np.arange(-COARSE_STEP, COARSE_STEP + 1e-9, FINE_STEP))
    candidates = [float(p) for index in peaks for p in 2 * periods[index] * steps]
    best: _Match | None = None
    for found in _matches(full, [(p, p) for p in candidates], pilot):
        if best is None or found.sync > best.sync:
            best = found
    assert best is not None
    for axis in (0, 1):
        start = best
        candidates_yx = [
            (
                start.period_y * (float(step) if axis == 0 else 1.0),
                start.period_x * (float(step) if axis == 1 else 1.0),
            )
            for step in steps
        ]
        for found in _matches(full, candidates_yx, pilot):
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
