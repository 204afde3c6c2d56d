"""The ``hum`` voice: a buzz of 60 ms per character instead of speech, the same every time.

Used in unit tests of what is done with a voice's output, without a speech model. It speaks
English and Chinese, and counts what it was asked to say.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from hallmark.registry import Components
from hallmark.speech.base import Speech, TextToSpeech

RATE = 16000
PER_CHARACTER = 0.060  # seconds


class HumVoice(TextToSpeech):
    name: ClassVar[str] = "hum"
    languages: ClassVar[frozenset[str]] = frozenset({"en", "zh"})

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def synthesize(self, text: str, language: str) -> tuple[Speech, int]:
        self.said.append((text, language))
        t = np.arange(round(len(text) * PER_CHARACTER * RATE)) / RATE
        buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 20))  # 150 Hz-2.9 kHz
        syllables = 0.5 - 0.5 * np.cos(2 * np.pi * 4 * t)  # four a second
        return np.asarray(0.3 * buzz * syllables, dtype=np.float32), RATE


def register(components: Components) -> None:
    components.voices.register(HumVoice.name, HumVoice())
