"""The explicit video label: a corner label on every frame and an opening notice for the first
2 s, text at least 5% of the shorter side, read back by OCR; audio packets byte-identical,
frames, duration, size and rotation kept; bad input is a UserError.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from test_c2pa_support import label_context

from hallmark.content import Content
from hallmark.errors import HallmarkError, UserError
from hallmark.mark import explicit_video
from hallmark.mark.base import (
    EXPLICIT,
    PENDING_EXPLICIT,
    WATERMARK,
    LabelContext,
    Marker,
    apply_labels,
    plan_labels,
)
from hallmark.mark.explicit_video import (
    ExplicitVideoLabel,
    VideoInfo,
    corner_label,
    label_overlays,
    opening_notice,
)
from hallmark.mark.inspect_image_text import ImageTextInspector, shared_reader
from hallmark.mark.watermark import video as watermark_video
from hallmark.mark.watermark.payload import KeyStore
from hallmark.mark.watermark.video import VideoWatermarkInspector, VideoWatermarkMarker
from hallmark.policy import resolve_policy
from hallmark.registry import load_components
from hallmark.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

WIDTH, HEIGHT = 320, 240
WORDING = label_context().wording


def ffmpeg(*args: str) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, capture_output=True
    ).stdout


def make_clip(folder: Path, name: str = "clip.mp4", *extra: str) -> Path:
    path = folder / name
    ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=10"),
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"),
        *("-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", *extra),
        str(path),
    )
    return path


def mark(data: bytes, media_type: str = "video/mp4") -> bytes:
    content = Content("video", media_type, data)
    return ExplicitVideoLabel().mark(content, label_context()).data


def frame(path: Path, seconds: float) -> Image.Image:
    png = ffmpeg("-ss", str(seconds), "-i", str(path), "-frames:v", "1", "-f", "image2pipe",
                 "-c:v", "png", "-")  # fmt: skip
    return Image.open(io.BytesIO(png)).convert("RGB")


def difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Mean absolute difference (0-255) of two frames inside ``box``."""
    diff = ImageChops.difference(a.crop(box), b.crop(box)).convert("L")
    return float(ImageStat.Stat(diff).mean[0])


def streams(path: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,codec_name,width,height,nb_read_frames,duration"
         ":stream_side_data=rotation", "-of", "json", str(path)],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    found: list[dict[str, object]] = json.loads(out)["streams"]
    return found


def audio_packets(path: Path) -> str:
    """A hash of every audio packet's bytes, in order."""
    raw = ffmpeg("-i", str(path), "-map", "0:a", "-c", "copy", "-f", "data", "-")
    return hashlib.sha256(raw).hexdigest()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("video")
    source = make_clip(folder)
    labelled = folder / "labelled.mp4"
    labelled.write_bytes(mark(source.read_bytes()))
    return source, labelled


def test_corner_label_on_every_frame_and_notice_only_at_the_start(
    clips: tuple[Path, Path],
) -> None:
    source, labelled = clips
    info = VideoInfo(WIDTH, HEIGHT, 3.0, 0)
    corner, _ = corner_label(WORDING, info)
    notice = opening_notice(WORDING, info)
    corner_box = (corner.x, corner.y, corner.x + corner.image.width, corner.y + corner.image.height)
    notice_box = (notice.x, notice.y, notice.x + notice.image.width, notice.y + notice.image.height)
    assert corner_box[2] == WIDTH - 5 and corner_box[3] == HEIGHT - 5  # bottom-right
    assert notice.image.height > corner.image.height  # the notice is the larger text
    at_start = (frame(source, 0.5), frame(labelled, 0.5))
    later = (frame(source, 2.5), frame(labelled, 2.5))
    assert difference(*at_start, corner_box) > 30
    assert difference(*later, corner_box) > 30
    assert difference(*at_start, notice_box) > 30
    assert difference(*later, notice_box) < 3  # gone after 2 s: only re-encoding noise
    assert difference(*later, (0, 0, WIDTH, notice_box[1])) < 3  # nothing else changed


def test_text_height_is_at_least_5_percent_of_the_shorter_side() -> None:
    for size in ((WIDTH, HEIGHT), (1280, 720), (720, 1280)):
        _, layout = corner_label(WORDING, VideoInfo(*size, 3.0, 0))
        assert layout.cap_height >= 0.05 * min(size)


def test_audio_packets_frames_duration_and_size_are_kept(clips: tuple[Path, Path]) -> None:
    source, labelled = clips
    assert audio_packets(labelled) == audio_packets(source)
    before, after = streams(source), streams(labelled)
    assert [s["codec_type"] for s in after] == ["video", "audio"]
    assert after[0]["codec_name"] == "h264"
    assert (after[0]["width"], after[0]["height"]) == (WIDTH, HEIGHT)
    frames_before, frames_after = (
        int(str(before[0]["nb_read_frames"])),
        int(str(after[0]["nb_read_frames"])),
    )
    assert abs(frames_after - frames_before) <= 1
    assert abs(float(str(after[0]["duration"])) - float(str(before[0]["duration"]))) <= 0.1


def test_ocr_reads_the_label(clips: tuple[Path, Path]) -> None:
    _, labelled = clips
    png = io.BytesIO()
    frame(labelled, 2.5).save(png, format="PNG")
    findings = ImageTextInspector(shared_reader()).inspect(
        Content("image", "image/png", png.getvalue())
    )
    assert findings, "OCR found no notice in the labelled frame"
    assert any(WORDING.lower() in str(f.detail["text"]).lower() for f in findings)


def test_a_rotated_video_keeps_its_rotation_and_the_label_is_upright(tmp_path: Path) -> None:
    plain = make_clip(tmp_path)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    labelled = tmp_path / "labelled.mp4"
    labelled.write_bytes(mark(rotated.read_bytes()))
    assert streams(labelled)[0]["side_data_list"] == streams(rotated)[0]["side_data_list"]
    before, after = frame(rotated, 2.5), frame(labelled, 2.5)  # as shown: 240x320
    assert after.size == (HEIGHT, WIDTH)
    corner, _ = corner_label(WORDING, VideoInfo(HEIGHT, WIDTH, 3.0, 0))
    shown_box = (corner.x, corner.y, corner.x + corner.image.width, corner.y + corner.image.height)
    assert difference(before, after, shown_box) > 30
    assert audio_packets(labelled) == audio_packets(rotated)


def test_a_mov_stays_a_mov(tmp_path: Path) -> None:
    source = make_clip(tmp_path, "clip.mov")
    labelled = mark(source.read_bytes(), "video/quicktime")
    assert labelled[4:12] == b"ftypqt  "


def test_bad_input_is_a_user_error(tmp_path: Path, clips: tuple[Path, Path]) -> None:
    source, _ = clips
    data = source.read_bytes()
    audio_only = tmp_path / "audio.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine", "-t", "1", "-c:a", "aac", str(audio_only))
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    bad = {
        "empty": (b"", "empty"),
        "truncated": (data[: len(data) // 2], "corrupt"),
        "garbage": (b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8, "corrupt"),
        "audio only": (audio_only.read_bytes(), "no video stream"),
        "wrongly named": (png.getvalue(), "not an MP4 or MOV"),
    }
    for sample, message in bad.values():
        with pytest.raises(UserError, match=message):
            mark(sample)
    with pytest.raises(UserError, match="no explicit label"):
        mark(data, "video/x-matroska")


def test_too_long_or_too_large_is_refused(
    clips: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = clips[0].read_bytes()
    monkeypatch.setattr(explicit_video, "MAX_SECONDS", 1.0)
    with pytest.raises(UserError, match="minutes"):
        mark(data)
    monkeypatch.setattr(explicit_video, "MAX_SECONDS", 600.0)
    monkeypatch.setattr(explicit_video, "MAX_LONG_SIDE", 200)
    with pytest.raises(UserError, match="4K"):
        mark(data)


def test_a_video_whose_maker_drew_this_label_is_left_as_it_is(
    clips: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(data: bytes, container: str, wording: str) -> bytes:
        raise AssertionError("re-encoded a video whose label was already drawn")

    monkeypatch.setattr(explicit_video, "label_video", refuse)
    drawn = Content("video", "video/mp4", clips[1].read_bytes(), {"explicit_label": WORDING})
    assert ExplicitVideoLabel().mark(drawn, label_context()) is drawn


def test_a_video_without_this_label_drawn_is_still_re_encoded(clips: tuple[Path, Path]) -> None:
    source = clips[0].read_bytes()
    for metadata in ({}, {"explicit_label": "another wording"}, {"explicit_label": None}):
        content = Content("video", "video/mp4", source, dict(metadata))
        labelled = ExplicitVideoLabel().mark(content, label_context())
        assert labelled.data != source
        assert labelled.metadata["explicit_label"] == WORDING


def test_a_drawn_label_does_not_let_bad_input_through(clips: tuple[Path, Path]) -> None:
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    bad = {
        "not an MP4 or MOV": Content("video", "video/mp4", png.getvalue()),
        "no explicit label": Content("video", "video/x-matroska", clips[1].read_bytes()),
        "empty": Content("video", "video/mp4", b""),
    }
    for message, content in bad.items():
        drawn = content.with_data(content.data, explicit_label=WORDING)
        with pytest.raises(UserError, match=message):
            ExplicitVideoLabel().mark(drawn, label_context())


def test_the_overlays_a_maker_draws_are_the_markers_own() -> None:
    info = VideoInfo(WIDTH, HEIGHT, 3.0, 0)
    corner, notice = label_overlays(WORDING, info)
    own_corner, _ = corner_label(WORDING, info)
    own_notice = opening_notice(WORDING, info)
    assert (corner.x, corner.y, corner.image.tobytes()) == (
        own_corner.x,
        own_corner.y,
        own_corner.image.tobytes(),
    )
    assert (notice.x, notice.y, notice.image.tobytes()) == (
        own_notice.x,
        own_notice.y,
        own_notice.image.tobytes(),
    )
    with pytest.raises(UserError, match="no wording"):
        label_overlays(" ", info)


def test_registered_as_the_explicit_marker_for_video(tmp_path: Path) -> None:
    components = load_components(Settings(home=tmp_path / "home", worker_threads=0))
    assert isinstance(components.markers.get("explicit.video"), ExplicitVideoLabel)
    # No video watermark yet: waive it to see the rest of the plan, the visible label first.
    plan = plan_labels(
        resolve_policy("cn"), "video", components.markers, waived=frozenset({"watermark"})
    )
    assert isinstance(plan[0], ExplicitVideoLabel)


# --- the label drawn in the watermark's pass ----------------------------------------------------


def test_with_a_watermark_to_come_the_label_is_left_to_its_pass(clips: tuple[Path, Path]) -> None:
    source = Content("video", "video/mp4", clips[0].read_bytes())
    left = ExplicitVideoLabel().mark(source, replace(label_context(), later=frozenset({WATERMARK})))
    assert left.data == source.data  # not encoded here
    assert left.metadata[PENDING_EXPLICIT] == WORDING


def test_the_watermarks_pass_draws_the_label_and_the_video_is_encoded_once(
    clips: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(data: bytes, container: str, wording: str) -> bytes:
        raise AssertionError("the label was drawn in an encode of its own")

    monkeypatch.setattr(explicit_video, "label_video", refuse)
    monkeypatch.setattr(watermark_video, "label_video", refuse)
    keys = KeyStore(tmp_path / "keys")
    plan = [ExplicitVideoLabel(), VideoWatermarkMarker(keys)]
    source = Content("video", "video/mp4", clips[0].read_bytes())
    out, schemes = apply_labels(source, plan, label_context())

    assert schemes == (EXPLICIT, WATERMARK)
    assert out.metadata["explicit_label"] == WORDING and PENDING_EXPLICIT not in out.metadata
    marked = tmp_path / "marked.mp4"
    marked.write_bytes(out.data)
    # the same pixels as the marker's own drawing, the watermark aside
    box = (0, 0, WIDTH, HEIGHT)
    assert difference(frame(marked, 0.5), frame(clips[1], 0.5), box) < 3
    assert difference(frame(marked, 2.5), frame(clips[1], 2.5), box) < 3
    png = io.BytesIO()
    frame(marked, 2.5).save(png, format="PNG")
    texts = ImageTextInspector(shared_reader()).inspect(
        Content("image", "image/png", png.getvalue())
    )
    assert any(WORDING.lower() in str(f.detail["text"]).lower() for f in texts)
    findings = VideoWatermarkInspector(keys).inspect(out)
    assert findings and findings[0].detail["payload"] == out.metadata["watermark"]["payload"]


def test_a_label_left_to_a_marker_that_does_not_draw_it_refuses_the_content(
    clips: tuple[Path, Path],
) -> None:
    class Forgetful(Marker):
        scheme = WATERMARK
        media = frozenset({"video"})

        def mark(self, content: Content, context: LabelContext) -> Content:
            return content

    source = Content("video", "video/mp4", clips[0].read_bytes())
    with pytest.raises(HallmarkError, match="did not draw it"):
        apply_labels(source, [ExplicitVideoLabel(), Forgetful()], label_context())


def test_a_rotated_video_labelled_in_the_watermarks_pass_shows_the_label_upright(
    tmp_path: Path,
) -> None:
    plain = make_clip(tmp_path)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    plan = [ExplicitVideoLabel(), VideoWatermarkMarker(KeyStore(tmp_path / "keys"))]
    out, _ = apply_labels(
        Content("video", "video/mp4", rotated.read_bytes()), plan, label_context()
    )
    labelled = tmp_path / "labelled.mp4"
    labelled.write_bytes(out.data)
    by_itself = tmp_path / "by-itself.mp4"
    by_itself.write_bytes(mark(rotated.read_bytes()))
    assert "90" in json.dumps(streams(labelled)[0].get("side_data_list"))
    shown, reference = frame(labelled, 2.5), frame(by_itself, 2.5)  # as shown: 240x320
    assert shown.size == (HEIGHT, WIDTH)
    corner, _ = corner_label(WORDING, VideoInfo(HEIGHT, WIDTH, 3.0, 0))
    shown_box = (corner.x, corner.y, corner.x + corner.image.width, corner.y + corner.image.height)
    assert difference(frame(rotated, 2.5), shown, shown_box) > 30  # the label is there
    assert difference(reference, shown, shown_box) < 6  # where the marker alone puts it
