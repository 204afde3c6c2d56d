"""The reader reports any file's Content Credentials and never raises on bad input; the
inspector turns an AI declaration into an implicit label."""

from __future__ import annotations

import pytest
from test_c2pa_marker import MEDIUM, content
from test_c2pa_support import FORMATS, label_context, sample, sign_as_other_tool

from hallmark.content import Content
from hallmark.mark.base import classify
from hallmark.mark.c2pa import C2paInspector, C2paMarker
from hallmark.mark.c2pa.credentials import Credentials, load_or_create_own
from hallmark.mark.c2pa.manifest import TRAINED
from hallmark.mark.c2pa.reader import read_credentials

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return load_or_create_own(tmp_path_factory.mktemp("keys") / "c2pa")


def _media_window(kind: str, original: bytes) -> bytes:
    """16 bytes of the media payload itself (not headers), which signing leaves as they were."""
    starts = {
        "jpeg": len(original) - 40,  # entropy-coded scan data before the EOI marker
        "png": original.find(b"IDAT") + 8,
        "webp": original.find(b"VP8") + 16,
        "wav": original.find(b"data") + 100,
        "mp3": len(original) // 2,
        "mp4": original.find(b"mdat") + 24,
        "pdf": original.find(b"stream") + 24,
    }
    start = starts[kind]
    return original[start : start + 16]


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_one_changed_media_byte_makes_the_manifest_invalid_with_a_hash_mismatch(
    kind: str, credentials: Credentials
) -> None:
    signed = bytearray(C2paMarker(credentials).mark(content(kind), label_context()).data)
    window = _media_window(kind, sample(kind))
    assert signed.count(window) == 1
    signed[signed.find(window) + 8] ^= 0x01
    report = read_credentials(bytes(signed), FORMATS[kind], credentials.anchors_pem)
    assert report.state == "Invalid"
    assert any(code.endswith("Hash.mismatch") for code in report.status_codes), report
    assert report.sb942 is not None  # the disclosure is still reported, as invalid


def test_the_signature_is_valid_but_untrusted_without_our_ca(credentials: Credentials) -> None:
    signed = C2paMarker(credentials).mark(content("png"), label_context()).data
    report = read_credentials(signed, "image/png")
    assert report.state == "Valid"
    assert report.status_codes == ("signingCredential.untrusted",)


def test_another_tools_manifest_reads_valid_with_its_fields(credentials: Credentials) -> None:
    foreign = sign_as_other_tool(sample("jpeg"), "image/jpeg", "trainedAlgorithmicMedia")
    report = read_credentials(foreign, "image/jpeg", credentials.anchors_pem)
    assert report.state == "Valid"
    assert report.claim_generator == "other-tool 9.9"
    assert report.digital_source_types == (TRAINED,)
    assert (report.signer_issuer, report.signer_common_name) == (
        "Other Tool Inc",
        "Other Tool Inc Signer",
    )
    assert "signingCredential.untrusted" in report.status_codes
    assert report.sb942 is None and not report.by_hallmark
    (finding,) = C2paInspector(credentials.anchors_pem).inspect(content("jpeg", foreign))
    assert (finding.scheme, finding.kind, finding.detail["Label"]) == ("c2pa", "implicit", "1")
    assert finding.detail["state"] == "Valid"
    assert finding.detail["claim_generator"] == "other-tool 9.9"


def test_a_manifest_without_an_ai_declaration_is_reported_but_no_finding(
    credentials: Credentials,
) -> None:
    camera = sign_as_other_tool(sample("jpeg"), "image/jpeg", "digitalCapture")
    report = read_credentials(camera, "image/jpeg")
    assert report.state == "Valid" and report.digital_source_types == (IPTC + "digitalCapture",)
    assert not report.declares_ai
    assert C2paInspector(credentials.anchors_pem).inspect(content("jpeg", camera)) == []


def test_our_own_label_is_a_confirmed_implicit_label(credentials: Credentials) -> None:
    signed = C2paMarker(credentials).mark(content("wav"), label_context())
    findings = C2paInspector(credentials.anchors_pem).inspect(signed)
    assert [(f.scheme, f.kind, f.detail["Label"]) for f in findings] == [
        ("c2pa", "implicit", "1"),
        ("sb942", "implicit", "1"),
    ]
    assert findings[1].detail["identifier"] == label_context().provenance.content_id
    assert classify(findings, declared_ai=False) == "confirmed"


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_files_without_a_manifest_are_absent(kind: str, credentials: Credentials) -> None:
    report = read_credentials(sample(kind), FORMATS[kind], credentials.anchors_pem)
    assert (report.state, report.error, report.manifests) == ("absent", None, 0)
    assert C2paInspector(credentials.anchors_pem).inspect(content(kind)) == []


def _signed_jpeg(credentials: Credentials) -> bytes:
    return C2paMarker(credentials).mark(content("jpeg"), label_context()).data


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("zero bytes", "image/jpeg"),
        ("truncated", "image/jpeg"),
        ("garbage", "image/jpeg"),
        ("garbage with no type", None),
        ("truncated named png", "image/png"),
    ],
)
def test_unreadable_files_are_absent_with_an_error_and_nothing_raises(
    name: str, media_type: str | None, credentials: Credentials
) -> None:
    data = {
        "zero bytes": b"",
        "truncated": _signed_jpeg(credentials)[:1500],
        "garbage": b"\x00\x01 not a media file " * 8,
        "garbage with no type": b"\x00\x01 not a media file " * 8,
        "truncated named png": _signed_jpeg(credentials)[:1500],
    }[name]
    report = read_credentials(data, media_type, credentials.anchors_pem)
    assert report.state == "absent" and report.error
    inspected = Content(MEDIUM["jpeg"], media_type or "application/octet-stream", data)
    assert C2paInspector(credentials.anchors_pem).inspect(inspected) == []


def test_a_wrongly_named_file_is_read_by_its_bytes(credentials: Credentials) -> None:
    signed = _signed_jpeg(credentials)
    for declared in ("image/png", "video/mp4", "application/octet-stream", None):
        assert read_credentials(signed, declared, credentials.anchors_pem).state == "Trusted"


def test_text_is_not_inspected(credentials: Credentials) -> None:
    assert C2paInspector(credentials.anchors_pem).inspect(Content.from_text("AI text")) == []
