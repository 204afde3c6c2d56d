"""The image-text inspector: OCR finds visible AI notices in images, with boxes in the image's
own pixels; an image with a notice and no metadata is "suspected"; one without has no finding.
The OCR engine is the real one (rapidocr), except where a fake reader pins the box arithmetic.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from test_explicit_image import MEDIA_TYPES, decoded, encode, mark, photo, solid

from hallmark.accounts.service import ensure_tenant
from hallmark.content import Content
from hallmark.flows.receive import ReceiveRequest, run_receive
from hallmark.mark.explicit_image import label_font, layout_label
from hallmark.mark.inspect_image_text import (
    MAX_OCR_SIDE,
    ImageTextInspector,
    TextLine,
    shared_reader,
)
from hallmark.mark.report import inspect_bytes
from hallmark.registry import Components, load_components
from hallmark.services import Services
from hallmark.settings import Settings


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> Components:
    return load_components(Settings(home=tmp_path_factory.mktemp("home")))


def inspect(data: bytes, fmt: str = "PNG") -> list[dict[str, object]]:
    content = Content("image", MEDIA_TYPES[fmt], data)
    return [f.detail for f in ImageTextInspector(shared_reader()).inspect(content)]


def with_text(image: Image.Image, text: str, at: tuple[int, int], size: int = 28) -> Image.Image:
    """Text drawn plainly, as a user's own caption would be, not by the marker."""
    ImageDraw.Draw(image).text(at, text, font=label_font(size), fill=(20, 20, 20))
    return image


def test_a_visible_notice_without_metadata_is_suspected(components: Components) -> None:
    data = encode(with_text(solid((235, 235, 235), (480, 320)), "AI生成", (40, 40)), "PNG")
    report = inspect_bytes(components, data, filename="notice.png")
    assert report["gb45438"] is None and report["c2pa"] is None
    assert report["verdict"] == "suspected"
    (notice,) = report["explicit"]
    assert "AI生成" in notice["text"] and notice["score"] > 0.8
    x0, y0, x1, y1 = notice["box"]
    assert 25 <= x0 <= 45 and 30 <= y0 <= 50 and 100 <= x1 <= 160 and 60 <= y1 <= 90


def test_an_image_without_a_notice_has_no_explicit_finding(components: Components) -> None:
    data = encode(with_text(photo((480, 320)), "Summer sale 50% off", (30, 30)), "JPEG")
    report = inspect_bytes(components, data, filename="photo.jpg")
    assert report["explicit"] == []
    assert report["verdict"] == "none"


@pytest.mark.parametrize(("fmt", "language"), [("JPEG", "en"), ("WEBP", "zh"), ("PNG", "en")])
def test_the_markers_label_is_read_back_where_it_was_drawn(fmt: str, language: str) -> None:
    wording = {"zh": "AI生成", "en": "AI-generated"}[language]
    data = encode(photo((640, 480)), fmt)
    found = inspect(mark(data, fmt, language), fmt)
    assert [wording] == [str(f["text"]).replace(" ", "") for f in found]
    drawn = layout_label(wording, 640, 480).box
    box = found[0]["box"]
    assert isinstance(box, list)
    assert all(abs(a - b) <= 12 for a, b in zip(box, drawn, strict=True)), (box, drawn)


def test_a_large_image_is_read_downscaled_with_boxes_in_its_own_pixels() -> None:
    data = mark(encode(photo((3200, 2400)), "JPEG", quality=85), "JPEG")
    (found,) = inspect(data, "JPEG")
    drawn = layout_label("AI生成", 3200, 2400).box
    box = found["box"]
    assert isinstance(box, list)
    # The text found lies inside the drawn label (its box plus padding) and fills most of it.
    x0, y0, x1, y1 = drawn
    assert x0 - 10 <= box[0] < box[2] <= x1 + 10 and y0 - 10 <= box[1] < box[3] <= y1 + 10, (
        box,
        drawn,
    )
    assert (box[2] - box[0]) * (box[3] - box[1]) >= 0.5 * (x1 - x0) * (y1 - y0), (box, drawn)


class FakeReader:
    """Returns set lines, and remembers the images it was given."""

    def __init__(self, *lines: TextLine) -> None:
        self.lines = list(lines)
        self.seen: list[Image.Image] = []

    def read(self, image: Image.Image) -> list[TextLine]:
        self.seen.append(image)
        return self.lines


def test_boxes_are_mapped_back_from_the_downscaled_image() -> None:
    reader = FakeReader(
        TextLine("疑似 AI生成", (100.0, 200.0, 300.0, 240.0), 0.97),
        TextLine("hello", (0.0, 0.0, 10.0, 10.0), 0.99),
    )
    data = encode(solid((90, 90, 90), (4000, 2000)), "PNG")
    found = ImageTextInspector(reader).inspect(Content("image", "image/png", data))
    assert reader.seen[0].size == (MAX_OCR_SIDE, 800)
    scale = 4000 / MAX_OCR_SIDE
    assert [f.detail for f in found] == [
        {
            "text": "疑似 AI生成",
            "box": [100 * scale, 200 * scale, 300 * scale, 240 * scale],
            "score": 0.97,
        }
    ]
    assert found[0].scheme == "explicit" and found[0].kind == "explicit"


def test_undecodable_images_are_not_read() -> None:
    reader = FakeReader(TextLine("AI生成", (0.0, 0.0, 1.0, 1.0), 1.0))
    inspector = ImageTextInspector(reader)
    for data in (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, encode(photo(), "JPEG")[:900]):
        assert inspector.inspect(Content("image", "image/png", data)) == []
    assert inspector.inspect(Content("audio", "audio/wav", b"RIFF")) == []
    assert reader.seen == []


def test_transparent_images_are_read_over_white() -> None:
    clear = Image.new("RGBA", (480, 320), (0, 0, 0, 0))
    (found,) = inspect(mark(encode(clear, "PNG"), "PNG"))
    assert found["text"] == "AI生成"


def test_the_engine_loads_once_for_every_thread(components: Components) -> None:
    assert "image-text" in components.inspectors.names()
    engines: list[object] = []
    threads = [
        threading.Thread(target=lambda: engines.append(shared_reader()._loaded())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(engines) == 4 and len({id(engine) for engine in engines}) == 1


def test_the_receive_flow_classifies_an_image_notice_as_suspected(services: Services) -> None:
    data = encode(with_text(photo((480, 320)), "AI生成", (40, 40), size=32), "PNG")
    with services.db.session() as session:
        tenant = ensure_tenant(session, services.ledger, "acme").id
    request = ReceiveRequest(data, "image/png", filename="upload.png", jurisdictions=("cn",))
    outcome = run_receive(services, tenant, request)
    assert outcome.classification == "suspected"
    # The platform's notice is shown around the image (the feed's tag), not drawn into it.
    assert outcome.platform_label == "疑似AI生成" and outcome.labels == ("gb45438",)
    assert decoded(outcome.content.data).tobytes() == decoded(data).tobytes()


def test_a_quick_inspection_skips_ocr_and_says_so(tmp_path: Path) -> None:
    from hallmark.mark.report import inspect_bytes
    from hallmark.registry import load_components
    from hallmark.settings import Settings

    components = load_components(Settings(home=tmp_path / "home"))
    data = mark(encode(photo((640, 480)), "PNG"), "PNG")
    full = inspect_bytes(components, data)
    quick = inspect_bytes(components, data, quick=True)
    assert full["explicit"] and full["verdict"] == "suspected" and full["quick"] is False
    assert quick["explicit"] == [] and quick["verdict"] == "none" and quick["quick"] is True


def test_the_same_pixels_are_read_once_by_the_inspector_and_the_screen() -> None:
    from hallmark.mark.inspect_image_text import RapidOcrReader

    reader = RapidOcrReader(threads=1)
    image = Image.new("RGB", (320, 80), "white")
    ImageDraw.Draw(image).text((10, 20), "AI-generated", fill="black", font_size=32)
    engine = reader._loaded()
    runs: list[int] = []

    def counted(picture: Image.Image) -> object:
        runs.append(1)
        return engine(picture)

    reader._engine = counted
    first = reader.read(image)
    again = reader.read(image.copy())  # a new image object, the same pixels
    other = image.copy()
    ImageDraw.Draw(other).point((0, 0), fill="black")
    reader.read(other)

    assert first == again
    assert len(runs) == 2  # the copy came from the cache; one changed pixel did not
