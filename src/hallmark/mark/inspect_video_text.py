"""Reads visible AI notices in video (MP4, MOV) by OCR: a few frames, as shown (rotation
applied), extracted by ffmpeg as PNG and read by the image OCR inspector's reader.

The frames are at ``FRAME_TIMES``: 0.5 s (inside the opening notice ``explicit_video`` draws
for the first 2 s), the middle, and 1 s before the end (the corner label is on every frame).
Each notice found is an explicit finding with the frame's ``time`` in seconds; a notice read
on several frames is reported once per distinct text. Files ffmpeg cannot read give no
finding (the metadata inspectors report on the container).
"""

from __future__ import annotations

import io
import logging
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import EXPLICIT, Finding, Inspector
from hallmark.mark.explicit_video import probe, run_tool
from hallmark.mark.inspect_image_text import MAX_OCR_SIDE, TextReader, shared_reader
from hallmark.mark.notices import find_notice
from hallmark.registry import Components

log = logging.getLogger(__name__)

FRAME_TIME_OUT_S = 60.0


def frame_times(duration: float) -> list[float]:
    """0.5 s, the middle and 1 s before the end, within the clip, without repeats."""
    last = max(0.0, duration - 0.05)
    times = [min(0.5, last), duration / 2, max(0.0, duration - 1.0)]
    out: list[float] = []
    for at in times:
        at = round(min(at, last), 3)
        if all(abs(at - seen) > 0.05 for seen in out):
            out.append(at)
    return out


def shown_frame(path: Path, at: float) -> Image.Image | None:
    """The frame at ``at`` seconds as shown, RGB; None when there is none there."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"]
    args += ["-ss", f"{at:.3f}", "-i", str(path), "-map", "0:v:0", "-frames:v", "1"]
    png = run_tool([*args, "-f", "image2pipe", "-c:v", "png", "-"], FRAME_TIME_OUT_S)
    if not png:
        return None
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGB")


class VideoTextInspector(Inspector):
    name: ClassVar[str] = "video-text"
    media: ClassVar[frozenset[Medium]] = frozenset({"video"})
    costly: ClassVar[bool] = True

    def __init__(self, reader: TextReader) -> None:
        self.reader = reader

    def inspect(self, content: Content) -> list[Finding]:
        findings: list[Finding] = []
        seen: set[str] = set()
        with tempfile.TemporaryDirectory(prefix="hallmark-video-text-") as folder:
            path = Path(folder) / "in.video"
            path.write_bytes(content.data)
            try:
                info = probe(path)
                frames = [(at, shown_frame(path, at)) for at in frame_times(info.duration)]
            except UserError as exc:
                log.warning("video-text: not read: %s", exc.message)
                return []
        for at, frame in frames:
            if frame is None:
                continue
            findings.extend(self._read(frame, at, seen))
        return findings

    def _read(self, frame: Image.Image, at: float, seen: set[str]) -> list[Finding]:
        full_width, full_height = frame.size
        frame.thumbnail((MAX_OCR_SIDE, MAX_OCR_SIDE))
        scale_x, scale_y = full_width / frame.width, full_height / frame.height
        findings = []
        for line in self.reader.read(frame):
            if find_notice(line.text) is None or line.text in seen:
                continue
            seen.add(line.text)
            x0, y0, x1, y1 = line.box
            box = [
                max(0, round(x0 * scale_x)),
                max(0, round(y0 * scale_y)),
                min(full_width, round(x1 * scale_x)),
                min(full_height, round(y1 * scale_y)),
            ]
            detail: dict[str, Any] = {
                "text": line.text,
                "box": box,
                "score": round(line.score, 4),
                "time": at,
            }
            findings.append(Finding(EXPLICIT, "explicit", detail))
        return findings


def register(components: Components) -> None:
    components.inspectors.register("video-text", VideoTextInspector(shared_reader()))
