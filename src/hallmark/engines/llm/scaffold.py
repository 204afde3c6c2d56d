"""A completion-style scaffold for models without a chat template, and prompted tool calling.

A base model (such as the bundled Gemma 3 270M) only continues text. ``render`` writes the
conversation as a transcript that ends with ``Assistant:``; the model's continuation is the
reply, cut at the next turn by the ``STOP`` sequences. It is the simplest honest way to drive
such a model, and a small base model still gives poor answers through it.

Tools are offered in words ("prompted tool calling"): the system part describes each tool and
asks for ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``; ``ReplyFilter`` takes
such blocks out of the reply, as it streams, and turns them into ``ToolCall``s. A block that
is not a valid call (bad JSON, an unknown tool) stays in the text. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from hallmark.engines.llm.base import ChatMessage, Tool, ToolCall

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
DEFAULT_SYSTEM = "A conversation between a user and a helpful, honest assistant."
PREFIXES = {"user": "User", "assistant": "Assistant", "tool": "Tool result"}
STOP: tuple[str, ...] = ("\nUser:", "\nAssistant:", "\nTool result")


@dataclass(slots=True, frozen=True)
class Scaffold:
    """The transcript to complete and where the completion must stop."""

    prompt: str
    stop: tuple[str, ...] = STOP


def render(
    messages: Iterable[ChatMessage],
    tools: Iterable[Tool] = (),
    tool_choice: str | dict[str, Any] = "auto",
) -> Scaffold:
    """The conversation as a transcript ending with ``Assistant:``."""
    messages = tuple(messages)
    system = "\n\n".join(m.content.strip() for m in messages if m.role == "system")
    parts = [system or DEFAULT_SYSTEM]
    if tool_text := describe_tools(tools, tool_choice):
        parts.append(tool_text)
    lines = ["\n\n".join(parts), ""]
    names = {call.id: call.name for m in messages for call in m.tool_calls}
    for message in messages:
        if message.role == "system":
            continue
        body = message.content.strip()
        if message.role == "assistant" and message.tool_calls:
            body = " ".join([body, *(tool_call_text(call) for call in message.tool_calls)]).strip()
        prefix = PREFIXES[message.role]
        if message.role == "tool":
            name = message.name or names.get(message.tool_call_id or "")
            prefix = f"{prefix} ({name})" if name else prefix
        lines.append(f"{prefix}: {body}")
    lines.append("Assistant:")
    return Scaffold("\n".join(lines))


def offered_tools(tools: Iterable[Tool], tool_choice: str | dict[str, Any]) -> tuple[Tool, ...]:
    """The tools the model may call under ``tool_choice``: none for ``none``, the one named
    by a ``{"type": "function", ...}`` choice, otherwise all."""
    tools = tuple(tools)
    if tool_choice == "none":
        return ()
    if isinstance(tool_choice, dict):
        wanted = (tool_choice.get("function") or {}).get("name")
        return tuple(tool for tool in tools if tool.name == wanted)
    return tools


def describe_tools(tools: Iterable[Tool], tool_choice: str | dict[str, Any] = "auto") -> str:
    """The tools in words, with how to call them; empty when none are offered."""
    offered = offered_tools(tools, tool_choice)
    if not offered:
        return ""
    lines = ["You can call these tools:"]
    for tool in offered:
        schema = json.dumps(tool.parameters, ensure_ascii=False, sort_keys=True)
        lines.append(f"- {tool.name}: {tool.description} Arguments (JSON Schema): {schema}")
    lines.append(
        "To call a tool, reply with "
        f'{OPEN_TAG}{{"name": "TOOL_NAME", "arguments": {{...}}}}{CLOSE_TAG} '
        "and nothing else; its result comes back as a Tool result line."
    )
    if tool_choice == "required" or isinstance(tool_choice, dict):
        lines.append("You must call a tool in this reply.")
    return "\n".join(lines)


def tool_call_text(call: ToolCall) -> str:
    """A call as the model is asked to write it."""
    text = json.dumps({"name": call.name, "arguments": call.parsed_arguments()}, ensure_ascii=False)
    return f"{OPEN_TAG}{text}{CLOSE_TAG}"


def parse_tool_call(block: str, known: Collection[str] = ()) -> ToolCall | None:
    """The call in the JSON between the tags, or None when it is not a valid call (bad JSON,
    no name, arguments that are not an object, a name outside ``known`` when given)."""
    try:
        value = json.loads(block)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    name = value.get("name")
    arguments = value.get("arguments", {})
    if isinstance(arguments, str):  # some models write the arguments as JSON text
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError:
            return None
    if not isinstance(name, str) or not name or not isinstance(arguments, dict):
        return None
    if known and name not in known:
        return None
    return ToolCall(new_call_id(), name, json.dumps(arguments, ensure_ascii=False))


def new_call_id() -> str:
    return f"call_{secrets.token_hex(12)}"


def parse_reply(text: str, known: Collection[str] = ()) -> tuple[str, tuple[ToolCall, ...]]:
    """A whole reply's text (trimmed, without its tool-call blocks) and its calls."""
    reply = ReplyFilter(known, parse_calls=True)
    head = reply.feed(text)
    tail, calls = reply.finish()
    return head + tail, calls


@dataclass(slots=True)
class ReplyFilter:
    """Streams a reply's text, trimmed, with its tool-call blocks taken out.

    ``feed`` returns the text that is safe to show now: it holds back leading and trailing
    whitespace, anything that may be the start of ``<tool_call>``, and an open block until it
    closes. ``finish`` returns what is left and the calls found. Without ``parse_calls`` it
    only trims."""

    known: Collection[str] = ()
    parse_calls: bool = True
    calls: list[ToolCall] = field(default_factory=list)
    _held: str = ""
    _space: str = ""
    _started: bool = False

    def feed(self, text: str) -> str:
        self._held += text
        out: list[str] = []
        while self._held:
            start = self._held.find(OPEN_TAG) if self.parse_calls else -1
            if start < 0:
                cut = len(self._held) - (_partial_tag(self._held) if self.parse_calls else 0)
                ready, self._held = self._held[:cut], self._held[cut:]
                out.append(self._emit(ready, final=False))
                break
            out.append(self._emit(self._held[:start], final=False))
            end = self._held.find(CLOSE_TAG, start + len(OPEN_TAG))
            if end < 0:
                self._held = self._held[start:]
                break
            block = self._held[start + len(OPEN_TAG) : end]
            raw = self._held[start : end + len(CLOSE_TAG)]
            self._held = self._held[end + len(CLOSE_TAG) :]
            call = parse_tool_call(block, self.known)
            if call is None:
                out.append(self._emit(raw, final=False))
            else:
                self.calls.append(call)
        return "".join(out)

    def finish(self) -> tuple[str, tuple[ToolCall, ...]]:
        held, self._held = self._held, ""
        if held.startswith(OPEN_TAG):  # a block cut off by a stop or the token limit
            call = parse_tool_call(held[len(OPEN_TAG) :], self.known)
            if call is not None:
                self.calls.append(call)
                held = ""
        text = self._emit(held, final=True)
        return text, tuple(self.calls)

    def _emit(self, text: str, final: bool) -> str:
        """``text`` less the whitespace that may turn out to begin or end the reply."""
        if not self._started:
            text = text.lstrip()
            if not text:
                return ""
            self._started = True
        text, self._space = self._space + text, ""
        if final:
            return text.rstrip()
        ready = text.rstrip()
        self._space = text[len(ready) :]
        return ready


def _partial_tag(text: str) -> int:
    """How many of ``text``'s last characters may begin ``<tool_call>``."""
    for size in range(min(len(OPEN_TAG) - 1, len(text)), 0, -1):
        if text.endswith(OPEN_TAG[:size]):
            return size
    return 0
