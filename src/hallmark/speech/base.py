"""The speech interfaces: text to speech (``TextToSpeech.synthesize``) and speech to text
(``SpeechToText.transcribe``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

Speech = npt.NDArray[np.float32]  # mono, full scale is 1.0


class TextToSpeech(ABC):
    name: ClassVar[str]
    languages: ClassVar[frozenset[str]]  # ISO 639-1 codes, as in ``LabelContext.language``

    @abstractmethod
    def synthesize(self, text: str, language: str) -> tuple[Speech, int]:
        """``text`` spoken in ``language``: mono float samples and their rate in Hz."""


def voice_for(voices: Iterable[TextToSpeech], language: str) -> TextToSpeech | None:
    """The first voice (in registration order: built-ins, then add-ons) that speaks
    ``language``; None when none does."""
    return next((voice for voice in voices if language in voice.languages), None)


# --- speech to text ----------------------------------------------------------------------------

STT_RATE = 16000
"""The sample rate every transcriber takes, in Hz."""


@dataclass(slots=True, frozen=True)
class Word:
    start: float  # seconds from the start of the samples
    end: float
    text: str  # as the model wrote it, with its leading space where there is one


@dataclass(slots=True, frozen=True)
class Segment:
    start: float  # seconds from the start of the samples
    end: float
    text: str
    words: tuple[Word, ...] = ()
    """The segment's words with their times, where the transcriber gives them."""


class SpeechToText(ABC):
    name: ClassVar[str]

    @abstractmethod
    def transcribe(self, samples: Speech, language: str | None = None) -> list[Segment]:
        """What is said in ``samples`` (mono, ``STT_RATE`` Hz), in time order. ``language``
        is an ISO 639-1 code, or None to let the transcriber detect it."""

    def prepare(self) -> SpeechToText:
        """Load the model now rather than on the first ``transcribe``."""
        return self
