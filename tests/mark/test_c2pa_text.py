"""C2PA Content Credentials in plain text and Markdown (C2PA 2.4 Appendix A.8): the wrapper's
byte mapping and deterministic size, signing that reads back trusted with hallmark's CA and
invalid after any change to the text, the GB 45438 label and explicit notices unaffected, bad
wrappers reported without a crash, and the CLI marking Markdown for the EU."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import struct
import unicodedata
from collections.abc import Callable
from pathlib import Path

import c2pa
import pytest
from test_c2pa_support import CONTENT_ID, label_context
from test_gb45438_support import label

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.base import classify
from hallmark.mark.c2pa import C2paInspector, C2paMarker, Sb942Marker
from hallmark.mark.c2pa import text as c2pa_text
from hallmark.mark.c2pa.credentials import Credentials, load_or_create_own
from hallmark.mark.c2pa.manifest import COMPOSITE, TRAINED
from hallmark.mark.c2pa.reader import CredentialReport, open_store, read_credentials
from hallmark.mark.gb45438 import GB45438Inspector, KeyStore
from hallmark.mark.inspect_text import TextLabelInspector
from helpers import run_cli

MD = "text/markdown"
NOTE = "---\ntitle: Note\n---\n# Note\n\nA paragraph with ünïcode, 中文 and an emoji 🙂.\r\n"


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return load_or_create_own(tmp_path_factory.mktemp("keys") / "c2pa")


def document(text: str = NOTE, media_type: str = MD) -> Content:
    return Content("document", media_type, text.encode())


def sign(data: bytes, credentials: Credentials, media_type: str = MD) -> bytes:
    marked = C2paMarker(credentials).mark(Content("document", media_type, data), label_context())
    assert marked.media_type == media_type
    return marked.data


def read(data: bytes, credentials: Credentials, media_type: str = MD) -> CredentialReport:
    return read_credentials(data, media_type, credentials.anchors_pem)


def selectors(data: bytes) -> str:
    """The variation selectors for ``data``, written out from A.8's table."""
    return "".join(chr(0xFE00 + b) if b <= 0x0F else chr(0xE0100 + b - 0x10) for b in data)


# -- the wrapper ---------------------------------------------------------------------------


def test_the_wrapper_is_the_marker_then_one_selector_per_header_and_store_byte() -> None:
    store = bytes([0x00, 0x0F, 0x10, 0x7F, 0xFF])
    wrapper = c2pa_text.encode(store)
    header = b"C2PATXT\x00" + bytes([1]) + struct.pack(">I", len(store))
    assert wrapper.startswith("\ufeff" + selectors(header + store))
    assert wrapper[1 + 8] == "\ufe01"  # the version byte, 1
    assert [wrapper[1 + 13 + i] for i in range(5)] == [
        "\ufe00",
        "\ufe0f",
        "\U000e0100",
        "\U000e016f",
        "\U000e01ef",
    ]
    padding = wrapper[1 + 13 + len(store) :]
    assert set(padding) <= {"\ufe00", "\U000e0100"}  # A.8's padding bytes, 0x00 and 0x10
    assert {unicodedata.category(ch) for ch in wrapper[1:]} == {"Mn"}  # nothing renders


@pytest.mark.parametrize("size", [0, 1, 2, 5, 13, 100, 3000])
def test_the_wrapper_has_the_deterministic_size_for_any_store_bytes(size: int) -> None:
    rng = random.Random(size)
    for store in (bytes(size), b"\xff" * size, rng.randbytes(size)):
        assert len(c2pa_text.encode(store).encode()) == c2pa_text.wrapper_size(size)
    assert c2pa_text.wrapper_size(size) == 3 + 4 * (13 + size) + 6


@pytest.mark.parametrize(
    "text",
    ["Hello world.", "", "\ufeffBOM first\r\n", "中文 🙂 e\u0301", "ends with a selector \ufe0f"],
)
def test_locate_finds_the_store_and_strip_gives_back_the_text_exactly(text: str) -> None:
    store = random.Random(1).randbytes(700)
    data = text.encode() + c2pa_text.encode(store).encode()
    (wrapper,) = c2pa_text.locate(data)
    assert (wrapper.start, wrapper.end, wrapper.store) == (len(text.encode()), len(data), store)
    assert c2pa_text.strip(data) == text.encode()


def test_a_marker_followed_by_other_selectors_is_not_a_wrapper() -> None:
    data = (
        "\ufeff\ufe0f emoji presentation, and \ufeff".encode() + selectors(b"NOTC2PA!xyz").encode()
    )
    assert c2pa_text.locate(data) == []
    assert c2pa_text.strip(data) == data


# -- signing and reading ---------------------------------------------------------------------


@pytest.mark.parametrize("media_type", ["text/markdown", "text/plain", "text/x-markdown"])
def test_a_signed_text_reads_back_trusted_with_the_sb942_fields(
    media_type: str, credentials: Credentials
) -> None:
    signed = sign(NOTE.encode(), credentials, media_type)
    assert signed.startswith(NOTE.encode()) and c2pa_text.strip(signed) == NOTE.encode()
    assert signed.decode("utf-8").endswith(
        c2pa_text.encode(c2pa_text.locate(signed)[0].store or b"")
    )
    report = read(signed, credentials, media_type)
    assert report.state == "Trusted", report.status_codes
    assert report.status_codes == () and report.manifests == 1
    assert report.digital_source_types == (TRAINED,)
    assert report.signer_common_name == "hallmark C2PA signer"
    assert report.claim_generator is not None and report.claim_generator.startswith("hallmark ")
    assert report.title == f"{CONTENT_ID}.{'txt' if media_type == 'text/plain' else 'md'}"
    assert report.sb942 is not None and report.sb942["identifier"] == CONTENT_ID
    assert (report.sb942["provider"], report.sb942["system_name"]) == ("hallmark", "echo")


def test_c2pa_rs_itself_validates_the_signature_trust_and_hash(credentials: Credentials) -> None:
    """c2pa's Reader, given the store from the wrapper and the text, trusts the signer (our CA
    as anchor) and matches the hash; its only failure is that it cannot see the store's
    location in text, which hallmark checks itself."""
    signed = sign(NOTE.encode(), credentials)
    (wrapper,) = c2pa_text.locate(signed)
    config = {
        "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False},
        "trust": {"trust_anchors": credentials.anchors_pem.decode()},
    }
    with (
        c2pa.Context.from_dict(config) as context,
        c2pa.Reader(MD, io.BytesIO(signed), wrapper.store, context) as reader,
    ):
        store = json.loads(reader.json())
        detailed = json.loads(reader.detailed_json())
    results = store["validation_results"]["activeManifest"]
    codes = {s["code"] for s in results["success"]}
    assert {"signingCredential.trusted", "claimSignature.validated"} <= codes
    assert "assertion.dataHash.match" in codes
    assert {f["code"] for f in results["failure"]} == {c2pa_text.DATA_HASH_MISMATCH}
    binding = detailed["manifests"][detailed["active_manifest"]]["assertion_store"]
    exclusions = binding[c2pa_text.DATA_HASH_LABEL]["exclusions"]
    assert exclusions == [{"start": wrapper.start, "length": wrapper.length}]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.replace(b"paragraph", b"paragraqh", 1),
        lambda d: d.replace("中".encode(), "申".encode(), 1),
        lambda d: d.replace(b"Note\n\n", b"Note\n", 1),
        lambda d: b"#" + d,
        lambda d: d + b"!",
    ],
    ids=["one letter", "one CJK character", "one deleted", "one prepended", "one appended"],
)
def test_one_changed_character_makes_the_credentials_invalid(
    tamper: Callable[[bytes], bytes], credentials: Credentials
) -> None:
    signed = sign(NOTE.encode(), credentials)
    report = read(tamper(signed), credentials)
    assert report.state == "Invalid"
    assert report.status_codes == (c2pa_text.DATA_HASH_MISMATCH,)
    assert report.sb942 is not None  # the manifest is still read, and reported as broken


def test_a_tampered_exclusion_is_not_accepted(credentials: Credentials) -> None:
    signed = sign(NOTE.encode(), credentials)
    (wrapper,) = c2pa_text.locate(signed)
    assert wrapper.store is not None
    moved = c2pa_text.Wrapper(wrapper.start - 1, wrapper.end - 1, wrapper.store)
    binding = {
        "exclusions": [{"start": wrapper.start, "length": wrapper.length}],
        "alg": "sha256",
        "hash": base64.b64encode(c2pa_text.content_hash(NOTE.encode()) or b"").decode(),
    }
    assert c2pa_text.binding_holds(signed, wrapper, binding)
    assert not c2pa_text.binding_holds(signed, moved, binding)
    assert not c2pa_text.binding_holds(signed, wrapper, {**binding, "alg": "md5"})
    wider = {**binding, "exclusions": [{"start": wrapper.start - 1, "length": wrapper.length + 1}]}
    assert not c2pa_text.binding_holds(signed, wrapper, wider)


def test_the_hash_is_over_nfc_text_so_a_decomposed_text_still_reads_trusted(
    credentials: Credentials,
) -> None:
    decomposed = unicodedata.normalize("NFD", "Crème brûlée, Ångström.\n")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    composed = hashlib.sha256(unicodedata.normalize("NFC", decomposed).encode()).digest()
    assert c2pa_text.content_hash(decomposed.encode()) == composed
    signed = sign(decomposed.encode(), credentials, "text/plain")
    assert c2pa_text.strip(signed) == decomposed.encode()  # the text itself is left as it was
    assert read(signed, credentials, "text/plain").state == "Trusted"


def test_without_our_ca_the_signature_is_valid_but_untrusted(credentials: Credentials) -> None:
    signed = sign(NOTE.encode(), credentials)
    report = read_credentials(signed, MD)
    assert report.state == "Valid" and report.status_codes == ("signingCredential.untrusted",)


def test_text_without_a_wrapper_is_absent(credentials: Credentials) -> None:
    for data in (NOTE.encode(), b"plain", "\ufeffBOM and \ufe0f".encode()):
        report = read(data, credentials)
        assert (report.state, report.error) == ("absent", None)
        assert C2paInspector(credentials.anchors_pem).inspect(document(data.decode())) == []


BAD_WRAPPERS = (
    "cut in the store",
    "cut in the header",
    "length past the end",
    "unknown version",
    "two wrappers",
    "not a manifest store",
    "a truncated store",
    "an empty store",
)


def bad_wrapper(case: str, signed: bytes) -> str:
    """``signed`` (a text and its wrapper) with the wrapper broken as ``case`` says."""
    (wrapper,) = c2pa_text.locate(signed)
    store = wrapper.store or b""
    text, whole = c2pa_text.strip(signed).decode(), signed.decode()
    header = b"C2PATXT\x00" + bytes([1])
    cases = {
        "cut in the store": whole[: len(text) + 1 + 200],  # 200 of the selectors
        "cut in the header": whole[: len(text) + 1 + 10],
        "length past the end": text
        + "\ufeff"
        + selectors(header + struct.pack(">I", 10_000) + store[:50]),
        "unknown version": text + "\ufeff" + selectors(b"C2PATXT\x00\x07\x00\x00\x00\x01a"),
        "two wrappers": whole + c2pa_text.encode(store),
        "not a manifest store": text + c2pa_text.encode(random.Random(3).randbytes(500)),
        "a truncated store": text + c2pa_text.encode(store[: len(store) // 2]),
        "an empty store": text + c2pa_text.encode(b""),
    }
    return cases[case]


@pytest.mark.parametrize("case", BAD_WRAPPERS)
def test_a_bad_wrapper_reads_invalid_or_absent_and_is_replaced_when_marking(
    case: str, credentials: Credentials
) -> None:
    data = bad_wrapper(case, sign(NOTE.encode(), credentials))
    report = read(data.encode(), credentials)
    assert report.state in ("Invalid", "absent")
    if report.state == "absent":
        assert report.error is not None  # unreadable, and said so
    if case in BAD_WRAPPERS[:4]:
        assert (report.state, report.status_codes) == ("Invalid", (c2pa_text.CORRUPTED,))
    if case == "two wrappers":
        assert (report.state, report.status_codes) == ("Invalid", (c2pa_text.MULTIPLE,))
    findings = C2paInspector(credentials.anchors_pem).inspect(document(data))
    assert not any(f.detail.get("state") == "Trusted" for f in findings)
    again = C2paMarker(credentials).mark(document(data), label_context("c-again"))
    assert len(c2pa_text.locate(again.data)) == 1
    assert c2pa_text.strip(again.data) == c2pa_text.strip(data.encode())
    assert read(again.data, credentials).state == "Trusted"


# -- alongside the other labels ----------------------------------------------------------------


def test_the_gb45438_label_stays_valid_under_the_wrapper(
    credentials: Credentials, tmp_path: Path
) -> None:
    keys = KeyStore(tmp_path / "keys")
    labelled, fields = label(NOTE.encode(), MD, keys)
    signed = sign(labelled, credentials)
    assert c2pa_text.strip(signed) == labelled
    (finding,) = GB45438Inspector(keys).inspect(Content("document", MD, signed))
    assert finding.detail["integrity"] == "valid"
    assert finding.detail["ProduceID"] == fields.ProduceID
    assert read(signed, credentials).state == "Trusted"
    # A change to the text breaks both labels, each on its own.
    tampered = signed.replace(b"paragraph", b"paragraqh")
    (broken,) = GB45438Inspector(keys).inspect(Content("document", MD, tampered))
    assert broken.detail["integrity"] != "valid"
    assert read(tampered, credentials).state == "Invalid"


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("Plain words.\n", None),
        ("> AI-generated\n\nBody.\n", "AI-generated"),
        ("This note is AI{}-generated.\n", "AI-generated"),
    ],
)
def test_explicit_notices_are_read_through_the_wrapper(text: str, notice: str | None) -> None:
    head, _, tail = text.partition("{}")
    wrapper = c2pa_text.encode(random.Random(5).randbytes(300))
    data = (head + wrapper + tail).encode()  # A.8 lets a reader meet a wrapper anywhere
    findings = TextLabelInspector().inspect(Content("document", MD, data))
    assert [f.detail["text"] for f in findings] == ([notice] if notice else [])


def test_the_inspector_reports_an_implicit_label_and_the_sb942_disclosure(
    credentials: Credentials,
) -> None:
    signed = sign(NOTE.encode(), credentials)
    for content in (Content("document", MD, signed), Content("text", "text/plain", signed)):
        findings = C2paInspector(credentials.anchors_pem).inspect(content)
        assert [(f.scheme, f.kind) for f in findings] == [
            ("c2pa", "implicit"),
            ("sb942", "implicit"),
        ]
        assert findings[0].detail["state"] == "Trusted" and findings[0].detail["Label"] == "1"
        assert findings[1].detail["identifier"] == CONTENT_ID
        assert classify(findings, declared_ai=False) == "confirmed"


def test_sb942_then_c2pa_writes_one_wrapper(credentials: Credentials) -> None:
    context = label_context()
    first = Sb942Marker(credentials).mark(document(), context)
    second = C2paMarker(credentials).mark(first, context)
    assert second.data == first.data and len(c2pa_text.locate(second.data)) == 1


def test_a_new_content_id_replaces_the_wrapper_and_keeps_the_earlier_manifest(
    credentials: Credentials,
) -> None:
    first = C2paMarker(credentials).mark(document(), label_context("c-first"))
    second = C2paMarker(credentials).mark(first, label_context("c-second"))
    assert len(c2pa_text.locate(second.data)) == 1
    assert c2pa_text.strip(second.data) == NOTE.encode()
    report = read(second.data, credentials)
    assert (report.state, report.manifests) == ("Trusted", 2)
    assert report.sb942 is not None and report.sb942["identifier"] == "c-second"
    store = open_store(second.data, MD, credentials.anchors_pem)
    active = store["manifests"][store["active_manifest"]]
    assert [i["relationship"] for i in active["ingredients"]] == ["componentOf"]


def test_edited_text_is_declared_as_an_edit(credentials: Credentials) -> None:
    context = label_context(digital_source_type="compositeWithTrainedAlgorithmicMedia")
    marked = C2paMarker(credentials).mark(document(), context)
    report = read(marked.data, credentials)
    assert report.state == "Trusted" and report.digital_source_types == (COMPOSITE,)
    assert report.sb942 is not None and report.sb942["event"] == "altered"
    store = open_store(marked.data, MD, credentials.anchors_pem)
    active = store["manifests"][store["active_manifest"]]
    assert [i["relationship"] for i in active["ingredients"]] == ["parentOf"]


def test_text_that_is_not_utf8_is_refused_with_a_user_error(credentials: Credentials) -> None:
    with pytest.raises(UserError, match="not UTF-8"):
        C2paMarker(credentials).mark(Content("document", MD, b"caf\xe9\n"), label_context())


# -- end to end ----------------------------------------------------------------------------------


@pytest.mark.parametrize("jurisdictions", ["eu", "cn,eu,us-ca"])
def test_the_cli_marks_markdown_and_inspects_it_trusted(
    jurisdictions: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    source, target = tmp_path / "in.md", tmp_path / "out.md"
    source.write_text(NOTE, "utf-8", newline="")
    result = run_cli(["mark", str(source), str(target), "--jurisdiction", jurisdictions], cli_env)
    assert result.returncode == 0, result.stderr
    assert "c2pa" in json.loads(result.stdout)["labels"]
    inspected = run_cli(["inspect", str(target), "--json"], cli_env)
    assert inspected.returncode == 0, inspected.stderr
    report = json.loads(inspected.stdout)
    assert report["media_type"] == MD and report["verdict"] == "confirmed"
    assert report["c2pa"]["state"] == "Trusted" and report["c2pa"]["status_codes"] == []
    if "cn" in jurisdictions:
        assert report["gb45438"]["integrity"] == "valid"
        assert report["explicit"]  # cn's explicit notice, read past the wrapper
    if "us-ca" in jurisdictions:
        assert report["sb942"]["state"] == "Trusted"
