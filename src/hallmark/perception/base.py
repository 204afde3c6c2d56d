"""Perception's types: what the perceivers find in a file, and a grounded answer about it.

A ``Perceiver`` turns an image or a sound into ``Finding``s: each a labelled thing with where
it is, a box in pixels for images (``x, y, w, h``) or a time span in seconds for sound. An
answer in words is then composed from the findings, and every thing it names is linked back
to the finding it names (BuboGPT's grounding): an ``Entity`` carries the answer's words, their
place in the answer, and the finding's box or span.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

Box = tuple[int, int, int, int]  # x, y, width, height in pixels of the image as shown
FindingKind = Literal[
    "text",  # words written in the image (OCR)
    "face",
    "person",
    "nsfw",  # an exposed body part (NudeNet's classes)
    "object",  # what a bigger model names
    "color",  # a dominant colour (no box: the whole image)
    "layout",  # orientation, brightness, where the content sits (no box)
    "sound",  # a sound event (YAMNet's AudioSet classes)
    "speech",  # a stretch of voice activity
    "word",  # a spoken word with its time
]
PerceivedMedium = Literal["image", "audio", "video"]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    label: str  # what it is, in English ("Speech", "dog", "red") or the text read
    score: float = 1.0  # the model's confidence, 0..1
    box: Box | None = None
    start: float | None = None  # seconds, for sound and for video frames
    end: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # model-specific extras

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "kind": self.kind,
            "label": self.label,
            "score": round(self.score, 4),
        }
        if self.box is not None:
            record["box"] = list(self.box)
        if self.start is not None and self.end is not None:
            record["start"] = round(self.start, 3)
            record["end"] = round(self.end, 3)
        if self.detail:
            record["detail"] = self.detail
        return record


@dataclass(frozen=True, slots=True)
class Entity:
    """A phrase of the answer linked to the finding it names."""

    text: str  # the answer's words
    kind: FindingKind
    finding: int  # index into the findings
    offset: int  # where ``text`` starts in the answer (characters)
    box: Box | None = None
    start: float | None = None
    end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"text": self.text, "kind": self.kind, "finding": self.finding}
        record["offset"] = self.offset
        if self.box is not None:
            record["box"] = list(self.box)
        if self.start is not None and self.end is not None:
            record["start"] = round(self.start, 3)
            record["end"] = round(self.end, 3)
        return record


@dataclass(frozen=True, slots=True)
class Perception:
    medium: PerceivedMedium
    answer: str
    entities: tuple[Entity, ...]
    findings: tuple[Finding, ...]
    width: int | None = None  # images and video frames
    height: int | None = None
    duration: float | None = None  # audio and video

    def to_dict(self) -> dict[str, Any]:
        return {
            "medium": self.medium,
            "answer": self.answer,
            "entities": [entity.to_dict() for entity in self.entities],
            "findings": [finding.to_dict() for finding in self.findings],
            "width": self.width,
            "height": self.height,
            "duration": self.duration,
        }


class PerceptionInput:
    """A file to perceive: its path and its sniffed media type."""

    def __init__(self, path: Path, media_type: str) -> None:
        self.path = path
        self.media_type = media_type


class Perceiver(ABC):
    """Finds things in one medium. Capabilities are class attributes."""

    name: ClassVar[str]
    media: ClassVar[frozenset[PerceivedMedium]]

    @abstractmethod
    def perceive(self, source: PerceptionInput, question: str | None = None) -> list[Finding]:
        """What is in ``source``; ``question`` lets a model that can use it look for it."""
