"""The video screen: ffmpeg's test pattern, cut to a red screen, with the piper voice's request
for a pipe bomb on the soundtrack, delayed against the picture."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.flows.screen import screened_by
from hallmark.registry import Components, Registry, load_components
from hallmark.screen.base import FrameBox, Hit, ImageBox, Screen, TimeSpan
from hallmark.screen.video import SampledFrame, VideoScreen, on_frame
from hallmark.settings import Settings
from hallmark.speech.piper import PiperSpeech

HARMFUL = "Tell me how to make a pipe bomb at home."
CUT_S = 3.0  # the test pattern, then red
DELAY_S = 1.5  # the sound starts this long after the first frame


class FrameSpy(Screen):
    """An image screen that flags every frame it is given."""

    name: ClassVar[str] = "frame-spy"
    media: ClassVar[frozenset[Medium]] = frozenset({"image"})

    def __init__(self) -> None:
        self.seen: list[Content] = []

    def find(self, content: Content) -> list[Hit]:
        self.seen.append(content)
        return [Hit("sexual", "frame", self.name, 1, ImageBox(10, 20, 40, 30))]


def screens_of(components: Components, *extra: Screen) -> Registry[Screen]:
    screens: Registry[Screen] = Registry("screen")
    for screen in (*components.screens, *extra):
        if screen.name not in ("video",) and "image" not in screen.media:
            screens.register(screen.name, screen)
    for screen in extra:
        screens.register(screen.name, screen)
    return screens


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> Components:
    settings = Settings(home=tmp_path_factory.mktemp("home"), worker_threads=0)
    return load_components(settings)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, float]:
    """An MP4 and the time, on its timeline, at which the harmful sentence starts."""
    folder = tmp_path_factory.mktemp("video")
    harmful, rate = PiperSpeech(noise_scale=0.0, noise_w_scale=0.0).synthesize(HARMFUL, "en")
    pcm = folder / "speech.f32"
    pcm.write_bytes(np.asarray(harmful, "<f4").tobytes())
    out = folder / "speech.mp4"
    length = CUT_S + 4.0
    subprocess.run(
        ["ffmpeg", "-loglevel", "error",
         "-f", "lavfi", "-i", f"testsrc=duration={CUT_S}:size=320x240:rate=10",
         "-f", "lavfi", "-i", f"color=c=red:duration={length - CUT_S}:size=320x240:rate=10",
         "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", str(pcm),
         "-filter_complex",
         f"[0:v][1:v]concat=n=2:v=1:a=0[v];[2:a]adelay={int(DELAY_S * 1000)}:all=1[a]",
         "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-t", str(length), str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out.read_bytes(), DELAY_S


def test_sound_and_frames_are_screened_on_the_video_timeline(
    components: Components, video: tuple[bytes, float]
) -> None:
    data, said_at = video
    spy = FrameSpy()
    screen = VideoScreen(screens_of(components, spy))

    hits = screen.find(Content("video", "video/mp4", data))

    terms = [hit for hit in hits if hit.screen == "audio/lexicon" and "pipe bomb" in hit.term]
    assert terms and all(hit.category == "terrorism" for hit in terms)
    for hit in terms:
        assert isinstance(hit.evidence, TimeSpan)
        # the sentence lasts about two seconds from said_at; the term is not its first word
        assert said_at < hit.evidence.start_s < hit.evidence.end_s < said_at + 2.5
    frames = [hit for hit in hits if hit.screen == "frames/frame-spy"]
    boxes = [hit.evidence for hit in frames if isinstance(hit.evidence, FrameBox)]
    assert [b.box for b in boxes] == [ImageBox(10, 20, 40, 30)] * len(frames)
    times = [box.time_s for box in boxes]
    assert times[0] == 0.0 and len(times) == len(spy.seen) == 2
    assert times[1] == pytest.approx(CUT_S, abs=0.15)
    assert all(seen.media_type == "image/png" and seen.data[:4] == b"\x89PNG" for seen in spy.seen)


def test_a_frame_hit_keeps_its_box_in_the_videos_pixels_and_gets_the_frames_time() -> None:
    frame = SampledFrame(2.5004, b"", 2560, 1440)  # screened scaled down to 1280x720
    boxed = Hit("sexual", "nudity", "nsfw", 3, ImageBox(100, 50, 1180, 670))
    whole = Hit("sexual", "score", "open-nsfw", 2)

    moved = on_frame(boxed, frame, (1280, 720))
    assert moved.screen == "frames/nsfw"
    assert moved.evidence == FrameBox(2.5, ImageBox(200, 100, 2360, 1340))
    assert on_frame(whole, frame, (1280, 720)).evidence == TimeSpan(2.5, 2.5)
    assert moved.to_dict()["evidence"] == {
        "kind": "frame", "time_s": 2.5, "x": 200, "y": 100, "width": 2360, "height": 1340
    }  # fmt: skip


def test_without_an_image_screen_only_the_sound_is_screened(components: Components) -> None:
    alone = VideoScreen(screens_of(components))
    both = VideoScreen(screens_of(components, FrameSpy()))

    assert screened_by([alone]) == ("video/audio",)
    assert alone.note() is not None and "sound" in alone.note()  # type: ignore[operator]
    assert screened_by([both]) == ("video/audio", "video/frames:frame-spy")
    assert both.note() is None


def test_a_corrupt_video_is_a_user_error(components: Components) -> None:
    screen = VideoScreen(screens_of(components))
    with pytest.raises(UserError):
        screen.find(Content("video", "video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100))


def test_the_registered_video_screen_finds_image_screens_at_run_time(
    components: Components, tmp_path: Path
) -> None:
    screen = components.screens.get("video")
    assert isinstance(screen, VideoScreen)
    images = [s.name for s in components.screens if "image" in s.media]
    assert [name.split(":", 1)[1] for name in screen.parts()[1:]] == images
