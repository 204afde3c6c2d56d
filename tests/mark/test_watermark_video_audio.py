"""The video watermark's audio side: the payload is also written into a clip's first audio
stream (re-encoded AAC at the source's bitrate, placed where it was) and read back from it,
after a re-encode of the whole file and when the picture was replaced by another; a clip without
audio is still marked and read from its frames; nothing is found in unmarked sound."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_watermark_support import label_context
from test_watermark_video import ffmpeg

from hallmark.content import Content
from hallmark.mark.base import inspect_all
from hallmark.mark.report import inspect_bytes
from hallmark.mark.watermark import (
    KeyStore,
    Payload,
    VideoAudioWatermarkInspector,
    VideoWatermarkInspector,
    VideoWatermarkMarker,
    WatermarkKey,
    detect_video,
    detect_video_audio,
    embed_video,
    register,
)
from hallmark.mark.watermark.audio_marker import STRONG_SYNC
from hallmark.registry import Components
from hallmark.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

PROGRAMME = (
    "sine=frequency=440:sample_rate={rate}[tone];"
    "anoisesrc=color=pink:amplitude=0.1:sample_rate={rate}[noise];"
    "[tone][noise]amix=inputs=2"
)


def make_clip(path: Path, seconds: float = 5.0, rate: int = 44100, *audio: str) -> Path:
    """A 320x240 testsrc2 clip with a tone-and-noise soundtrack in AAC; ``audio`` adds
    options (``-an`` leaves the sound out)."""
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10"),
        *("-f", "lavfi", "-i", PROGRAMME.format(rate=rate)),
        *("-map", "0:v", "-map", "1:a", "-t", str(seconds), "-c:v", "libx264"),
        *("-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", *audio, str(path)),
    )
    return path


def streams(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_type,codec_name,sample_rate,channels,bit_rate,start_time,duration",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    found: list[dict[str, Any]] = json.loads(out)["streams"]
    return found


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("home"), worker_threads=0)


@pytest.fixture(scope="module")
def keys(settings: Settings) -> KeyStore:
    return KeyStore(settings.keys_dir)


@pytest.fixture(scope="module")
def key(keys: KeyStore) -> WatermarkKey:
    return keys.for_writing()


@pytest.fixture(scope="module")
def payload(key: WatermarkKey) -> Payload:
    return Payload.for_content("01J-video-audio-test", key)


@pytest.fixture(scope="module")
def marked(
    tmp_path_factory: pytest.TempPathFactory, key: WatermarkKey, payload: Payload
) -> tuple[Path, Path, float | None]:
    folder = tmp_path_factory.mktemp("wm-video-audio")
    source = make_clip(folder / "clip.mp4", 5.0, 44100, "-b:a", "128k")
    result = embed_video(source.read_bytes(), "mp4", payload, key)
    assert result.tracks == ["video", "audio"] and result.audio_unmarked is None
    target = folder / "marked.mp4"
    target.write_bytes(result.data)
    return source, target, result.audio_snr


def test_the_first_audio_stream_carries_the_payload(
    marked: tuple[Path, Path, float | None], key: WatermarkKey, payload: Payload
) -> None:
    source, target, snr = marked
    assert type(snr) is float and 28.0 <= snr <= 34.0  # about 31 dB under the programme
    found = detect_video_audio(target.read_bytes(), key)
    assert found is not None and found.payload == payload and found.sync >= STRONG_SYNC
    assert found.algorithm == "hallmark-audio-ss-v1"
    frames = detect_video(target.read_bytes(), key)
    assert frames is not None and frames.payload == payload
    assert detect_video_audio(source.read_bytes(), key) is None
    before, after = streams(source), streams(target)
    assert [(s["codec_type"], s["codec_name"]) for s in after] == [
        ("video", "h264"),
        ("audio", "aac"),
    ]
    assert (after[1]["sample_rate"], after[1]["channels"]) == ("44100", 2)
    assert abs(int(after[1]["bit_rate"]) - int(before[1]["bit_rate"])) < 0.15 * 128_000
    assert abs(float(after[1]["duration"]) - float(before[1]["duration"])) < 0.05


def test_the_audio_mark_survives_a_re_encode_of_the_whole_file(
    marked: tuple[Path, Path, float | None], key: WatermarkKey, payload: Payload, tmp_path: Path
) -> None:
    again = tmp_path / "again.mp4"
    ffmpeg("-i", str(marked[1]), "-c:v", "libx264", "-crf", "28", "-c:a", "aac", "-b:a", "128k",
           str(again))  # fmt: skip
    found = detect_video_audio(again.read_bytes(), key)
    assert found is not None and found.payload == payload and found.sync >= STRONG_SYNC
    assert found.bit_accuracy_estimate >= 0.95


def test_the_sound_alone_finds_a_clip_whose_picture_was_replaced(
    marked: tuple[Path, Path, float | None],
    settings: Settings,
    keys: KeyStore,
    key: WatermarkKey,
    payload: Payload,
    tmp_path: Path,
) -> None:
    replaced = tmp_path / "replaced.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-i", str(marked[1])),
        *("-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p"),
        *("-c:a", "copy", str(replaced)),
    )
    content = Content("video", "video/mp4", replaced.read_bytes())
    assert detect_video(content.data, key) is None
    inspectors = [VideoWatermarkInspector(keys), VideoAudioWatermarkInspector(keys)]
    (finding,) = inspect_all(inspectors, content)
    assert (finding.scheme, finding.kind) == ("watermark", "trace")
    assert finding.detail["track"] == "audio" and finding.detail["payload"] == payload.hex

    components = Components(settings)
    register(components)  # the watermark plugin alone: its cheap audio reader runs when quick
    report = inspect_bytes(components, content.data, filename="replaced.mp4", quick=True)
    assert report["watermark"]["watermark_id"] == payload.id_hex
    assert report["watermark"]["track"] == "audio" and report["verdict"] == "suspected"

    # A platform passing the clip on keeps the mark its sound carries.
    kept = VideoWatermarkMarker(keys).mark(content, label_context(role="propagator"))
    assert kept.data == content.data
    assert kept.metadata["watermark"]["payload"] == payload.hex
    assert kept.metadata["watermark"]["existing"] is True


def test_each_track_gives_its_finding(
    marked: tuple[Path, Path, float | None], keys: KeyStore, payload: Payload
) -> None:
    content = Content("video", "video/mp4", marked[1].read_bytes())
    inspectors = [VideoWatermarkInspector(keys), VideoAudioWatermarkInspector(keys)]
    findings = inspect_all(inspectors, content)
    assert [f.detail["track"] for f in findings] == ["video", "audio"]
    assert {f.detail["payload"] for f in findings} == {payload.hex}
    assert inspect_all(inspectors, content, quick=True) == findings[1:]


def test_a_clip_without_audio_is_marked_and_read(keys: KeyStore, tmp_path: Path) -> None:
    source = make_clip(tmp_path / "silent.mp4", 4.0, 44100, "-an")
    content = Content("video", "video/mp4", source.read_bytes())
    out = VideoWatermarkMarker(keys).mark(content, label_context())
    record = out.metadata["watermark"]
    assert record["tracks"] == ["video"] and "no audio" in record["audio_unmarked"]
    assert "audio_snr" not in record
    target = tmp_path / "marked.mp4"
    target.write_bytes(out.data)
    assert [s["codec_type"] for s in streams(target)] == ["video"]
    (finding,) = VideoWatermarkInspector(keys).inspect(out)
    assert finding.detail["track"] == "video" and finding.detail["payload"] == record["payload"]
    assert VideoAudioWatermarkInspector(keys).inspect(out) == []


def test_a_mov_whose_sound_starts_late_keeps_its_place(
    keys: KeyStore, key: WatermarkKey, tmp_path: Path
) -> None:
    plain = make_clip(tmp_path / "plain.mov", 4.0, 48000, "-ac", "1", "-b:a", "96k")
    late = tmp_path / "late.mov"
    ffmpeg("-i", str(plain), "-itsoffset", "0.5", "-i", str(plain), "-map", "0:v", "-map", "1:a",
           "-c", "copy", str(late))  # fmt: skip
    content = Content("video", "video/quicktime", late.read_bytes())
    out = VideoWatermarkMarker(keys).mark(content, label_context())
    assert out.metadata["watermark"]["tracks"] == ["video", "audio"]
    assert out.data[4:8] == b"ftyp" and b"qt  " in out.data[:32]
    target = tmp_path / "marked.mov"
    target.write_bytes(out.data)
    before, after = streams(late)[1], streams(target)[1]
    assert (after["codec_name"], after["sample_rate"], after["channels"]) == ("aac", "48000", 1)
    assert float(before["start_time"]) > 0.4
    assert abs(float(after["start_time"]) - float(before["start_time"])) < 0.05
    found = detect_video_audio(out.data, key)
    assert found is not None and found.payload.hex == out.metadata["watermark"]["payload"]


def test_nothing_found_in_unmarked_sound_or_with_another_key(
    marked: tuple[Path, Path, float | None], key: WatermarkKey, tmp_path: Path
) -> None:
    noise = tmp_path / "noise.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10"),
        *("-f", "lavfi", "-i", "anoisesrc=color=white:amplitude=0.3:sample_rate=48000"),
        *("-t", "6", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(noise)),
    )
    assert detect_video_audio(noise.read_bytes(), key) is None
    assert detect_video_audio(marked[0].read_bytes(), key) is None
    other = WatermarkKey(b"another key, 32 bytes long......")
    assert detect_video_audio(marked[1].read_bytes(), other) is None
    assert detect_video_audio(b"not a video", key) is None
