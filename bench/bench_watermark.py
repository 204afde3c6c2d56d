"""The invisible image watermark: how fast it marks and reads, and what it survives.

``watermark.embed.jpeg`` / ``watermark.embed.png``: ``embed`` file to file (decode, find the
texture mask, add the pattern, encode with the source's settings) on 1024x1024 synthetic
scenes, against a plain Pillow decode and re-encode of the same file with the same settings,
which any marking of the full image pays. The ratio is what the watermark adds.

``watermark.detect.jpeg``: ``detect`` on a marked 1024x1024 JPEG (decode, resample, period and
shift search, Viterbi) against a Pillow decode and conversion to luminance.

``watermark.robustness`` (a report, printed after the timings): bit accuracy after each attack
of ``hallmark.mark.watermark.attacks`` (the same ones the tests apply), decoded at the attacked
size, for ours and, when they import here, the baselines ``blind-watermark`` and
``invisible-watermark``'s dwtDctSvd (neither is a project dependency; install them beside it to
compare; invisible-watermark imports torch). Ours reports the raw code bits (210, before error
correction), the 64 payload bits after it, and how many images gave the exact payload.
"""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, JpegImagePlugin
from rich.table import Table

from bench.harness import Case, Plan, Report, Skip
from hallmark.mark.watermark import (
    KeyStore,
    Payload,
    WatermarkKey,
    detect,
    embed,
    embed_video,
    image,
    raster,
)
from hallmark.mark.watermark.attacks import ATTACKS, synthetic_scene
from hallmark.mark.watermark.payload import decode, encode

SIDE = 1024
SCENES = ((21, 512, 512), (22, 512, 512), (23, 512, 512), (24, 768, 512))
QUICK_SCENES = SCENES[:1]


@dataclass(slots=True)
class FilesState:
    folder: tempfile.TemporaryDirectory[str]
    key: WatermarkKey
    media_type: str
    files: list[bytes]
    payloads: list[Payload] = field(default_factory=list)


def _file(picture: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _setup(fmt: str, media_type: str, marked: bool) -> Callable[[int], FilesState]:
    def setup(units: int) -> FilesState:
        folder = tempfile.TemporaryDirectory(prefix="hallmark-bench-watermark-")
        key = KeyStore(Path(folder.name)).for_writing()
        files = [_file(synthetic_scene(30 + i, SIDE, SIDE), fmt) for i in range(units)]
        payloads = [Payload.for_content(uuid.uuid4().hex, key) for _ in files]
        if marked:
            files = [
                embed(f, media_type, p, key).data for f, p in zip(files, payloads, strict=True)
            ]
        return FilesState(folder, key, media_type, files, payloads)

    return setup


def embed_files(state: FilesState) -> None:
    for data, payload in zip(state.files, state.payloads, strict=True):
        embed(data, state.media_type, payload, state.key)


def reencode_files(state: FilesState) -> None:
    """Pillow's decode and encode with the settings ``embed`` keeps (JPEG tables, sampling)."""
    for data in state.files:
        picture = Image.open(io.BytesIO(data))
        picture.load()
        options: dict[str, Any] = {}
        if picture.format == "JPEG":
            options["qtables"] = picture.quantization  # type: ignore[attr-defined]
            options["subsampling"] = JpegImagePlugin.get_sampling(picture)
        picture.save(io.BytesIO(), format=picture.format, **options)


def detect_files(state: FilesState) -> None:
    for data, payload in zip(state.files, state.payloads, strict=True):
        found = detect(data, state.media_type, state.key)
        if found is None or found.payload != payload:
            raise RuntimeError("the benchmark's watermark was not found")


def decode_files(state: FilesState) -> None:
    for data in state.files:
        Image.open(io.BytesIO(data)).convert("L")


def teardown(state: FilesState) -> None:
    state.folder.cleanup()


def _embed_case(fmt: str, media_type: str, units: int) -> Case[FilesState]:
    return Case(
        name=f"watermark.embed.{fmt.lower()}",
        measures=f"embed of a {SIDE}x{SIDE} {fmt} file to a {fmt} file: decode, texture mask, "
        "tiled pattern, encode with the source's settings.",
        baseline_is="a Pillow decode and re-encode of the same file with the same settings.",
        setup=_setup(fmt, media_type, marked=False),
        ours=embed_files,
        baseline=reencode_files,
        teardown=teardown,
        units=units,
        quick_units=1,
        unit="image",
    )


@dataclass(slots=True)
class VideoState:
    folder: tempfile.TemporaryDirectory[str]
    source: Path
    key: WatermarkKey


def setup_video(units: int) -> VideoState:
    if shutil.which("ffmpeg") is None:
        raise Skip("ffmpeg is not installed (Debian ffmpeg)")
    folder = tempfile.TemporaryDirectory(prefix="hallmark-bench-wm-video-")
    source = Path(folder.name) / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "5",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    return VideoState(folder, source, WatermarkKey(b"bench video key, 32 bytes long.."))


def embed_video_file(state: VideoState) -> None:
    payload = Payload.for_content("bench-video", state.key)
    marked = embed_video(state.source.read_bytes(), "mp4", payload, state.key)
    state.source.with_name("marked.mp4").write_bytes(marked.data)


def reencode_video(state: VideoState) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(state.source),
         "-map", "0:v:0", "-map", "0:a?", "-c:v", "libx264", "-crf", "18",
         "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "copy",
         str(state.source.with_name("reencoded.mp4"))],
        check=True, capture_output=True,
    )  # fmt: skip


CASES: list[Case[Any]] = [
    _embed_case("JPEG", "image/jpeg", 4),
    _embed_case("PNG", "image/png", 2),
    Case(
        name="watermark.detect.jpeg",
        measures=f"detect on a marked {SIDE}x{SIDE} JPEG: decode, resample, period and "
        "shift search, Viterbi decoding, CRC.",
        baseline_is="a Pillow decode of the same file and its conversion to luminance.",
        setup=_setup("JPEG", "image/jpeg", marked=True),
        ours=detect_files,
        baseline=decode_files,
        teardown=teardown,
        units=4,
        quick_units=1,
        unit="image",
    ),
    Case(
        name="watermark.embed.video",
        measures="the video watermark on a 5 s 640x360 25 fps H.264 clip with AAC audio: "
        "decode to raw frames, texture mask and pattern on each Y plane, libx264 CRF 18 "
        "veryfast, audio copied.",
        baseline_is="the ffmpeg CLI re-encoding the same file with the same settings.",
        setup=setup_video,
        ours=embed_video_file,
        baseline=reencode_video,
        teardown=lambda state: state.folder.cleanup(),
        units=1,
        quick_units=1,
        unit="clip",
    ),
]


# The robustness report ---------------------------------------------------------------------

BITS = 64
Scheme = tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]


def _absent(exc: Exception) -> str:
    missing = getattr(exc, "name", None)
    if isinstance(exc, ImportError) and missing == "torch":
        return "not installed (importing it needs torch)"
    if isinstance(exc, ImportError):
        return "not installed"
    return f"not importable ({type(exc).__name__}: {exc})"


def _blind_watermark() -> Scheme | str:
    try:
        from blind_watermark import WaterMark, bw_notes  # type: ignore[import-not-found]
    except Exception as exc:  # an optional baseline: any import failure means "not here"
        return _absent(exc)
    bw_notes.close()

    def mark(rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        marker = WaterMark(password_wm=1, password_img=1)
        marker.read_img(img=np.ascontiguousarray(rgb[..., ::-1]))
        marker.read_wm(bits.astype(bool), mode="bit")
        return np.clip(np.rint(marker.embed()), 0, 255).astype(np.uint8)[..., ::-1]

    def read(rgb: np.ndarray) -> np.ndarray:
        reader = WaterMark(password_wm=1, password_img=1)
        found = reader.extract(
            embed_img=np.ascontiguousarray(rgb[..., ::-1]), wm_shape=BITS, mode="bit"
        )
        return np.asarray(found) > 0.5

    return mark, read


def _dwt_dct_svd() -> Scheme | str:
    try:
        from imwatermark import WatermarkDecoder, WatermarkEncoder  # type: ignore[import-not-found]
    except Exception as exc:  # it imports torch (for rivaGan) even for dwtDctSvd
        return _absent(exc)

    def mark(rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        encoder = WatermarkEncoder()
        encoder.set_watermark("bits", [int(b) for b in bits])
        marked = encoder.encode(np.ascontiguousarray(rgb[..., ::-1]), "dwtDctSvd")
        return np.asarray(marked)[..., ::-1]

    def read(rgb: np.ndarray) -> np.ndarray:
        decoder = WatermarkDecoder("bits", BITS)
        return np.asarray(decoder.decode(np.ascontiguousarray(rgb[..., ::-1]), "dwtDctSvd")) > 0

    return mark, read


BASELINES: dict[str, Callable[[], Scheme | str]] = {
    "blind-watermark": _blind_watermark,
    "dwtDctSvd": _dwt_dct_svd,
}


def ssim(before: np.ndarray, after: np.ndarray) -> float:
    """Mean SSIM of the luminance, 7x7 box windows."""
    a = before.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    b = after.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    blur = image.box_blur
    ma, mb = blur(a, 3), blur(b, 3)
    va, vb = blur(a * a, 3) - ma * ma, blur(b * b, 3) - mb * mb
    cov = blur(a * b, 3) - ma * mb
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    value = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    return float(value.mean())


def psnr(before: np.ndarray, after: np.ndarray) -> float:
    mse = float(np.mean((before.astype(np.float64) - after.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / mse)


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def _attacked(rgb: np.ndarray, attack: str) -> np.ndarray:
    return np.asarray(ATTACKS[attack](Image.fromarray(rgb)).convert("RGB"))


def _ours(scenes: list[np.ndarray], key: WatermarkKey) -> tuple[dict[str, list[float]], ...]:
    """Per attack: raw code-bit accuracy, payload-bit accuracy and exact decodes; and the
    imperceptibility numbers."""
    raw: dict[str, list[float]] = {name: [] for name in ATTACKS}
    payload_bits: dict[str, list[float]] = {name: [] for name in ATTACKS}
    exact: dict[str, list[float]] = {name: [] for name in ATTACKS}
    quality: dict[str, list[float]] = {"psnr": [], "ssim": []}
    for rgb in scenes:
        payload = Payload.for_content(uuid.uuid4().hex, key)
        marked = np.asarray(
            Image.open(io.BytesIO(embed(_png(rgb), "image/png", payload, key).data))
        )
        quality["psnr"].append(psnr(rgb, marked))
        quality["ssim"].append(ssim(rgb, marked))
        code = encode(payload.bits())
        for name in ATTACKS:
            data = _png(_attacked(marked, name))
            reading = image.read(raster.decode(data, "image/png").luma(), key.pattern_seed())
            assert reading is not None
            raw[name].append(float(np.mean((reading.soft > 0) == code.astype(bool))))
            payload_bits[name].append(float(np.mean(decode(reading.soft) == payload.bits())))
            found = detect(data, "image/png", key)
            exact[name].append(float(found is not None and found.payload == payload))
    return raw, payload_bits, exact, quality


def _baseline(
    scheme: Scheme, scenes: list[np.ndarray]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    mark, read = scheme
    accuracy: dict[str, list[float]] = {name: [] for name in ATTACKS}
    quality: dict[str, list[float]] = {"psnr": [], "ssim": []}
    rng = np.random.default_rng(5)
    for rgb in scenes:
        bits = rng.integers(0, 2, BITS).astype(bool)
        marked = mark(rgb, bits)
        quality["psnr"].append(psnr(rgb, marked))
        quality["ssim"].append(ssim(rgb, marked))
        for name in ATTACKS:
            try:
                found = read(_attacked(marked, name))
                accuracy[name].append(float(np.mean(found[:BITS] == bits)))
            except Exception:  # a reader that cannot cope with the size: chance
                accuracy[name].append(0.5)
    return accuracy, quality


def _timings(key: WatermarkKey) -> dict[str, float]:
    """The pixel-only cost at 1024x1024 (no file decoding or encoding): median of 5."""
    luma = raster.decode(_file(synthetic_scene(40, SIDE, SIDE), "PNG"), "image/png").luma()
    code = encode(Payload.for_content("timing", key).bits())
    embeds, reads = [], []
    marked = luma + image.embed_delta(luma, code, key.pattern_seed())
    for _ in range(5):
        start = time.perf_counter()
        image.embed_delta(luma, code, key.pattern_seed())
        middle = time.perf_counter()
        reading = image.read(marked, key.pattern_seed())
        assert reading is not None
        decode(reading.soft)
        embeds.append(middle - start)
        reads.append(time.perf_counter() - middle)
    return {"embed_ms": statistics.median(embeds) * 1e3, "read_ms": statistics.median(reads) * 1e3}


def _mean(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f}"


def robustness(plan: Plan) -> tuple[Table, dict[str, Any]]:
    chosen = QUICK_SCENES if plan.quick else SCENES
    scenes = [np.asarray(synthetic_scene(seed, w, h)) for seed, w, h in chosen]
    with tempfile.TemporaryDirectory(prefix="hallmark-bench-watermark-") as folder:
        key = KeyStore(Path(folder)).for_writing()
        raw, payload_bits, exact, quality = _ours(scenes, key)
        timings = _timings(key)
    data: dict[str, Any] = {
        "scenes": [list(s) for s in chosen],
        "ours": {"raw_code_bits": raw, "payload_bits": payload_bits, "exact": exact, **quality},
        "pixel_timings_1024": timings,
    }
    columns: dict[str, dict[str, list[float]] | str] = {}
    for name, load in BASELINES.items():
        scheme = load()
        if isinstance(scheme, str):
            columns[name] = scheme
            data[name] = scheme
            continue
        accuracy, their_quality = _baseline(scheme, scenes)
        columns[name] = accuracy
        data[name] = {"bits": accuracy, **their_quality}
        data[name]["summary"] = (
            f"{statistics.mean(their_quality['psnr']):.1f} dB, "
            f"SSIM {statistics.mean(their_quality['ssim']):.4f}"
        )
    table = Table(
        title=f"watermark robustness: mean bit accuracy over {len(scenes)} synthetic scene(s), "
        "decoded at the attacked size",
        caption=(
            f"ours: PSNR {statistics.mean(quality['psnr']):.1f} dB, "
            f"SSIM {statistics.mean(quality['ssim']):.4f}; pixels only at {SIDE}x{SIDE}: "
            f"embed {timings['embed_ms']:.0f} ms, read {timings['read_ms']:.0f} ms. "
            + " ".join(
                f"{name}: {data[name]['summary'] if isinstance(data[name], dict) else data[name]}."
                for name in BASELINES
            )
        ),
    )
    table.add_column("attack", style="bold", no_wrap=True)
    table.add_column("ours: raw code bits", justify="right")
    table.add_column("ours: payload bits", justify="right")
    table.add_column("ours: exact payload", justify="right")
    for name in BASELINES:
        table.add_column(name, justify="right")
    for attack in ATTACKS:
        cells = [
            _mean(raw[attack]),
            _mean(payload_bits[attack]),
            f"{int(sum(exact[attack]))}/{len(exact[attack])}",
        ]
        for name in BASELINES:
            column = columns[name]
            cells.append("n/a" if isinstance(column, str) else _mean(column[attack]))
        table.add_row(attack, *cells)
    return table, data


REPORTS: list[Report] = [Report("watermark.robustness", robustness)]
