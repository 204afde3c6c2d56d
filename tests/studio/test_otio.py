"""OpenTimelineIO import and export: hallmark projects round-trip, editors' timelines import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from hallmark.errors import UserError
from hallmark.studio.otio import (
    export_otio,
    export_otio_string,
    from_otio,
    import_otio,
    import_otio_string,
    to_otio,
)
from hallmark.studio.timeline import parse_project, project_to_dict

RICH: dict[str, Any] = {
    "width": 360,
    "height": 640,
    "fps": 25,
    "sample_rate": 48000,
    "background": "#101010",
    "name": "Rich",
    "language": "en",
    "tracks": [
        {
            "kind": "visual",
            "role": "main",
            "name": "main",
            "clips": [
                {"kind": "video", "source": "clips/a.mp4", "start": 0, "in": 0.5, "out": 2.5,
                 "scale": 1.2, "x": 0.4, "crop": {"x": 10, "y": 20, "width": 200, "height": 100},
                 "fade_in": 0.3, "fade_out": 0.2, "volume": 0.7, "opacity": 0.9},
                # overlaps the video by its whole transition: a dissolve
                {"kind": "image", "source": "media:img1", "start": 1.2, "duration": 2.0,
                 "zoom_from": 1.0, "zoom_to": 1.3, "pan_from": [0.2, 0.3], "pan_to": [0.7, 0.6],
                 "transition": 0.8},
                # a transition after a gap: nothing to dissolve from in OTIO, kept as metadata
                {"kind": "card", "start": 4.2, "duration": 1.0, "color": "#112233",
                 "gradient_to": "#445566", "direction": "diagonal", "transition": 0.5},
                # a time between frames: 1/3 s at 25 fps
                {"kind": "video", "source": "b.mov", "start": 6.0, "in": 1 / 3, "out": 1.0,
                 "fit": "contain"},
            ],
        },
        {
            "kind": "text",
            "role": "caption",
            "clips": [
                {"kind": "text", "text": "Hello there", "start": 0.5, "duration": 1.5,
                 "style": {"size": 0.07, "color": "#FFEE00", "bold": True,
                           "box_color": "#00000099", "align": "left"}},
                {"kind": "text", "text": "Second line\nand more", "start": 2.0, "duration": 1.0,
                 "y": 0.3, "fade_in": 0.2},
            ],
        },
        {
            "kind": "audio",
            "role": "music",
            "muted": True,
            "name": "bed",
            "clips": [
                {"kind": "audio", "source": "music.wav", "start": 0, "in": 0.25, "out": 3,
                 "loop": True, "duration": 6.5, "duck": 0.3, "duck_fade": 0.5, "volume": 0.5,
                 "fade_out": 1},
            ],
        },
        {"kind": "visual", "hidden": True, "role": "overlay", "clips": []},
    ],
}  # fmt: skip


def assert_same(expected: Any, actual: Any, path: str = "") -> None:
    """Equal JSON-like data, floats within 1e-6."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert expected.keys() == actual.keys(), (path, expected.keys() ^ actual.keys())
        for key in expected:
            assert_same(expected[key], actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(expected) == len(actual), path
        for index, (one, other) in enumerate(zip(expected, actual, strict=True)):
            assert_same(one, other, f"{path}[{index}]")
    elif isinstance(expected, float) and not isinstance(actual, bool):
        assert actual == pytest.approx(expected, abs=1e-6), path
    else:
        assert expected == actual, path


def frames(count: float, rate: float = 24) -> Any:
    return otio.opentime.RationalTime(count, rate)


def span(start: float, duration: float, rate: float = 24) -> Any:
    return otio.opentime.TimeRange(frames(start, rate), frames(duration, rate))


def test_a_rich_project_round_trips_through_otio_without_loss(tmp_path: Path) -> None:
    project = parse_project(RICH)

    through_text, warnings = import_otio_string(export_otio_string(project))
    export_otio(project, tmp_path / "rich.otio")
    through_file, _ = import_otio(tmp_path / "rich.otio")

    assert warnings == []
    assert_same(project_to_dict(project), project_to_dict(through_text))
    assert_same(project_to_dict(project), project_to_dict(through_file))


def test_a_clip_whose_length_is_not_known_yet_round_trips() -> None:
    project = parse_project(
        {
            "tracks": [
                {
                    "kind": "visual",
                    "clips": [
                        {"kind": "card", "duration": 1.0},
                        {"kind": "video", "source": "long.mp4", "start": 1.5, "in": 2.0},
                    ],
                }
            ]
        }
    )

    back, _ = from_otio(to_otio(project))

    assert_same(project_to_dict(project), project_to_dict(back))


def test_the_exported_json_reads_back_in_otio_with_its_tracks_and_clips() -> None:
    text = export_otio_string(parse_project(RICH))

    timeline = otio.adapters.read_from_string(text, "otio_json")

    assert isinstance(timeline, otio.schema.Timeline)
    assert [track.kind for track in timeline.tracks] == ["Video", "Video", "Audio", "Video"]
    assert [track.name for track in timeline.tracks] == ["main", "Text 2", "bed", "Visual 4"]
    main = timeline.tracks[0]
    assert [type(item).__name__ for item in main] == [
        "Clip",
        "Transition",
        "Clip",
        "Gap",
        "Clip",
        "Gap",
        "Clip",
    ]
    assert [clip.name for clip in main.find_clips()] == [
        "a.mp4",
        "media:img1",
        "Gradient card",
        "b.mov",
    ]
    assert [clip.name for clip in timeline.tracks[1].find_clips()] == [
        "Hello there",
        "Second line",
    ]
    video, _, card, _ = main.find_clips()
    assert video.media_reference.target_url == "clips/a.mp4"
    assert card.media_reference.generator_kind == "hallmark.card"
    assert card.media_reference.parameters["gradient_to"] == "#445566"
    text_clip = next(iter(timeline.tracks[1].find_clips()))
    assert text_clip.media_reference.generator_kind == "hallmark.text"
    assert text_clip.media_reference.parameters["text"] == "Hello there"
    assert not timeline.tracks[2].enabled  # muted
    assert timeline.tracks[2].metadata["hallmark"]["role"] == "music"
    assert timeline.global_start_time.rate == 25


def test_a_crossfade_becomes_a_dissolve_that_keeps_every_start() -> None:
    timeline = to_otio(parse_project(RICH))
    main = timeline.tracks[0]
    dissolve = main[1]

    assert dissolve.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert dissolve.in_offset.to_seconds() == pytest.approx(0.0)
    assert dissolve.out_offset.to_seconds() == pytest.approx(0.8)
    video, image, card, late = main.find_clips()
    # the cut falls where the image starts; the video's last 0.8 s play under the dissolve
    assert video.range_in_parent().end_time_exclusive().to_seconds() == pytest.approx(1.2)
    assert image.range_in_parent().start_time.to_seconds() == pytest.approx(1.2)
    assert card.range_in_parent().start_time.to_seconds() == pytest.approx(4.2)
    assert late.range_in_parent().start_time.to_seconds() == pytest.approx(6.0)
    assert late.source_range.start_time.to_seconds() == pytest.approx(1 / 3)


def test_a_timeline_made_by_another_editor_imports_its_clips_starts_and_in_outs(
    tmp_path: Path,
) -> None:
    hour = 3600 * 24  # frames of an editor's 01:00:00:00 start timecode
    timeline = otio.schema.Timeline(name="Edit", global_start_time=frames(hour))
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    video.append(
        otio.schema.Clip(
            name="A",
            media_reference=otio.schema.ExternalReference(
                target_url=(tmp_path / "shots" / "a b.mov").as_uri()
            ),
            source_range=span(10, 48),
        )
    )
    video.append(otio.schema.Gap(duration=frames(24)))
    video.append(
        otio.schema.Clip(
            name="B",
            media_reference=otio.schema.ExternalReference(
                target_url="b.mp4", available_range=span(hour, 24 * 60)
            ),
            source_range=span(hour + 24, 72),
        )
    )
    video.append(
        otio.schema.Transition(
            transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
            in_offset=frames(12),
            out_offset=frames(12),
        )
    )
    video.append(
        otio.schema.Clip(
            name="Still",
            media_reference=otio.schema.ExternalReference(target_url="stills/title.PNG"),
            source_range=span(0, 48),
        )
    )
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    audio.append(otio.schema.Gap(duration=frames(12)))
    audio.append(
        otio.schema.Clip(
            name="music",
            media_reference=otio.schema.ExternalReference(target_url="music.wav"),
            source_range=span(0, 120),
        )
    )
    timeline.tracks.extend([video, audio])
    text = otio.adapters.write_to_string(timeline, "otio_json")

    project, warnings = import_otio_string(text, width=640, height=360)

    assert warnings == []
    assert (project.width, project.height, project.fps, project.name) == (640, 360, 24, "Edit")
    visual, sound = project.tracks
    assert (visual.kind, visual.name, sound.kind, sound.name) == ("visual", "V1", "audio", "A1")
    a, b, still = visual.clips
    assert a.kind == "video" and a.source == str(tmp_path / "shots" / "a b.mov")
    assert (a.start, a.in_, a.out) == pytest.approx((0.0, 10 / 24, 10 / 24 + 2))
    # B counts its source from the media's own start timecode; the dissolve adds 0.5 s after
    assert b.kind == "video" and b.source == "b.mp4"
    assert (b.start, b.in_, b.out) == pytest.approx((3.0, 1.0, 4.5))
    # the still begins 0.5 s before the cut and crossfades over B for the whole dissolve
    assert still.kind == "image" and still.source == "stills/title.PNG"
    assert (still.start, still.duration, still.transition) == pytest.approx((5.5, 2.5, 1.0))
    (music,) = sound.clips
    assert music.kind == "audio" and music.source == "music.wav"
    assert (music.start, music.in_, music.out) == pytest.approx((0.5, 0.0, 5.0))
    assert parse_project(project_to_dict(project)) == project


def test_what_hallmark_cannot_show_is_skipped_with_a_warning_and_time_still_passes() -> None:
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.append(otio.schema.Clip(name="offline", source_range=span(0, 24)))
    track.append(
        otio.schema.Clip(
            name="bars",
            media_reference=otio.schema.GeneratorReference(generator_kind="SMPTEBars"),
            source_range=span(0, 24),
        )
    )
    track.append(
        otio.schema.Clip(
            name="black",
            media_reference=otio.schema.GeneratorReference(
                generator_kind="SolidColor", parameters={"color": [0.0, 0.5, 1.0]}
            ),
            source_range=span(0, 24),
        )
    )
    timeline = otio.schema.Timeline(tracks=[track])

    project, warnings = from_otio(timeline)

    assert len(warnings) == 2
    assert "offline" in warnings[0] and "no media" in warnings[0]
    assert "SMPTEBars" in warnings[1]
    (card,) = project.tracks[0].clips
    assert card.kind == "card" and card.color == "#0080FF"
    assert (card.start, card.duration) == pytest.approx((2.0, 1.0))
    assert (project.width, project.height) == (1920, 1080)


def test_a_nested_stack_is_refused_with_a_clear_error() -> None:
    track = otio.schema.Track(name="V1")
    nested = otio.schema.Stack(name="compound")
    nested.append(otio.schema.Track())
    track.append(nested)

    with pytest.raises(UserError, match=r"a Stack nested in a track.*flatten"):
        from_otio(otio.schema.Timeline(tracks=[track]))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid OpenTimelineIO JSON"),
        ("", "not valid OpenTimelineIO JSON"),
        ('{"OTIO_SCHEMA": "Timeline.1", "tracks": 5}', "not valid OpenTimelineIO JSON"),
        ('{"OTIO_SCHEMA": "Clip.2"}', "not valid OpenTimelineIO JSON: .*media_references"),
        (otio.adapters.write_to_string(otio.schema.Clip(), "otio_json"), "not a Clip"),
        ('{"OTIO_SCHEMA": "Nope.1"}', "unknown 'Nope'"),
        ('{"tracks": []}', "plain JSON"),
    ],
)
def test_broken_or_non_timeline_otio_is_a_clean_user_error(text: str, problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        import_otio_string(text)


def test_a_missing_timeline_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such timeline file"):
        import_otio(tmp_path / "gone.otio")


def test_an_otio_clip_that_breaks_the_project_rules_names_the_problem() -> None:
    project = to_otio(parse_project(RICH))
    project.metadata["hallmark"]["width"] = 7

    with pytest.raises(UserError, match="width"):
        from_otio(project)


def test_export_leaves_no_partial_file_when_it_cannot_write(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.otio"

    with pytest.raises(UserError, match="cannot write"):
        export_otio(parse_project(RICH), target)

    export_otio(parse_project(RICH), tmp_path / "out.otio")
    assert [path.name for path in tmp_path.iterdir()] == ["out.otio"]
    assert json.loads((tmp_path / "out.otio").read_text())["OTIO_SCHEMA"] == "Timeline.1"
