"""The video screen: the first audio track through the audio screen, and frames through the
image screen.

The soundtrack is decoded to 16 kHz mono and screened by the registered ``audio`` screen; its
hits' times are moved onto the video's timeline (seconds from the first frame). Frames are
sampled where the scene changes (ffmpeg's ``select='gt(scene,0.3)'``) plus the first frame, at
most ``MAX_FRAMES``, and each is given as a PNG to the screens of images registered when the
video is screened; a frame's hit gets a ``TimeSpan`` of that frame's time in place of its box,
and is named ``frames/<image screen>``. Without an image screen only the sound is screened, and
``parts``/``note`` say so.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import ClassVar, NamedTuple

from PIL import Image

from hallmark.content import Content, Medium
from hallmark.errors import HallmarkError, UserError
from hallmark.mark.video_audio import audio_track
from hallmark.registry import Components, Registry
from hallmark.screen.audio import TOOL_TIMEOUT_S, AudioScreen, check_length, decode_file
from hallmark.screen.base import FrameBox, Hit, ImageBox, Screen, TimeSpan

SCENE_THRESHOLD = 0.3
MAX_FRAMES = 16
MAX_FRAME_SIDE = 1280  # pixels; larger frames are scaled down before the image screen
# showinfo sits before the scale, so its size is the video's own
_SHOWN = re.compile(rb"\bpts_time:\s*(-?[0-9.]+).*?\bs:([0-9]+)x([0-9]+)")


class SampledFrame(NamedTuple):
    time: float
    """Seconds from the first frame."""
    png: bytes
    width: int
    """The video's width and height in pixels, before any scaling down of ``png``."""
    height: int


def scene_frames(
    path: Path, folder: Path, limit: int = MAX_FRAMES, threshold: float = SCENE_THRESHOLD
) -> list[tuple[float, bytes]]:
    """(seconds from the first frame, PNG) of the first frame and of each scene change (a
    frame whose ffmpeg scene score is over ``threshold``), in order, at most ``limit``."""
    return [(frame.time, frame.png) for frame in sampled_frames(path, folder, limit, threshold)]


def sampled_frames(
    path: Path, folder: Path, limit: int = MAX_FRAMES, threshold: float = SCENE_THRESHOLD
) -> list[SampledFrame]:
    """The frames of :func:`scene_frames`, each with the video's own size."""
    side = MAX_FRAME_SIDE
    chain = (
        f"select='eq(n\\,0)+gt(scene\\,{threshold})',showinfo,"
        f"scale='if(gte(iw,ih),min({side},iw),-2)':'if(gte(iw,ih),-2,min({side},ih))'"
    )
    # showinfo prints each selected frame's time at the info level
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info",
            "-i", str(path), "-map", "0:v:0", "-vf", chain, "-fps_mode", "vfr",
            "-frames:v", str(limit), str(folder / "frame-%03d.png")]  # fmt: skip
    try:
        done = subprocess.run(args, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise HallmarkError("ffmpeg is not installed; screening video needs it") from exc
    except subprocess.TimeoutExpired as exc:
        raise UserError("the video cannot be screened: ffmpeg took too long") from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        raise UserError(f"corrupt or unsupported video: ffmpeg: {lines[-1].strip()}")
    shown = _SHOWN.findall(done.stderr)
    files = sorted(folder.glob("frame-*.png"))
    if not shown or len(shown) < len(files):
        raise UserError("corrupt or unsupported video: ffmpeg gave no frame times")
    first = float(shown[0][0])
    return [
        SampledFrame(float(time) - first, file.read_bytes(), int(width), int(height))
        for (time, width, height), file in zip(shown, files, strict=False)
    ]


def on_frame(hit: Hit, frame: SampledFrame, screened: tuple[int, int]) -> Hit:
    """The hit of a screen of images moved onto the video: named ``frames/<screen>``, its box
    scaled from the ``screened`` frame's size to the video's and given the frame's time."""
    at = round(frame.time, 3)
    box = hit.evidence
    evidence: FrameBox | TimeSpan = TimeSpan(at, at)
    if isinstance(box, ImageBox):
        sx, sy = frame.width / screened[0], frame.height / screened[1]
        x, y = round(box.x * sx), round(box.y * sy)
        right = min(frame.width, round((box.x + box.width) * sx))
        bottom = min(frame.height, round((box.y + box.height) * sy))
        evidence = FrameBox(at, ImageBox(x, y, right - x, bottom - y))
    return replace(hit, screen=f"frames/{hit.screen}", evidence=evidence)


class VideoScreen(Screen):
    name: ClassVar[str] = "video"
    media: ClassVar[frozenset[Medium]] = frozenset({"video"})

    def __init__(self, screens: Registry[Screen]) -> None:
        self._screens = screens

    def audio_screen(self) -> AudioScreen | None:
        return next((s for s in self._screens if isinstance(s, AudioScreen)), None)

    def image_screens(self) -> list[Screen]:
        return [s for s in self._screens if "image" in s.media and s is not self]

    def parts(self) -> tuple[str, ...]:
        """What looks at a video: ``video/audio`` for the sound, ``video/frames:<screen>`` for
        each screen of the frames."""
        found = ["video/audio"] if self.audio_screen() is not None else []
        return (*found, *(f"video/frames:{s.name}" for s in self.image_screens()))

    def note(self) -> str | None:
        if not self.image_screens():
            return "no image screen is registered; only the video's sound was screened"
        return None

    def prepare(self) -> VideoScreen:
        audio = self.audio_screen()
        if audio is not None:
            audio.prepare()
        return self

    def find(self, content: Content) -> list[Hit]:
        with tempfile.TemporaryDirectory(prefix="hallmark-video-") as scratch:
            folder = Path(scratch)
            source = folder / "video"
            source.write_bytes(content.data)
            hits = self._sound(source)
            images = self.image_screens()
            if images:
                hits.extend(self._frames(source, folder, images))
        return hits

    def _sound(self, source: Path) -> list[Hit]:
        audio = self.audio_screen()
        track = audio_track(source)
        if audio is None or track is None:
            return []
        check_length(track.duration, audio.limit, "video's sound")
        speech = decode_file(source, what="video", seconds=audio.limit)
        return audio.hits_in(speech, offset=track.lead) if len(speech) else []

    def _frames(self, source: Path, folder: Path, images: list[Screen]) -> list[Hit]:
        hits: list[Hit] = []
        for frame in sampled_frames(source, folder):
            content = Content("image", "image/png", frame.png, {"video_time_s": frame.time})
            with Image.open(io.BytesIO(frame.png)) as picture:
                screened = picture.size
            for screen in images:
                hits.extend(on_frame(hit, frame, screened) for hit in screen.find(content))
        return hits


def register(components: Components) -> None:
    components.screens.register(VideoScreen.name, VideoScreen(components.screens))
