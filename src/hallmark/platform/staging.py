"""Staging files of resumable uploads: ``HOME/uploads/<id>.part``, one per open upload.

The database's ``received`` is the truth; the file may run ahead of it. A chunk is written and
fsynced *before* its new offset is committed, so after a crash between the two the file is
longer than ``received`` and the extra bytes are cut off (``reconcile``) the next time the
upload is touched: nothing committed is lost and nothing uncommitted counts.

Every operation on an upload holds an exclusive ``flock`` on its staging file (across threads
and processes); a file removed while someone waited for it is noticed by its inode, and the
waiter opens the new one (or finds none).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

READ_BLOCK = 1024 * 1024


@dataclass(slots=True)
class StagingFile:
    """An open, locked staging file."""

    path: Path
    fd: int
    discarded: bool = False

    def discard(self) -> None:
        """Delete the file when the lock is released."""
        self.discarded = True

    @property
    def length(self) -> int:
        return os.fstat(self.fd).st_size

    def reconcile(self, received: int) -> int:
        """Cut the file back to the committed offset; the bytes it had past it, if any."""
        extra = self.length - received
        if extra > 0:
            os.ftruncate(self.fd, received)
            os.fsync(self.fd)
        return max(extra, 0)

    def write_at(self, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` and make it durable before returning."""
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, offset)
            view, offset = view[written:], offset + written
        os.fsync(self.fd)

    def read(self, length: int) -> bytes:
        """The first ``length`` bytes."""
        chunks, offset = [], 0
        while offset < length:
            block = os.pread(self.fd, min(READ_BLOCK * 8, length - offset), offset)
            if not block:
                break
            chunks.append(block)
            offset += len(block)
        return b"".join(chunks)

    def sha256(self, length: int) -> str:
        """Hex SHA-256 of the first ``length`` bytes."""
        digest, offset = hashlib.sha256(), 0
        while offset < length:
            block = os.pread(self.fd, min(READ_BLOCK, length - offset), offset)
            if not block:
                break
            digest.update(block)
            offset += len(block)
        return digest.hexdigest()


class StagingArea:
    """The folder of staging files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, upload_id: str) -> Path:
        if not upload_id.isalnum():  # ids are hex; never a path from outside
            raise ValueError(f"bad upload id {upload_id!r}")
        return self.root / f"{upload_id}.part"

    def create(self, upload_id: str) -> None:
        """An empty staging file, durable (with its directory entry) before the upload's row
        is committed."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path_for(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._sync_dir()

    @contextmanager
    def locked(self, upload_id: str) -> Iterator[StagingFile | None]:
        """The upload's staging file, locked; ``None`` when there is none."""
        with _locked(self.path_for(upload_id), create=False) as staged:
            yield staged

    @contextmanager
    def digest_lock(self, hexdigest: str) -> Iterator[None]:
        """Serialize the completions of uploads of the same bytes (for the dedupe)."""
        if len(hexdigest) != 64 or not hexdigest.isalnum():
            raise ValueError(f"bad digest {hexdigest!r}")
        folder = self.root / "digests"
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder / f"{hexdigest}.lock", create=True) as held:
            assert held is not None
            held.discard()
            yield

    def remove(self, upload_id: str) -> None:
        with self.locked(upload_id) as staged:
            if staged is not None:
                staged.discard()

    def ids(self) -> Iterator[tuple[str, Path]]:
        """The upload id and path of every staging file."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("*.part"):
            if path.stem.isalnum():
                yield path.stem, path

    def _sync_dir(self) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def _locked(path: Path, *, create: bool) -> Iterator[StagingFile | None]:
    """``path`` open and exclusively locked (``None`` when it does not exist and ``create``
    is false); removed before the lock is released when the holder discarded it."""
    flags = os.O_RDWR | (os.O_CREAT if create else 0)
    while True:
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            yield None
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            current: int | None = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)  # removed (perhaps re-created) while we waited: open it again
    held = StagingFile(path, fd)
    try:
        yield held
    finally:
        try:
            if held.discarded:
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)
