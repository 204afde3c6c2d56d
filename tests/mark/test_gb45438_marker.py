"""The gb45438 marker and inspector: the writer chosen by media type, producer fields from the
provenance, propagator fields added to a label another service wrote, and refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from test_gb45438_support import FOREIGN, FOREIGN_LABEL, IMAGE_TYPES, PRODUCER, PROVENANCE, image

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import Classification, LabelContext, Provenance, plan_labels
from hallmark.mark.gb45438 import GB45438Inspector, GB45438Marker, KeyStore, write_xmp
from hallmark.policy import resolve_policy
from hallmark.registry import load_components
from hallmark.settings import Settings

CN = resolve_policy(["cn"])
SAMPLES: dict[str, tuple[Medium, bytes]] = {
    **{t: ("image", image(fmt)) for fmt, t in IMAGE_TYPES.items()},
    "text/markdown": ("document", b"# Title\n\nBody\n"),
    "text/plain; charset=utf-8": ("document", b"Body\n"),
}


def context(
    wording: str | None = None,
    content_id: str = "content-1",
    classification: Classification | None = None,
) -> LabelContext:
    provenance = Provenance(content_id, "hallmark", PRODUCER, "2025-09-01T00:00:00Z")
    if classification is None:
        return LabelContext(CN, "zh", wording or CN.label_text("zh"), provenance)
    return LabelContext(
        CN, "zh", wording or "", provenance, role="propagator", classification=classification
    )


def details(content: Content, keys: KeyStore) -> list[dict[str, object]]:
    return [f.detail for f in GB45438Inspector(keys).inspect(content)]


def foreign_png() -> bytes:
    """A PNG labelled by "another service" (written by Pillow): its own XMP packet, producer
    code and ReservedCode1."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", write_xmp(FOREIGN_LABEL).decode())
    buffer = io.BytesIO()
    Image.open(io.BytesIO(image("png"))).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.mark.parametrize("media_type", list(SAMPLES))
def test_producer_label_round_trips_in_every_format(media_type: str, keys: KeyStore) -> None:
    medium, data = SAMPLES[media_type]
    labelled = GB45438Marker(keys).mark(Content(medium, media_type, data), context())
    [detail] = details(labelled, keys)
    assert (detail["Label"], detail["ContentProducer"], detail["ProduceID"]) == (
        "1",
        PROVENANCE.producer_code,
        PROVENANCE.content_id,
    )
    assert detail["ContentPropagator"] == "" and detail["integrity"] == "valid"
    assert labelled.metadata["gb45438"]["ProduceID"] == "content-1"


def test_a_foreign_label_is_unverifiable_then_propagated(keys: KeyStore) -> None:
    received = Content("image", "image/png", foreign_png())
    [before] = details(received, keys)
    assert (before["ContentProducer"], before["integrity"]) == (FOREIGN, "unverifiable")
    labelled = GB45438Marker(keys).mark(received, context(content_id="ours-9"))
    [after] = details(labelled, keys)
    assert (after["ContentProducer"], after["ProduceID"]) == (FOREIGN, "their-7")
    assert after["ReservedCode1"] == "9f" * 32
    assert (after["ContentPropagator"], after["PropagateID"]) == (PRODUCER, "ours-9")
    assert after["integrity"] == "valid"
    assert after["integrity_codes"] == {"ReservedCode1": "unverifiable", "ReservedCode2": "valid"}


def test_an_edited_field_is_invalid(keys: KeyStore) -> None:
    labelled = GB45438Marker(keys).mark(Content("image", "image/jpeg", image("jpeg")), context())
    tampered = labelled.data.replace(b"content-1", b"content-2")
    [detail] = details(labelled.with_data(tampered), keys)
    assert detail["ProduceID"] == "content-2" and detail["integrity"] == "invalid"


@pytest.mark.parametrize(
    ("classification", "expected"), [("confirmed", "1"), ("possible", "2"), ("suspected", "3")]
)
def test_platform_labels_for_unlabelled_content(
    classification: Classification, expected: str, keys: KeyStore
) -> None:
    wording = CN.platform_label(classification, "zh")  # type: ignore[arg-type]
    content = Content("document", "text/markdown", b"Body\n")
    labelled = GB45438Marker(keys).mark(content, context(wording, classification=classification))
    [detail] = details(labelled, keys)
    assert (detail["Label"], detail["ContentProducer"], detail["ContentPropagator"]) == (
        expected,
        "",
        PRODUCER,
    )
    assert detail["integrity"] == "valid"


def test_two_different_labels_in_one_file_are_two_findings(keys: KeyStore) -> None:
    labelled = GB45438Marker(keys).mark(Content("image", "image/png", foreign_png()), context())
    data = labelled.data.replace(b'"ProduceID":"their-7"', b'"ProduceID":"their-8"', 1)
    found = details(labelled.with_data(data), keys)
    assert {d["ProduceID"] for d in found} == {"their-7", "their-8"}


@pytest.mark.parametrize(
    ("media_type", "data", "message"),
    [
        ("image/gif", b"GIF89a", "'image/gif'"),
        ("video/x-matroska", b"\x1a\x45\xdf\xa3", "'video/x-matroska'"),
        ("application/pdf", b"%PDF-1.7", "truncated PDF"),
        ("image/jpeg", image("png"), "sent as image/jpeg but is a PNG file"),
        ("image/png", b"", "empty"),
        ("image/webp", image("png")[:20], "is a PNG file"),
    ],
)
def test_unsupported_or_misnamed_input_is_a_user_error(
    media_type: str, data: bytes, message: str, keys: KeyStore
) -> None:
    with pytest.raises(UserError, match=message):
        GB45438Marker(keys).mark(Content("image", media_type, data), context())


def test_inspector_skips_formats_it_does_not_read(keys: KeyStore) -> None:
    assert GB45438Inspector(keys).inspect(Content("image", "image/gif", b"GIF89a")) == []


def test_registered_through_the_plugin_hook(tmp_path: Path) -> None:
    components = load_components(Settings(home=tmp_path / "home"))
    assert "gb45438" in components.markers and "gb45438" in components.inspectors
    plan = plan_labels(CN, "document", components.markers)
    assert [m.scheme for m in plan] == ["explicit", "gb45438"]
    # video has the metadata label too, after the visible label and the watermark
    video = [m.scheme for m in plan_labels(CN, "video", components.markers)]
    assert video[:3] == ["explicit", "watermark", "gb45438"]
