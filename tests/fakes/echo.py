"""The ``echo`` engine: returns the prompt (or ``options.reply``) as the generated text.

Used only in tests, to drive the real flows end to end without a model.
"""

from __future__ import annotations

from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.engines.base import Engine, GenerationRequest
from hallmark.registry import Components


class EchoEngine(Engine):
    name: ClassVar[str] = "echo"
    media: ClassVar[frozenset[Medium]] = frozenset({"text"})
    version: ClassVar[str] = "1"

    def generate(self, request: GenerationRequest) -> Content:
        reply = request.options.get("reply", request.prompt)
        return Content.from_text(str(reply))


def register(components: Components) -> None:
    components.engines.register(EchoEngine.name, EchoEngine())
