"""PDF: the label as the info entry ``/AIGC`` and as XMP in the catalog's ``/Metadata``, appended
as an incremental update (the original bytes a prefix of the output), read back by exiftool and
pypdf; the page tree as the content, so C2PA's rewrite keeps the label valid and an appended page
edit breaks it; broken and encrypted files refused."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject
from test_c2pa_support import sign_as_other_tool
from test_gb45438_support import (
    EXIFTOOL,
    FOREIGN,
    FOREIGN_LABEL,
    cn_context,
    exiftool_warnings,
    label,
    needs_exiftool,
    pdf_document,
)

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.gb45438 import GB45438Inspector, GB45438Marker, KeyStore, write_xmp
from hallmark.mark.gb45438.pdf import content_digest

PDF = "application/pdf"
DC_TITLE = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Report</rdf:li></rdf:Alt></dc:title>'
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def inspect(data: bytes, keys: KeyStore) -> list[dict[str, object]]:
    return [f.detail for f in GB45438Inspector(keys).inspect(Content("document", PDF, data))]


def rewritten(data: bytes, edit: Callable[[PdfWriter], None], *, incremental: bool) -> bytes:
    """``data`` changed by another tool (pypdf): appended as an update, or rewritten whole."""
    writer = PdfWriter(io.BytesIO(data), incremental=incremental)
    edit(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    """A PDF from pypdf: a blank page, an info dict with only /Producer, no XMP."""
    writer = PdfWriter()
    writer.add_blank_page(200, 100)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def exiftool_pdf(path: Path) -> dict[str, object]:
    assert EXIFTOOL is not None
    args = [EXIFTOOL, "-j", "-G", "-PDF:AIGC", "-XMP-TC260:all", "-XMP-dc:Title", str(path)]
    out = subprocess.run(args, capture_output=True, check=True).stdout
    result: dict[str, object] = json.loads(out)[0]
    return result


@needs_exiftool
@pytest.mark.parametrize("make", [pdf_document, blank_pdf])
def test_an_appended_update_read_by_exiftool_and_pypdf(
    make: Callable[[], bytes], tmp_path: Path, keys: KeyStore
) -> None:
    original = make()
    labelled, fields = label(original, PDF, keys)
    assert labelled.startswith(original)
    [detail] = inspect(labelled, keys)
    assert (detail["ProduceID"], detail["integrity"]) == ("content-1", "valid")
    assert detail["serializations"] == ["xmp", "pdf-info"]
    path = tmp_path / "out.pdf"
    path.write_bytes(labelled)
    found = exiftool_pdf(path)
    assert found["PDF:AIGC"] == found["XMP:Aigc"] == fields.to_json()
    assert "Warning" not in exiftool_warnings(path)
    reader = PdfReader(io.BytesIO(labelled))
    assert reader.metadata is not None and reader.metadata["/AIGC"] == fields.to_json()
    assert len(reader.pages) == 1
    assert str(reader.trailer["/Root"]["/Version"]) == "/1.5"  # the update's xref stream
    kept = {k: v for k, v in reader.metadata.items() if k != "/AIGC"}
    assert kept == dict(PdfReader(io.BytesIO(original)).metadata or {})


def test_relabelling_appends_again_and_the_newest_label_is_read(keys: KeyStore) -> None:
    once, _ = label(pdf_document(), PDF, keys)
    twice = GB45438Marker(keys).mark(Content("document", PDF, once), cn_context()).data
    assert twice.startswith(once)
    [detail] = inspect(twice, keys)
    assert (detail["PropagateID"], detail["integrity"]) == ("ours-9", "valid")


@needs_exiftool
@pytest.mark.parametrize("compressed", [False, True])
def test_existing_xmp_properties_are_kept(compressed: bool, tmp_path: Path, keys: KeyStore) -> None:
    def add_xmp(writer: PdfWriter) -> None:
        writer.xmp_metadata = DC_TITLE.encode()
        if compressed:
            stream = writer.root_object["/Metadata"].get_object().flate_encode()
            writer.root_object[NameObject("/Metadata")] = writer._add_object(stream)

    original = rewritten(blank_pdf(), add_xmp, incremental=False)
    assert (b"/FlateDecode" in original) == compressed
    labelled, fields = label(original, PDF, keys)
    path = tmp_path / "out.pdf"
    path.write_bytes(labelled)
    found = exiftool_pdf(path)
    assert (found["XMP:Title"], found["XMP:Aigc"]) == ("Report", fields.to_json())


def test_a_foreign_info_label_is_unverifiable_then_propagated(keys: KeyStore) -> None:
    def foreign(writer: PdfWriter) -> None:
        writer.add_metadata({"/AIGC": FOREIGN_LABEL})
        writer.xmp_metadata = write_xmp(FOREIGN_LABEL)

    received = rewritten(pdf_document(), foreign, incremental=False)
    [before] = inspect(received, keys)
    assert (before["ContentProducer"], before["integrity"]) == (FOREIGN, "unverifiable")
    marked = GB45438Marker(keys).mark(Content("document", PDF, received), cn_context())
    assert marked.data.startswith(received)
    [after] = inspect(marked.data, keys)
    assert (after["ContentProducer"], after["ProduceID"]) == (FOREIGN, "their-7")
    assert (after["PropagateID"], after["integrity"]) == ("ours-9", "valid")


def test_the_c2pa_rewrite_keeps_the_page_tree(keys: KeyStore) -> None:
    labelled, fields = label(pdf_document(), PDF, keys)
    signed = sign_as_other_tool(labelled, PDF, "trainedAlgorithmicMedia")
    assert not signed.startswith(labelled)  # c2pa rewrites the whole file
    assert content_digest(signed) == content_digest(labelled)
    [detail] = inspect(signed, keys)
    assert (detail["ProduceID"], detail["integrity"]) == (fields.ProduceID, "valid")


def test_one_changed_image_byte_makes_the_label_invalid(keys: KeyStore) -> None:
    labelled, _ = label(pdf_document(), PDF, keys)
    at = labelled.index(b"stream", labelled.index(b"/Subtype /Image")) + 200
    changed = labelled[:at] + bytes([labelled[at] ^ 0x01]) + labelled[at + 1 :]
    assert inspect(changed, keys)[0]["integrity"] == "invalid"


def test_a_page_edit_appended_after_the_label_makes_it_invalid(keys: KeyStore) -> None:
    labelled, _ = label(pdf_document(), PDF, keys)

    def rotate(writer: PdfWriter) -> None:
        writer.pages[0].rotate(90)

    edited = rewritten(labelled, rotate, incremental=True)
    assert edited.startswith(labelled)
    assert inspect(edited, keys)[0]["integrity"] == "invalid"


def encrypted_pdf() -> bytes:
    def encrypt(writer: PdfWriter) -> None:
        writer.encrypt("", "owner", algorithm="RC4-128")

    return rewritten(blank_pdf(), encrypt, incremental=False)


BROKEN: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "empty"),
    "truncated": (lambda: pdf_document()[:-40], "truncated PDF"),
    "header only": (lambda: b"%PDF-1.7\n", "truncated PDF"),
    "garbage body": (
        lambda: b"%PDF-1.4\n" + b"x" * 200 + b"\nstartxref\n9\n%%EOF\n",
        "corrupt PDF",
    ),
    "no page tree": (
        lambda: (
            b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 2\n"
            b"0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Root 1 0 R /Size 2 >>\n"
            b"startxref\n48\n%%EOF\n"
        ),
        "no document catalog with a page tree",
    ),
    "encrypted": (encrypted_pdf, "encrypted PDFs"),
    "not a pdf": (lambda: b"%!PS-Adobe-3.0\n" + pdf_document()[8:], "not a PDF file"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_files_are_user_errors(case: str, keys: KeyStore) -> None:
    make, message = BROKEN[case]
    broken = make()
    with pytest.raises(UserError, match=message):
        label(broken, PDF, keys)
    if broken:
        with pytest.raises(UserError, match=message):
            inspect(broken, keys)
