"""JPEG: the XMP APP1 segment after SOI/APP0/EXIF, replacing an old one; scan data untouched;
EXIF UserComment labels read; broken files refused with a UserError."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from PIL import Image
from test_gb45438_support import (
    FOREIGN,
    exiftool_warnings,
    exiftool_xmp,
    image,
    label,
    needs_exiftool,
    pixels,
)

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.gb45438 import AIGCFields, GB45438Inspector, KeyStore, format_for
from hallmark.mark.gb45438.jpeg import (
    XMP_HEADER,
    JpegFile,
    content_digest,
    layout,
    read,
    write,
)

JPEG = "image/jpeg"
COMMENT = json.dumps({"AIGC": {"Label": "1", "ContentProducer": FOREIGN, "ProduceID": "u1"}})


def inspect(data: bytes, keys: KeyStore, media_type: str = JPEG) -> list[dict[str, object]]:
    return [f.detail for f in GB45438Inspector(keys).inspect(Content("image", media_type, data))]


def with_exif(**save: object) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + COMMENT.encode()
    return image("jpeg", exif=exif.tobytes(), **save)


def markers(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, first payload bytes) of the segments before the scan, read independently."""
    out, pos = [], 2
    while data[pos + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", data, pos + 2)
        out.append((data[pos + 1], data[pos + 4 : pos + 10]))
        pos += 2 + length
    return out


@pytest.mark.parametrize("save", [{}, {"progressive": True}, {"quality": 50, "subsampling": 0}])
def test_labelling_keeps_pixels_and_scan_bytes_identical(
    save: dict[str, object], keys: KeyStore
) -> None:
    original = image("jpeg", **save)
    labelled, _ = label(original, JPEG, keys)
    assert pixels(labelled) == pixels(original)
    scan = original[original.index(b"\xff\xda") :]
    assert labelled.endswith(scan)
    order = markers(labelled)
    assert order[0][0] == 0xE0 and order[1] == (0xE1, XMP_HEADER[:6])
    assert inspect(labelled, keys)[0]["integrity"] == "valid"
    with Image.open(io.BytesIO(labelled)) as picture:
        assert "TC260:AIGC" in picture.info["xmp"].decode()


def test_xmp_goes_after_exif_which_is_kept(keys: KeyStore) -> None:
    labelled, _ = label(with_exif(), JPEG, keys)
    order = markers(labelled)
    assert [m for m, _ in order[:3]] == [0xE0, 0xE1, 0xE1]
    assert order[1][1].startswith(b"Exif") and order[2][1] == XMP_HEADER[:6]
    with Image.open(io.BytesIO(labelled)) as picture:
        assert picture.getexif()[0x010F] == "Camera Maker"


def test_relabelling_replaces_the_xmp_and_keeps_its_other_properties(keys: KeyStore) -> None:
    dc = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        '22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'dc:format="image/jpeg"/></rdf:RDF></x:xmpmeta>'
    )
    once, _ = label(image("jpeg", xmp=dc.encode()), JPEG, keys)
    twice, fields = label(once, JPEG, keys)
    xmp = [s for s in layout(twice).header if s.is_xmp]
    assert len(xmp) == 1 and b'dc:format="image/jpeg"' in xmp[0].payload
    [detail] = inspect(twice, keys)
    assert detail["ProduceID"] == fields.ProduceID and detail["integrity"] == "valid"


@needs_exiftool
def test_exiftool_sees_the_label_in_the_raw_xmp(tmp_path: Path, keys: KeyStore) -> None:
    labelled, fields = label(with_exif(), JPEG, keys)
    path = tmp_path / "labelled.jpg"
    path.write_bytes(labelled)
    raw = exiftool_xmp(path)
    assert fields.to_json().replace('"', "&quot;") in raw
    path.write_bytes(label(image("jpeg"), JPEG, keys)[0])
    assert "Warning" not in exiftool_warnings(path)


def test_exif_user_comment_label_is_read_as_unverifiable(keys: KeyStore) -> None:
    [detail] = inspect(with_exif(), keys)
    assert detail["serialization"] == "exif-usercomment"
    assert (detail["ContentProducer"], detail["integrity"]) == (FOREIGN, "unverifiable")


def test_one_changed_scan_byte_makes_the_label_invalid(keys: KeyStore) -> None:
    labelled, _ = label(image("jpeg"), JPEG, keys)
    at = labelled.index(b"\xff\xda") + 40
    changed = labelled[:at] + bytes([labelled[at] ^ 0x02 or 1]) + labelled[at + 1 :]
    assert inspect(changed, keys)[0]["integrity"] == "invalid"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d[:3], "truncated"),
        (lambda d: d[: d.index(b"\xff\xda") + 30], "end-of-image marker is missing"),
        (lambda d: d[:4] + b"\xff\xff" + d[6:], "past the end"),
        (lambda d: d[:2] + b"\x00" + d[3:], "expected a marker"),
        (lambda d: b"\xff\xd8\xff\xd9", "end of image before"),
        (lambda d: image("png"), "sent as image/jpeg but is a PNG file"),
        (lambda d: b"GIF89a" + d, "not a JPEG file"),
    ],
)
def test_broken_or_misnamed_files_are_user_errors(
    mutate: object, message: str, keys: KeyStore
) -> None:
    broken = mutate(image("jpeg"))  # type: ignore[operator]
    with pytest.raises(UserError, match=message):
        label(broken, JPEG, keys)
    with pytest.raises(UserError, match=message):
        inspect(broken, keys)


def test_an_empty_file_is_a_user_error(keys: KeyStore) -> None:
    with pytest.raises(UserError, match="empty"):
        label(b"", JPEG, keys)


def test_a_jpeg_parsed_once_reads_digests_and_writes_as_the_module_functions_do(
    keys: KeyStore,
) -> None:
    labelled, _ = label(with_exif(), JPEG, keys)
    found = format_for(JPEG, labelled)
    assert found is not None
    container = found.open(labelled)
    assert isinstance(container, JpegFile)
    assert container.read() == read(labelled)
    assert container.content_digest() == content_digest(labelled) == content_digest(with_exif())
    relabelled = AIGCFields(Label="2", ContentProducer=FOREIGN, ProduceID="u2")
    assert container.write(relabelled) == write(labelled, relabelled)
