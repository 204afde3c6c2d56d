"""The overlay draws each finding's box where it is and the answer's entities over them; the
timeline draws each span as a bar where it is in time."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hallmark.errors import UserError
from hallmark.perception.base import Entity, Finding
from hallmark.perception.overlay import (
    HIGHLIGHT,
    KIND_COLORS,
    LANE_NAMES_WIDTH,
    MARGIN,
    draw_overlay,
    draw_timeline,
    tick_label,
    tick_step,
)

GREY = (128, 128, 128)
BOX = (60, 80, 120, 90)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(int)


def has_colour(region: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool(np.any(np.all(region == colour, axis=-1)))


# --- the overlay -----------------------------------------------------------------------------


def test_the_overlay_keeps_the_size_and_outlines_the_box_in_the_kind_colour() -> None:
    image = Image.new("RGB", (320, 240), GREY)
    out = draw_overlay(image, [Finding("face", "face", 0.9, BOX, detail={"gender": "male"})])
    assert out.size == image.size and out.mode == "RGB"
    x, y, w, h = BOX
    drawn = pixels(out)
    for px, py in ((x, y + h // 2), (x + w - 1, y + h // 2), (x + w // 2, y + h - 1)):
        assert tuple(drawn[py, px]) == KIND_COLORS["face"]
    assert tuple(drawn[y + h // 2, x + w // 2]) == GREY  # the inside is left to be seen
    assert pixels(image).tolist() == [[list(GREY)] * 320] * 240  # the input is untouched


def test_an_entity_is_highlighted_instead_of_its_finding_with_its_phrase() -> None:
    image = Image.new("RGB", (320, 240), GREY)
    findings = [Finding("text", "SALE", 0.99, BOX), Finding("color", "gray")]
    plain = pixels(draw_overlay(image, findings))
    out = pixels(draw_overlay(image, findings, [Entity("the sign", "text", 0, 4, BOX)]))
    x, y, _, h = BOX
    assert tuple(out[y + h // 2, x]) == HIGHLIGHT
    assert not has_colour(out, KIND_COLORS["text"])  # the finding is drawn once, as the entity
    assert tuple(plain[y + h // 2, x]) == KIND_COLORS["text"]


def test_labels_stay_inside_the_image() -> None:
    image = Image.new("RGB", (320, 240), GREY)
    corner = (290, 0, 30, 30)  # no room above, none to the right
    out = pixels(draw_overlay(image, [Finding("object", "a very long name of a thing", 1, corner)]))
    # The tag is moved left of the box, inside the image, along its top.
    assert has_colour(out[0:10, 150:290], KIND_COLORS["object"])
    assert not has_colour(out[60:, :], KIND_COLORS["object"])


def test_findings_without_a_box_are_not_drawn_and_transparency_is_over_white() -> None:
    image = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    out = draw_overlay(image, [Finding("color", "white"), Finding("layout", "landscape")])
    assert out.mode == "RGB" and out.size == (64, 48)
    assert np.all(pixels(out) == 255)


def test_chinese_text_labels_are_drawn_in_the_cjk_font() -> None:
    image = Image.new("RGB", (320, 240), GREY)
    chinese = pixels(draw_overlay(image, [Finding("text", "欢迎光临", 1, BOX)]))
    # Private-use characters no font has: what the four would look like with no CJK glyphs.
    missing = pixels(draw_overlay(image, [Finding("text", "\U000f0000" * 4, 1, BOX)]))
    x, y, _, _ = BOX
    label = (slice(0, y), slice(x, x + 120))
    assert has_colour(chinese[label], (255, 255, 255))
    assert not np.array_equal(chinese[label], missing[label])


# --- the timeline ----------------------------------------------------------------------------

WIDTH, DURATION = 1000, 10.0


def x_at(seconds: float) -> int:
    return round(LANE_NAMES_WIDTH + seconds / DURATION * (WIDTH - MARGIN - LANE_NAMES_WIDTH))


def column(image: Image.Image, seconds: float) -> np.ndarray:
    return pixels(image)[:, x_at(seconds)]


SOUNDS = [
    Finding("sound", "Dog", 0.8, start=2.0, end=3.0),
    Finding("speech", "speech", 0.9, start=5.0, end=8.0),
    Finding("word", "hello", 0.9, start=5.2, end=5.8),
]


def test_the_timeline_has_the_width_asked_for_and_bars_where_the_spans_are() -> None:
    out = draw_timeline(DURATION, SOUNDS, width=WIDTH)
    assert out.width == WIDTH
    assert has_colour(column(out, 2.5), KIND_COLORS["sound"])
    assert not has_colour(column(out, 4.0), KIND_COLORS["sound"])
    assert has_colour(column(out, 6.5), KIND_COLORS["speech"])
    assert not has_colour(column(out, 1.0), KIND_COLORS["speech"])
    assert has_colour(column(out, 5.5), KIND_COLORS["word"])
    assert not has_colour(column(out, 7.0), KIND_COLORS["word"])


def test_an_entity_highlights_the_bar_of_the_sound_it_names() -> None:
    entity = Entity("a dog barks", "sound", 0, 0, start=2.0, end=3.0)
    out = draw_timeline(DURATION, SOUNDS, [entity], width=WIDTH)
    assert has_colour(column(out, 2.5), HIGHLIGHT)
    assert not has_colour(column(out, 2.5), KIND_COLORS["sound"])
    assert not has_colour(column(out, 6.5), HIGHLIGHT)


def test_sounds_at_the_same_time_are_stacked_on_rows_of_their_own() -> None:
    one = draw_timeline(DURATION, SOUNDS, width=WIDTH)
    music = Finding("sound", "Music", 0.6, start=1.0, end=9.0)
    two = draw_timeline(DURATION, [*SOUNDS, music], width=WIDTH)
    assert two.height > one.height
    runs = np.diff(np.all(column(two, 2.5) == KIND_COLORS["sound"], axis=-1).astype(int))
    assert np.count_nonzero(runs == 1) == 2  # two separate bars in one column


def test_a_silent_timeline_still_has_its_lanes_and_axis() -> None:
    out = draw_timeline(3.0, [], width=400)
    assert out.width == 400
    assert has_colour(pixels(out), (60, 60, 60))  # the axis and the lane names


@pytest.mark.parametrize(("duration", "width"), [(0.0, 1200), (-1.0, 1200), (5.0, 50)])
def test_a_timeline_of_no_time_or_no_room_is_refused(duration: float, width: int) -> None:
    with pytest.raises(UserError, match="timeline"):
        draw_timeline(duration, SOUNDS, width=width)


@pytest.mark.parametrize(
    ("duration", "step"), [(10.0, 1.0), (6.3, 1.0), (0.8, 0.1), (125.0, 20.0), (3600.0, 500.0)]
)
def test_ticks_fall_on_round_steps(duration: float, step: float) -> None:
    assert tick_step(duration) == pytest.approx(step)


def test_tick_labels_are_seconds_or_minutes() -> None:
    assert tick_label(2.0, 1.0) == "2s"
    assert tick_label(0.3, 0.1) == "0.3s"
    assert tick_label(600.0, 100.0) == "10:00"
    assert tick_label(90.0, 10.0) == "90s"
