"""A video file's first audio stream (MP4, MOV) as float samples, for the audio watermark and
the rhythm cue.

``audio_track`` asks ffprobe what the first audio stream is (None when the file has none) and
where it starts against the first video frame; ``decode_track`` has ffmpeg decode it, all of it
or a window of it, to 32-bit float PCM at its own rate, every channel or a mono mix. Both run
with argument lists and timeouts (``explicit_video.run_tool``); a file they cannot read is a
UserError.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hallmark.errors import UserError
from hallmark.mark.explicit_audio import Samples
from hallmark.mark.explicit_video import PROBE_TIMEOUT_S, encode_timeout, run_tool

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"]


@dataclass(slots=True, frozen=True)
class AudioTrack:
    """The first audio stream of a video file."""

    codec: str
    rate: int  # Hz
    channels: int
    start: float  # seconds, on the file's timeline
    lead: float  # seconds from the first video frame to the first sample (negative: before it)
    duration: float  # seconds
    bitrate: int | None  # bits per second, where the file says
    streams: int  # audio streams in the file, this one included

    @property
    def end(self) -> float:
        return self.start + self.duration


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def audio_track(path: Path) -> AudioTrack | None:
    """The file's first audio stream, or None when it has none."""
    out = run_tool(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_type,codec_name,sample_rate,channels,start_time,duration,bit_rate"
         ":format=duration", "-of", "json", str(path)],
        PROBE_TIMEOUT_S,
    )  # fmt: skip
    try:
        found = json.loads(out)
    except ValueError as exc:
        raise UserError("corrupt or unsupported video: ffprobe gave no description") from exc
    every = found.get("streams") or []
    streams = [s for s in every if s.get("codec_type") == "audio"]
    if not streams:
        return None
    stream = streams[0]
    video: dict[str, Any] = next((s for s in every if s.get("codec_type") == "video"), {})
    rate, channels = _number(stream.get("sample_rate")), _number(stream.get("channels"))
    if not rate or not channels or rate < 1 or channels < 1:
        raise UserError("corrupt or unsupported video: its audio stream has no sample format")
    start = _number(stream.get("start_time")) or 0.0
    video_start = _number(video.get("start_time"))
    duration = _number(stream.get("duration"))
    if duration is None:
        duration = (_number(found.get("format", {}).get("duration")) or 0.0) - start
    bitrate = _number(stream.get("bit_rate"))
    return AudioTrack(
        codec=str(stream.get("codec_name") or "unknown"),
        rate=int(rate),
        channels=int(channels),
        start=start,
        lead=0.0 if video_start is None else start - video_start,
        duration=max(0.0, duration),
        bitrate=int(bitrate) if bitrate and bitrate > 0 else None,
        streams=len(streams),
    )


def decode_track(
    path: Path,
    track: AudioTrack,
    *,
    start: float | None = None,
    seconds: float | None = None,
    mono: bool = False,
) -> Samples:
    """The first audio stream's samples, (frames, channels) with full scale 1.0, at its own
    rate: from ``start`` (seconds on the file's timeline; else from the beginning) for
    ``seconds`` (else to the end), every channel or, with ``mono``, ffmpeg's mono mix."""
    channels = 1 if mono else track.channels
    args = [*FFMPEG]
    if start is not None:
        args += ["-ss", f"{max(0.0, start):.6f}"]
    args += ["-i", str(path), "-map", "0:a:0"]
    if seconds is not None:
        args += ["-t", f"{max(0.0, seconds):.6f}"]
    args += ["-ac", str(channels), "-f", "f32le", "-"]
    window = track.duration if seconds is None else min(seconds, track.duration)
    raw = run_tool(args, encode_timeout(window))
    samples = np.frombuffer(raw, "<f4").astype(np.float64)
    frames = len(samples) // channels
    return np.asarray(samples[: frames * channels].reshape(frames, channels))
