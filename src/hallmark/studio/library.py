"""The studio's media library: the files a tenant brings to edit, addressed as ``media:ID``.

Each tenant has a folder ``HOME/studio/<tenant>/media``; a file is stored once under an id
derived from its bytes (the first 24 hex digits of its SHA-256) with its sniffed extension,
beside a small JSON record of its original name. Writes are atomic, so a crash never leaves a
half file under its id. Only audio, video and still images are taken; the type is sniffed from
the bytes, never trusted from the name.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hallmark.errors import NotFound, PayloadTooLarge, UserError
from hallmark.files import write_atomically
from hallmark.media_types import sniff
from hallmark.settings import Settings

EXTENSIONS = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/x-matroska": ".mkv",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
    "audio/mp4": ".m4a",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
}
MEDIA_ID = re.compile(r"^[0-9a-f]{24}$")
NAME_CHARS = 120


@dataclass(slots=True, frozen=True)
class MediaItem:
    id: str
    name: str
    media_type: str
    size: int

    @property
    def source(self) -> str:
        """How a project refers to it."""
        return f"media:{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "name": self.name,
            "media_type": self.media_type,
            "size": self.size,
        }


class MediaLibrary:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root  # HOME/studio
        self.max_bytes = max_bytes

    def _folder(self, tenant_id: str) -> Path:
        return self.root / tenant_id / "media"

    def add(self, tenant_id: str, data: bytes, filename: str | None = None) -> MediaItem:
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(f"the file is larger than {self.max_bytes} bytes")
        media_type = sniff(data, filename)
        extension = EXTENSIONS.get(media_type)
        if extension is None:
            raise UserError(f"the studio takes video, audio and images, not {media_type}")
        media_id = hashlib.sha256(data).hexdigest()[:24]
        folder = self._folder(tenant_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = _clean_name(filename) or f"{media_id}{extension}"
        target = folder / f"{media_id}{extension}"
        if not target.exists():
            write_atomically(target, data)
        record = {"name": name, "media_type": media_type, "size": len(data)}
        write_atomically(folder / f"{media_id}.json", json.dumps(record).encode("utf-8"))
        return MediaItem(media_id, name, media_type, len(data))

    def path(self, tenant_id: str, media_id: str) -> Path:
        item = self.get(tenant_id, media_id)
        return self._folder(tenant_id) / f"{item.id}{EXTENSIONS[item.media_type]}"

    def get(self, tenant_id: str, media_id: str) -> MediaItem:
        if not MEDIA_ID.match(media_id):
            raise NotFound(f"no studio media {media_id!r}")
        try:
            record = json.loads((self._folder(tenant_id) / f"{media_id}.json").read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            raise NotFound(f"no studio media {media_id!r}") from None
        return MediaItem(media_id, record["name"], record["media_type"], int(record["size"]))

    def list(self, tenant_id: str) -> list[MediaItem]:
        folder = self._folder(tenant_id)
        if not folder.is_dir():
            return []
        records = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        return [self.get(tenant_id, record.stem) for record in records]


def _clean_name(filename: str | None) -> str:
    """The file's base name only, without control characters, at most ``NAME_CHARS`` long."""
    if not filename:
        return ""
    base = re.split(r"[\\/]", filename)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:NAME_CHARS].strip()


def library_for(settings: Settings) -> MediaLibrary:
    return MediaLibrary(settings.home / "studio", settings.max_upload_bytes)
