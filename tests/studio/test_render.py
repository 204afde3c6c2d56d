"""Rendering projects with the real ffmpeg, checked by ffprobe, frame colours and sound levels.

Canvases are small (360x640 and smaller) and clips short, to keep the suite light; one test
renders the TikTok preset's 1080x1920 for a second.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from studio_media import ffmpeg, frame_at, make_image, make_tone, make_video, probe, stream

from hallmark.errors import UserError
from hallmark.mark.explicit_video import NOTICE_SECONDS, VideoInfo, label_overlays, label_video
from hallmark.studio.media import MediaError, MediaResolver
from hallmark.studio.presets import PRESETS, Preset, preset_for, preview_of
from hallmark.studio.render import (
    GRAPH_FILE,
    RenderResult,
    build_command,
    frame_rate,
    output_for,
    place,
    render_project,
)
from hallmark.studio.text_image import render_text, wrap
from hallmark.studio.timeline import (
    InvalidProject,
    Project,
    TextClip,
    TextStyle,
    parse_project,
)

RATE = 44100


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("render-media")
    make_video(root / "clip.mp4", seconds=2.0, size="320x240", rate=25)
    make_image(root / "still.png", size=(320, 240))
    make_tone(root / "music.wav", seconds=4.0, hz=220.0)
    make_tone(root / "voice.wav", seconds=1.0, hz=1000.0)
    (root / "random.mp4").write_bytes(bytes(range(256)) * 40)
    return root


def project(*tracks: dict[str, Any], width: int = 360, height: int = 640, **fields: Any) -> Project:
    return parse_project(
        {"width": width, "height": height, "fps": 25, "tracks": list(tracks), **fields}
    )


def visual(*clips: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"kind": "visual", "clips": list(clips), **fields}


def card(color: str, start: float, duration: float, **fields: Any) -> dict[str, Any]:
    return {"kind": "card", "color": color, "start": start, "duration": duration, **fields}


def render(
    media: Path, tmp_path: Path, the_project: Project, **options: Any
) -> tuple[Path, RenderResult]:
    out = tmp_path / "out.mp4"
    result = render_project(the_project, out, MediaResolver(media), **options)
    return out, result


def colour(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """The mean RGB of ``box`` (the middle quarter when None)."""
    if box is None:
        w, h = image.size
        box = (w // 4, h // 4, 3 * w // 4, 3 * h // 4)
    return np.asarray(image.crop(box), dtype=np.float64).reshape(-1, 3).mean(axis=0)


def close(actual: np.ndarray, expected: tuple[float, float, float], within: float = 20) -> bool:
    return bool(np.all(np.abs(actual - np.array(expected)) <= within))


def sound(path: Path) -> np.ndarray:
    """The file's sound as mono float samples at 44.1 kHz."""
    raw = ffmpeg("-i", str(path), "-map", "0:a", "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-")
    return np.frombuffer(raw, dtype="<f4")


def rms(samples: np.ndarray, start: float, end: float) -> float:
    part = samples[int(start * RATE) : int(end * RATE)]
    return float(np.sqrt(np.mean(np.square(part)))) if len(part) else 0.0


def level_at(samples: np.ndarray, hz: float, start: float, end: float) -> float:
    """The amplitude of the ``hz`` tone in ``start``..``end``."""
    part = samples[int(start * RATE) : int(end * RATE)]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    freqs = np.fft.rfftfreq(len(part), 1 / RATE)
    return float(spectrum[np.abs(freqs - hz) < 15].max())


# --- what comes out ----------------------------------------------------------------------------


def test_a_one_clip_project_renders_at_its_size_rate_and_length(
    media: Path, tmp_path: Path
) -> None:
    out, result = render(media, tmp_path, project(visual({"kind": "video", "source": "clip.mp4"})))
    info = probe(out)
    video, audio = stream(info, "video"), stream(info, "audio")
    assert (video["width"], video["height"]) == (360, 640)
    assert video["codec_name"] == "h264" and video["profile"] == "High"
    assert video["pix_fmt"] == "yuv420p" and video["avg_frame_rate"] == "25/1"
    assert int(video["nb_frames"]) == pytest.approx(50, abs=1)
    assert float(info["format"]["duration"]) == pytest.approx(2.0, abs=0.04 + 0.03)
    assert audio["codec_name"] == "aac" and int(audio["sample_rate"]) == 44100
    assert audio["channels"] == 2
    assert (result.width, result.height, result.fps) == (360, 640, 25.0)
    assert result.duration == pytest.approx(2.0, abs=0.05) and result.frames == pytest.approx(
        50, abs=1
    )
    assert not list(tmp_path.glob(".*part"))  # no temporary file left beside the output


def test_the_tiktok_preset_renders_1080x1920_with_its_front_loaded_index(
    media: Path, tmp_path: Path
) -> None:
    the_project = project(visual({"kind": "video", "source": "clip.mp4", "out": 1}))
    out, result = render(media, tmp_path, the_project, preset=preset_for("tiktok"))
    video = stream(probe(out), "video")
    assert (video["width"], video["height"]) == (1080, 1920) == (result.width, result.height)
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart


def test_a_preview_is_at_most_640_pixels_on_its_long_side(media: Path, tmp_path: Path) -> None:
    the_project = project(visual({"kind": "video", "source": "clip.mp4", "out": 1}))
    out, _ = render(media, tmp_path, the_project, preset=preset_for("landscape"), preview=True)
    video = stream(probe(out), "video")
    assert max(video["width"], video["height"]) == 640
    assert (video["width"], video["height"]) == (640, 360)


def test_the_presets_carry_the_platforms_settings() -> None:
    tiktok = preset_for("TikTok")
    assert (tiktok.width, tiktok.height, tiktok.max_fps) == (1080, 1920, 60)
    assert (tiktok.profile, tiktok.audio_rate, tiktok.pix_fmt) == ("high", 44100, "yuv420p")
    assert preset_for("douyin").width == 1080 and PRESETS["square"].height == 1080
    assert (PRESETS["landscape"].width, PRESETS["landscape"].height) == (1920, 1080)
    draft = preview_of(tiktok)
    assert (draft.width, draft.height, draft.max_fps, draft.crf) == (360, 640, 30, 32)


def test_an_unknown_preset_is_refused_with_the_known_names() -> None:
    with pytest.raises(UserError, match="known: douyin, landscape, shorts, square, tiktok"):
        preset_for("vine")


def test_the_frame_rate_is_capped_by_the_preset() -> None:
    fast = parse_project({"width": 360, "height": 640, "fps": 120})
    assert output_for(fast, 1.0, preset_for("tiktok")).rate == 60
    assert output_for(fast, 1.0, preset_for("tiktok"), preview=True).rate == 30


# --- pictures in place -------------------------------------------------------------------------


def test_clips_appear_at_their_times(media: Path, tmp_path: Path) -> None:
    the_project = project(visual(card("#ff0000", 0, 1), card("#0000ff", 1, 1)))
    out, _ = render(media, tmp_path, the_project)
    assert close(colour(frame_at(out, 0.5)), (255, 0, 0))
    assert close(colour(frame_at(out, 1.5)), (0, 0, 255))


def test_a_translucent_clip_blends_with_what_is_below(media: Path, tmp_path: Path) -> None:
    the_project = project(visual(card("#000000", 0, 1)), visual(card("#ffffff", 0, 1, opacity=0.5)))
    out, _ = render(media, tmp_path, the_project)
    assert close(colour(frame_at(out, 0.5)), (128, 128, 128), within=12)


def test_the_middle_of_a_fade_is_a_blend(media: Path, tmp_path: Path) -> None:
    the_project = project(visual(card("#ffffff", 0, 2, fade_in=1)), background="#000000")
    out, _ = render(media, tmp_path, the_project)
    early, middle, late = (colour(frame_at(out, t))[0] for t in (0.04, 0.5, 1.5))
    assert early < 40 and 90 < middle < 170 and late > 240


def test_a_crossfade_blends_the_earlier_clip_into_the_later(media: Path, tmp_path: Path) -> None:
    the_project = project(
        visual(card("#ff0000", 0, 1.5), card("#0000ff", 1.0, 1.0, transition=0.5))
    )
    out, _ = render(media, tmp_path, the_project)
    red, blue = colour(frame_at(out, 0.8)), colour(frame_at(out, 1.25))
    assert close(red, (255, 0, 0))
    assert 60 < blue[0] < 200 and 60 < blue[2] < 200  # half red, half blue
    assert close(colour(frame_at(out, 1.7)), (0, 0, 255))


def test_contain_shows_the_background_and_cover_fills_the_frame(
    media: Path, tmp_path: Path
) -> None:
    def top_band(fit: str) -> np.ndarray:
        the_project = project(
            visual({"kind": "video", "source": "clip.mp4", "out": 1, "fit": fit}),
            background="#00ff00",
        )
        out, _ = render(media, tmp_path, the_project)
        return colour(frame_at(out, 0.5), (0, 0, 360, 100))

    assert close(top_band("contain"), (0, 255, 0), within=12)
    assert not close(top_band("cover"), (0, 255, 0), within=60)


def test_a_canvas_of_another_shape_is_letterboxed_into_the_preset(
    media: Path, tmp_path: Path
) -> None:
    square = Preset("test-square", 320, 320, max_fps=30)
    the_project = project(visual(card("#ff0000", 0, 1)), background="#0000ff")
    out, result = render(media, tmp_path, the_project, preset=square)
    frame = frame_at(out, 0.5)
    assert frame.size == (320, 320) == (result.width, result.height)
    assert close(colour(frame, (0, 0, 60, 320)), (0, 0, 255))  # the bars: background
    assert close(colour(frame, (130, 20, 190, 300)), (255, 0, 0))  # the canvas, whole


def test_a_still_is_shown_for_its_duration(media: Path, tmp_path: Path) -> None:
    the_project = project(
        visual({"kind": "image", "source": "still.png", "duration": 1, "fit": "contain"}),
        width=320,
        height=240,
    )
    out, _ = render(media, tmp_path, the_project)
    frame = frame_at(out, 0.5)
    assert close(colour(frame, (0, 0, 30, 30)), (0x33, 0x66, 0xCC))  # the still's blue
    assert close(colour(frame, (150, 110, 170, 130)), (0xFF, 0xCC, 0x00))  # its yellow disc


def test_a_ken_burns_zoom_moves_smoothly(media: Path, tmp_path: Path) -> None:
    the_project = project(
        visual(
            {
                "kind": "image",
                "source": "still.png",
                "duration": 2,
                "zoom_from": 1.0,
                "zoom_to": 1.5,
            }
        ),
        width=160,
        height=120,
    )
    out, _ = render(media, tmp_path, the_project)
    raw = ffmpeg("-i", str(out), "-f", "rawvideo", "-pix_fmt", "gray", "-")
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 120, 160).astype(np.float64)
    assert len(frames) == pytest.approx(50, abs=1)
    assert np.abs(frames[-1] - frames[0]).mean() > 5  # the view changed
    steps = np.array([np.abs(b - a).mean() for a, b in itertools.pairwise(frames)])
    moving = steps[2:-2]
    assert moving.min() > 0  # every frame moves on ...
    assert moving.max() < 4 * np.median(moving) + 0.5  # ... by a similar step: no jumps


def test_a_clip_off_the_canvas_is_left_out() -> None:
    assert place((320, 240), "contain", 1.0, 2.0, 0.5, (360, 640)) is None
    placed = place((320, 240), "cover", 1.0, 0.5, 0.5, (360, 640))
    assert placed is not None and placed.size == (360, 640) and placed.at == (0, 0)
    # only the visible middle of the source is scaled: 240 rows, 135 of the 320 columns
    assert placed.region == pytest.approx((92.5, 0.0, 135.0, 240.0))


# --- text ----------------------------------------------------------------------------------------


def test_a_caption_appears_on_the_frame(media: Path, tmp_path: Path) -> None:
    text = {"kind": "text", "clips": [{"kind": "text", "text": "Hello there", "duration": 1}]}
    with_text, _ = render(media, tmp_path, project(visual(card("#203040", 0, 1)), text))
    frame = np.asarray(frame_at(with_text, 0.5), dtype=np.float64)
    band, elsewhere = frame[480:580], frame[100:200]  # the caption sits at 82% of the height
    assert np.abs(band - band.mean(axis=(0, 1))).max() > 150  # white text, dark outline
    assert np.abs(elsewhere - elsewhere.mean(axis=(0, 1))).max() < 12


def test_chinese_text_is_drawn_with_real_glyphs() -> None:
    clip = TextClip(text="你好世界", duration=1, style=TextStyle(size=0.1, stroke=0))
    picture, _ = render_text(clip, 360, 640)
    alpha = np.asarray(picture.getchannel("A")) > 128
    columns = np.flatnonzero(alpha.any(axis=0))
    left, right = columns[0], columns[-1] + 1
    cells = np.array_split(alpha[:, left:right], 4, axis=1)
    width = min(cell.shape[1] for cell in cells)
    glyphs = [cell[:, :width] for cell in cells]
    # four different characters: missing-glyph boxes would all look the same
    for a in range(4):
        for b in range(a + 1, 4):
            assert (glyphs[a] != glyphs[b]).mean() > 0.05
    assert all(0.05 < glyph.mean() < 0.6 for glyph in glyphs)  # strokes, not filled boxes


def test_a_caption_line_never_exceeds_the_width() -> None:
    clip = TextClip(
        text="A rather long caption that has to wrap over several lines on a phone",
        duration=1,
        style=TextStyle(size=0.05, max_width=0.8, stroke=0),
    )
    picture, (left, _) = render_text(clip, 360, 640)
    alpha = np.asarray(picture.getchannel("A")) > 0
    columns = np.flatnonzero(alpha.any(axis=0))
    assert columns[-1] - columns[0] <= 0.8 * 360
    assert picture.height > 3 * 0.05 * 640  # several lines
    assert left + picture.width / 2 == pytest.approx(180, abs=1)  # centred


def test_chinese_wraps_between_characters_but_not_before_punctuation() -> None:
    from hallmark.mark.explicit_image import label_font

    font = label_font(20)
    lines = wrap("今天我们一起来学习怎么剪辑视频，然后发布到抖音。", font, 200)
    assert len(lines) > 1 and all(font.getlength(line) <= 200 + 20 for line in lines)
    assert "".join(lines) == "今天我们一起来学习怎么剪辑视频，然后发布到抖音。"
    assert not any(line.startswith(("，", "。")) for line in lines)
    assert wrap("one\ntwo", font, 500) == ["one", "two"]
    assert wrap("hello wonderful world", font, 120) == ["hello", "wonderful", "world"]


# --- sound ---------------------------------------------------------------------------------------


def test_a_sound_starts_at_its_start(media: Path, tmp_path: Path) -> None:
    the_project = project(
        visual(card("#000000", 0, 2.5)),
        {
            "kind": "audio",
            "clips": [{"kind": "audio", "source": "music.wav", "start": 1, "out": 1.5}],
        },
    )
    out, _ = render(media, tmp_path, the_project)
    samples = sound(out)
    assert rms(samples, 0.0, 0.9) < 0.005
    assert rms(samples, 1.1, 2.4) > 0.15  # a 0.3 sine: 0.21 RMS


def test_music_is_ducked_while_a_voice_plays(media: Path, tmp_path: Path) -> None:
    the_project = project(
        visual(card("#000000", 0, 4)),
        {"kind": "audio", "role": "music", "clips": [
            {"kind": "audio", "source": "music.wav", "duck": 0.25, "duck_fade": 0.2}]},
        {"kind": "audio", "role": "voice", "clips": [
            {"kind": "audio", "source": "voice.wav", "start": 1.5}]},
    )  # fmt: skip
    out, _ = render(media, tmp_path, the_project)
    samples = sound(out)
    before = level_at(samples, 220, 0.3, 1.1)
    during = level_at(samples, 220, 1.6, 2.4)
    after = level_at(samples, 220, 2.9, 3.7)
    assert during / before == pytest.approx(0.25, abs=0.05)
    assert after / before == pytest.approx(1.0, abs=0.05)
    assert level_at(samples, 1000, 1.6, 2.4) > 10 * level_at(samples, 1000, 0.3, 1.1)


def test_a_project_without_sound_has_a_silent_track(media: Path, tmp_path: Path) -> None:
    out, _ = render(media, tmp_path, project(visual(card("#ff0000", 0, 1))))
    audio = stream(probe(out), "audio")
    assert audio["codec_name"] == "aac" and audio["channels"] == 2
    samples = sound(out)
    assert len(samples) == pytest.approx(RATE, rel=0.05) and rms(samples, 0, 1) < 1e-4


def test_a_muted_track_and_a_hidden_videos_sound_are_left_out(media: Path, tmp_path: Path) -> None:
    the_project = project(
        visual({"kind": "video", "source": "clip.mp4", "out": 1}, hidden=True),
        {
            "kind": "audio",
            "muted": True,
            "clips": [{"kind": "audio", "source": "music.wav", "out": 1}],
        },
        visual(card("#000000", 0, 1)),
    )
    out, _ = render(media, tmp_path, the_project)
    assert rms(sound(out), 0, 1) < 1e-4


def test_a_video_clips_sound_plays_with_it(media: Path, tmp_path: Path) -> None:
    the_project = project(visual({"kind": "video", "source": "clip.mp4", "start": 0.5, "out": 1}))
    out, _ = render(media, tmp_path, the_project)
    samples = sound(out)
    assert rms(samples, 0, 0.45) < 0.005 and level_at(samples, 440, 0.6, 1.4) > 100


# --- failures and progress -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clip", "error", "problem"),
    [
        ({"kind": "video", "source": "gone.mp4"}, MediaError, "source not found: gone.mp4"),
        ({"kind": "video", "source": "random.mp4"}, MediaError, "random.mp4: not a readable"),
        ({"kind": "video", "source": "clip.mp4", "out": 9}, InvalidProject, "past the end"),
    ],
)
def test_a_bad_source_fails_the_render_and_leaves_no_file(
    media: Path, tmp_path: Path, clip: dict[str, Any], error: type[Exception], problem: str
) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(error, match=problem):
        render_project(project(visual(clip)), out, MediaResolver(media))
    assert list(tmp_path.iterdir()) == []


def test_an_empty_project_is_refused(media: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidProject, match="empty"):
        render_project(project(visual()), tmp_path / "out.mp4", MediaResolver(media))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_render_leaves_an_existing_output_untouched(media: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the previous render")

    def cancel(fraction: float, stage: str) -> None:
        if fraction > 0:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        render_project(
            project(visual(card("#ff0000", 0, 3))), out, MediaResolver(media), progress=cancel
        )
    assert out.read_bytes() == b"the previous render"
    assert [path.name for path in tmp_path.iterdir()] == ["out.mp4"]


def test_ffmpeg_running_too_long_is_stopped(media: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(UserError, match="longer than"):
        render_project(
            project(visual(card("#ff0000", 0, 30))), out, MediaResolver(media), timeout=0.05
        )
    assert list(tmp_path.iterdir()) == []


def test_progress_rises_to_done(media: Path, tmp_path: Path) -> None:
    calls: list[tuple[float, str]] = []
    render(
        media,
        tmp_path,
        project(visual({"kind": "video", "source": "clip.mp4"})),
        progress=lambda fraction, stage: calls.append((fraction, stage)),
    )
    fractions = [fraction for fraction, _ in calls]
    assert len(calls) >= 2 and fractions == sorted(fractions)
    assert calls[-1] == (1.0, "done") and {stage for _, stage in calls[:-1]} == {"rendering"}


# --- the command ---------------------------------------------------------------------------------


def test_a_big_project_passes_its_graph_in_a_file(media: Path, tmp_path: Path) -> None:
    captions = [
        {"kind": "text", "text": f"caption number {n} " * 3, "start": n * 0.5, "duration": 0.5}
        for n in range(400)
    ]
    the_project = project(visual(card("#000000", 0, 200)), {"kind": "text", "clips": captions})
    output = output_for(the_project, 200.0)
    command = build_command(the_project, {}, output, tmp_path, tmp_path / "out.mp4")
    assert "-filter_complex_script" in command.args
    assert str(tmp_path / GRAPH_FILE) in command.args
    assert max(len(arg) for arg in command.args) < 1000
    assert command.graph.count("overlay=") == 401 and len(command.pictures) == 400


def test_ntsc_rates_become_exact_fractions() -> None:
    assert str(frame_rate(29.97)) == "30000/1001" and str(frame_rate(23.976)) == "24000/1001"
    assert frame_rate(30.0) == 30 and frame_rate(12.5) == Fraction(25, 2)


def test_a_translucent_sticker_keeps_its_transparency(media: Path, tmp_path: Path) -> None:
    sticker = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    sticker.paste((255, 255, 255, 255), (25, 25, 75, 75))
    folder = tmp_path / "media"
    folder.mkdir()
    sticker.save(folder / "sticker.png")
    the_project = project(
        visual(card("#0000ff", 0, 1)),
        visual({"kind": "image", "source": "sticker.png", "duration": 1, "fit": "contain",
                "opacity": 0.5}),
        width=200,
        height=200,
    )  # fmt: skip
    out = tmp_path / "out.mp4"
    render_project(the_project, out, MediaResolver(folder))
    frame = frame_at(out, 0.5)
    assert close(colour(frame, (5, 5, 40, 40)), (0, 0, 255))  # transparent corner: blue
    assert close(colour(frame, (80, 80, 120, 120)), (128, 128, 255), within=25)  # half white


# --- the explicit label ---------------------------------------------------------------------------

WORDING = "AI-generated content"


def grey_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference (0-255) of two frames in grey levels."""
    return float(
        np.abs(np.asarray(a.convert("L"), float) - np.asarray(b.convert("L"), float)).mean()
    )


def test_the_label_is_drawn_last_over_the_captions_in_the_output_frame(tmp_path: Path) -> None:
    the_project = project(
        visual(card("#203040", 0, 4)),
        {"kind": "text", "clips": [{"kind": "text", "text": "a caption", "duration": 4}]},
    )
    output = output_for(the_project, 4.0, preset_for("landscape"), preview=True)
    command = build_command(the_project, {}, output, tmp_path, tmp_path / "o.mp4", WORDING)
    chains = command.graph.strip().split(";\n")
    corner, notice = label_overlays(WORDING, VideoInfo(640, 360, 4.0, 0))
    drawn = chains[-2]  # then the sound
    assert drawn.startswith("[framed]") and "pad=" in chains[-3]  # after the letterbox
    assert f"overlay=x={corner.x}:y={corner.y}" in drawn
    assert f"overlay=x={notice.x}:y={notice.y}:enable='lt(t,{NOTICE_SECONDS})'" in drawn
    assert drawn.endswith("[vout]") and len(command.pictures) == 3  # caption, corner, notice
    plain = build_command(the_project, {}, output, tmp_path, tmp_path / "o.mp4")
    assert "[framed]" not in plain.graph and len(plain.pictures) == 1


def test_the_label_a_render_draws_matches_the_markers(media: Path, tmp_path: Path) -> None:
    # A letterboxed preview: the label goes in the output frame, as the marker would see it.
    the_project = project(
        visual(card("#3366cc", 0, 4, gradient_to="#cc6633")),
        {"kind": "text", "clips": [{"kind": "text", "text": "a caption", "duration": 4}]},
    )
    options: dict[str, Any] = {"preset": preset_for("landscape"), "preview": True}
    drawn = tmp_path / "drawn.mp4"
    render_project(the_project, drawn, MediaResolver(media), label=WORDING, **options)
    plain = tmp_path / "plain.mp4"
    render_project(the_project, plain, MediaResolver(media), **options)
    marked = tmp_path / "marked.mp4"
    marked.write_bytes(label_video(plain.read_bytes(), "mp4", WORDING))
    corner, notice = label_overlays(WORDING, VideoInfo(640, 360, 4.0, 0))
    corner_box = (corner.x, corner.y, corner.x + corner.image.width, corner.y + corner.image.height)
    notice_box = (notice.x, notice.y, notice.x + notice.image.width, notice.y + notice.image.height)
    for at in (0.5, 3.0):
        ours, theirs, bare = frame_at(drawn, at), frame_at(marked, at), frame_at(plain, at)
        assert ours.size == theirs.size == (640, 360)
        assert grey_difference(ours, theirs) < 2
        for box in (corner_box, notice_box):
            assert grey_difference(ours.crop(box), theirs.crop(box)) < 2
        assert grey_difference(ours.crop(corner_box), bare.crop(corner_box)) > 30  # it is drawn
    notice_shown = grey_difference(
        frame_at(drawn, 0.5).crop(notice_box), frame_at(plain, 0.5).crop(notice_box)
    )
    notice_gone = grey_difference(
        frame_at(drawn, 3.0).crop(notice_box), frame_at(plain, 3.0).crop(notice_box)
    )
    assert notice_shown > 10 and notice_gone < 2  # the notice only on the opening seconds


def test_a_blank_label_is_refused_before_rendering(media: Path, tmp_path: Path) -> None:
    the_project = project(visual(card("#000000", 0, 1)))
    with pytest.raises(UserError, match="no wording"):
        render(media, tmp_path, the_project, label="  ")
    assert not (tmp_path / "out.mp4").exists()
