"""RIFF containers (WAV, WebP): the form header and its chunks, parsed without trusting sizes."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hallmark.errors import UserError

LIST = b"LIST"


@dataclass(slots=True, frozen=True)
class Chunk:
    fourcc: bytes
    data: bytes

    def encode(self) -> bytes:
        pad = b"\x00" if len(self.data) % 2 else b""
        return self.fourcc + struct.pack("<I", len(self.data)) + self.data + pad

    @property
    def list_type(self) -> bytes:
        return self.data[:4] if self.fourcc == LIST else b""


def form_end(data: bytes, form: bytes, kind: str) -> int:
    """Where the RIFF form of type ``form`` ends; UserError when the file is not one."""
    if not data:
        raise UserError(f"the {kind} file is empty")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != form:
        raise UserError(f"not a {kind} file: the RIFF/{form.decode().strip()} header is missing")
    riff_size: int = struct.unpack_from("<I", data, 4)[0]
    end = riff_size + 8
    if end > len(data):
        raise UserError(
            f"truncated {kind}: the RIFF header says {end} bytes, the file has {len(data)}"
        )
    return end


def parse_chunks(data: bytes, start: int, end: int, *, kind: str, where: str) -> list[Chunk]:
    """The chunks between ``start`` and ``end``; a size running past ``end`` is corruption."""
    found: list[Chunk] = []
    pos = start
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if pos + 8 + size > end:
            raise UserError(
                f"corrupt {kind}: chunk {fourcc!r} at byte {pos} claims {size} bytes, past the "
                f"end of {where}"
            )
        found.append(Chunk(fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return found
