"""The c2pa and sb942 markers sign one hallmark manifest into every supported format, in either
plan order, and refuse bad input with a UserError."""

from __future__ import annotations

import io
from pathlib import Path
from typing import ClassVar

import c2pa
import pytest
from PIL import Image
from test_c2pa_support import (
    CONTENT_ID,
    FORMATS,
    label_context,
    sample,
    sign_as_other_tool,
)

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import LabelContext, Marker, apply_labels, plan_labels
from hallmark.mark.c2pa import C2paMarker, Sb942Marker
from hallmark.mark.c2pa.credentials import Credentials, load_or_create_own
from hallmark.mark.c2pa.manifest import COMPOSITE, TRAINED
from hallmark.mark.c2pa.reader import CredentialReport, open_store, read_credentials
from hallmark.registry import load_components
from hallmark.settings import Settings

MEDIUM: dict[str, Medium] = {
    "jpeg": "image",
    "png": "image",
    "webp": "image",
    "wav": "audio",
    "mp3": "audio",
    "mp4": "video",
    "pdf": "document",
}


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return load_or_create_own(tmp_path_factory.mktemp("keys") / "c2pa")


def content(kind: str, data: bytes | None = None) -> Content:
    return Content(MEDIUM[kind], FORMATS[kind], sample(kind) if data is None else data)


def read(data: bytes, kind: str, credentials: Credentials) -> CredentialReport:
    return read_credentials(data, FORMATS[kind], credentials.anchors_pem)


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_supported_format_reads_back_trusted_with_the_sb942_fields(
    kind: str, credentials: Credentials
) -> None:
    marked = C2paMarker(credentials).mark(content(kind), label_context())
    assert marked.data != sample(kind) and marked.media_type == FORMATS[kind]
    assert len(marked.data) - len(sample(kind)) < 8_000  # the manifest, no thumbnail
    report = read(marked.data, kind, credentials)
    assert report.state == "Trusted", report.status_codes
    assert report.digital_source_types == (TRAINED,)
    assert report.claim_generator is not None and report.claim_generator.startswith("hallmark ")
    assert report.signer_common_name == "hallmark C2PA signer"
    assert report.manifests == 1 and report.status_codes == ()
    assert report.sb942 is not None
    assert report.sb942["identifier"] == CONTENT_ID
    assert (report.sb942["provider"], report.sb942["system_name"]) == ("hallmark", "echo")
    assert report.sb942["system_version"] == "1"
    assert report.sb942["time"] == "2026-08-02T10:00:00Z"


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_signed_images_still_decode_to_the_same_pixels(kind: str, credentials: Credentials) -> None:
    marked = C2paMarker(credentials).mark(content(kind), label_context())
    before, after = Image.open(io.BytesIO(sample(kind))), Image.open(io.BytesIO(marked.data))
    assert before.tobytes() == after.tobytes()


class _ExplicitImageStub(Marker):
    scheme: ClassVar[str] = "explicit"
    media: ClassVar[frozenset[Medium]] = frozenset({"image"})

    def mark(self, content: Content, context: LabelContext) -> Content:
        return content


@pytest.mark.parametrize("reverse", [False, True], ids=["us-ca order", "c2pa first"])
def test_either_plan_order_ends_with_exactly_one_hallmark_manifest(
    reverse: bool, credentials: Credentials
) -> None:
    context = label_context()
    markers = [_ExplicitImageStub(), Sb942Marker(credentials), C2paMarker(credentials)]
    plan = plan_labels(context.policy, "image", markers)
    assert [m.scheme for m in plan] == ["explicit", "sb942", "c2pa"]  # us-ca's order
    if reverse:
        plan = [plan[0], plan[2], plan[1]]
    marked, schemes = apply_labels(content("jpeg"), plan, context)
    assert sorted(schemes) == ["c2pa", "explicit", "sb942"]
    report = read(marked.data, "jpeg", credentials)
    assert (report.state, report.manifests) == ("Trusted", 1)
    assert report.digital_source_types == (TRAINED,) and report.sb942 is not None
    # The second marker found the manifest for this content and left the bytes alone.
    first = plan[1].mark(content("jpeg"), context)
    assert plan[2].mark(first, context).data == first.data


def test_a_new_content_id_adds_a_manifest_and_keeps_the_earlier_one(
    credentials: Credentials,
) -> None:
    first = C2paMarker(credentials).mark(content("png"), label_context("c-first"))
    second = C2paMarker(credentials).mark(first, label_context("c-second"))
    report = read(second.data, "png", credentials)
    assert report.manifests == 2 and report.sb942 is not None
    assert report.sb942["identifier"] == "c-second"


def test_edited_real_media_is_declared_as_an_edit_with_composite(
    credentials: Credentials,
) -> None:
    by_option = C2paMarker(credentials, edited_real_media=True).mark(
        content("jpeg"), label_context()
    )
    by_provenance = C2paMarker(credentials).mark(
        content("jpeg"),
        label_context(digital_source_type="compositeWithTrainedAlgorithmicMedia"),
    )
    for marked in (by_option, by_provenance):
        report = read(marked.data, "jpeg", credentials)
        assert report.state == "Trusted" and report.digital_source_types == (COMPOSITE,)
        assert report.sb942 is not None and report.sb942["event"] == "altered"
        store = open_store(marked.data, "image/jpeg")
        active = store["manifests"][store["active_manifest"]]
        actions = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))
        assert [a["action"] for a in actions["data"]["actions"]] == ["c2pa.opened", "c2pa.edited"]
        assert [i["relationship"] for i in active["ingredients"]] == ["parentOf"]


def test_credentials_from_another_tool_are_kept_as_an_ingredient(
    credentials: Credentials,
) -> None:
    foreign = sign_as_other_tool(sample("jpeg"), "image/jpeg", "trainedAlgorithmicMedia")
    marked = C2paMarker(credentials).mark(content("jpeg", foreign), label_context())
    report = read(marked.data, "jpeg", credentials)
    assert (report.state, report.manifests) == ("Trusted", 2)
    assert report.claim_generator is not None and report.claim_generator.startswith("hallmark ")
    store = open_store(marked.data, "image/jpeg")
    generators = {m["claim_generator_info"][0]["name"] for m in store["manifests"].values()}
    assert generators == {"hallmark", "other-tool"}


@pytest.mark.parametrize(
    ("media_type", "data"),
    [("image/gif", b"GIF89a...."), ("text/html", b"<p>hi</p>"), ("video/quicktime", b"x" * 64)],
)
def test_unsupported_types_are_user_errors_naming_the_type(
    media_type: str, data: bytes, credentials: Credentials
) -> None:
    with pytest.raises(UserError, match=media_type.replace("/", ".")):
        C2paMarker(credentials).mark(Content("image", media_type, data), label_context())


@pytest.mark.parametrize(
    ("name", "kind", "data"),
    [
        ("zero bytes", "jpeg", b""),
        ("truncated jpeg", "jpeg", sample("jpeg")[:200]),
        ("truncated png", "png", sample("png")[:60]),
        ("truncated wav", "wav", sample("wav")[:1000]),
        ("png named jpeg", "jpeg", sample("png")),
        ("jpeg named mp4", "mp4", sample("jpeg")),
        ("garbage", "jpeg", b"not a picture at all" * 4),
    ],
)
def test_corrupt_or_misnamed_input_is_a_user_error(
    name: str, kind: str, data: bytes, credentials: Credentials
) -> None:
    with pytest.raises(UserError) as raised:
        Sb942Marker(credentials).mark(content(kind, data), label_context())
    assert FORMATS[kind] in raised.value.message
    if data:
        assert isinstance(raised.value.__cause__, c2pa.C2paError)


def test_registered_through_the_default_plugins_with_keys_under_hallmark_home(
    tmp_path: Path,
) -> None:
    components = load_components(Settings(home=tmp_path / "env-home"))
    assert {"c2pa", "sb942"} <= set(components.markers.names())
    assert "c2pa" in components.inspectors.names()
    assert not (tmp_path / "env-home").exists()  # nothing made until first use
    marked = components.markers.get("sb942").mark(content("mp3"), label_context())
    assert (tmp_path / "env-home" / "keys" / "c2pa" / "signer-key.pem").exists()
    findings = components.inspectors.get("c2pa").inspect(marked)
    assert [(f.scheme, f.detail["state"]) for f in findings] == [
        ("c2pa", "Trusted"),
        ("sb942", "Trusted"),
    ]
