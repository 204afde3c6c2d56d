"""The chat engine interface: messages in, a stream of deltas out.

A chat engine is also an ``Engine`` (medium ``text``), so ``hallmark create --engine NAME``
runs one prompt through it. Engines register in ``components.engines``; the assistant finds
the chat engines among them with ``chat_engines``.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from hallmark.content import Content, Medium
from hallmark.engines.base import Engine, GenerationRequest
from hallmark.errors import UserError

if TYPE_CHECKING:
    from hallmark.registry import Components

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")


@dataclass(slots=True, frozen=True)
class ToolCall:
    """A call the model asks for; ``arguments`` is JSON text, as OpenAI sends it."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; anything else (bad JSON, a list) is an empty dict."""
        try:
            value = json.loads(self.arguments or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(slots=True, frozen=True)
class ChatMessage:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    """For ``role="tool"``: the id of the call this message answers."""
    name: str | None = None


@dataclass(slots=True, frozen=True)
class Tool:
    """A function the model may call: its name, what it does, and a JSON Schema of its
    arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object"})


@dataclass(slots=True, frozen=True)
class ChatRequest:
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    tools: tuple[Tool, ...] = ()
    tool_choice: str | dict[str, Any] = "auto"
    """``auto``, ``none``, ``required`` or ``{"type": "function", "function": {"name": ...}}``."""


@dataclass(slots=True, frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, int]:
        """As OpenAI's ``usage`` object."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(slots=True, frozen=True)
class ChatDelta:
    """One piece of a streamed reply. Tool calls come whole (an engine assembles an
    upstream's partial tool-call deltas before it yields them); the last delta has the
    ``finish_reason`` and, where the engine knows it, the ``usage``."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason | None = None
    usage: Usage | None = None


@dataclass(slots=True, frozen=True)
class ChatResult:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason = "stop"
    usage: Usage = field(default_factory=Usage)


def collect(deltas: Iterable[ChatDelta]) -> ChatResult:
    """A whole reply from its deltas."""
    parts: list[str] = []
    calls: list[ToolCall] = []
    finish: FinishReason = "stop"
    usage = Usage()
    for delta in deltas:
        parts.append(delta.text)
        calls.extend(delta.tool_calls)
        if delta.finish_reason is not None:
            finish = delta.finish_reason
        if delta.usage is not None:
            usage = delta.usage
    return ChatResult("".join(parts), tuple(calls), finish, usage)


class ChatEngine(Engine):
    """A conversational model. Implement ``stream``; the rest follows from it.

    ``stream`` must stop generating when its iterator is closed (a client that goes away),
    raise ``ContextTooLong`` when the messages do not fit, and turn a backend's failures into
    ``UpstreamError`` / ``UpstreamTimeout``. It may be called from several threads at once.
    """

    media: ClassVar[frozenset[Medium]] = frozenset({"text"})

    @property
    @abstractmethod
    def model(self) -> str:
        """The model behind the engine (a file name, or the upstream's model id)."""

    @property
    def context_length(self) -> int | None:
        """Tokens the model can attend to, prompt and reply together, where known."""
        return None

    @abstractmethod
    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        """The reply, piece by piece."""

    def chat(self, request: ChatRequest) -> ChatResult:
        return collect(self.stream(request))

    def prepare(self) -> ChatEngine:
        """Load what the engine needs now rather than on first use."""
        return self

    def generate(self, request: GenerationRequest) -> Content:
        options = request.options
        result = self.chat(
            ChatRequest(
                messages=(ChatMessage("user", request.prompt),),
                max_tokens=_int_option(options, "max_tokens"),
                temperature=_float_option(options, "temperature"),
                seed=_int_option(options, "seed"),
            )
        )
        return Content.from_text(result.text)


def chat_engines(components: Components) -> dict[str, ChatEngine]:
    """The registered chat engines by name."""
    return {
        name: engine
        for name in components.engines.names()
        if isinstance(engine := components.engines.get(name), ChatEngine)
    }


AUTO_ENGINE = "auto"
NO_ENGINE = "rules"
SERVED_ENGINE = "openai-compatible"


def helper_engine(components: Components, choice: str, setting: str) -> ChatEngine | None:
    """The chat engine a setting chooses for a helper task (splitting a script, wording an
    answer): a registered engine's name; ``rules`` for none; ``auto`` for the
    OpenAI-compatible engine when one is configured, else none, because the bundled 270M base
    model cannot be trusted with such tasks. An unknown name is an error naming ``setting``."""
    if choice == NO_ENGINE:
        return None
    engines = chat_engines(components)
    if choice == AUTO_ENGINE:
        return engines.get(SERVED_ENGINE)
    engine = engines.get(choice)
    if engine is None:
        known = ", ".join(sorted(engines)) or "none"
        raise UserError(f"{setting} names no chat engine {choice!r}; registered: {known}")
    return engine


def _int_option(options: dict[str, Any], key: str) -> int | None:
    value = options.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float_option(options: dict[str, Any], key: str) -> float | None:
    value = options.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
