"""Templates: bundled and file presets, applied to a project purely and repeatably."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from hallmark.errors import UserError
from hallmark.studio.templates import (
    InvalidTemplate,
    apply_template,
    bundled_templates,
    load_template,
    parse_template,
)
from hallmark.studio.timeline import (
    CardClip,
    Project,
    TextClip,
    parse_project,
    project_duration,
    project_to_dict,
)

SMALL: dict[str, Any] = {
    "width": 360,
    "height": 640,
    "name": "Beach day",
    "tracks": [
        {"kind": "visual", "role": "main", "clips": [
            {"kind": "video", "source": "a.mp4", "in": 0.5, "out": 2.5},
            {"kind": "image", "source": "b.png", "start": 2.0, "duration": 1.5, "fit": "contain"},
        ]},
        {"kind": "text", "role": "caption", "clips": [
            {"kind": "text", "text": "We went to the beach", "start": 0.2, "duration": 1.5},
            {"kind": "text", "text": "It was sunny", "start": 2.0, "duration": 1.2},
        ]},
        {"kind": "text", "role": "overlay", "clips": [
            {"kind": "text", "text": "@me", "start": 0.0, "duration": 3.5, "y": 0.1},
        ]},
        {"kind": "audio", "role": "voice", "clips": [
            {"kind": "audio", "source": "voice.wav", "start": 0.2, "out": 3.0},
        ]},
        {"kind": "audio", "role": "music", "clips": [
            {"kind": "audio", "source": "music.wav", "out": 2.0, "loop": True, "duration": 3.5},
        ]},
    ],
}  # fmt: skip


def small() -> Project:
    return parse_project(SMALL)


def starts(project: Project) -> list[list[float]]:
    return [[clip.start for clip in track.clips] for track in project.tracks]


def named(project: Project, name: str) -> Any:
    return next(track for track in project.tracks if track.name == name)


def test_there_are_bundled_templates_for_vertical_video() -> None:
    names = bundled_templates()

    assert len(names) >= 3 and {"bold", "minimal"} <= set(names)
    for name in names:
        layout = load_template(name).layout
        assert layout is not None and (layout.width, layout.height) == (1080, 1920)


@pytest.mark.parametrize("name", bundled_templates())
def test_every_bundled_template_loads_and_applies_to_a_project(name: str) -> None:
    template = load_template(name)

    styled = apply_template(small(), template)

    assert template.name == name and template.description
    assert parse_project(project_to_dict(styled)) == styled
    assert (styled.width, styled.height) == (1080, 1920)


def test_an_intro_shifts_every_clip_and_the_outro_starts_at_the_old_end_plus_the_intro() -> None:
    template = load_template("bold")
    assert template.intro is not None and template.outro is not None
    before = small()

    after = apply_template(before, template, title="My trip")

    shift = template.intro.duration
    assert starts(after)[: len(before.tracks)] == [
        [start + shift for start in track] for track in starts(before)
    ]
    (intro,) = named(after, "template:intro").clips
    (heading,) = named(after, "template:intro:title").clips
    assert isinstance(intro, CardClip) and (intro.start, intro.duration) == (0.0, shift)
    assert intro.gradient_to == template.intro.gradient_to
    assert isinstance(heading, TextClip) and heading.text == "My trip"
    (outro,) = named(after, "template:outro").clips
    assert outro.start == pytest.approx(project_duration(before) + shift)
    assert project_duration(after) == pytest.approx(
        project_duration(before) + shift + template.outro.duration
    )


def test_the_intro_title_falls_back_to_the_project_name_and_is_left_out_when_empty() -> None:
    template = load_template("news")

    titled = apply_template(small(), template)
    untitled = apply_template(parse_project({**SMALL, "name": ""}), template)

    assert named(titled, "template:intro:title").clips[0].text == "Beach day"
    assert "template:intro:title" not in [track.name for track in untitled.tracks]
    assert "template:intro" in [track.name for track in untitled.tracks]


def test_captions_take_the_template_style_and_height_and_other_text_keeps_its_own() -> None:
    template = load_template("news")
    before = small()

    after = apply_template(before, template)

    captions, overlay = after.tracks[1], after.tracks[2]
    for clip in captions.clips:
        assert isinstance(clip, TextClip)
        assert clip.style == template.caption_style and clip.y == template.caption_y
    shift = named(after, "template:intro").clips[0].duration
    original = before.tracks[2].clips[0]
    assert overlay.clips[0] == dataclasses.replace(original, start=original.start + shift)


def test_the_layout_and_the_music_settings_apply() -> None:
    template = load_template("minimal")
    assert template.layout is not None

    after = apply_template(small(), template)

    assert after.background == template.layout.background
    assert [clip.fit for clip in after.tracks[0].clips] == ["contain", "contain"]  # type: ignore[union-attr]
    (music,) = after.tracks[4].clips
    assert (music.volume, music.duck) == (template.music_volume, template.duck)  # type: ignore[union-attr]
    (voice,) = after.tracks[3].clips
    assert (voice.volume, voice.duck) == (1.0, 1.0)  # type: ignore[union-attr]


def test_applying_a_template_twice_is_the_same_as_applying_it_once() -> None:
    for name in bundled_templates():
        once = apply_template(small(), load_template(name), title="T")

        twice = apply_template(once, load_template(name), title="T")

        assert twice == once, name


def test_a_second_template_replaces_the_first_ones_cards() -> None:
    bold_then_minimal = apply_template(
        apply_template(small(), load_template("bold")), load_template("minimal")
    )

    assert bold_then_minimal == apply_template(small(), load_template("minimal"))
    assert not [track for track in bold_then_minimal.tracks if track.name.startswith("template:")]


def test_a_template_loads_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "name": "mine",
                "caption_y": 0.5,
                "outro": {"text": "Bye {title}", "duration": 1.0, "color": "#FF0000"},
            }
        )
    )

    after = apply_template(small(), load_template(str(path)), title="friends")

    assert [clip.y for clip in after.tracks[1].clips] == [0.5, 0.5]  # type: ignore[union-attr]
    assert named(after, "template:outro:title").clips[0].text == "Bye friends"
    assert starts(after)[0] == starts(small())[0]  # no intro: nothing moves


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {"name": "x", "caption_style": {"sise": 0.1}},
            r"caption_style\.sise: is not a known field",
        ),
        (
            {"name": "x", "intro": {"duration": 2, "color": "red"}},
            r"intro\.color: must be a colour",
        ),
        ({"name": "x", "layout": {"width": 1081}}, r"layout\.width"),
        ({"name": "x", "music_volume": -1}, r"music_volume"),
        ({"caption_y": 0.5}, r"name: is required"),
        ({"name": "x", "version": 2}, r"version"),
        ({"name": "x", "outro": {"duration": 1, "fade_in": 1, "fade_out": 1}}, r"outro: fade_in"),
    ],
)
def test_a_template_with_a_bad_field_is_refused_naming_the_field(
    tmp_path: Path, data: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))

    with pytest.raises(InvalidTemplate, match=problem) as caught:
        load_template(str(path))

    assert "bad.json" in str(caught.value)
    with pytest.raises(InvalidTemplate, match=problem):
        parse_template(data)


def test_a_template_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{name: ")

    with pytest.raises(InvalidTemplate, match=r"broken\.json is not valid JSON"):
        load_template(str(path))


def test_an_unknown_template_name_is_an_error_listing_the_bundled_ones() -> None:
    with pytest.raises(UserError, match="unknown template 'glitter'") as caught:
        load_template("glitter")

    for name in bundled_templates():
        assert name in str(caught.value)


def test_a_missing_template_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such template file"):
        load_template(str(tmp_path / "gone.json"))
