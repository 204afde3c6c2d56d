"""Voice-over and music: text spoken by a registered voice into a WAV, and the audio tracks
that put it and a music bed on a project's timeline.

A voice-over file is named by a hash of the voice, the language and the text, so editing one
scene of a script re-speaks only that scene; the file is written beside its final name and
renamed into place, so a cached file is always whole. Ducking is the timeline's own: a music
clip's ``duck`` is the gain it drops to while a ``voice`` track plays, and ``add_voiceover``
sets it on music that has none yet.

``music_bed`` makes a quiet chord pad for when the user brings no music: a few sine partials
per note under slow swells, changing chord every two seconds. It is generated, so it carries
no one's rights and is the same for the same seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import os
import tempfile
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hallmark.errors import HallmarkError, UserError
from hallmark.speech.base import TextToSpeech, voice_for
from hallmark.studio.timeline import (
    MAX_DURATION,
    AudioClip,
    Project,
    Track,
    clip_end,
    project_duration,
)

DUCK = 0.3


@dataclass(frozen=True, slots=True)
class VoiceOver:
    path: Path
    duration: float  # seconds
    rate: int  # Hz
    voice: str  # the voice's registered name
    text: str


# --- speaking ----------------------------------------------------------------------------------


def synthesize_voiceover(
    text: str, language: str, voices: Iterable[TextToSpeech], folder: Path
) -> VoiceOver:
    """``text`` spoken in ``language`` by the first voice that speaks it, as a 16-bit WAV in
    ``folder``; a file made before for the same voice, language and text is reused."""
    text = " ".join(text.split())
    if not text:
        raise UserError("a voice-over needs some text to say")
    voice = choose_voice(voices, language)
    key = hashlib.sha256(f"{voice.name}\0{language}\0{text}".encode()).hexdigest()[:24]
    path = folder / f"voice-{key}.wav"
    cached = _wav_length(path)
    if cached is not None:
        return VoiceOver(path, cached[0], cached[1], voice.name, text)
    samples, rate = voice.synthesize(text, language)
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(path, samples, rate)
    return VoiceOver(path, len(samples) / rate, rate, voice.name, text)


def choose_voice(voices: Iterable[TextToSpeech], language: str) -> TextToSpeech:
    """The first voice that speaks ``language``; a UserError naming the voices there are."""
    available = list(voices)
    voice = voice_for(available, language)
    if voice is None:
        known = ", ".join(f"{v.name} ({', '.join(sorted(v.languages))})" for v in available)
        raise UserError(
            f"no voice speaks {language!r}; the voices are: {known or 'none'}",
            language=language,
        )
    return voice


def _wav_length(path: Path) -> tuple[float, int] | None:
    """(seconds, rate) of a readable, non-empty WAV; None for a missing or broken file."""
    try:
        with wave.open(str(path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
    except (OSError, EOFError, wave.Error):
        return None
    return (frames / rate, rate) if frames > 0 and rate > 0 else None


def write_wav(path: Path, samples: npt.NDArray[np.floating], rate: int) -> Path:
    """Samples (mono, or frames x channels) as a 16-bit WAV, written atomically."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).round().astype("<i2")
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    with _atomic(path) as temporary, wave.open(str(temporary), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path``, renamed onto it when the block succeeds; removed
    when it fails."""
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise HallmarkError(f"cannot write {path}: {exc}") from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# --- onto the timeline -------------------------------------------------------------------------


def add_voiceover(
    project: Project, voice: VoiceOver, start: float = 0.0, duck: float = DUCK
) -> Project:
    """The project with ``voice`` at ``start`` on its (first) ``voice`` track, made when
    absent, and music that does not duck yet set to duck to ``duck`` under it."""
    if not 0 <= duck <= 1:
        raise UserError(f"duck must be between 0 and 1, not {duck}")
    clip = AudioClip(source=str(voice.path), start=start, out=round(voice.duration, 3))
    tracks = list(project.tracks)
    index = next((i for i, t in enumerate(tracks) if t.kind == "audio" and t.role == "voice"), None)
    if index is None:
        tracks.append(Track(kind="audio", clips=(clip,), name="voice-over", role="voice"))
    else:
        track = tracks[index]
        end = start + round(voice.duration, 3)
        for other in track.clips:
            other_end = clip_end(other)
            if other.start < end and (other_end is None or start < other_end):
                raise UserError(
                    f"the voice-over at {start:g} s overlaps the one at {other.start:g} s"
                )
        tracks[index] = dataclasses.replace(track, clips=(*track.clips, clip))
    tracks = [_ducked(track, duck) if track.role == "music" else track for track in tracks]
    return dataclasses.replace(project, tracks=tuple(tracks))


def _ducked(track: Track, duck: float) -> Track:
    clips = tuple(
        dataclasses.replace(clip, duck=duck)
        if isinstance(clip, AudioClip) and clip.duck == 1.0
        else clip
        for clip in track.clips
    )
    return dataclasses.replace(track, clips=clips)


def add_music(project: Project, source: str, volume: float = 0.5, duck: float = DUCK) -> Project:
    """The project with a new ``music`` track: ``source`` looped over the whole project,
    fading in and out, ducking to ``duck`` while a voice plays."""
    if not 0 <= volume <= 4 or not 0 <= duck <= 1:
        raise UserError("music volume must be between 0 and 4 and duck between 0 and 1")
    seconds = round(project_duration(project), 3)
    if seconds <= 0:
        raise UserError("the project is empty: add clips before music")
    clip = AudioClip(
        source=source,
        loop=True,
        duration=seconds,
        volume=volume,
        duck=duck,
        fade_in=min(0.5, seconds / 4),
        fade_out=min(1.5, seconds / 4),
    )
    music = Track(kind="audio", clips=(clip,), name="music", role="music")
    return dataclasses.replace(project, tracks=(*project.tracks, music))


# --- a generated music bed ---------------------------------------------------------------------

CHORD_SECONDS = 2.0
SWELL = 0.6  # seconds of rise and of fall at each chord change
LEVEL_DBFS = -18.0  # the bed's RMS level
PEAK_DBFS = -6.0
# I - vi - IV - V, as semitones above the key's root: a progression that never sounds wrong
PROGRESSIONS = (((0, 4, 7), (9, 12, 16), (5, 9, 12), (7, 11, 14)),
                ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)))  # fmt: skip
PARTIALS = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))  # (multiple of the note, gain): soft timbre


def music_bed(path: Path, seconds: float, rate: int = 44100, seed: int = 0) -> Path:
    """A gentle chord pad of ``seconds`` as a mono 16-bit WAV at ``path``; the seed picks the
    key and the progression."""
    if not 0 < seconds <= MAX_DURATION:
        raise UserError(f"a music bed must last between 0 and {MAX_DURATION:g} s, not {seconds}")
    rng = np.random.default_rng(seed)
    root = 48 + int(rng.integers(0, 7))  # MIDI: C3 to F#3
    progression = PROGRESSIONS[int(rng.integers(0, len(PROGRESSIONS)))]
    total = round(seconds * rate)
    block = int(CHORD_SECONDS * rate)
    # one cycle of the progression tells the gain that puts the whole bed at LEVEL_DBFS
    cycle = np.concatenate([_pad(k, block, rate, root, progression) for k in range(4)])
    rms = float(np.sqrt(np.mean(cycle**2))) or 1.0
    gain = min(10 ** (LEVEL_DBFS / 20) / rms, 10 ** (PEAK_DBFS / 20) / float(np.abs(cycle).max()))
    fade = min(int(1.0 * rate), total // 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _atomic(path) as temporary, wave.open(str(temporary), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for k in range(math.ceil(total / block)):
            samples = _pad(k, block, rate, root, progression)[: total - k * block] * gain
            at = np.arange(k * block, k * block + len(samples))
            envelope = np.minimum(1.0, np.minimum(at / max(fade, 1), (total - at) / max(fade, 1)))
            pcm = (np.clip(samples * envelope, -1, 1) * 32767).round().astype("<i2")
            out.writeframes(pcm.tobytes())
    return path


Chords = tuple[tuple[int, ...], ...]


def _pad(k: int, block: int, rate: int, root: int, progression: Chords) -> npt.NDArray[np.float64]:
    """Block ``k`` of the pad: chord ``k`` swelling in, and chord ``k - 1``'s fading tail."""
    t = np.arange(k * block, (k + 1) * block) / rate
    out = np.zeros(block)
    for chord_index in (k - 1, k):
        if chord_index < 0:
            continue
        start = chord_index * block / rate
        local = t - start
        # raised-cosine rise over SWELL, hold, raised-cosine fall over SWELL after the chord
        rise = 0.5 - 0.5 * np.cos(np.pi * np.clip(local / SWELL, 0, 1))
        fall = 0.5 + 0.5 * np.cos(np.pi * np.clip((local - CHORD_SECONDS) / SWELL, 0, 1))
        envelope = rise * fall
        if not envelope.any():
            continue
        chord = progression[chord_index % len(progression)]
        notes = [root + chord[0] - 12, *(root + step for step in chord)]  # a bass note below
        for note in notes:
            hertz = 440.0 * 2 ** ((note - 69) / 12)
            for multiple, gain in PARTIALS:
                out += gain * envelope * np.sin(2 * np.pi * hertz * multiple * t)
    return out
