"""MP4 / MOV (ISO BMFF and QuickTime): the label as item ``AIGC`` of a ``moov/udta/meta`` box
with an ``mdta`` handler (``hdlr`` + ``keys`` + ``ilst``, the item a UTF-8 ``data`` atom): the
layout ffmpeg writes for ``-movflags use_metadata_tags`` and reads back as a format tag.

An existing ``AIGC`` item is replaced in every ``mdta`` meta box it is in (``moov/udta/meta``
and QuickTime's ``moov/meta``), other items kept. Without one, the item goes into the
``udta``'s ``mdta`` meta box, made (beside an iTunes ``mdir`` one, whose ``ilst`` cannot hold
keyed items) when there is none. Only ``moov`` is rebuilt; every other box is copied as it is.
When ``moov`` comes before the media (a "faststart" file), its new size moves the ``mdat``: every
``stco``/``co64`` chunk offset past the old ``moov`` is shifted by the size change. Fragmented
files (``moof``), whose fragments hold absolute offsets too, are refused when ``moov`` changes size.

Readers also take iTunes freeform items (``----`` named ``AIGC``) and XMP (the XMP ``uuid`` box,
``moov/udta/XMP_``).
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from hallmark.errors import UserError
from hallmark.mark.gb45438.fields import MAX_LABEL_CHARS, AIGCFields, Reading, reading
from hallmark.mark.gb45438.xmp import read_xmp

KEY = "AIGC"
FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
UTF8 = 1
# Descended into by the digest and the chunk-offset patching; every other box is a leaf.
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex"})
# Left out of the integrity digest: metadata and padding, at any level, and top-level ``uuid``
# boxes (C2PA's manifest is one, signed after this label; XMP is another).
_METADATA = frozenset({b"udta", b"meta", b"uuid", b"free", b"skip", b"wide"})
_OFFSETS = {b"stco": ">I", b"co64": ">Q"}
MAX_DEPTH = 12  # moov/trak/mdia/minf/stbl/stco is 6 deep


@dataclass(slots=True, frozen=True)
class Box:
    type: bytes
    start: int
    header: int  # 8, or 16 with a 64-bit size
    end: int

    @property
    def body(self) -> int:
        return self.start + self.header

    @property
    def name(self) -> str:
        return self.type.decode("latin-1")


def boxes(data: bytes, start: int, end: int, where: str) -> list[Box]:
    """The boxes between ``start`` and ``end``; UserError for a size past ``end``."""
    found: list[Box] = []
    pos = start
    while pos < end:
        if end - pos < 8 and not any(data[pos:end]):
            break  # QuickTime's zero terminator of a udta list
        if end - pos < 8:
            raise UserError(f"corrupt MP4: {end - pos} stray bytes at byte {pos} in {where}")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if end - pos < 16:
                raise UserError(f"truncated MP4: box header cut off at byte {pos} in {where}")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:  # extends to the end of its container
            size = end - pos
        if size < header or pos + size > end:
            raise UserError(
                f"corrupt MP4: box {kind.decode('latin-1')!r} at byte {pos} claims {size} "
                f"bytes, past the end of {where}"
            )
        found.append(Box(kind, pos, header, pos + size))
        pos += size
    return found


def children(data: bytes, box: Box) -> list[Box]:
    return boxes(data, box.body, box.end, box.name)


def top_level(data: bytes) -> tuple[list[Box], Box]:
    """The file's boxes and its ``moov``; UserError for anything that is not a whole MP4."""
    if not data:
        raise UserError("the MP4 file is empty")
    if len(data) < 8 or data[4:8] not in FIRST_BOXES:
        raise UserError("not an MP4/MOV file: no ftyp, moov or mdat box at the start")
    found = boxes(data, 0, len(data), "the file")
    moovs = [b for b in found if b.type == b"moov"]
    if len(moovs) != 1:
        raise UserError(f"corrupt MP4: {len(moovs)} moov boxes (one expected)")
    if not any(b.type == b"mdat" for b in found) and not any(b.type == b"moof" for b in found):
        raise UserError("corrupt MP4: no mdat box (the media data)")
    return found, moovs[0]


def _meta_children(data: bytes, meta: Box) -> tuple[bytes, list[Box]]:
    """(version/flags, children) of a ``meta`` box: ISO's is a full box, QuickTime's is not."""
    if data[meta.body + 4 : meta.body + 8] == b"hdlr":
        return b"", boxes(data, meta.body, meta.end, "meta")
    if meta.end - meta.body < 4:
        raise UserError(f"corrupt MP4: meta box at byte {meta.start} is too short")
    return data[meta.body : meta.body + 4], boxes(data, meta.body + 4, meta.end, "meta")


def _handler(data: bytes, parts: list[Box]) -> bytes:
    hdlr = next((b for b in parts if b.type == b"hdlr"), None)
    return b"" if hdlr is None else data[hdlr.body + 8 : hdlr.body + 12]


def _keys(data: bytes, parts: list[Box]) -> list[str]:
    """The ``keys`` box's names, in order (item ``i`` of ``ilst`` is key ``i``, from 1)."""
    box = next((b for b in parts if b.type == b"keys"), None)
    if box is None:
        return []
    if box.end - box.body < 8:
        raise UserError(f"corrupt MP4: keys box at byte {box.start} is too short")
    (count,) = struct.unpack_from(">I", data, box.body + 4)
    names: list[str] = []
    pos = box.body + 8
    for _ in range(count):
        if pos + 8 > box.end:
            raise UserError(f"corrupt MP4: keys box at byte {box.start} lists more keys than fit")
        (size,) = struct.unpack_from(">I", data, pos)
        if size < 8 or pos + size > box.end:
            raise UserError(f"corrupt MP4: a key at byte {pos} claims {size} bytes, past its box")
        names.append(data[pos + 8 : pos + size].decode("utf-8", errors="replace"))
        pos += size
    return names


def _data_value(data: bytes, item: Box) -> str | None:
    """The text of an ``ilst`` item's first ``data`` atom (UTF-8 or UTF-16); None if absent."""
    atom = next((b for b in children(data, item) if b.type == b"data"), None)
    if atom is None or atom.end - atom.body < 8 or atom.end - atom.body > MAX_LABEL_CHARS:
        return None
    (kind,) = struct.unpack_from(">I", data, atom.body)
    value = data[atom.body + 8 : atom.end]
    return value.decode("utf-16-be" if kind & 0xFFFFFF == 2 else "utf-8", errors="replace")


def _metas(data: bytes, moov: list[Box]) -> Iterator[Box]:
    """The ``meta`` boxes of ``moov`` and of its ``udta``."""
    for box in moov:
        if box.type == b"meta":
            yield box
        elif box.type == b"udta":
            yield from (b for b in children(data, box) if b.type == b"meta")


def read(data: bytes) -> list[Reading]:
    found, moov = top_level(data)
    moov_children = children(data, moov)
    keyed: list[Reading] = []
    freeform: list[Reading] = []
    for meta in _metas(data, moov_children):
        _, parts = _meta_children(data, meta)
        ilst = next((b for b in parts if b.type == b"ilst"), None)
        if ilst is None:
            continue
        names = _keys(data, parts) if _handler(data, parts) == b"mdta" else []
        for item in children(data, ilst):
            index = int.from_bytes(item.type, "big")
            if 0 < index <= len(names) and names[index - 1].strip().upper() == KEY:
                value = _data_value(data, item)
                if value is not None:
                    keyed.append(reading("mp4-keys", value))
            elif item.type == b"----":
                freeform.extend(_freeform(data, item))
    packets = [
        data[b.body + 16 : b.end]
        for b in found
        if b.type == b"uuid" and data[b.body : b.body + 16] == XMP_UUID
    ]
    for udta in (b for b in moov_children if b.type == b"udta"):
        packets += [data[b.body : b.end] for b in children(data, udta) if b.type == b"XMP_"]
    xmp = [r for p in packets if len(p) <= MAX_LABEL_CHARS for r in read_xmp(p)]
    return keyed + xmp + freeform


def _is_freeform_label(data: bytes, item: Box) -> bool:
    """Whether ``item`` is an iTunes ``----`` item (``mean`` + ``name`` + ``data``) named AIGC,
    as mutagen writes one."""
    if item.type != b"----":
        return False
    name = next((b for b in children(data, item) if b.type == b"name"), None)
    return name is not None and data[name.body + 4 : name.end].strip().upper() == KEY.encode()


def _freeform(data: bytes, item: Box) -> list[Reading]:
    value = _data_value(data, item) if _is_freeform_label(data, item) else None
    return [] if value is None else [reading("mp4-itunes", value)]


def box(kind: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, kind, len(payload) + 16) + payload
    return struct.pack(">I4s", len(payload) + 8, kind) + payload


def _item(index: int, value: str) -> bytes:
    atom = box(b"data", struct.pack(">II", UTF8, 0) + value.encode("utf-8"))
    return box(struct.pack(">I", index), atom)


def _keys_box(names: list[str]) -> bytes:
    entries = b"".join(box(b"mdta", name.encode("utf-8")) for name in names)
    return box(b"keys", struct.pack(">II", 0, len(names)) + entries)


def _mdta_meta(json_text: str) -> bytes:
    hdlr = box(b"hdlr", b"\x00" * 8 + b"mdta" + b"\x00" * 13)
    return box(b"meta", b"\x00" * 4 + hdlr + _keys_box([KEY]) + box(b"ilst", _item(1, json_text)))


def _has_label(data: bytes, meta: Box) -> bool:
    return any(name.strip().upper() == KEY for name in _keys(data, _meta_children(data, meta)[1]))


def _relabel_meta(data: bytes, meta: Box, json_text: str) -> bytes:
    """The ``mdta`` meta box with its AIGC items set to ``json_text``, or one added."""
    prefix, parts = _meta_children(data, meta)
    names = _keys(data, parts)
    indexes = {i + 1 for i, name in enumerate(names) if name.strip().upper() == KEY}
    if not indexes:
        names.append(KEY)
        indexes = {len(names)}
    ilst = next((b for b in parts if b.type == b"ilst"), None)
    items = [] if ilst is None else children(data, ilst)
    kept = [data[b.start : b.end] for b in items if int.from_bytes(b.type, "big") not in indexes]
    labels = b"".join(_item(i, json_text) for i in sorted(indexes))
    rebuilt = [
        _keys_box(names) if part.type == b"keys" else data[part.start : part.end]
        for part in parts
        if part.type != b"ilst"
    ]
    if not any(p.type == b"keys" for p in parts):
        rebuilt.append(_keys_box(names))
    return box(b"meta", prefix + b"".join(rebuilt) + box(b"ilst", b"".join(kept) + labels))


def _relabel_freeform(data: bytes, meta: Box, json_text: str) -> bytes | None:
    """The iTunes meta box with its ``----`` AIGC items set to ``json_text``, so no stale copy
    stays beside the keyed item; None when it has none."""
    prefix, parts = _meta_children(data, meta)
    ilst = next((b for b in parts if b.type == b"ilst"), None)
    items = [] if ilst is None else children(data, ilst)
    if not any(_is_freeform_label(data, item) for item in items):
        return None
    value = box(b"data", struct.pack(">II", UTF8, 0) + json_text.encode("utf-8"))

    def relabelled(item: Box) -> bytes:
        if not _is_freeform_label(data, item):
            return data[item.start : item.end]
        kept = b"".join(data[b.start : b.end] for b in children(data, item) if b.type != b"data")
        return box(b"----", kept + value)

    new_ilst = box(b"ilst", b"".join(relabelled(item) for item in items))
    rebuilt = b"".join(new_ilst if p is ilst else data[p.start : p.end] for p in parts)
    return box(b"meta", prefix + rebuilt)


def _is_mdta(data: bytes, meta: Box) -> bool:
    return _handler(data, _meta_children(data, meta)[1]) == b"mdta"


def _labelled_moov(data: bytes, moov: list[Box], json_text: str) -> list[tuple[Box | None, bytes]]:
    """``moov``'s children, each with its new bytes, the label written (traks not patched)."""
    metas = [m for m in _metas(data, moov) if _is_mdta(data, m)]
    udta = next((b for b in moov if b.type == b"udta"), None)
    targets = [m for m in metas if _has_label(data, m)]
    if not targets and udta is not None:
        targets = [m for m in metas if udta.start < m.start < udta.end][:1]
    new = {m.start: _relabel_meta(data, m, json_text) for m in targets}
    for meta in _metas(data, moov):
        freeform = None if meta in metas else _relabel_freeform(data, meta, json_text)
        if freeform is not None:
            new[meta.start] = freeform
    added = b"" if targets else _mdta_meta(json_text)

    def copy(part: Box) -> bytes:
        return new.get(part.start, data[part.start : part.end])

    out: list[tuple[Box | None, bytes]] = []
    for part in moov:
        if part is udta:
            inner = b"".join(copy(b) for b in children(data, part)) + added
            out.append((part, box(b"udta", inner)))
        else:
            out.append((part, copy(part)))
    if udta is None and added:
        out.append((None, box(b"udta", added)))
    return out


def _nested(box_: Box, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise UserError(f"corrupt MP4: boxes nested deeper than {MAX_DEPTH} at byte {box_.start}")


def _offset_tables(data: bytes, box_: Box, depth: int = 1) -> Iterator[Box]:
    """The ``stco``/``co64`` boxes under ``box_`` (a trak)."""
    _nested(box_, depth)
    for child in children(data, box_):
        if child.type in _OFFSETS:
            yield child
        elif child.type in _CONTAINERS:
            yield from _offset_tables(data, child, depth + 1)


def _entries(data: bytes, table: Box) -> tuple[str, int, list[int]]:
    """(struct format, first entry's position, entries) of a chunk-offset table."""
    fmt = _OFFSETS[table.type]
    if table.end - table.body < 8:
        raise UserError(f"corrupt MP4: {table.name} box at byte {table.start} is too short")
    (count,) = struct.unpack_from(">I", data, table.body + 4)
    width = struct.calcsize(fmt)
    first = table.body + 8
    if first + count * width > table.end:
        raise UserError(
            f"corrupt MP4: {table.name} box at byte {table.start} lists {count} "
            "offsets, more than fit in it"
        )
    return fmt, first, [v for (v,) in struct.iter_unpack(fmt, data[first : first + count * width])]


def _shifted_trak(data: bytes, trak: Box, after: int, delta: int) -> bytes:
    """The trak with every chunk offset at or past ``after`` moved by ``delta``."""
    out = bytearray(data[trak.start : trak.end])
    for table in _offset_tables(data, trak):
        fmt, first, entries = _entries(data, table)
        width = struct.calcsize(fmt)
        for i, value in enumerate(entries):
            if value >= after:
                value += delta
                if fmt == ">I" and value > 0xFFFFFFFF:
                    raise UserError(
                        "the MP4 would need 64-bit chunk offsets (co64) after "
                        "labelling; not supported"
                    )
                struct.pack_into(fmt, out, first - trak.start + i * width, value)
    return bytes(out)


def write(data: bytes, fields: AIGCFields) -> bytes:
    found, moov = top_level(data)
    parts = _labelled_moov(data, children(data, moov), fields.to_json())
    delta = len(box(b"moov", b"".join(p for _, p in parts))) - (moov.end - moov.start)
    if delta:
        if any(b.type == b"moof" for b in found):
            raise UserError(
                "fragmented MP4 (moof boxes) cannot be labelled: its fragments hold absolute "
                "offsets that a resized moov would break"
            )
        parts = [
            (b, _shifted_trak(data, b, moov.end, delta) if b and b.type == b"trak" else p)
            for b, p in parts
        ]
    return data[: moov.start] + box(b"moov", b"".join(p for _, p in parts)) + data[moov.end :]


def content_digest(data: bytes) -> str:
    """SHA-256 over the boxes that are not metadata (``udta``, ``meta``, ``uuid``, padding), at
    every level of ``moov``; chunk offsets are hashed as (box, offset within that box), so
    metadata that grows or moves (this label's, or C2PA's ``uuid`` box) leaves it unchanged."""
    found, _ = top_level(data)
    content = [b for b in found if b.type not in _METADATA]
    starts = [b.start for b in content]
    sha = hashlib.sha256()

    def locate(offset: int) -> bytes:
        at = bisect.bisect_right(starts, offset) - 1
        if at >= 0 and offset < content[at].end:
            return struct.pack(">qQ", at, offset - content[at].start)
        return struct.pack(">qQ", -1, offset)

    def digest(part: Box, depth: int = 0) -> None:
        _nested(part, depth)
        sha.update(part.type)
        if part.type in _OFFSETS:
            _, _, entries = _entries(data, part)
            sha.update(struct.pack(">Q", len(entries)) + b"".join(map(locate, entries)))
        elif part.type in _CONTAINERS:
            for child in children(data, part):
                if child.type not in _METADATA:
                    digest(child, depth + 1)
            sha.update(b"end")
        else:
            sha.update(struct.pack(">Q", part.end - part.body))
            sha.update(memoryview(data)[part.body : part.end])

    for part in content:
        digest(part)
    return "sha256:" + sha.hexdigest()
