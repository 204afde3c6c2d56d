"""The ``scripted`` chat engine: answers each request with the next of the replies it was given,
and records the requests.

A reply that is an exception is raised instead; past the last reply, the last one repeats. The
text streams in pieces of a few characters, as a real engine's would. Used only in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import ClassVar

from hallmark.engines.llm.base import ChatDelta, ChatEngine, ChatRequest, Usage
from hallmark.registry import Components

PIECE_CHARS = 3


class ScriptedChat(ChatEngine):
    name: ClassVar[str] = "scripted"
    version: ClassVar[str] = "1"

    def __init__(
        self, replies: Iterable[str | Exception] = ("safe",), *, model: str = "scripted-1"
    ) -> None:
        self.replies: list[str | Exception] = list(replies)
        if not self.replies:
            raise ValueError("give the scripted engine at least one reply")
        self.requests: list[ChatRequest] = []
        self._model = model
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self._model

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        with self._lock:
            index = min(len(self.requests), len(self.replies) - 1)
            self.requests.append(request)
        reply = self.replies[index]
        if isinstance(reply, Exception):
            raise reply
        for start in range(0, len(reply), PIECE_CHARS):
            yield ChatDelta(reply[start : start + PIECE_CHARS])
        yield ChatDelta(finish_reason="stop", usage=Usage(10, len(reply)))


def register(components: Components) -> None:
    components.engines.register(ScriptedChat.name, ScriptedChat())
