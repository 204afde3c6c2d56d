"""The studio's smart cut and reframe: how fast, against the plain ffmpeg way of doing less.

``studio.smartcut``: ``cut_list`` (ffmpeg decodes the audio to 16 kHz mono, Silero VAD scores
every 32 ms, the spans get hysteresis, gaps, margins) on a 320x240 H.264/AAC video of piper
speech with pauses of 0.4 to 2 s, 60 s long (15 s with ``--quick``), against ffmpeg's
``silencedetect`` filter over the same file (a loudness threshold: no speech model). The unit
is a second of media, so the rate columns read as "times real time".

``studio.reframe``: ``reframe`` (face detection at 4 samples a second, the crop path, one
ffmpeg pass cropping along it and scaling to 1080x1920, x264 veryfast CRF 20, AAC) of a
1280x720 clip, 10 s long (3 s with ``--quick``), against one ffmpeg pass with a fixed centre
crop and the same scale and codec settings. The ratio is what following the subject costs.
The clip is ffmpeg's testsrc2 with a box moving across it: NudeNet costs the same per frame
whether or not it finds a face.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.harness import Case, Skip
from hallmark.studio.reframe import crop_size, reframe
from hallmark.studio.smartcut import cut_list

SENTENCES = (
    "Welcome back to the channel, today we are making tea.",
    "First, warm the cup with a little hot water.",
    "Then add the leaves and wait for three minutes.",
    "That is all there is to it, enjoy your tea.",
)
PAUSES = (0.4, 1.2, 2.0, 0.8, 1.6)  # seconds of silence after each sentence, in turn
FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
X264 = ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-preset", "veryfast",
        "-crf", "20", "-c:a", "aac", "-b:a", "160k", "-ar", "44100",
        "-movflags", "+faststart"]  # fmt: skip


@dataclass(slots=True)
class MediaState:
    folder: tempfile.TemporaryDirectory[str]
    source: Path

    @property
    def out(self) -> Path:
        return Path(self.folder.name) / "out.mp4"


def _ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], check=True, capture_output=True, timeout=600)


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def setup_smartcut(seconds: int) -> MediaState:
    """Speech with pauses, ``seconds`` long, under a test picture."""
    try:
        from hallmark.speech.piper import PiperSpeech

        voice = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0)
        spoken = [voice.synthesize(sentence, "en") for sentence in SENTENCES]
    except Exception as exc:  # the bundled voice is an optional extra
        raise Skip(f"the piper voice is not available: {exc}") from exc
    rate = spoken[0][1]
    parts: list[np.ndarray] = [np.zeros(int(rate), np.float32)]
    length, index = len(parts[0]), 0
    while length < seconds * rate:
        samples = spoken[index % len(spoken)][0]
        pause = np.zeros(int(PAUSES[index % len(PAUSES)] * rate), np.float32)
        parts += [samples, pause]
        length += len(samples) + len(pause)
        index += 1
    folder = tempfile.TemporaryDirectory(prefix="hallmark-bench-smartcut-")
    wav = Path(folder.name) / "speech.wav"
    _write_wav(wav, np.concatenate(parts)[: seconds * rate], rate)
    source = Path(folder.name) / "speech.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-i", str(wav), "-shortest",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            str(source))  # fmt: skip
    return MediaState(folder, source)


def smartcut(state: MediaState) -> None:
    cut_list(state.source)


def silencedetect(state: MediaState) -> None:
    _ffmpeg("-i", str(state.source), "-vn", "-af", "silencedetect=noise=-35dB:d=0.5",
            "-f", "null", "-")  # fmt: skip


def setup_reframe(seconds: int) -> MediaState:
    """A 1280x720 test picture with a box crossing it, and a tone."""
    folder = tempfile.TemporaryDirectory(prefix="hallmark-bench-reframe-")
    source = Path(folder.name) / "wide.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"color=c=orange:size=200x300:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
            "-filter_complex", f"[0][1]overlay=x='t*1080/{seconds}':y=200[v]",
            "-map", "[v]", "-map", "2", "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", "-c:a", "aac", str(source))  # fmt: skip
    return MediaState(folder, source)


def reframe_ours(state: MediaState) -> None:
    reframe(state.source, state.out)


def centre_crop(state: MediaState) -> None:
    crop_w, crop_h = crop_size(1280, 720, 1080 / 1920)
    graph = (
        f"crop={crop_w}:{crop_h}:{(1280 - crop_w) // 2}:0,"
        "scale=1080:1920:flags=bicubic,setsar=1,format=yuv420p"
    )
    _ffmpeg("-i", str(state.source), "-vf", graph, *X264, str(state.out))


def teardown(state: MediaState) -> None:
    state.folder.cleanup()


CASES = [
    Case(
        name="studio.smartcut",
        measures="cut_list of a 320x240 video of piper speech with pauses: decode the audio, "
        "Silero VAD per 32 ms, hysteresis, min silence and speech, margins. Unit: a second "
        "of media, so the rates are times real time.",
        baseline_is="ffmpeg's silencedetect filter over the same file (-35 dB, 0.5 s).",
        setup=setup_smartcut,
        ours=smartcut,
        baseline=silencedetect,
        teardown=teardown,
        units=60,
        quick_units=15,
        unit="s media",
    ),
    Case(
        name="studio.reframe",
        measures="reframe of a 1280x720 30 fps clip to 1080x1920: faces sampled 4 times a "
        "second, a smoothed crop path, one ffmpeg pass (x264 veryfast CRF 20, AAC). Unit: a "
        "second of media.",
        baseline_is="one ffmpeg pass with a fixed centre crop, the same scale and codecs.",
        setup=setup_reframe,
        ours=reframe_ours,
        baseline=centre_crop,
        teardown=teardown,
        units=10,
        quick_units=3,
        unit="s media",
    ),
]
