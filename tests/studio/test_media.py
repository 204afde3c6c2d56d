"""Probing media files and checking a project's sources against them (real ffprobe)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from studio_media import make_image, make_tone, make_video

from hallmark.errors import UserError
from hallmark.studio.media import MediaError, MediaResolver, probe, resolve_project
from hallmark.studio.timeline import InvalidProject, parse_project, project_duration


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    make_video(root / "clip.mp4", seconds=2.0, size="320x240", rate=25)
    make_video(root / "silent.mp4", seconds=1.0, tone=None)
    make_image(root / "still.png", size=(64, 48))
    make_tone(root / "tone.wav", seconds=1.5)
    (root / "empty.mp4").write_bytes(b"")
    (root / "random.mp4").write_bytes(bytes(range(256)) * 40)
    return root


def _project(*clips: dict[str, object], kind: str = "visual") -> dict[str, object]:
    return {"width": 320, "height": 240, "tracks": [{"kind": kind, "clips": list(clips)}]}


def test_probe_reports_a_videos_size_rate_length_and_streams(media: Path) -> None:
    info = probe(media / "clip.mp4")
    assert (info.width, info.height, info.fps) == (320, 240, 25.0)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.has_video and info.has_audio and not info.is_image


def test_probe_reports_a_png_as_a_still_without_length(media: Path) -> None:
    info = probe(media / "still.png")
    assert info.is_image and info.has_video and not info.has_audio
    assert (info.width, info.height, info.duration) == (64, 48, 0.0)


def test_probe_reports_a_jpeg_by_its_upright_size(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown turned a quarter
    Image.new("RGB", (80, 40), "red").save(tmp_path / "turned.jpg", exif=exif)
    info = probe(tmp_path / "turned.jpg")
    assert info.is_image and (info.width, info.height) == (40, 80)


def test_probe_reports_a_wav_as_sound_only(media: Path) -> None:
    info = probe(media / "tone.wav")
    assert info.has_audio and not info.has_video and not info.is_image
    assert info.duration == pytest.approx(1.5, abs=0.01)


@pytest.mark.parametrize(
    ("name", "problem"),
    [("missing.mp4", "not found"), ("empty.mp4", "empty"), ("random.mp4", "not a readable")],
)
def test_probe_refuses_missing_empty_and_corrupt_files_by_name(
    media: Path, name: str, problem: str
) -> None:
    with pytest.raises(MediaError, match=problem) as caught:
        probe(media / name)
    assert name in caught.value.message and caught.value.code == "invalid_media"


def test_a_relative_source_is_found_beside_the_project(media: Path) -> None:
    assert MediaResolver(media).path("clip.mp4") == media / "clip.mp4"


def test_a_media_id_is_found_through_the_lookup(media: Path) -> None:
    resolver = MediaResolver(lookup=lambda media_id: media / f"{media_id}.mp4")
    assert resolver.path("media:clip") == media / "clip.mp4"


def test_a_media_id_without_a_lookup_is_refused() -> None:
    with pytest.raises(UserError, match="media:abc"):
        MediaResolver().path("media:abc")


def test_a_missing_source_is_named(media: Path) -> None:
    with pytest.raises(MediaError, match=r"source not found: nowhere\.mp4"):
        MediaResolver(media).path("nowhere.mp4")


def test_what_a_source_is_is_probed_once(media: Path) -> None:
    resolver = MediaResolver(media)
    assert resolver.info("clip.mp4") is resolver.info("clip.mp4")


def test_a_file_is_probed_again_once_it_changes(tmp_path: Path) -> None:
    path = make_video(tmp_path / "take.mp4", seconds=1.0, size="320x240")
    first = probe(path)
    assert probe(path) is first  # unchanged: remembered
    make_video(tmp_path / "other.mp4", seconds=2.0, size="160x120").replace(path)
    second = probe(path)
    assert (second.width, second.height) == (160, 120)
    assert second.duration == pytest.approx(2.0, abs=0.05)
    path.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        probe(path)


def test_resolving_fills_an_open_out_with_the_sources_length(media: Path) -> None:
    project = parse_project(_project({"kind": "video", "source": "clip.mp4", "in": 0.5}))
    resolved = resolve_project(project, MediaResolver(media))
    clip = resolved.tracks[0].clips[0]
    assert clip.out == pytest.approx(2.0, abs=0.05)  # type: ignore[union-attr]
    assert project_duration(resolved) == pytest.approx(1.5, abs=0.05)


def test_an_out_a_hair_past_the_end_is_clamped(media: Path) -> None:
    project = parse_project(
        _project({"kind": "audio", "source": "tone.wav", "out": 1.53}, kind="audio")
    )
    resolved = resolve_project(project, MediaResolver(media))
    assert resolved.tracks[0].clips[0].out == pytest.approx(1.5, abs=0.001)  # type: ignore[union-attr]


def test_an_out_beyond_the_source_is_refused_by_its_place(media: Path) -> None:
    project = parse_project(_project({"kind": "video", "source": "clip.mp4", "out": 5}))
    with pytest.raises(InvalidProject, match=r"tracks\[0\]\.clips\[0\]\.out: 5 s is past the end"):
        resolve_project(project, MediaResolver(media))


def test_a_missing_source_is_refused_by_its_place(media: Path) -> None:
    project = parse_project(_project({"kind": "video", "source": "gone.mp4"}))
    with pytest.raises(
        MediaError, match=r"tracks\[0\]\.clips\[0\]\.source: source not found: gone"
    ):
        resolve_project(project, MediaResolver(media))


@pytest.mark.parametrize(
    ("clip", "kind", "problem"),
    [
        ({"kind": "video", "source": "still.png"}, "visual", "still image"),
        ({"kind": "video", "source": "tone.wav"}, "visual", "sound only"),
        ({"kind": "image", "source": "clip.mp4", "duration": 1}, "visual", "not a still image"),
        ({"kind": "audio", "source": "silent.mp4"}, "audio", "has no sound"),
        ({"kind": "video", "source": "random.mp4"}, "visual", "not a readable media file"),
    ],
)
def test_a_source_of_the_wrong_kind_is_refused(
    media: Path, clip: dict[str, object], kind: str, problem: str
) -> None:
    project = parse_project(_project(clip, kind=kind))
    with pytest.raises(MediaError, match=problem) as caught:
        resolve_project(project, MediaResolver(media))
    assert caught.value.message.startswith("tracks[0].clips[0].source: ")


def test_a_video_with_sound_serves_as_an_audio_source(media: Path) -> None:
    project = parse_project(_project({"kind": "audio", "source": "clip.mp4"}, kind="audio"))
    resolved = resolve_project(project, MediaResolver(media))
    assert project_duration(resolved) == pytest.approx(2.0, abs=0.05)


def test_fades_longer_than_the_measured_clip_are_refused(media: Path) -> None:
    project = parse_project(
        _project({"kind": "audio", "source": "tone.wav", "fade_in": 1, "fade_out": 1}, kind="audio")
    )
    with pytest.raises(InvalidProject, match="fade_in"):
        resolve_project(project, MediaResolver(media))
