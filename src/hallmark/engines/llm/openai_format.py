"""Chat requests in the OpenAI wire format, which llama.cpp's chat templates also take."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hallmark.engines.llm.base import ChatMessage, Tool, ToolCall


def messages(items: Iterable[ChatMessage]) -> list[dict[str, Any]]:
    return [message(item) for item in items]


def message(item: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": item.role, "content": item.content}
    if item.tool_calls:
        out["tool_calls"] = [tool_call(call) for call in item.tool_calls]
    if item.tool_call_id is not None:
        out["tool_call_id"] = item.tool_call_id
    if item.name is not None:
        out["name"] = item.name
    return out


def tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def tools(items: Iterable[Tool]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in items
    ]
