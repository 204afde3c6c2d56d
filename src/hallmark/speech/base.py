"""The text-to-speech interface: one method, ``synthesize``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
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
