"""Voice-over with the bundled piper voice (and espeak-ng where it is installed), heard back
by whisper; the voice and music tracks it puts on a project; the generated music bed."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from hallmark.errors import HallmarkError, UserError
from hallmark.registry import Components
from hallmark.settings import Settings
from hallmark.speech import espeak, piper
from hallmark.speech.base import Speech, TextToSpeech, voice_for
from hallmark.speech.espeak import EspeakSpeech
from hallmark.speech.piper import PiperSpeech
from hallmark.speech.whisper import WhisperSpeech
from hallmark.studio.captions import extract_speech, word_error_rate
from hallmark.studio.timeline import (
    AudioClip,
    CardClip,
    Project,
    Track,
    parse_project,
    project_duration,
    project_to_dict,
)
from hallmark.studio.voiceover import (
    VoiceOver,
    add_music,
    add_voiceover,
    music_bed,
    synthesize_voiceover,
)

TEXT = "Welcome to the harbor, where the boats come home at sunset."


class CountingVoice(TextToSpeech):
    """The piper voice, counting what it is asked to say."""

    name: ClassVar[str] = "counting-piper"
    languages: ClassVar[frozenset[str]] = PiperSpeech.languages

    def __init__(self) -> None:
        self.piper = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0)
        self.said: list[str] = []

    def synthesize(self, text: str, language: str) -> tuple[Speech, int]:
        self.said.append(text)
        return self.piper.synthesize(text, language)


@pytest.fixture(scope="module")
def voice() -> CountingVoice:
    return CountingVoice()


@pytest.fixture(scope="module")
def spoken(voice: CountingVoice, tmp_path_factory: pytest.TempPathFactory) -> VoiceOver:
    return synthesize_voiceover(TEXT, "en", [voice], tmp_path_factory.mktemp("voice"))


def test_the_voiceover_wav_lasts_as_long_as_the_speech(
    spoken: VoiceOver, voice: CountingVoice
) -> None:
    samples, rate = voice.piper.synthesize(TEXT, "en")
    with wave.open(str(spoken.path)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        assert wav.getframerate() == rate == spoken.rate
        assert wav.getnframes() == len(samples)
    assert spoken.duration == pytest.approx(len(samples) / rate)
    assert (spoken.voice, spoken.text) == ("counting-piper", TEXT)
    assert [p.name for p in spoken.path.parent.iterdir()] == [spoken.path.name]  # no temp left


def test_whisper_hears_the_voiceover_say_the_text(
    spoken: VoiceOver, shared_whisper_model: Path, tmp_path: Path
) -> None:
    whisper = WhisperSpeech(tmp_path, shared_whisper_model)
    heard = " ".join(s.text for s in whisper.transcribe(extract_speech(spoken.path), "en"))
    assert word_error_rate(TEXT, heard) <= 0.1


def test_the_same_text_is_synthesized_once(tmp_path: Path) -> None:
    voice = CountingVoice()
    first = synthesize_voiceover(TEXT, "en", [voice], tmp_path)
    made = first.path.stat().st_mtime_ns
    again = synthesize_voiceover(f"  {TEXT}\n", "en", [voice], tmp_path)
    other = synthesize_voiceover("Good night.", "en", [voice], tmp_path)

    assert voice.said == [TEXT, "Good night."]
    assert again == first
    assert first.path.stat().st_mtime_ns == made
    assert other.path != first.path


def test_a_broken_cached_file_is_spoken_again(tmp_path: Path) -> None:
    voice = CountingVoice()
    first = synthesize_voiceover("Good night.", "en", [voice], tmp_path)
    first.path.write_bytes(b"RIFF")
    again = synthesize_voiceover("Good night.", "en", [voice], tmp_path)
    assert len(voice.said) == 2 and again.duration == pytest.approx(first.duration)


def test_a_language_without_a_voice_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no voice speaks 'zh'.*counting-piper \(en\)"):
        synthesize_voiceover("你好", "zh", [CountingVoice()], tmp_path)
    with pytest.raises(UserError, match="needs some text"):
        synthesize_voiceover("  ", "en", [CountingVoice()], tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- the timeline ------------------------------------------------------------------------------


def _project_with_music() -> Project:
    return Project(
        width=320,
        height=240,
        tracks=(
            Track(kind="visual", clips=(CardClip(duration=6.0),), role="main"),
            Track(kind="audio", clips=(AudioClip(source="song.mp3", out=6.0),), role="music"),
            Track(
                kind="audio",
                clips=(AudioClip(source="rain.wav", out=6.0, duck=0.5),),
                role="music",
            ),
        ),
    )


def test_add_voiceover_creates_the_voice_track_and_ducks_the_music(spoken: VoiceOver) -> None:
    project = add_voiceover(_project_with_music(), spoken, start=1.0, duck=0.25)

    voice_tracks = [t for t in project.tracks if t.role == "voice"]
    assert len(voice_tracks) == 1 and voice_tracks[0].kind == "audio"
    (clip,) = voice_tracks[0].clips
    assert isinstance(clip, AudioClip)
    assert (clip.source, clip.start, clip.out) == (
        str(spoken.path),
        1.0,
        round(spoken.duration, 3),
    )
    ducks = [c.duck for t in project.tracks if t.role == "music" for c in t.clips]
    assert ducks == [0.25, 0.5]  # music that already ducks keeps its own
    assert parse_project(project_to_dict(project)) == project


def test_voiceovers_share_one_track_and_may_not_overlap(spoken: VoiceOver) -> None:
    project = add_voiceover(_project_with_music(), spoken)
    later = add_voiceover(project, spoken, start=spoken.duration + 0.5)

    assert [len(t.clips) for t in later.tracks if t.role == "voice"] == [2]
    with pytest.raises(UserError, match="overlaps"):
        add_voiceover(later, spoken, start=1.0)


def test_music_is_looped_over_the_whole_project_and_ducks_under_the_voice(
    spoken: VoiceOver,
) -> None:
    base = Project(
        width=320, height=240, tracks=(Track(kind="visual", clips=(CardClip(duration=7.5),)),)
    )
    project = add_voiceover(add_music(base, "bed.wav", volume=0.4), spoken)

    (music,) = [t for t in project.tracks if t.role == "music"]
    (clip,) = music.clips
    assert isinstance(clip, AudioClip)
    assert clip.loop and clip.duration == 7.5 and clip.volume == 0.4 and clip.duck == 0.3
    assert project_duration(project) == 7.5
    assert parse_project(project_to_dict(project)) == project
    with pytest.raises(UserError, match="empty"):
        add_music(Project(width=320, height=240), "bed.wav")


# --- the music bed -----------------------------------------------------------------------------


def _read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2") / 32768, wav.getframerate()


def test_the_music_bed_is_quiet_smooth_and_as_long_as_asked(tmp_path: Path) -> None:
    samples, rate = _read(music_bed(tmp_path / "bed.wav", 5.25, rate=22050))

    assert rate == 22050 and len(samples) == round(5.25 * 22050)
    middle = samples[rate : 4 * rate]
    rms_db = 20 * np.log10(np.sqrt(np.mean(middle**2)))
    assert -21 < rms_db < -15
    assert float(np.abs(samples).max()) < 0.6
    assert float(np.abs(np.diff(samples)).max()) < 0.05  # no clicks at the chord changes
    assert abs(samples[0]) < 0.01 and abs(samples[-1]) < 0.01  # fades in and out
    spectrum = np.abs(np.fft.rfft(middle))
    assert np.argmax(spectrum) * rate / len(middle) < 1000  # a low pad, not a whistle


def test_the_music_bed_is_the_same_for_a_seed(tmp_path: Path) -> None:
    a = music_bed(tmp_path / "a.wav", 3.0, seed=1).read_bytes()
    b = music_bed(tmp_path / "b.wav", 3.0, seed=1).read_bytes()
    c = music_bed(tmp_path / "c.wav", 3.0, seed=2).read_bytes()
    assert a == b and a != c
    with pytest.raises(UserError):
        music_bed(tmp_path / "d.wav", 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav", "c.wav"]


# --- espeak-ng ---------------------------------------------------------------------------------


def test_espeak_comes_after_piper_and_does_not_speak_chinese(tmp_path: Path) -> None:
    components = Components(Settings(home=tmp_path))
    piper.register(components)
    espeak.register(components)

    assert voice_for(components.voices, "en") is components.voices.get("piper-joe")
    assert voice_for(components.voices, "fr") is components.voices.get("espeak-ng")
    assert voice_for(components.voices, "zh") is None
    with pytest.raises(UserError, match="does not speak 'zh'"):
        EspeakSpeech().synthesize("你好", "zh")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_speaks_audibly(tmp_path: Path) -> None:
    over = synthesize_voiceover(
        "-- Bonjour, et bienvenue au port.", "fr", [PiperSpeech(), EspeakSpeech()], tmp_path
    )
    samples, _ = _read(over.path)

    assert over.voice == "espeak-ng"
    assert 1.0 < over.duration < 6.0
    assert 20 * np.log10(np.sqrt(np.mean(samples**2))) > -30


@pytest.mark.skipif(shutil.which("espeak-ng") is not None, reason="espeak-ng is installed")
def test_espeak_says_how_to_install_it_when_missing() -> None:
    with pytest.raises(HallmarkError, match="apt install espeak-ng"):
        EspeakSpeech().synthesize("Bonjour", "fr")
