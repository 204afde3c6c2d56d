"""The engine interface: one method, ``generate``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hallmark.content import Content, Medium


@dataclass(slots=True, frozen=True)
class GenerationRequest:
    """What to make. ``label_wording`` is the wording of the explicit label the policy will put
    on the output (None when it puts none on this medium): an engine that can draw that label
    the way the medium's explicit marker draws it may do so, and says so with
    ``Content.metadata["explicit_label"] = wording``; the marker then leaves the content as it
    is rather than drawing it again."""

    prompt: str
    medium: Medium = "text"
    language: str = "en"
    options: dict[str, Any] = field(default_factory=dict)
    label_wording: str | None = None


class Engine(ABC):
    name: ClassVar[str]
    media: ClassVar[frozenset[Medium]]
    version: ClassVar[str] = "0"

    @abstractmethod
    def generate(self, request: GenerationRequest) -> Content:
        """Make content for the request."""
