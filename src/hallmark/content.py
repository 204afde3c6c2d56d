"""Content as it moves through the flows: plain data, one medium at a time."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Medium = Literal["text", "document", "image", "audio", "video"]
MEDIA: tuple[Medium, ...] = ("text", "document", "image", "audio", "video")


@dataclass(slots=True, frozen=True)
class Content:
    medium: Medium
    media_type: str
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str, **metadata: Any) -> Content:
        return cls("text", "text/plain; charset=utf-8", text.encode("utf-8"), dict(metadata))

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def with_data(self, data: bytes, **metadata: Any) -> Content:
        return replace(self, data=data, metadata={**self.metadata, **metadata})
