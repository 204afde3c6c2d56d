"""Media files in a content-addressed folder: ``media/sha256/ab/cdef...``.

The same bytes are stored once; a write is atomic (temp file, fsync, rename), so a crash never
leaves a half-written object under its final name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from hallmark.errors import NotFound
from hallmark.files import write_atomically

ALGORITHM = "sha256"


def digest_of(data: bytes) -> str:
    return f"{ALGORITHM}:{hashlib.sha256(data).hexdigest()}"


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        if (
            algorithm != ALGORITHM
            or len(hexdigest) != 64
            or not all(c in "0123456789abcdef" for c in hexdigest)
        ):
            raise NotFound(f"no media object {digest!r}")
        return self.root / algorithm / hexdigest[:2] / hexdigest[2:]

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        target = self.path_for(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)
        return digest

    def get(self, digest: str) -> bytes:
        path = self.path_for(digest)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"no media object {digest!r}") from exc

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).exists()
