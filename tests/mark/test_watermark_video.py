"""The video watermark: the image watermark's payload in every frame of an MP4 or MOV, read
back exactly from a few frames after a CRF 28 re-encode and a half-size downscale; nothing
found on unmarked clips; audio too short for the audio mark copied, rotation kept; bad input is
a UserError. (The audio track's mark: test_watermark_video_audio.)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.watermark import (
    KeyStore,
    Payload,
    WatermarkKey,
    detect_video,
    embed_video,
    image,
)
from hallmark.mark.watermark.payload import encode
from hallmark.mark.watermark.video import (
    FrameMarker,
    VideoWatermarkInspector,
    VideoWatermarkMarker,
)

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

KEY = WatermarkKey(b"video watermark test key 32 byte")
PAYLOAD = Payload.for_content("01J-video-test", KEY)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def make_clip(path: Path, source: str = "testsrc2", *extra: str) -> bytes:
    ffmpeg(
        *("-f", "lavfi", "-i", f"{source}=size=640x360:rate=10"),
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"),
        *("-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", *extra),
        str(path),
    )
    return path.read_bytes()


def probe(path: Path, entries: str) -> str:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", entries, "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("wm-video")
    source = folder / "clip.mp4"
    make_clip(source)
    target = folder / "marked.mp4"
    result = embed_video(source.read_bytes(), "mp4", PAYLOAD, KEY)
    assert result.frames == 20
    target.write_bytes(result.data)
    return source, target


def test_round_trip_is_exact_and_audio_is_copied(marked: tuple[Path, Path]) -> None:
    source, target = marked
    found = detect_video(target.read_bytes(), KEY)
    assert found is not None and found.payload == PAYLOAD and found.confidence == 1.0
    assert probe(target, "stream=codec_type,codec_name,width,height").split() == [
        "h264,video,640,360",
        "aac,audio",
    ]
    audio = ["-map", "0:a", "-c", "copy", "-f", "adts", "-"]
    copied = [
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(p), *audio], capture_output=True).stdout
        for p in (source, target)
    ]
    assert copied[0] == copied[1]


@pytest.mark.parametrize("change", [[], ["-vf", "scale=iw/2:ih/2"]], ids=["crf28", "half"])
def test_survives_a_crf_28_re_encode_and_a_half_size_downscale(
    marked: tuple[Path, Path], tmp_path: Path, change: list[str]
) -> None:
    attacked = tmp_path / "attacked.mp4"
    ffmpeg("-i", str(marked[1]), *change, "-c:v", "libx264", "-crf", "28", str(attacked))
    found = detect_video(attacked.read_bytes(), KEY)
    assert found is not None and found.payload == PAYLOAD


def test_nothing_found_on_unmarked_clips(marked: tuple[Path, Path], tmp_path: Path) -> None:
    clips = [marked[0].read_bytes()]
    clips.append(make_clip(tmp_path / "mandelbrot.mp4", "mandelbrot"))
    clips.append(make_clip(tmp_path / "smpte.mp4", "smptehdbars"))
    for data in clips:
        assert detect_video(data, KEY) is None
    other = WatermarkKey(b"another key, 32 bytes long......")
    assert detect_video(marked[1].read_bytes(), other) is None


def test_a_rotated_mov_stays_a_rotated_mov(tmp_path: Path) -> None:
    plain, source = tmp_path / "plain.mov", tmp_path / "clip.mov"
    make_clip(plain, "testsrc2", "-t", "1")
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(source))
    result = embed_video(source.read_bytes(), "mov", PAYLOAD, KEY)
    target = tmp_path / "marked.mov"
    target.write_bytes(result.data)
    assert result.data[4:8] == b"ftyp" and b"qt  " in result.data[:32]
    assert "90" in probe(target, "stream_side_data=rotation")
    found = detect_video(result.data, KEY)
    assert found is not None and found.payload == PAYLOAD


def test_marker_and_inspector(marked: tuple[Path, Path], tmp_path: Path) -> None:
    from test_c2pa_support import label_context

    keys = KeyStore(tmp_path / "keys")
    assert VideoWatermarkInspector(keys).inspect(Content("video", "video/mp4", b"x")) == []
    content = Content("video", "video/mp4", marked[0].read_bytes())
    out = VideoWatermarkMarker(keys).mark(content, label_context())
    record = out.metadata["watermark"]
    assert record["frames"] == 20 and record["algorithm"] == "hallmark-tiles-video-v1"
    assert record["tracks"] == ["video"] and "at least 3 s" in record["audio_unmarked"]
    findings = VideoWatermarkInspector(keys).inspect(out)
    assert [f.scheme for f in findings] == ["watermark"] and findings[0].kind == "trace"
    assert findings[0].detail["payload"] == record["payload"]
    assert findings[0].detail["track"] == "video"
    assert VideoWatermarkInspector(keys).inspect(Content("video", "video/mp4", b"junk")) == []


def test_bad_input_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        embed_video(b"", "mp4", PAYLOAD, KEY)
    with pytest.raises(UserError):
        embed_video(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100, "mp4", PAYLOAD, KEY)
    small = tmp_path / "small.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x96:rate=5", "-t", "1", "-pix_fmt", "yuv420p",
           str(small))  # fmt: skip
    with pytest.raises(UserError, match="at least 128 px"):
        embed_video(small.read_bytes(), "mp4", PAYLOAD, KEY)
    with pytest.raises(UserError):
        VideoWatermarkMarker(KeyStore(tmp_path / "keys")).mark(
            Content("video", "video/webm", b"\x1aE\xdf\xa3"), _context()
        )


def _context():  # type: ignore[no-untyped-def]
    from test_c2pa_support import label_context

    return label_context()


@pytest.mark.parametrize(("width", "height"), [(640, 360), (642, 362), (1080, 1920)])
def test_a_frame_is_marked_as_the_image_watermark_marks_its_luma(width: int, height: int) -> None:
    """The frame marker's shortcuts (the pattern kept in mask blocks, the strength from their
    energies) change nothing: the pattern times the texture mask, scaled to the target PSNR."""
    rng = np.random.default_rng(width)
    luma = rng.integers(60, 200, (height, width), dtype=np.uint8)
    chroma = rng.integers(0, 256, width * height // 2, dtype=np.uint8).tobytes()
    marker = FrameMarker(width, height, PAYLOAD, KEY)

    out = marker.mark(luma.tobytes() + chroma)

    cells = image.layout(KEY.pattern_seed()).cells(encode(PAYLOAD.bits()))
    values = luma.astype(np.float32)
    delta = image.tiled(image.tile_pattern(cells), height, width) * image.texture_mask(values)
    scale = marker.rms / float(np.sqrt(np.mean(delta * delta, dtype=np.float64)))
    expected = np.clip(np.rint(values + delta * np.float32(scale)), 0, 255)
    got = np.frombuffer(out, np.uint8, count=width * height).reshape(height, width)
    assert out[width * height :] == chroma
    assert np.abs(got - expected).max() <= 1 and np.mean(got != expected) < 1e-4
