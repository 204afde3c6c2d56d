"""PDF: the label as the document information entry ``/AIGC`` (the JSON as a text string) and as
``TC260:AIGC`` in the catalog's ``/Metadata`` XMP stream, written as an incremental update.

The update is appended (pypdf's incremental writer, which adds only the changed objects and a
cross-reference stream pointing back at the file's own): every original byte stays where it was,
so signatures over earlier revisions still hold. A file whose header says a version below 1.5
gets ``/Version /1.5`` in the catalog, as a cross-reference stream needs. Readers take the
newest revision's XMP and info entry. Encrypted PDFs are refused.

The content's "bytes without metadata" are the page tree: every object reachable from the
catalog's ``/Pages`` (page contents, resources, fonts, images, annotations), hashed by value, so
neither object numbers nor serialization count. That survives this label's update and C2PA's
manifest (an embedded file that c2pa adds by rewriting the file) and catches any page edit.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from hallmark.errors import UserError
from hallmark.mark.gb45438.fields import MAX_LABEL_CHARS, AIGCFields, Reading, reading
from hallmark.mark.gb45438.xmp import read_xmp, write_xmp

HEADER = b"%PDF-"
INFO_KEY = "/AIGC"
XREF_STREAM_VERSION = "1.5"
# Not part of the content: metadata a page or resource may carry.
_SKIPPED_KEYS = frozenset({"/Metadata", "/PieceInfo", "/LastModified", "/Length"})
# What pypdf raises on malformed input besides its own errors.
_PARSE_ERRORS = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    AssertionError,
    RecursionError,
    struct.error,
    zlib.error,
)


def is_pdf(data: bytes) -> bool:
    return HEADER in data[:1024]


def open_pdf(data: bytes) -> PdfReader:
    """The parsed document; UserError for anything that is not a whole, unencrypted PDF."""
    if not data:
        raise UserError("the PDF file is empty")
    if not is_pdf(data):
        raise UserError("not a PDF file: the %PDF- header is missing")
    if b"%%EOF" not in data[-1024:] or b"startxref" not in data[-2048:]:
        raise UserError("truncated PDF: the startxref / %%EOF end marker is missing")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if not encrypted:
            _catalog(reader)
    except UserError:
        raise
    except _PARSE_ERRORS as exc:
        raise UserError(f"corrupt PDF: {exc}") from None
    if encrypted:
        raise UserError("encrypted PDFs cannot be labelled or inspected")
    return reader


def _catalog(reader: PdfReader) -> DictionaryObject:
    root = reader.trailer.get("/Root")
    catalog = root.get_object() if root is not None else None
    if not isinstance(catalog, DictionaryObject) or "/Pages" not in catalog:
        raise UserError("corrupt PDF: no document catalog with a page tree")
    return catalog


def _xmp_packet(catalog: DictionaryObject) -> bytes | None:
    stream = catalog.get("/Metadata")
    stream = stream.get_object() if stream is not None else None
    if not isinstance(stream, StreamObject) or len(stream._data) > MAX_LABEL_CHARS:
        return None
    filters = stream.get("/Filter")
    if filters is None:
        return stream._data
    if filters not in ("/FlateDecode", ["/FlateDecode"]) or "/DecodeParms" in stream:
        return None  # XMP is meant to be stored unfiltered; other filters are not read
    inflater = zlib.decompressobj()
    try:
        packet = inflater.decompress(stream._data, MAX_LABEL_CHARS)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else packet


def read(data: bytes) -> list[Reading]:
    """The newest revision's XMP property, then its document information entry."""
    reader = open_pdf(data)
    try:
        packet = _xmp_packet(_catalog(reader))
        info = reader.trailer.get("/Info")
        info = info.get_object() if info is not None else None
        value = info.get(INFO_KEY) if isinstance(info, DictionaryObject) else None
    except UserError:
        raise
    except _PARSE_ERRORS as exc:
        raise UserError(f"corrupt PDF: {exc}") from None
    found = [] if packet is None else read_xmp(packet)
    if value is not None:
        text = str(value.get_object())
        if len(text) <= MAX_LABEL_CHARS:
            found.append(reading("pdf-info", text))
    return found


def _header_version(reader: PdfReader) -> tuple[int, ...]:
    digits = reader.pdf_header.removeprefix("%PDF-").strip()
    try:
        return tuple(int(part) for part in digits.split(".")[:2])
    except ValueError:
        return (1, 0)


def write(data: bytes, fields: AIGCFields) -> bytes:
    """``data`` with an incremental update appended that sets the label."""
    # An update starts on a line of its own: pypdf appends right after the last byte.
    base = data if data.endswith((b"\n", b"\r")) else data + b"\n"
    reader = open_pdf(base)
    json_text = fields.to_json()
    try:
        packet = write_xmp(json_text, _xmp_packet(_catalog(reader)))
        writer = PdfWriter(reader, incremental=True)
        writer.add_metadata({INFO_KEY: json_text})
        writer.xmp_metadata = packet
        catalog = writer.root_object
        stream = catalog["/Metadata"].get_object()
        assert isinstance(stream, StreamObject)  # the setter made or kept one
        stream[NameObject("/Type")] = NameObject("/Metadata")
        stream[NameObject("/Subtype")] = NameObject("/XML")
        declared = catalog.get("/Version")
        if _header_version(reader) < (1, 5) and (declared is None or str(declared) < "/1.5"):
            catalog[NameObject("/Version")] = NameObject("/" + XREF_STREAM_VERSION)
        out = io.BytesIO()
        writer.write(out)
    except UserError:
        raise
    except (*_PARSE_ERRORS, NotImplementedError) as exc:
        raise UserError(f"the PDF cannot be updated: {exc}") from None
    labelled = out.getvalue()
    if not labelled.startswith(base):
        raise UserError("the PDF could not be updated without rewriting it")
    return labelled


def _scalar(value: Any) -> bytes:
    """A canonical encoding of a non-container PDF object."""
    if isinstance(value, BooleanObject):
        return b"true" if value else b"false"
    if isinstance(value, NumberObject | FloatObject):
        number = float(value)
        return b"n" + (str(int(number)) if number.is_integer() else repr(number)).encode()
    if isinstance(value, NameObject):
        return b"/" + str(value).encode("utf-8", errors="surrogateescape")
    if isinstance(value, TextStringObject):
        raw = value.original_bytes
        return b"s" + struct.pack(">I", len(raw)) + raw
    if isinstance(value, bytes):
        return b"s" + struct.pack(">I", len(value)) + value
    return b"null" if value is None else type(value).__name__.encode()


def content_digest(data: bytes) -> str:
    """SHA-256 over the page tree, walked from ``/Pages`` with objects hashed by value
    (dictionaries by sorted key, streams by their stored bytes, each object once)."""
    reader = open_pdf(data)
    sha = hashlib.sha256()
    seen: dict[tuple[int, int], int] = {}
    try:
        stack: list[Any] = [_catalog(reader).raw_get("/Pages")]
        while stack:
            item = stack.pop()
            if isinstance(item, memoryview):
                sha.update(item)
                continue
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in seen:
                    sha.update(b"R%d;" % seen[key])
                    continue
                seen[key] = len(seen)
                item = item.get_object()
            stack.extend(reversed(_parts(item)))
    except UserError:
        raise
    except _PARSE_ERRORS as exc:
        raise UserError(f"corrupt PDF: {exc}") from None
    return "sha256:" + sha.hexdigest()


def _parts(item: Any) -> list[Any]:
    """What one object contributes to the digest: bytes (as memoryviews, so they are not taken
    for PDF byte strings) and objects still to walk."""
    if isinstance(item, DictionaryObject):
        parts: list[Any] = [memoryview(b"<<")]
        for key in sorted(str(k) for k in item if k not in _SKIPPED_KEYS):
            parts += [memoryview(_scalar(NameObject(key))), item.raw_get(key)]
        parts.append(memoryview(b">>"))
        if isinstance(item, StreamObject):
            stored = item._data  # as stored in the file, still encoded
            parts += [memoryview(b"stream" + struct.pack(">Q", len(stored))), memoryview(stored)]
        return parts
    if isinstance(item, ArrayObject):
        return [memoryview(b"["), *item, memoryview(b"]")]
    return [memoryview(_scalar(item))]
