"""Export presets: the frame size, rate limit and encoding each destination expects.

The platforms' upload guides agree on H.264 High in yuv420p with AAC at 44.1 kHz in an MP4
whose index sits at the front (``+faststart``, so playback starts before the download ends):
TikTok and Douyin want 1080x1920 at up to 60 fps, as do YouTube Shorts; ``square`` is the feed
post, ``landscape`` 1080p. CRF 20 at x264's ``veryfast`` is visually clean at these sizes and
keeps a 2-core machine near real time.

``PREVIEW`` is the draft: the same picture fitted in 640 px on the longer side, at most 30
fps, x264 ``ultrafast`` at CRF 32 and 96 kb/s audio, for checking timing and layout quickly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hallmark.errors import UserError

PREVIEW_LONG_SIDE = 640


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    width: int
    height: int
    max_fps: float
    video_codec: str = "libx264"
    profile: str = "high"
    pix_fmt: str = "yuv420p"
    crf: int = 20
    x264_preset: str = "veryfast"
    audio_codec: str = "aac"
    audio_rate: int = 44100
    audio_bitrate: str = "192k"
    container: str = "mp4"


_VERTICAL = Preset("tiktok", 1080, 1920, max_fps=60)

PRESETS: dict[str, Preset] = {
    "tiktok": _VERTICAL,
    "douyin": dataclasses.replace(_VERTICAL, name="douyin"),
    "shorts": Preset("shorts", 1080, 1920, max_fps=60),
    "square": Preset("square", 1080, 1080, max_fps=60),
    "landscape": Preset("landscape", 1920, 1080, max_fps=60),
}

# The draft's encoding; its size is the output's, fitted by ``preview_of``.
PREVIEW = Preset(
    "preview",
    PREVIEW_LONG_SIDE,
    PREVIEW_LONG_SIDE,
    max_fps=30,
    crf=32,
    x264_preset="ultrafast",
    audio_bitrate="96k",
)


def preset_for(name: str) -> Preset:
    """The preset called ``name`` (case does not matter), or a UserError listing them."""
    preset = PRESETS.get(name.strip().lower())
    if preset is None:
        raise UserError(f"unknown export preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    return preset


def even(value: float) -> int:
    """The nearest even size of at least 2 (yuv420p halves the colour planes)."""
    return max(2, 2 * round(value / 2))


def preview_of(preset: Preset) -> Preset:
    """The draft of ``preset``: its picture fitted in ``PREVIEW_LONG_SIDE`` px (never enlarged),
    with the draft's encoding and frame-rate limit."""
    shrink = min(1.0, PREVIEW_LONG_SIDE / max(preset.width, preset.height))
    return dataclasses.replace(
        PREVIEW,
        width=even(preset.width * shrink),
        height=even(preset.height * shrink),
        max_fps=min(PREVIEW.max_fps, preset.max_fps),
        audio_rate=preset.audio_rate,
    )
