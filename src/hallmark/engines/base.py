"""The engine interface: one method, ``generate``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hallmark.content import Content, Medium


@dataclass(slots=True, frozen=True)
class GenerationRequest:
    prompt: str
    medium: Medium = "text"
    language: str = "en"
    options: dict[str, Any] = field(default_factory=dict)


class Engine(ABC):
    name: ClassVar[str]
    media: ClassVar[frozenset[Medium]]
    version: ClassVar[str] = "0"

    @abstractmethod
    def generate(self, request: GenerationRequest) -> Content:
        """Make content for the request."""
