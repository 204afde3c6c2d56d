"""The bundled image perceiver against exact truth drawn here: text at known boxes (English and
Chinese), a cartoon face NudeNet finds at a known place, known colours; and bad files refused
with a message that names them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bench.scenes import person
from PIL import Image, ImageDraw

from hallmark.errors import UserError
from hallmark.mark.explicit_image import label_font
from hallmark.perception.base import Box, Finding, PerceptionInput
from hallmark.perception.image import (
    ImagePerceiver,
    iou,
    nearest_color_names,
    open_image,
    perceive_image,
    register,
)
from hallmark.registry import Components
from hallmark.settings import Settings

W, H = 640, 480
BACKGROUND = (235, 235, 225)
TEXTS = {"SUMMER SALE": (40, 40), "欢迎光临": (40, 370)}
FIGURE_AT = (390, 140)
HEAD_SIZE = 110


def draw_text(image: Image.Image, text: str, at: tuple[int, int], size: int) -> Box:
    """``text`` drawn in the CJK font; its ink's box."""
    draw = ImageDraw.Draw(image)
    font = label_font(size)
    draw.text(at, text, font=font, fill=(20, 20, 20))
    x0, y0, x1, y1 = draw.textbbox(at, text, font=font)
    return (round(x0), round(y0), round(x1 - x0), round(y1 - y0))


def make_scene() -> tuple[Image.Image, dict[str, Box], Box]:
    """The test scene, the drawn text's boxes by text, and the drawn head's box."""
    image = Image.new("RGB", (W, H), BACKGROUND)
    texts = {text: draw_text(image, text, at, 48) for text, at in TEXTS.items()}
    figure = person(HEAD_SIZE)
    image.paste(figure, FIGURE_AT, figure)
    head = (FIGURE_AT[0] + (figure.width - HEAD_SIZE) // 2, FIGURE_AT[1], HEAD_SIZE, 143)
    return image, texts, head


def save(image: Image.Image, path: Path, **options: object) -> PerceptionInput:
    image.save(path, **options)
    media = {".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif"}[path.suffix]
    return PerceptionInput(path, media)


def of_kind(findings: list[Finding], kind: str) -> list[Finding]:
    return [finding for finding in findings if finding.kind == kind]


def contains(outer: Box, inner: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory):
    image, texts, head = make_scene()
    source = save(image, tmp_path_factory.mktemp("scene") / "scene.png")
    return ImagePerceiver().perceive(source), texts, head


# --- text ------------------------------------------------------------------------------------


def test_english_and_chinese_text_is_read_at_the_boxes_it_was_drawn_in(scene) -> None:
    findings, texts, _ = scene
    read = {finding.label: finding for finding in of_kind(findings, "text")}
    assert set(read) == set(texts)
    for text, drawn in texts.items():
        assert read[text].box is not None
        assert iou(read[text].box, drawn) >= 0.5, (text, read[text].box, drawn)
        assert read[text].score > 0.9


def test_boxes_are_in_the_shown_image_of_a_rotated_photo_at_full_size(tmp_path: Path) -> None:
    # Shown 2400x1800 (larger than the OCR reads: boxes are scaled back), stored rotated with
    # EXIF orientation 6 as a camera held upright does.
    shown = Image.new("RGB", (2400, 1800), "white")
    drawn = draw_text(shown, "SUMMER SALE", (300, 400), 160)
    stored = shown.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    source = save(stored, tmp_path / "photo.jpg", exif=exif, quality=92)
    findings = ImagePerceiver().perceive(source)
    (text,) = of_kind(findings, "text")
    assert text.label == "SUMMER SALE"
    assert text.box is not None and iou(text.box, drawn) >= 0.5, (text.box, drawn)
    (layout,) = of_kind(findings, "layout")
    assert (layout.label, layout.detail["width"], layout.detail["height"]) == (
        "landscape",
        2400,
        1800,
    )


# --- faces and people ------------------------------------------------------------------------


def test_a_drawn_face_is_found_where_the_head_was_drawn(scene) -> None:
    findings, _, head = scene
    (face,) = of_kind(findings, "face")
    assert face.box is not None and iou(face.box, head) >= 0.3, (face.box, head)
    assert face.detail["gender"] in {"female", "male"}
    assert face.score >= 0.5


def test_the_person_box_holds_the_face_it_grew_from(scene) -> None:
    findings, _, _ = scene
    (face,) = of_kind(findings, "face")
    (found,) = of_kind(findings, "person")
    assert found.box is not None and face.box is not None
    assert contains(found.box, face.box)
    assert found.box[2] * found.box[3] > face.box[2] * face.box[3]
    assert found.detail == {"estimated": True}  # NudeNet sees no body part on the cartoon


def test_a_clothed_cartoon_and_drawn_text_are_not_nsfw(scene) -> None:
    findings, _, _ = scene
    assert of_kind(findings, "nsfw") == []


# --- colours and layout ----------------------------------------------------------------------


def test_half_red_half_blue_gives_red_and_blue_in_equal_shares() -> None:
    image = Image.new("RGB", (W, H), (255, 0, 0))
    ImageDraw.Draw(image).rectangle((W // 2, 0, W, H), fill=(0, 0, 255))
    colors = {f.label: f.detail["share"] for f in of_kind(perceive_image(image), "color")}
    assert set(colors) == {"red", "blue"}
    assert colors["red"] == pytest.approx(0.5, abs=0.02)
    assert colors["blue"] == pytest.approx(0.5, abs=0.02)


def test_the_scene_layout_tells_orientation_brightness_text_and_content(scene) -> None:
    findings, texts, _ = scene
    (layout,) = of_kind(findings, "layout")
    assert layout.label == "landscape"
    assert layout.detail["width"] == W and layout.detail["height"] == H
    assert 0.7 < layout.detail["brightness"] < 0.95  # a light background
    drawn_area = sum(w * h for _, _, w, h in texts.values()) / (W * H)
    assert drawn_area <= layout.detail["text_area"] < 3 * drawn_area
    x, y, w, h = layout.detail["content"]
    assert x <= 40 and y <= 60 and x + w >= 580 and y + h >= 400
    main = of_kind(findings, "color")[0]
    assert main.label in {"white", "beige"} and main.detail["share"] > 0.7


def test_colour_names_are_the_common_ones() -> None:
    rgb = np.array(
        [
            (255, 0, 0),
            (0, 0, 255),
            (0, 160, 0),
            (255, 230, 0),
            (255, 140, 0),
            (130, 30, 160),
            (255, 180, 200),
            (130, 70, 20),
            (0, 0, 0),
            (255, 255, 255),
            (128, 128, 128),
        ],
        dtype=np.float64,
    )
    assert nearest_color_names(rgb) == [
        "red",
        "blue",
        "green",
        "yellow",
        "orange",
        "purple",
        "pink",
        "brown",
        "black",
        "white",
        "gray",
    ]


@pytest.mark.parametrize(
    ("size", "label"), [((300, 500), "portrait"), ((400, 390), "square"), ((1, 1), "square")]
)
def test_a_uniform_image_is_an_honest_result_of_one_colour_and_its_layout(
    tmp_path: Path, size: tuple[int, int], label: str
) -> None:
    source = save(Image.new("RGB", size, (20, 60, 200)), tmp_path / "plain.png")
    findings = ImagePerceiver().perceive(source)
    assert [f.kind for f in findings] == ["color", "layout"]
    assert findings[0].label == "blue" and findings[0].detail == {"rgb": "#143cc8", "share": 1.0}
    assert findings[1].label == label
    assert (findings[1].detail["width"], findings[1].detail["height"]) == size
    assert findings[1].detail["text_area"] == 0.0
    assert "content" not in findings[1].detail


def test_transparency_is_seen_over_white(tmp_path: Path) -> None:
    source = save(Image.new("RGBA", (64, 48), (255, 0, 0, 0)), tmp_path / "clear.png")
    findings = ImagePerceiver().perceive(source)
    assert [(f.kind, f.label) for f in findings] == [("color", "white"), ("layout", "landscape")]


def test_an_image_of_no_pixels_has_only_its_size() -> None:
    (layout,) = perceive_image(Image.new("RGB", (0, 0)))
    assert (layout.kind, layout.label, layout.detail) == (
        "layout",
        "empty",
        {"width": 0, "height": 0},
    )


# --- bad input -------------------------------------------------------------------------------


def test_a_corrupt_image_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    save(Image.new("RGB", (64, 64), "red"), path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(UserError, match=r"broken\.png: corrupt or unsupported image"):
        ImagePerceiver().perceive(PerceptionInput(path, "image/png"))


@pytest.mark.parametrize("media_type", ["text/plain", "image/png", "image/svg+xml"])
def test_a_text_file_is_refused_naming_the_file(tmp_path: Path, media_type: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not an image")
    with pytest.raises(UserError, match=r"notes\.txt: "):
        ImagePerceiver().perceive(PerceptionInput(path, media_type))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"gone\.png: cannot be read"):
        ImagePerceiver().perceive(PerceptionInput(tmp_path / "gone.png", "image/png"))


def test_open_image_gives_the_image_as_shown_at_full_size(tmp_path: Path) -> None:
    stored = Image.new("RGB", (30, 40), "white")
    stored.putpixel((0, 0), (255, 0, 0))  # the stored top-left: shown top-right under EXIF 6
    exif = Image.Exif()
    exif[0x0112] = 6
    save(stored, tmp_path / "photo.png", exif=exif)
    for media_type in ("image/png", None):
        shown = open_image(tmp_path / "photo.png", media_type)
        assert shown.size == (40, 30)
        assert shown.convert("RGB").getpixel((39, 0)) == (255, 0, 0)


def test_open_image_refuses_what_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not an image")
    with pytest.raises(UserError, match=r"notes\.txt: corrupt or unsupported image"):
        open_image(path)
    with pytest.raises(UserError, match=r"notes\.txt: text/plain is not an image"):
        open_image(path, "text/plain")


# --- iou and registration --------------------------------------------------------------------


def test_iou_of_equal_boxes_is_one_and_of_disjoint_boxes_zero() -> None:
    assert iou((10, 10, 50, 40), (10, 10, 50, 40)) == 1.0
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0  # touching edges share no area
    assert iou((0, 0, 10, 10), (50, 50, 10, 10)) == 0.0


def test_iou_of_partly_overlapping_and_nested_boxes() -> None:
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 20, 20), (5, 5, 10, 10)) == pytest.approx(100 / 400)
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == iou((5, 0, 10, 10), (0, 0, 10, 10))


def test_iou_of_an_empty_box_is_zero() -> None:
    assert iou((0, 0, 0, 10), (0, 0, 0, 10)) == 0.0
    assert iou((0, 0, 10, 10), (2, 2, 0, 0)) == 0.0


def test_register_adds_the_bundled_image_perceiver(tmp_path: Path) -> None:
    components = Components(Settings(home=tmp_path / "home", plugins=""))
    register(components)
    perceiver = components.perceivers.get("bundled-image")
    assert isinstance(perceiver, ImagePerceiver)
    assert perceiver.media == frozenset({"image"})
