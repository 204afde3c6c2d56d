"""PNG: iTXt AIGC + iTXt XMP before IDAT, pixels untouched, read back by Pillow and exiftool,
and every PNG text form read."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from test_gb45438_support import (
    exiftool_json,
    exiftool_warnings,
    exiftool_xmp,
    image,
    label,
    needs_exiftool,
    pixels,
)

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.gb45438 import GB45438Inspector, KeyStore, format_for
from hallmark.mark.gb45438.png import chunks, read
from hallmark.mark.gb45438.xmp import NS_TC260

PNG = "image/png"


def inspect(data: bytes, keys: KeyStore) -> list[dict[str, object]]:
    return [f.detail for f in GB45438Inspector(keys).inspect(Content("image", PNG, data))]


def raw_chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """(type, data, crc) straight from the bytes, independent of the module under test."""
    out, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        out.append((kind, body, crc))
        pos += 12 + length
    return out


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_labelling_keeps_pixels_and_idat_bytes_identical(mode: str, keys: KeyStore) -> None:
    original = image("png", mode=mode)
    labelled, _ = label(original, PNG, keys)
    assert pixels(labelled) == pixels(original)
    idat = [c[1] for c in raw_chunks(original) if c[0] == b"IDAT"]
    assert [c[1] for c in raw_chunks(labelled) if c[0] == b"IDAT"] == idat
    for kind, body, crc in raw_chunks(labelled):
        assert zlib.crc32(kind + body) == crc
    order = [c[0] for c in raw_chunks(labelled)]
    assert order.index(b"iTXt") < order.index(b"IDAT") and order[0] == b"IHDR"


def test_pillow_and_our_reader_agree(keys: KeyStore) -> None:
    labelled, fields = label(image("png"), PNG, keys)
    with Image.open(io.BytesIO(labelled)) as picture:
        assert isinstance(picture, PngImagePlugin.PngImageFile)
        assert picture.text["AIGC"] == fields.to_json()
        assert NS_TC260 in picture.info["xmp"].decode()
    [detail] = inspect(labelled, keys)
    assert detail["integrity"] == "valid"
    assert detail["serializations"] == ["xmp", "png-itxt"]
    assert {k: detail[k] for k in fields.to_dict()} == fields.to_dict()


@needs_exiftool
def test_exiftool_reads_the_text_chunk_and_the_xmp(tmp_path: Path, keys: KeyStore) -> None:
    labelled, fields = label(image("png"), PNG, keys)
    path = tmp_path / "labelled.png"
    path.write_bytes(labelled)
    assert exiftool_json(path)["Aigc"] == fields.to_json()
    root = ET.fromstring(exiftool_xmp(path).split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    values = [e.get(f"{{{NS_TC260}}}AIGC") for e in root.iter() if e.get(f"{{{NS_TC260}}}AIGC")]
    assert values == [fields.to_json()]
    assert "Warning" not in exiftool_warnings(path)


def test_relabelling_replaces_rather_than_adds(keys: KeyStore) -> None:
    once, _ = label(image("png"), PNG, keys)
    twice, fields = label(once, PNG, keys)
    texts = [c.data.split(b"\x00")[0] for c in chunks(twice) if c.type == b"iTXt"]
    assert sorted(texts) == [b"AIGC", b"XML:com.adobe.xmp"]
    assert [r.fields for r in read(twice)] == [fields, fields]


@pytest.mark.parametrize(
    ("add", "serialization"),
    [
        (lambda info, v: info.add_text("AIGC", v), "png-text"),
        (lambda info, v: info.add_text("AIGC", v, zip=True), "png-ztxt"),
        (lambda info, v: info.add_itxt("AIGC", v, zip=True), "png-itxt"),
    ],
)
def test_text_chunks_from_other_writers_are_read(add: object, serialization: str) -> None:
    value = '{"Label":"1","ContentProducer":"001191110102MACQD9K64010000","ProduceID":"x"}'
    info = PngImagePlugin.PngInfo()
    add(info, value)  # type: ignore[operator]
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buffer, format="PNG", pnginfo=info)
    [found] = read(buffer.getvalue())
    assert found.serialization == serialization and found.fields is not None
    assert found.fields.ProduceID == "x"


def test_exif_user_comment_in_exif_chunk_is_read() -> None:
    exif = Image.Exif()
    comment = b'{"AIGC":{"Label":"2","ContentProducer":"0011","ProduceID":"e"}}'
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + comment
    data = image("png", exif=exif.tobytes())
    [found] = read(data)
    assert found.serialization == "exif-usercomment"
    assert found.fields is not None and found.fields.Label == "2"


def test_changing_one_pixel_byte_makes_the_label_invalid(keys: KeyStore) -> None:
    labelled, _ = label(image("png"), PNG, keys)
    pos = labelled.index(b"IDAT")
    (length,) = struct.unpack_from(">I", labelled, pos - 4)
    body = bytearray(labelled[pos + 4 : pos + 4 + length])
    body[-5] ^= 0x01
    crc = struct.pack(">I", zlib.crc32(b"IDAT" + bytes(body)))
    tampered = labelled[: pos + 4] + bytes(body) + crc + labelled[pos + 8 + length :]
    assert inspect(tampered, keys)[0]["integrity"] == "invalid"


def test_a_label_copied_onto_another_picture_is_invalid(keys: KeyStore) -> None:
    labelled, _ = label(image("png"), PNG, keys)
    other = Image.open(io.BytesIO(image("png")))
    other.putpixel((0, 0), (0, 0, 1))
    buffer = io.BytesIO()
    other.save(buffer, format="PNG")
    found = format_for(PNG, labelled)
    assert found is not None
    label_chunks = [c.raw for c in chunks(labelled) if c.type == b"iTXt"]
    target = buffer.getvalue()
    at = target.index(b"IDAT") - 4
    forged = target[:at] + b"".join(label_chunks) + target[at:]
    assert inspect(forged, keys)[0]["integrity"] == "invalid"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"", "empty"),
        (lambda d: d[:8], "truncated"),
        (lambda d: d[:-20], "truncated|past the end"),
        (lambda d: d[:8] + b"\x7f\xff\xff\xff" + d[12:], "past the end"),
        (lambda d: d[:12] + b"IH\x00R" + d[16:], "bad chunk type"),
        (lambda d: b"\x89PNX" + d[4:], "not a PNG"),
    ],
)
def test_broken_files_are_user_errors(mutate: object, message: str, keys: KeyStore) -> None:
    broken = mutate(image("png"))  # type: ignore[operator]
    with pytest.raises(UserError, match=message):
        label(broken, PNG, keys)
    if broken:
        with pytest.raises(UserError, match=message):
            inspect(broken, keys)
