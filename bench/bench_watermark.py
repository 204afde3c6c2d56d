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

``watermark.audio.embed.wav``: ``embed_audio`` on a 30 s 44.1 kHz stereo 16-bit WAV, against a
plain read and write of the same file (``wave`` and numpy, to float and back), which any change
to the samples pays. ``watermark.audio.embed.mp3``: the same on a 30 s 128 kbit/s MP3, against
the ffmpeg CLI decoding it and encoding it again with the same libmp3lame settings.

``watermark.audio.robustness`` (a report): the audio watermark's raw code bits, payload bits and
exact payloads after an MP3 128 kbit/s re-encode, that re-encode then a trim, resampling to
32 kHz (ffmpeg), white noise at 30 dB SNR and a 6 dB cut in volume.
"""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, JpegImagePlugin
from rich.table import Table

from bench.harness import Case, Plan, Report, Skip
from hallmark.content import Content
from hallmark.mark.explicit_audio import decode_audio, encode_mp3
from hallmark.mark.watermark import (
    KeyStore,
    Payload,
    WatermarkKey,
    audio,
    detect,
    detect_audio,
    embed,
    embed_audio,
    embed_video,
    image,
    raster,
)
from hallmark.mark.watermark.attacks import ATTACKS, synthetic_scene
from hallmark.mark.watermark.audio_marker import audio_seed
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


# The audio watermark ---------------------------------------------------------------------

AUDIO_RATE = 44_100
AUDIO_SECONDS = 30.0
MP3_BITRATE = 128_000


def music(seed: int, seconds: float, rate: int = AUDIO_RATE) -> np.ndarray:
    """Stereo notes with harmonics and decay and a little noise, peak 0.5: music-like."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    channels = np.zeros((len(t), 2))
    for n in range(int(seconds * 4)):
        start, end = int(n * rate / 4), int((n + 1) * rate / 4)
        pitch = rng.choice([220, 262, 330, 392, 440, 523, 659, 784]) * rng.choice([1, 2])
        decay = np.exp(-3 * (t[start:end] - t[start]))
        for harmonic in range(1, 6):
            note = 0.3 / harmonic * np.sin(2 * np.pi * pitch * harmonic * t[start:end]) * decay
            channels[start:end] += note[:, np.newaxis] * rng.uniform(0.6, 1.0, 2)
    channels += 0.02 * rng.standard_normal(channels.shape)
    return 0.5 * channels / np.max(np.abs(channels))


def wav_file(samples: np.ndarray, rate: int = AUDIO_RATE) -> bytes:
    """16-bit PCM WAV, through the standard library's ``wave``."""
    frames = samples if samples.ndim == 2 else samples[:, np.newaxis]
    ints = np.clip(np.round(frames * 32768), -32768, 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(frames.shape[1])
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(ints.tobytes())
    return out.getvalue()


@dataclass(slots=True)
class AudioState:
    folder: tempfile.TemporaryDirectory[str]
    key: WatermarkKey
    content: Content
    payload: Payload
    source: Path  # the same file on disk, for the ffmpeg baseline


def _audio_setup(kind: str) -> Callable[[int], AudioState]:
    def setup(units: int) -> AudioState:
        if kind == "mp3" and shutil.which("ffmpeg") is None:
            raise Skip("ffmpeg is not installed (Debian ffmpeg)")
        folder = tempfile.TemporaryDirectory(prefix="hallmark-bench-wm-audio-")
        key = KeyStore(Path(folder.name)).for_writing()
        samples = music(7, AUDIO_SECONDS)
        if kind == "wav":
            content = Content("audio", "audio/wav", wav_file(samples))
        else:
            content = Content("audio", "audio/mpeg", encode_mp3(samples, AUDIO_RATE, MP3_BITRATE))
        source = Path(folder.name) / f"clip.{kind}"
        source.write_bytes(content.data)
        return AudioState(folder, key, content, Payload.for_content("bench-audio", key), source)

    return setup


def embed_audio_file(state: AudioState) -> None:
    embed_audio(state.content, state.payload, state.key)


def rewrite_wav(state: AudioState) -> None:
    """Read the WAV's samples to float and write them back as a WAV: what any change to the
    samples pays, with nothing changed."""
    with wave.open(io.BytesIO(state.content.data), "rb") as reader:
        channels, rate = reader.getnchannels(), reader.getframerate()
        raw = reader.readframes(reader.getnframes())
    samples = np.frombuffer(raw, "<i2").astype(np.float64).reshape(-1, channels) / 32768
    wav_file(samples, rate)


def reencode_mp3(state: AudioState) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(state.source),
         "-c:a", "libmp3lame", "-b:a", str(MP3_BITRATE), "-id3v2_version", "0",
         "-write_id3v1", "0", str(state.source.with_name("reencoded.mp3"))],
        check=True, capture_output=True,
    )  # fmt: skip


def _audio_case(kind: str, baseline: Callable[[AudioState], None], baseline_is: str) -> Case[Any]:
    what = "16-bit WAV" if kind == "wav" else f"{MP3_BITRATE // 1000} kbit/s MP3"
    return Case(
        name=f"watermark.audio.embed.{kind}",
        measures=f"embed_audio of a {AUDIO_SECONDS:g} s {AUDIO_RATE / 1000:g} kHz stereo {what}: "
        "decode, envelope, keyed carrier, encode in the same format.",
        baseline_is=baseline_is,
        setup=_audio_setup(kind),
        ours=embed_audio_file,
        baseline=baseline,
        teardown=lambda state: state.folder.cleanup(),
        units=1,
        quick_units=1,
        unit="clip",
    )


CASES += [
    _audio_case(
        "wav",
        rewrite_wav,
        "a plain read and write of the same WAV (wave and numpy, samples to float and back).",
    ),
    _audio_case(
        "mp3",
        reencode_mp3,
        "the ffmpeg CLI decoding the same MP3 and encoding it again with libmp3lame at the same "
        "bitrate.",
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


# The audio robustness report ---------------------------------------------------------------

AUDIO_CLIPS = (31, 32, 33)  # seeds of 10 s stereo clips; the first alone with --quick
AUDIO_CLIP_SECONDS = 10.0
TRIM = (0.35, 0.5)  # seconds cut from the start and the end
Clip = tuple[np.ndarray, int]  # (frames, channels) samples and their rate


def _resampled(clip: Clip, rate: int) -> Clip:
    """The clip through ffmpeg's resampler (16-bit samples out)."""
    samples, source = clip
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "wav", "-i", "-", "-ar", str(rate),
         "-f", "s16le", "-"],
        input=wav_file(samples, source), check=True, capture_output=True,
    ).stdout  # fmt: skip
    pcm = np.frombuffer(out, "<i2").astype(np.float64) / 32768
    return pcm.reshape(-1, samples.shape[1]), rate


def _mp3(clip: Clip) -> Content:
    return Content("audio", "audio/mpeg", encode_mp3(clip[0], clip[1], MP3_BITRATE))


def _trimmed(clip: Clip) -> Clip:
    samples, rate = clip
    return samples[round(TRIM[0] * rate) : len(samples) - round(TRIM[1] * rate)], rate


def _noisy(clip: Clip) -> Clip:
    samples, rate = clip
    power = float(np.mean(samples**2))
    noise = np.random.default_rng(3).standard_normal(samples.shape) * np.sqrt(power / 10**3)
    return samples + noise, rate


def _wav_content(clip: Clip) -> Content:
    return Content("audio", "audio/wav", wav_file(*clip))


AUDIO_ATTACKS: dict[str, Callable[[Clip], Content]] = {
    "none": _wav_content,
    "MP3 128 kbit/s": _mp3,
    f"MP3 128 kbit/s, then {TRIM[0]:g} s and {TRIM[1]:g} s trimmed": lambda clip: _wav_content(
        _trimmed((decode_audio(_mp3(clip)).samples, clip[1]))
    ),
    "resampled to 32 kHz": lambda clip: _wav_content(_resampled(clip, 32_000)),
    "white noise, 30 dB SNR": lambda clip: _wav_content(_noisy(clip)),
    "volume -6 dB": lambda clip: _wav_content((clip[0] * 10 ** (-6 / 20), clip[1])),
}


def audio_robustness(plan: Plan) -> tuple[Table, dict[str, Any]]:
    if shutil.which("ffmpeg") is None:
        raise Skip(
            "ffmpeg is not installed (Debian ffmpeg): the MP3 and resampling attacks need it"
        )
    seeds = AUDIO_CLIPS[:1] if plan.quick else AUDIO_CLIPS
    raw: dict[str, list[float]] = {name: [] for name in AUDIO_ATTACKS}
    payload_bits: dict[str, list[float]] = {name: [] for name in AUDIO_ATTACKS}
    exact: dict[str, list[float]] = {name: [] for name in AUDIO_ATTACKS}
    snrs = []
    with tempfile.TemporaryDirectory(prefix="hallmark-bench-wm-audio-") as folder:
        key = KeyStore(Path(folder)).for_writing()
        for seed in seeds:
            payload = Payload.for_content(uuid.uuid4().hex, key)
            source = Content("audio", "audio/wav", wav_file(music(seed, AUDIO_CLIP_SECONDS)))
            marked = embed_audio(source, payload, key)
            snrs.append(marked.snr)
            clip = decode_audio(Content("audio", "audio/wav", marked.data))
            code = encode(payload.bits())
            for name, attack in AUDIO_ATTACKS.items():
                attacked = attack((clip.samples, clip.rate))
                decoded = decode_audio(attacked)
                mono = decoded.samples.mean(axis=1)
                reading = audio.read(mono, audio_seed(key), decoded.rate)
                assert reading is not None
                raw[name].append(float(np.mean((reading.soft > 0) == code.astype(bool))))
                payload_bits[name].append(float(np.mean(decode(reading.soft) == payload.bits())))
                found = detect_audio(attacked, key)
                exact[name].append(float(found is not None and found.payload == payload))
    data: dict[str, Any] = {
        "clips": {"seeds": list(seeds), "seconds": AUDIO_CLIP_SECONDS, "rate": AUDIO_RATE},
        "ours": {"raw_code_bits": raw, "payload_bits": payload_bits, "exact": exact, "snr": snrs},
    }
    table = Table(
        title=f"audio watermark robustness: mean bit accuracy over {len(seeds)} "
        f"{AUDIO_CLIP_SECONDS:g} s stereo clip(s) at {AUDIO_RATE / 1000:g} kHz",
        caption=f"ours: the mark {statistics.mean(snrs):.1f} dB under the programme (SNR).",
    )
    table.add_column("attack", style="bold", no_wrap=True)
    table.add_column("ours: raw code bits", justify="right")
    table.add_column("ours: payload bits", justify="right")
    table.add_column("ours: exact payload", justify="right")
    for name in AUDIO_ATTACKS:
        table.add_row(
            name,
            _mean(raw[name]),
            _mean(payload_bits[name]),
            f"{int(sum(exact[name]))}/{len(exact[name])}",
        )
    return table, data


REPORTS: list[Report] = [
    Report("watermark.robustness", robustness),
    Report("watermark.audio.robustness", audio_robustness),
]
