"""The ``tool-caller`` engine: asks for hallmark's ``inspect`` tool on the attached file, then
sums up the verdict. Used only in tests (the chat page's browser test), where the bundled base
model cannot be relied on to call a tool.

Its rules, for the messages after the last user message:
- no tool result yet, ``inspect`` offered and a ``file-<sha256>`` id in the user message: it
  calls ``inspect`` with ``{"file_id": ...}``;
- a tool result: it answers ``The inspect tool says the file's verdict is VERDICT.`` (or the
  tool's error);
- otherwise it says it has no file to inspect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from hallmark.engines.llm.base import ChatDelta, ChatEngine, ChatMessage, ChatRequest, ToolCall
from hallmark.registry import Components

FILE_ID = re.compile(r"file-[0-9a-f]{64}")
TOOL = "inspect"


class ToolCallingChat(ChatEngine):
    name: ClassVar[str] = "tool-caller"
    version: ClassVar[str] = "1"

    @property
    def model(self) -> str:
        return "scripted-tool-caller"

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        turn = _this_turn(request.messages)
        result = next((m for m in reversed(turn) if m.role == "tool"), None)
        if result is not None:
            yield ChatDelta(_summary(result.content))
            yield ChatDelta(finish_reason="stop")
            return
        found = FILE_ID.search(turn[0].content) if turn else None
        if found and any(tool.name == TOOL for tool in request.tools):
            arguments = json.dumps({"file_id": found.group(0)})
            yield ChatDelta(tool_calls=(ToolCall("call_inspect_1", TOOL, arguments),))
            yield ChatDelta(finish_reason="tool_calls")
            return
        yield ChatDelta("I have no attached file to inspect.")
        yield ChatDelta(finish_reason="stop")


def _this_turn(messages: tuple[ChatMessage, ...]) -> tuple[ChatMessage, ...]:
    """The last user message and what followed it."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            return messages[index:]
    return ()


def _summary(content: str) -> str:
    try:
        result: Any = json.loads(content)
    except ValueError:
        return "The inspect tool gave an answer I cannot read."
    if not isinstance(result, dict):
        return "The inspect tool gave an answer I cannot read."
    if "error" in result:
        return f"The inspect tool failed: {result['error']}."
    return f"The inspect tool says the file's verdict is {result.get('verdict', 'unknown')}."


def register(components: Components) -> None:
    components.engines.register(ToolCallingChat.name, ToolCallingChat())
