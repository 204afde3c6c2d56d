"""Media made here for the studio's tests: ffmpeg's test sources, tones, piper speech, and
ffprobe to check what came out."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path
from typing import Any

import numpy as np

FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]


def ffmpeg(*args: str) -> bytes:
    return subprocess.run([*FFMPEG, *args], check=True, capture_output=True).stdout


def make_video(
    path: Path,
    seconds: float = 2.0,
    size: str = "320x240",
    rate: int = 25,
    tone: float | None = 440.0,
) -> Path:
    """A testsrc2 clip (H.264) with a sine tone (AAC), or silent when ``tone`` is None."""
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if tone is not None:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency={tone}:duration={seconds}"]
    ffmpeg(*inputs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           *(["-c:a", "aac", "-shortest"] if tone is not None else []), str(path))  # fmt: skip
    return path


def make_image(path: Path, size: tuple[int, int] = (640, 480), color: str = "#3366cc") -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4), fill="#ffcc00")
    image.save(path)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def make_tone(path: Path, seconds: float = 3.0, rate: int = 44100, hz: float = 220.0) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    return write_wav(path, 0.3 * np.sin(2 * np.pi * hz * t), rate)


def speak(text: str) -> tuple[np.ndarray, int]:
    """``text`` spoken by the bundled piper voice, the same every run (zero noise scales)."""
    from hallmark.speech.piper import PiperSpeech

    samples, rate = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0).synthesize(text, "en")
    return samples, rate


def make_speech_with_pauses(
    path: Path, sentences: list[str], pause: float = 1.5
) -> list[tuple[float, float]]:
    """A WAV of ``sentences`` with ``pause`` seconds of silence before, between and after them;
    returns each sentence's (start, end) in seconds."""
    parts: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    rate = 22050
    at = 0.0
    for sentence in sentences:
        samples, rate = speak(sentence)
        parts.append(np.zeros(int(pause * rate), np.float32))
        at += pause
        parts.append(samples)
        spans.append((at, at + len(samples) / rate))
        at += len(samples) / rate
    parts.append(np.zeros(int(pause * rate), np.float32))
    write_wav(path, np.concatenate(parts), rate)
    return spans


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's view of ``path``: ``format`` and ``streams``."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def stream(info: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(s for s in info["streams"] if s["codec_type"] == kind)


def frame_at(path: Path, seconds: float) -> Any:
    """The frame shown at ``seconds`` as a Pillow RGB image."""
    import io

    from PIL import Image

    png = ffmpeg("-ss", f"{seconds:.3f}", "-i", str(path), "-frames:v", "1", "-f", "image2pipe",
                 "-vcodec", "png", "-")  # fmt: skip
    return Image.open(io.BytesIO(png)).convert("RGB")
