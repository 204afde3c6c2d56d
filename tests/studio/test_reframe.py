"""Reframing to portrait on a video where a drawn person walks from left to right: NudeNet
finds the face, the crop follows it smoothly, and ffmpeg writes the portrait video."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
from pathlib import Path

import pytest
from bench.scenes import person
from PIL import Image
from studio_media import make_video, probe, stream

from hallmark.errors import UserError
from hallmark.studio.reframe import (
    Subject,
    crop_filter,
    crop_path,
    crop_size,
    detect_subjects,
    reframe,
)

W, H, FPS, SECONDS = 640, 360, 25, 3.0
TOP = 60  # where the person's head is pasted


def figure_left(t: float, figure_width: int) -> int:
    """The person's left edge at ``t``: from 20 px to 20 px short of the right edge."""
    return int(20 + (W - figure_width - 40) * min(1.0, t / (SECONDS - 1 / FPS)))


def make_walker(path: Path) -> Path:
    """A 640x360 H.264 video of the person crossing the frame, with a tone."""
    figure = person()
    encode = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-",
         "-f", "lavfi", "-i", f"sine=frequency=330:duration={SECONDS}", "-shortest",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         str(path)],
        stdin=subprocess.PIPE,
    )  # fmt: skip
    assert encode.stdin is not None
    for index in range(int(SECONDS * FPS)):
        frame = Image.new("RGB", (W, H), (90, 120, 150))
        frame.paste(figure, (figure_left(index / FPS, figure.width), TOP), figure)
        encode.stdin.write(frame.tobytes())
    encode.stdin.close()
    assert encode.wait() == 0
    return path


@pytest.fixture(scope="module")
def walker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_walker(tmp_path_factory.mktemp("reframe") / "walker.mp4")


@pytest.fixture(scope="module")
def subjects(walker: Path) -> list[Subject]:
    return detect_subjects(walker, sample_fps=4.0)


@pytest.fixture(scope="module")
def reframed(walker: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("reframed") / "portrait.mp4"
    seen: list[float] = []
    return reframe(walker, out, width=360, height=640, progress=seen.append), seen


def evaluate(filter_text: str, t: float) -> float:
    """The crop filter's x at ``t``: its expression is also valid Python."""
    match = re.search(r"x='([^']*)'", filter_text)
    assert match is not None
    return float(eval(match.group(1), {"clip": lambda v, lo, hi: min(max(v, lo), hi), "t": t}))


def test_the_detected_faces_follow_the_person_across_the_frame(subjects) -> None:
    assert len(subjects) == 12  # 3 s at 4 a second
    found = [s for s in subjects if s.box is not None]
    assert len(found) >= 10
    figure_width = person().width
    centres = [s.box[0] + s.box[2] / 2 for s in found]  # type: ignore[index]
    assert centres == sorted(centres)
    for subject, centre in zip(found, centres, strict=True):
        truth = figure_left(subject.t, figure_width) + figure_width / 2
        assert abs(centre - truth) < 20, (subject.t, centre, truth)


def test_the_reframed_video_is_portrait_h264_high_with_aac(reframed) -> None:
    result, seen = reframed
    info = probe(result.path)
    video, audio = stream(info, "video"), stream(info, "audio")
    assert (video["width"], video["height"]) == (360, 640)
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "44100")
    assert float(info["format"]["duration"]) == pytest.approx(SECONDS, abs=0.1)
    data = result.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart
    assert result.sampled == 12 and result.found >= 10
    assert (result.crop_width, result.crop_height) == (202, 360)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_the_face_stays_inside_the_cropped_frame(subjects, reframed) -> None:
    result, _ = reframed
    path = dict(result.points)
    for subject in subjects:
        if subject.box is not None:
            x, _, w, _ = subject.box
            assert path[subject.t] <= x and x + w <= path[subject.t] + result.crop_width
    # And the face is there to be found again in the portrait frames.
    again = detect_subjects(result.path, sample_fps=4.0)
    assert sum(s.box is not None for s in again) >= 10


def test_the_crop_filter_moves_along_the_path(reframed) -> None:
    result, _ = reframed
    text = crop_filter(result.points, W, H, result.crop_width, result.crop_height)
    assert text.startswith("crop=w=202:h=360:x='") and text.endswith(":y=0")
    for t, x in result.points:
        assert evaluate(text, t) == pytest.approx(x, abs=1.0)
    assert evaluate(text, -1.0) == result.points[0][1]
    assert evaluate(text, 99.0) == pytest.approx(result.points[-1][1], abs=1.0)


def test_the_path_never_moves_faster_than_max_speed() -> None:
    # The face jumps from the far left to the far right: the window pans, it does not cut.
    subjects = [Subject(i / 4, (20 if i < 8 else 560, 100, 60, 60)) for i in range(24)]
    for smoothing in (0.0, 1.0):
        path = crop_path(subjects, W, H, smoothing=smoothing, max_speed=0.5)
        steps = [abs(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(path)]
        assert max(steps) <= 0.5 * W + 4  # 1 px of rounding per quarter second
        assert path[0][1] == 0 and path[-1][1] == W - crop_size(W, H, 9 / 16)[0]


def test_smoothing_damps_a_jittery_detection() -> None:
    subjects = [Subject(i / 4, (300 + (15 if i % 2 else -15), 100, 40, 40)) for i in range(20)]
    raw = [x for _, x in crop_path(subjects, W, H, smoothing=0.0, max_speed=5.0)]
    smooth = [x for _, x in crop_path(subjects, W, H, smoothing=1.0, max_speed=5.0)]
    assert max(raw) - min(raw) == 30
    assert max(smooth[2:-2]) - min(smooth[2:-2]) <= 8


def test_gaps_hold_the_last_position_and_the_start_waits_on_the_first_face() -> None:
    boxes = [None, None, (400, 100, 40, 40), None, None, (100, 100, 40, 40)]
    subjects = [Subject(i / 4, box) for i, box in enumerate(boxes)]
    path = crop_path(subjects, W, H, smoothing=0.0, max_speed=10.0)
    crop_w = crop_size(W, H, 9 / 16)[0]
    at_first = 420 - crop_w // 2
    assert [x for _, x in path[:5]] == [at_first] * 5
    assert path[5][1] == 120 - crop_w // 2 or path[5][1] == 0


def test_no_subject_at_all_gives_a_centred_window() -> None:
    crop_w = crop_size(W, H, 9 / 16)[0]
    centred = (W - crop_w) // 2
    assert crop_path([], W, H) == [(0.0, centred)]
    empty = [Subject(i / 4, None) for i in range(8)]
    assert {x for _, x in crop_path(empty, W, H)} == {centred}


def test_a_source_narrower_than_the_target_is_cropped_in_height(tmp_path: Path) -> None:
    assert crop_size(180, 400, 9 / 16) == (180, 320)
    assert crop_filter([(0.0, 0)], 180, 400, 180, 320) == "crop=w=180:h=320:x='0':y=40"
    tall = make_video(tmp_path / "tall.mp4", seconds=1.0, size="180x400")
    result = reframe(tall, tmp_path / "out.mp4", width=360, height=640, detector="center")
    assert (result.crop_width, result.crop_height) == (180, 320)
    video = stream(probe(result.path), "video")
    assert (video["width"], video["height"]) == (360, 640)


def test_a_video_without_a_face_gets_a_centred_crop(tmp_path: Path) -> None:
    plain = make_video(tmp_path / "plain.mp4", seconds=2.0, size="320x240")
    result = reframe(plain, tmp_path / "out.mp4", width=180, height=320)
    assert result.found == 0 and result.sampled == 8
    crop_w = crop_size(320, 240, 180 / 320)[0]
    assert {x for _, x in result.points} == {(320 - crop_w) // 2}
    assert stream(probe(result.path), "audio")["codec_name"] == "aac"


def test_the_default_output_is_1080x1920(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4", seconds=0.4, size="320x180")
    result = reframe(clip, tmp_path / "full.mp4", detector="center", x264_preset="ultrafast")
    video = stream(probe(result.path), "video")
    assert (video["width"], video["height"]) == (1080, 1920)


def test_a_long_path_stays_a_short_filter_that_ffmpeg_accepts(tmp_path: Path) -> None:
    # A minute at 4 samples a second: a slow sway with a jump in the middle.
    subjects = [
        Subject(i / 4, (int(300 + 200 * math.sin(i / 15)) + (150 if 120 <= i < 130 else 0), 100,
                        40, 40))
        for i in range(240)
    ]  # fmt: skip
    path = crop_path(subjects, W, H)
    crop_w, crop_h = crop_size(W, H, 9 / 16)
    text = crop_filter(path, W, H, crop_w, crop_h)
    assert len(text) < 6000
    for t, x in path:
        assert evaluate(text, t) == pytest.approx(x, abs=1.01)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         f"testsrc2=size={W}x{H}:rate=2:duration=60", "-vf", text, "-f", "null", "-"],
        check=True,
    )  # fmt: skip


def test_a_corrupt_file_is_refused_and_leaves_no_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(300))
    out = tmp_path / "out" / "portrait.mp4"
    out.parent.mkdir()
    with pytest.raises(UserError, match=r"broken\.mp4"):
        reframe(broken, out, width=360, height=640)
    assert list(out.parent.iterdir()) == []


class Cancelled(Exception):
    pass


def test_a_reframe_cancelled_while_encoding_leaves_no_output(walker: Path, tmp_path: Path) -> None:
    def cancel(fraction: float) -> None:
        if fraction > 0.25:  # past detection, into the encode
            raise Cancelled

    out = tmp_path / "out" / "portrait.mp4"
    out.parent.mkdir()
    with pytest.raises(Cancelled):
        reframe(walker, out, width=180, height=320, progress=cancel)
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"detector": "body"}, "unknown detector"),
        ({"width": 361}, "width"),
        ({"x264_preset": "turbo"}, "preset"),
        ({"crf": 60}, "crf"),
    ],
)
def test_bad_options_are_refused(walker: Path, tmp_path: Path, options, message) -> None:
    with pytest.raises(UserError, match=message):
        reframe(walker, tmp_path / "out.mp4", **options)


def test_an_audio_file_has_no_video_to_reframe(tmp_path: Path) -> None:
    from studio_media import make_tone

    tone = make_tone(tmp_path / "tone.wav", seconds=0.5)
    with pytest.raises(UserError, match="no video"):
        reframe(tone, tmp_path / "out.mp4")
