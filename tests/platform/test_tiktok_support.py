"""Helpers for the TikTok connector's tests: real videos made with ffmpeg, and settings that
point hallmark at a running fake TikTok (tests/fakes/tiktok_server.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fakes.tiktok_server import FakeTikTok
from hallmark.settings import Settings

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def camera_clip(path: Path, seconds: float = 1.0) -> Path:
    """A plain camera-like MP4 (test pattern and a tone), carrying no AI label."""
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10"),
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"),
        *("-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"),
        str(path),
    )
    return path


def noise_video(path: Path, seconds: float = 2.0) -> Path:
    """Lossless random noise: about 9 MB a second of real, playable MP4."""
    ffmpeg(
        *("-f", "lavfi", "-i", "nullsrc=s=640x360:r=25,geq=random(1)*255:128:128"),
        *("-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"),
        *("-pix_fmt", "yuv420p", str(path)),
    )
    return path


def tiktok_settings(settings: Settings, fake: FakeTikTok, token: str | None) -> Settings:
    return settings.model_copy(
        update={
            "tiktok_base_url": fake.url,
            "tiktok_access_token": token,
            "tiktok_poll_seconds": 0.02,
            "tiktok_status_timeout_seconds": 10.0,
        }
    )


def cli_tiktok_env(env: dict[str, str], fake: FakeTikTok, token: str) -> dict[str, str]:
    return {
        **env,
        "HALLMARK_TIKTOK_BASE_URL": fake.url,
        "HALLMARK_TIKTOK_ACCESS_TOKEN": token,
        "HALLMARK_TIKTOK_POLL_SECONDS": "0.02",
    }
