"""Fixtures for the TikTok connector's tests: the fake TikTok (tests/fakes/tiktok_server.py)
running, a token it accepts, services that publish to it, and a real clip to publish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_tiktok_support import camera_clip, tiktok_settings

from fakes.tiktok_server import FakeTikTok, running
from hallmark.services import Services, build_services
from hallmark.settings import Settings


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    with running() as server:
        yield server


@pytest.fixture
def token(fake: FakeTikTok) -> str:
    return fake.add_token()


@pytest.fixture
def publisher(settings: Settings, fake: FakeTikTok, token: str) -> Iterator[Services]:
    built = build_services(tiktok_settings(settings, fake, token))
    yield built
    built.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A camera clip (ffmpeg), made once for each test module that asks for it."""
    return camera_clip(tmp_path_factory.mktemp("tiktok") / "camera.mp4")
