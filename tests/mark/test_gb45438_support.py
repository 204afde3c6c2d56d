"""Sample media and readers for the GB 45438 tests, and proof the samples are what they claim.

Images come from Pillow (64x48, one odd pixel so a change shows), audio and video from ffmpeg's
test sources (1 s, tiny), PDF from Pillow; exiftool and ffmpeg/ffprobe are the independent
readers. Other test modules import these helpers.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hallmark.mark.base import LabelContext, Provenance
from hallmark.mark.gb45438 import AIGCFields, KeyStore, format_for, produce
from hallmark.policy import resolve_policy

PRODUCER = "001191110102MACQD9K64010000"
FOREIGN = "001191310000MA1FL8XQ3000001"
PROVENANCE = Provenance("content-1", "hallmark/echo-1", PRODUCER, "2025-09-01T00:00:00Z")
FOREIGN_LABEL = json.dumps(
    {"Label": "1", "ContentProducer": FOREIGN, "ProduceID": "their-7", "ReservedCode1": "9f" * 32}
)
"""A label another service wrote: its own producer code, and a ReservedCode1 we cannot check."""
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
VIDEO_SOURCE = (
    *("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10"),
    *("-f", "lavfi", "-i", "sine=frequency=440:duration=1"),
    *("-t", "1", "-pix_fmt", "yuv420p"),
)
AUDIO_SOURCE = ("-f", "lavfi", "-i", "sine=frequency=440:duration=1")


def image(fmt: str, *, mode: str = "RGB", **save: Any) -> bytes:
    """A small Pillow image in ``fmt`` (png, jpeg, webp)."""
    color = (30, 140, 220, 200)[: len(mode)]
    picture = Image.new(mode, (64, 48), color)
    picture.putpixel((5, 7), (250, 10, 10, 255)[: len(mode)])
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt.upper(), **save)
    return buffer.getvalue()


@functools.cache
def ffmpeg_sample(suffix: str, *args: str, video: bool = False) -> bytes:
    """A 1 s sample made by ffmpeg from its test sources, written as ``suffix`` with ``args``
    (output options) after the inputs."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is needed for the audio/video samples: apt-get install ffmpeg")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"sample{suffix}"
        source = VIDEO_SOURCE if video else AUDIO_SOURCE
        command = ["ffmpeg", "-hide_banner", "-loglevel", "error", *source, *args, str(target)]
        subprocess.run(command, check=True, timeout=60)
        return target.read_bytes()


def pdf_document() -> bytes:
    """A one-page PDF (Pillow): an image XObject and a content stream, with an info dict."""
    return image("pdf")


def cn_context(content_id: str = "ours-9") -> LabelContext:
    """What a producer's marker is given under China's policy: the Chinese wording, and
    hallmark's provenance for ``content_id``."""
    provenance = Provenance(content_id, "hallmark", PRODUCER, "2025-09-01T00:00:00Z")
    cn = resolve_policy(["cn"])
    return LabelContext(cn, "zh", cn.label_text("zh"), provenance)


def ffprobe_tags(path: Path) -> dict[str, str]:
    """The container's format tags as ffprobe reports them."""
    args = ["ffprobe", "-v", "quiet", "-print_format", "json", "-show_format", str(path)]
    out = subprocess.run(args, capture_output=True, check=True, text=True).stdout
    tags: dict[str, str] = json.loads(out)["format"].get("tags", {})
    return tags


def packets(path: Path) -> list[str]:
    """Every audio/video packet's stream, timing, size and MD5, demuxed without decoding."""
    args = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0", "-c", "copy", "-f", "framemd5"]
    out = subprocess.run([*args, "-"], capture_output=True, check=True, text=True).stdout
    return [line for line in out.splitlines() if not line.startswith("#")]


def decode_errors(path: Path) -> str:
    """What ffmpeg says when decoding the whole file ("" for a clean decode)."""
    args = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return f"exit {done.returncode}: {done.stderr}" if done.returncode else done.stderr


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return picture.mode, picture.size, picture.tobytes()


def label(data: bytes, media_type: str, keys: KeyStore) -> tuple[bytes, AIGCFields]:
    """``data`` with a producer's label written, and that label."""
    found = format_for(media_type, data)
    assert found is not None
    fields = produce(PROVENANCE, found.content_digest(data), keys.for_writing())
    return found.write(data, fields), fields


def exiftool_json(path: Path) -> dict[str, Any]:
    assert EXIFTOOL is not None
    out = subprocess.run(
        [EXIFTOOL, "-j", "-XMP:all", "-PNG:all", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out)[0]
    return result


def exiftool_xmp(path: Path) -> str:
    assert EXIFTOOL is not None
    out = subprocess.run([EXIFTOOL, "-b", "-XMP", str(path)], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def exiftool_warnings(path: Path) -> str:
    assert EXIFTOOL is not None
    args = [EXIFTOOL, "-validate", "-warning", "-error", "-a", "-s", str(path)]
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_samples_are_real_images(fmt: str) -> None:
    mode, size, _ = pixels(image(fmt))
    assert (mode, size) == ("RGB", (64, 48))


@pytest.mark.parametrize(
    ("suffix", "video", "streams"),
    [(".mp4", True, {"h264", "aac"}), (".mov", True, {"h264", "aac"}), (".mp3", False, {"mp3"})],
)
def test_ffmpeg_samples_are_real_media(
    suffix: str, video: bool, streams: set[str], tmp_path: Path
) -> None:
    path = tmp_path / f"sample{suffix}"
    path.write_bytes(ffmpeg_sample(suffix, video=video))
    args = ["ffprobe", "-v", "quiet", "-print_format", "json", "-show_streams", str(path)]
    found = json.loads(subprocess.run(args, capture_output=True, check=True).stdout)["streams"]
    assert {s["codec_name"] for s in found} == streams
    assert packets(path) and decode_errors(path) == ""


def test_the_pdf_sample_is_a_one_page_pdf() -> None:
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pdf_document())).pages) == 1
