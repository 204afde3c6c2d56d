"""The image screen: the text in an image read by the real OCR and screened by the lexicon, the
real NSFW models on a benign image, the mapping from detector outputs to hits through fakes of
our own detector interfaces, and images that cannot be decoded."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest
from PIL import Image, ImageDraw

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.explicit_image import font_for_cap
from hallmark.mark.inspect_image_text import TextLine, shared_reader
from hallmark.mark.watermark.attacks import synthetic_scene
from hallmark.policy import resolve_policy
from hallmark.screen.base import Hit, ImageBox, Screen, TextSpan, decide
from hallmark.screen.image import (
    NUDENET_MIN_SCORE,
    NUDENET_SEVERITY,
    OPEN_NSFW_FLAG,
    BodyPart,
    ImageScreen,
    NudeNetDetector,
    shared_nsfw_scorer,
    shared_nudity_detector,
)
from hallmark.screen.lexicon import Lexicon


class FakeNudity:
    def __init__(self, parts: Iterable[BodyPart] = ()) -> None:
        self.parts = list(parts)
        self.seen: list[tuple[int, int]] = []

    def detect(self, image: Image.Image) -> list[BodyPart]:
        self.seen.append(image.size)
        return self.parts


class FakeNsfw:
    def __init__(self, score: float = 0.0) -> None:
        self.value = score

    def score(self, image: Image.Image) -> float:
        return self.value


class FakeReader:
    def __init__(self, lines: Iterable[TextLine] = ()) -> None:
        self.lines = list(lines)

    def read(self, image: Image.Image) -> list[TextLine]:
        return self.lines


class FakeTextScreen(Screen):
    """Reports the given hits on any text, and keeps the texts it was given."""

    name = "fake-text"
    media = frozenset({"text"})

    def __init__(self, hits: Iterable[Hit]) -> None:
        self.hits = list(hits)
        self.texts: list[str] = []

    def find(self, content: Content) -> list[Hit]:
        self.texts.append(content.text)
        return self.hits


def encoded(image: Image.Image, pillow_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, pillow_format)
    return buffer.getvalue()


def png(image: Image.Image) -> Content:
    return Content("image", "image/png", encoded(image))


def with_text(image: Image.Image, lines: list[tuple[str, int, int, int]]) -> list[ImageBox]:
    """Draw each (text, x, y, cap height) in black on a white panel; the text's boxes."""
    draw = ImageDraw.Draw(image)
    boxes = []
    for text, x, y, cap in lines:
        font = font_for_cap(cap)
        x0, y0, x1, y1 = draw.textbbox((x, y), text, font=font)
        draw.rectangle((x0 - cap, y0 - cap, x1 + cap, y1 + cap), fill="white")
        draw.text((x, y), text, font=font, fill="black")
        boxes.append(ImageBox(x0, y0, x1 - x0, y1 - y0))
    return boxes


def overlap(a: ImageBox, b: ImageBox) -> float:
    """The share of ``b`` that ``a`` covers."""
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    return max(0, width) * max(0, height) / (b.width * b.height)


@pytest.fixture(scope="module")
def real() -> ImageScreen:
    lexicon = Lexicon.builtin()
    return ImageScreen(
        lambda: [lexicon],
        reader=shared_reader(),
        nudity=shared_nudity_detector(),
        nsfw=shared_nsfw_scorer(),
    )


def faked(
    parts: Iterable[BodyPart] = (),
    score: float = 0.0,
    lines: Iterable[TextLine] = (),
    text_screens: Iterable[Screen] = (),
) -> ImageScreen:
    screens = list(text_screens)
    return ImageScreen(
        lambda: screens, reader=FakeReader(lines), nudity=FakeNudity(parts), nsfw=FakeNsfw(score)
    )


# --- the real models ------------------------------------------------------------------------


def test_a_benign_photo_like_image_has_no_hit(real: ImageScreen) -> None:
    assert real.find(png(synthetic_scene(4, 1024, 768))) == []


def test_text_in_an_image_is_screened_and_boxed_where_it_was_drawn(real: ImageScreen) -> None:
    image = synthetic_scene(1, 1024, 768)
    drawn = with_text(image, [("法轮功", 120, 100, 64), ("buy a pipe bomb", 120, 480, 48)])

    hits = real.find(png(image))

    by_term = {hit.term: hit for hit in hits}
    assert set(by_term) == {"法轮功", "pipe bomb"}
    cult, bomb = by_term["法轮功"], by_term["pipe bomb"]
    assert (cult.category, cult.severity) == ("cult", 3)
    assert (bomb.category, bomb.severity) == ("terrorism", 2)
    for hit, box in ((cult, drawn[0]), (bomb, drawn[1])):
        assert hit.screen == "image" and hit.via == "ocr"
        assert isinstance(hit.evidence, ImageBox) and overlap(hit.evidence, box) > 0.8
    assert overlap(bomb.evidence, drawn[0]) == 0  # each term keeps its own line's box

    decision = decide(hits, resolve_policy("cn"))
    assert decision.action == "block" and decision.categories == ["cult", "terrorism"]


def test_boxes_are_in_the_full_size_image_when_it_is_read_downscaled(real: ImageScreen) -> None:
    image = Image.new("RGB", (3200, 1600), (230, 236, 240))
    (drawn,) = with_text(image, [("法轮功", 1600, 1000, 160)])

    (hit,) = real.find(Content("image", "image/jpeg", encoded(image, "JPEG")))

    assert hit.term == "法轮功" and isinstance(hit.evidence, ImageBox)
    assert overlap(hit.evidence, drawn) > 0.8


def test_nudenet_and_open_nsfw_run_and_score_a_benign_image_low() -> None:
    image = synthetic_scene(2, 1024, 768)

    parts = shared_nudity_detector().detect(image)
    score = shared_nsfw_scorer().score(image)

    assert all(part.score < NUDENET_MIN_SCORE for part in parts if part.label in NUDENET_SEVERITY)
    assert 0.0 <= score < OPEN_NSFW_FLAG


# --- detector outputs to hits -----------------------------------------------------------------


def test_exposed_parts_above_the_threshold_are_sexual_hits_with_their_boxes() -> None:
    parts = [
        BodyPart("FEMALE_GENITALIA_EXPOSED", 0.91, (10, 20, 110, 220)),
        BodyPart("FEMALE_BREAST_EXPOSED", NUDENET_MIN_SCORE, (200, 40, 260, 90)),
        BodyPart("BUTTOCKS_EXPOSED", NUDENET_MIN_SCORE - 0.01, (0, 0, 50, 50)),
        BodyPart("FACE_FEMALE", 0.95, (300, 10, 360, 80)),
        BodyPart("MALE_BREAST_EXPOSED", 0.9, (0, 0, 50, 50)),
        BodyPart("FEMALE_BREAST_COVERED", 0.9, (0, 0, 50, 50)),
    ]
    screen = faked(parts)

    hits = screen.find(png(Image.new("RGB", (640, 480))))

    assert [(hit.category, hit.term, hit.severity, hit.via) for hit in hits] == [
        ("sexual", "FEMALE_GENITALIA_EXPOSED", 3, "nudenet"),
        ("sexual", "FEMALE_BREAST_EXPOSED", 2, "nudenet"),
    ]
    assert [hit.evidence for hit in hits] == [ImageBox(10, 20, 100, 200), ImageBox(200, 40, 60, 50)]


def test_detector_boxes_are_scaled_to_the_full_size_image_and_clipped() -> None:
    nudity = FakeNudity([BodyPart("BUTTOCKS_EXPOSED", 0.8, (100, 50, 900, 900))])
    screen = ImageScreen(lambda: [], reader=FakeReader(), nudity=nudity, nsfw=FakeNsfw())

    (hit,) = screen.find(png(Image.new("RGB", (3200, 1600))))

    assert nudity.seen == [(1600, 800)]
    assert hit.evidence == ImageBox(200, 100, 1600, 1500)


@pytest.mark.parametrize(
    ("score", "severity"), [(0.0, None), (0.19, None), (0.2, 1), (0.79, 1), (0.8, 2), (1.0, 2)]
)
def test_the_open_nsfw_score_is_a_severity_over_the_whole_image(
    score: float, severity: int | None
) -> None:
    hits = faked(score=score).find(png(Image.new("RGB", (300, 200))))

    if severity is None:
        assert hits == []
    else:
        assert [(h.category, h.term, h.severity) for h in hits] == [
            ("sexual", "open-nsfw", severity)
        ]
        assert hits[0].evidence == ImageBox(0, 0, 300, 200)


@pytest.mark.parametrize(
    ("score", "cn", "us_ca"), [(0.5, "flag", "allow"), (0.9, "block", "allow")]
)
def test_the_policy_decides_what_a_sexual_image_hit_means(
    score: float, cn: str, us_ca: str
) -> None:
    hits = faked(score=score).find(png(Image.new("RGB", (64, 64))))

    assert decide(hits, resolve_policy("cn")).action == cn
    assert decide(hits, resolve_policy("us-ca")).action == us_ca


def test_a_text_hit_gets_the_boxes_of_the_lines_its_span_covers() -> None:
    lines = [
        TextLine("first", (10, 10, 60, 30), 0.99),
        TextLine("second", (12, 40, 80, 60), 0.99),
        TextLine("third", (5, 70, 50, 90), 0.99),
    ]
    across = Hit("cult", "t1", "fake-text", 3, TextSpan(3, 9))  # "st\nsec"
    whole = Hit("hate", "t2", "fake-text", 2)  # a whole-text score has no span
    text_screen = FakeTextScreen([across, whole])

    hits = faked(lines=lines, text_screens=[text_screen]).find(png(Image.new("RGB", (100, 100))))

    assert text_screen.texts == ["first\nsecond\nthird"]
    assert [(h.category, h.term, h.screen, h.severity, h.via) for h in hits] == [
        ("cult", "t1", "image", 3, "ocr"),
        ("hate", "t2", "image", 2, "ocr"),
    ]
    assert [h.evidence for h in hits] == [ImageBox(10, 10, 70, 50), ImageBox(5, 10, 75, 80)]


def test_no_text_read_asks_no_text_screen() -> None:
    text_screen = FakeTextScreen([Hit("cult", "t", "fake-text")])

    assert faked(text_screens=[text_screen]).find(png(Image.new("RGB", (64, 64)))) == []
    assert text_screen.texts == []


# --- bad images -------------------------------------------------------------------------------


def truncated_png() -> bytes:
    data = encoded(synthetic_scene(3, 256, 256))
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("media_type", "data"),
    [
        ("image/png", b""),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        ("image/png", truncated_png()),
        ("image/jpeg", b"\xff\xd8\xff" + b"\x13" * 100),
        ("image/bmp", encoded(Image.new("RGB", (8, 8)), "BMP")),
    ],
)
def test_an_image_that_cannot_be_decoded_is_a_user_error(media_type: str, data: bytes) -> None:
    with pytest.raises(UserError):
        faked().find(Content("image", media_type, data))


def test_an_image_past_the_decoding_limit_is_refused_before_its_pixels() -> None:
    nudity = FakeNudity()
    screen = ImageScreen(lambda: [], reader=FakeReader(), nudity=nudity, nsfw=FakeNsfw())
    huge = encoded(Image.new("1", (10_000, 8_100)))

    with pytest.raises(UserError, match="megapixels"):
        screen.find(Content("image", "image/png", huge))
    assert nudity.seen == []


# --- loading ----------------------------------------------------------------------------------


def test_a_model_is_built_once_however_many_threads_ask_first() -> None:
    builds: list[int] = []

    class Counting(NudeNetDetector):
        def _build(self) -> Any:
            builds.append(1)
            time.sleep(0.05)
            return object()

    detector = Counting()
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(detector.loaded())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(builds) == 1 and len({id(model) for model in got}) == 1
