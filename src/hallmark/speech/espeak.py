"""The espeak-ng voice: the ``espeak-ng`` program's formant synthesis, for the languages the
bundled piper voice does not speak.

It sounds robotic but is intelligible in the languages listed, small, and installed on most
Linux systems (Debian: ``apt install espeak-ng``). Mandarin and Cantonese are left out: its
Chinese is unintelligible, and a wrong-sounding voice-over is worse than the
clear error that no voice speaks the language. Registered after piper, so piper keeps English.

The text goes in on stdin (text that starts with ``-`` is not an option) and the WAV comes
out on stdout; espeak-ng cannot know the length of a stream it is still writing, so the WAV
header's sizes are placeholders and the samples are read from the ``data`` chunk to the end.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from typing import ClassVar

import numpy as np

from hallmark.errors import HallmarkError, UserError
from hallmark.registry import Components
from hallmark.speech.base import Speech, TextToSpeech

PROGRAM = "espeak-ng"
TIMEOUT_S = 120.0
WORDS_PER_MINUTE = 160  # espeak-ng's default 175 is hurried for a voice-over

# ISO 639-1 code -> espeak-ng voice
VOICES: dict[str, str] = {
    "en": "en-us",
    "de": "de",
    "fr": "fr-fr",
    "es": "es",
    "it": "it",
    "pt": "pt-br",
    "nl": "nl",
    "pl": "pl",
    "ru": "ru",
    "sv": "sv",
    "da": "da",
    "nb": "nb",
    "fi": "fi",
    "cs": "cs",
    "tr": "tr",
}


class EspeakSpeech(TextToSpeech):
    name: ClassVar[str] = "espeak-ng"
    languages: ClassVar[frozenset[str]] = frozenset(VOICES)

    def synthesize(self, text: str, language: str) -> tuple[Speech, int]:
        voice = VOICES.get(language)
        if voice is None:
            raise UserError(f"the {self.name} voice does not speak {language!r}")
        if not text.strip():
            raise UserError("there is nothing to say in an empty text")
        try:
            done = subprocess.run(
                [PROGRAM, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-b", "1", "--stdin",
                 "--stdout"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )  # fmt: skip
        except FileNotFoundError as exc:
            raise HallmarkError(
                "the espeak-ng voice needs the espeak-ng program; install it "
                "(Debian: apt install espeak-ng)"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise HallmarkError(f"espeak-ng took longer than {TIMEOUT_S:.0f} s") from exc
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
            raise HallmarkError(f"espeak-ng failed: {lines[-1].strip()}")
        samples, rate = read_streamed_wav(done.stdout)
        if len(samples) == 0:
            raise UserError(f"there is nothing to say in {text!r}")
        return samples, rate


def read_streamed_wav(data: bytes) -> tuple[Speech, int]:
    """Mono float samples and rate of a 16-bit PCM WAV whose chunk sizes may be wrong."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise HallmarkError("espeak-ng wrote something that is not a WAV")
    at, rate, channels, bits = 12, 0, 1, 16
    while at + 8 <= len(data):
        chunk, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        body = at + 8
        if chunk == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
        elif chunk == b"data":
            if bits != 16 or rate <= 0:
                raise HallmarkError(f"espeak-ng wrote {bits}-bit audio; 16-bit was expected")
            payload = data[body : body + min(size, len(data) - body)]
            usable = len(payload) - len(payload) % (2 * channels)
            pcm = np.frombuffer(payload[:usable], "<i2").reshape(-1, channels)
            return (pcm.mean(axis=1) / 32768.0).astype(np.float32), rate
        at = body + size + (size & 1)
    raise HallmarkError("espeak-ng wrote a WAV without samples")


def register(components: Components) -> None:
    """Registered only where the program is installed: the audio label chooses among the
    registered voices, and must fall back to its rhythm cue, not fail, where espeak-ng is
    missing."""
    if shutil.which(PROGRAM) is not None:
        components.voices.register(EspeakSpeech.name, EspeakSpeech())
