"""The ``echo-chat`` engine: a chat engine that streams back the last user message.

A test engine (like ``echo``), so the chat flow's screening, labels, tools and storage can be
driven exactly. Its rules:
- it streams the last user message back, three characters at a time;
- ``call TOOL {json}`` as the last user message, with TOOL offered, asks for that tool call;
- after a tool result it answers ``tool TOOL said: RESULT``;
- ``reverse TEXT`` streams TEXT backwards (an output the prompt's screening cannot see);
- ``slow N`` streams N pieces with a short pause between them (for stop and disconnect tests).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import ClassVar

from hallmark.engines.llm.base import ChatDelta, ChatEngine, ChatRequest, ToolCall, Usage
from hallmark.registry import Components

_CALL = re.compile(r"^call (\w+) (\{.*\})$", re.DOTALL)
_SLOW = re.compile(r"^slow (\d+)$")


class EchoChatEngine(ChatEngine):
    name: ClassVar[str] = "echo-chat"
    version: ClassVar[str] = "1"

    def __init__(self) -> None:
        self.requests: list[ChatRequest] = []
        self.closed = 0

    @property
    def model(self) -> str:
        return "echo"

    @property
    def context_length(self) -> int:
        return 4096

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        self.requests.append(request)
        last = request.messages[-1]
        prompt_tokens = sum(len(m.content) for m in request.messages) // 4
        try:
            if last.role == "tool":
                text = f"tool {last.name} said: {last.content}"
                yield from _pieces(text)
                yield ChatDelta(finish_reason="stop", usage=Usage(prompt_tokens, len(text) // 3))
                return
            offered = {tool.name for tool in request.tools}
            call = _CALL.match(last.content)
            if call and call.group(1) in offered:
                json.loads(call.group(2))
                tool_call = ToolCall(f"call_{len(self.requests)}", call.group(1), call.group(2))
                yield ChatDelta(tool_calls=(tool_call,))
                yield ChatDelta(finish_reason="tool_calls", usage=Usage(prompt_tokens, 5))
                return
            slow = _SLOW.match(last.content)
            if slow:
                for index in range(int(slow.group(1))):
                    time.sleep(0.02)
                    yield ChatDelta(f"word{index} ")
                yield ChatDelta(
                    finish_reason="stop", usage=Usage(prompt_tokens, int(slow.group(1)))
                )
                return
            text = last.content
            if text.startswith("reverse "):
                text = text.removeprefix("reverse ")[::-1]
            yield from _pieces(text)
            yield ChatDelta(finish_reason="stop", usage=Usage(prompt_tokens, len(text) // 3))
        finally:
            self.closed += 1


def _pieces(text: str) -> Iterator[ChatDelta]:
    for start in range(0, len(text), 3):
        yield ChatDelta(text[start : start + 3])


def register(components: Components) -> None:
    components.engines.register(EchoChatEngine.name, EchoChatEngine())
