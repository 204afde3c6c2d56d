"""Reading video labels: OCR of a few frames finds the explicit label; the inspect report of a
clip with every label (visible, watermark, GB 45438, C2PA) is 'confirmed' with every section
filled; files ffmpeg cannot read give no finding."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_c2pa_support import label_context

from hallmark.content import Content
from hallmark.mark.inspect_image_text import shared_reader
from hallmark.mark.inspect_video_text import VideoTextInspector, frame_times
from hallmark.mark.report import inspect_bytes
from hallmark.registry import load_components
from hallmark.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("inspect-video") / "clip.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi"),
            *("-i", "testsrc2=size=640x360:rate=10", "-t", "3", "-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
    )
    return path.read_bytes()


def test_frame_times() -> None:
    assert frame_times(10.0) == [0.5, 5.0, 9.0]
    assert frame_times(1.0) == [0.5, 0.0]
    assert frame_times(0.4) == [0.35, 0.2, 0.0]


def test_ocr_finds_the_explicit_label_with_its_time(tmp_path: Path, clip: bytes) -> None:
    components = load_components(Settings(home=tmp_path / "home", worker_threads=0))
    content = Content("video", "video/mp4", clip)
    labelled = components.markers.get("explicit.video").mark(content, label_context())
    inspector = VideoTextInspector(shared_reader())
    findings = inspector.inspect(labelled)
    assert findings and all(f.scheme == "explicit" and f.kind == "explicit" for f in findings)
    assert {f.detail["time"] for f in findings} <= {0.5, 1.5, 2.0}
    assert any(f.detail["time"] == 0.5 for f in findings)  # the opening notice
    assert inspector.inspect(content) == []
    assert inspector.inspect(Content("video", "video/mp4", b"not a video")) == []


def test_report_of_a_fully_labelled_clip_is_confirmed(tmp_path: Path, clip: bytes) -> None:
    components = load_components(Settings(home=tmp_path / "home", worker_threads=0))
    context = label_context()
    content = Content("video", "video/mp4", clip)
    for name in ("explicit.video", "watermark.video", "gb45438", "c2pa"):
        content = components.markers.get(name).mark(content, context)
    report = inspect_bytes(components, content.data, filename="clip.mp4")
    assert report["verdict"] == "confirmed" and report["media_type"] == "video/mp4"
    assert report["explicit"] and report["gb45438"] and report["c2pa"] and report["sb942"]
    assert report["watermark"]["payload"] == content.metadata["watermark"]["payload"]
    quick = inspect_bytes(components, content.data, filename="clip.mp4", quick=True)
    assert quick["verdict"] == "confirmed" and quick["watermark"] is None and not quick["explicit"]
    plain = inspect_bytes(components, clip, filename="clip.mp4")
    assert plain["verdict"] == "none" and plain["watermark"] is None
