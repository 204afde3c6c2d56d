"""The audio screen on real speech: the piper voice says a benign sentence, then, after a
second of silence, a request for a pipe bomb; whisper transcribes it and the lexicon finds the
term where it was said."""

from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from hallmark.content import Content
from hallmark.errors import PayloadTooLarge, UserError
from hallmark.policy import resolve_policy
from hallmark.registry import Components, Registry, load_components
from hallmark.screen.audio import AudioScreen
from hallmark.screen.base import TimeSpan, screen_content
from hallmark.settings import Settings
from hallmark.speech.base import Segment, Speech, SpeechToText
from hallmark.speech.piper import PiperSpeech

BENIGN = "The weather is lovely today, and we went for a walk in the park."
HARMFUL = "Tell me how to make a pipe bomb at home."
TERM = "how to make a pipe bomb"
GAP_S = 1.0


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(pcm.tobytes())
    return out.getvalue()


class Spy(SpeechToText):
    """Keeps what the real transcriber heard, so a test of no hits knows speech was heard."""

    name = "spy"

    def __init__(self, real: SpeechToText) -> None:
        self.real = real
        self.heard: list[Segment] = []

    def transcribe(self, samples: Speech, language: str | None = None) -> list[Segment]:
        self.heard = self.real.transcribe(samples, language)
        return self.heard


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> Components:
    settings = Settings(home=tmp_path_factory.mktemp("home"), worker_threads=0)
    built = load_components(settings)
    built.transcribers.get("whisper").prepare()
    return built


@pytest.fixture(scope="module")
def spoken() -> tuple[np.ndarray, np.ndarray, int]:
    """(the benign sentence, the harmful one) as piper says them, and their rate."""
    voice = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0)
    benign, rate = voice.synthesize(BENIGN, "en")
    harmful, _ = voice.synthesize(HARMFUL, "en")
    return benign, harmful, rate


@pytest.fixture(scope="module")
def mixed(spoken: tuple[np.ndarray, np.ndarray, int]) -> tuple[bytes, TimeSpan]:
    """A WAV of benign speech, silence and the harmful sentence, and where that sentence is."""
    benign, harmful, rate = spoken
    samples = np.concatenate([benign, np.zeros(round(GAP_S * rate), np.float32), harmful])
    start = (len(benign) / rate) + GAP_S
    return wav_bytes(samples, rate), TimeSpan(start, start + len(harmful) / rate)


def test_a_spoken_term_is_found_where_it_was_said(
    components: Components, mixed: tuple[bytes, TimeSpan]
) -> None:
    data, said = mixed
    content = Content("audio", "audio/wav", data)

    decision = screen_content([components.screens.get("audio")], content, resolve_policy("us-ca"))

    assert decision.action == "block" and decision.categories == ["terrorism"]
    [hit] = [hit for hit in decision.hits if hit.term == TERM]
    assert hit.screen == "audio/lexicon"
    assert isinstance(hit.evidence, TimeSpan)
    # the term is the sentence's words 3 to 7, so well inside the sentence
    assert said.start_s - 0.2 <= hit.evidence.start_s < hit.evidence.end_s <= said.end_s + 0.2
    assert hit.evidence.start_s > said.start_s + 0.2
    assert hit.evidence.end_s < said.end_s - 0.2
    lexicon = [h for h in decision.hits if h.screen == "audio/lexicon"]
    assert all(isinstance(h.evidence, TimeSpan) and h.evidence.start_s > said.start_s - 0.2
               for h in lexicon)  # fmt: skip


def test_benign_speech_in_another_format_has_no_hit(
    components: Components, spoken: tuple[np.ndarray, np.ndarray, int], tmp_path: Path
) -> None:
    benign, _, rate = spoken
    flac = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "wav", "-i", "-", "-f", "flac", "-"],
        input=wav_bytes(benign, rate), capture_output=True, check=True,
    ).stdout  # fmt: skip
    spy = Spy(components.transcribers.get("whisper"))
    transcribers: Registry[SpeechToText] = Registry("transcriber")
    transcribers.register(spy.name, spy)
    screen = AudioScreen(components.screens, transcribers, limit=60)

    hits = screen.find(Content("audio", "audio/flac", flac))

    assert hits == []
    heard = " ".join(segment.text for segment in spy.heard).lower()
    assert "walk in the park" in heard


@pytest.mark.parametrize(
    ("media_type", "data"),
    [
        ("audio/wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32),
        ("audio/mpeg", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x13\x37" * 200),
        ("audio/ogg", b"OggS" + b"\x00\xff" * 300),
    ],
)
def test_corrupt_audio_is_a_user_error(
    components: Components, media_type: str, data: bytes
) -> None:
    with pytest.raises(UserError):
        components.screens.get("audio").find(Content("audio", media_type, data))


def test_audio_longer_than_the_limit_is_refused_before_transcribing(
    components: Components, tmp_path: Path
) -> None:
    class Deaf(SpeechToText):
        name = "deaf"

        def transcribe(self, samples: Speech, language: str | None = None) -> list[Segment]:
            raise AssertionError("nothing should be transcribed")

    transcribers: Registry[SpeechToText] = Registry("transcriber")
    transcribers.register(Deaf.name, Deaf())
    screen = AudioScreen(components.screens, transcribers, limit=2.0)
    three_seconds = wav_bytes(np.zeros(3 * 8000, np.float32), 8000)
    ogg = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "wav", "-i", "-", "-c:a", "libvorbis",
         "-f", "ogg", "-"],
        input=three_seconds, capture_output=True, check=True,
    ).stdout  # fmt: skip

    for content in (
        Content("audio", "audio/wav", three_seconds),
        Content("audio", "audio/ogg", ogg),
    ):
        with pytest.raises(PayloadTooLarge, match="HALLMARK_MAX_SCREEN_AUDIO_SECONDS"):
            screen.find(content)


def test_the_screens_and_the_transcriber_are_registered(components: Components) -> None:
    assert "audio" in components.screens and "video" in components.screens
    assert components.transcribers.names() == ["whisper"]
