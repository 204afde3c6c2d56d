"""The ``openai-compatible`` chat engine: any server with OpenAI's ``/chat/completions``.

llama.cpp's server, vLLM, Ollama and OpenAI itself speak it. Registered only when
``HALLMARK_OPENAI_BASE_URL`` is set. Replies always stream (server-sent events, with usage
asked for in the last event); tool calls arrive in pieces and are yielded whole at the end.
The model is ``HALLMARK_OPENAI_MODEL`` or, unset, the first model ``GET {base}/models`` lists,
asked once on first use.

Failures are translated at this boundary: a server that cannot be reached, or answers 429 or
5xx, is retried with exponential backoff and jitter (``HALLMARK_OPENAI_RETRIES``), but only
before the reply has begun; then it is an ``UpstreamError``. A server silent for longer than
``HALLMARK_OPENAI_TIMEOUT_SECONDS`` is an ``UpstreamTimeout``; an error body's message becomes
the ``UpstreamError``'s message, and a context-length error a ``ContextTooLong``. The requests
themselves are ``hallmark.engines.openai_http``'s, shared with the vision perceiver.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

from hallmark.engines.llm import openai_format
from hallmark.engines.llm.base import (
    ChatDelta,
    ChatEngine,
    ChatRequest,
    ChatResult,
    FinishReason,
    ToolCall,
    Usage,
)
from hallmark.engines.llm.scaffold import new_call_id
from hallmark.engines.openai_http import (
    BACKOFF_SECONDS,
    CONTEXT_ERROR,
    OpenAIClient,
    error_message,
)
from hallmark.errors import ContextTooLong, UpstreamError, UpstreamTimeout

if TYPE_CHECKING:
    import httpx  # imported where used: registering the engine should not cost its import

    from hallmark.registry import Components

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


class OpenAICompatibleEngine(ChatEngine):
    name: ClassVar[str] = "openai-compatible"

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        model: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        *,
        backoff: float = BACKOFF_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = OpenAIClient(
            base_url, api_key, model, timeout, retries, backoff=backoff, transport=transport
        )
        self.base_url = self._client.base_url

    def __repr__(self) -> str:  # never the key
        return f"OpenAICompatibleEngine({self.base_url!r}, model={self._client.known_model!r})"

    @property
    def model(self) -> str:
        return self._client.model

    def prepare(self) -> OpenAICompatibleEngine:
        _ = self.model
        return self

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        import httpx

        body = self._body(request, stream=True)
        response = self._client.send("POST", "/chat/completions", body, stream=True)
        reply = _Reply()
        try:
            for event in _events(response):
                if event is None:  # [DONE]
                    reply.ended = True
                    break
                if text := reply.add(event):
                    yield ChatDelta(text)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(
                f"{self.base_url} stopped sending its reply for {self._client.timeout:g} s "
                f"({self._client.setting_prefix}_TIMEOUT_SECONDS)"
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{self.base_url} broke off its reply: {exc}") from exc
        finally:
            response.close()  # on GeneratorExit too: the upstream sees the client go
        if not reply.ended:  # llama_cpp.server does this when the prompt is too long
            raise UpstreamError(f"{self.base_url} ended its reply before it finished")
        yield reply.last()

    def chat(self, request: ChatRequest) -> ChatResult:
        """The whole reply in one answer (no stream), with the usage every server gives."""
        body = self._body(request, stream=False)
        response = self._client.send("POST", "/chat/completions", body)
        try:
            answer = response.json()
            choice = answer["choices"][0]
            message = choice["message"]
            reply = _Reply()  # read as one event whose delta is the whole message
            reply.add({"choices": [{**choice, "delta": message}], "usage": answer.get("usage")})
            last = reply.last()
            text = str(message.get("content") or "")
        except (ValueError, LookupError, TypeError, AttributeError) as exc:
            raise UpstreamError(f"{self.base_url} answered with no chat completion") from exc
        finish = last.finish_reason or "stop"
        return ChatResult(text, last.tool_calls, finish, last.usage or Usage())

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": openai_format.messages(request.messages),
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        optional = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "seed": request.seed,
            "stop": list(request.stop) or None,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        if request.tools:
            body["tools"] = openai_format.tools(request.tools)
            body["tool_choice"] = request.tool_choice
        return body


def _events(response: httpx.Response) -> Iterator[dict[str, Any] | None]:
    """The JSON events of a server-sent event stream; None for ``[DONE]``, the last."""
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
            continue
        if line or not data:  # a comment, another field, or a blank line between events
            continue
        payload, data = "\n".join(data), []
        yield None if payload.strip() == "[DONE]" else _event(payload)
    if data:  # the last event, without the blank line after it
        payload = "\n".join(data)
        yield None if payload.strip() == "[DONE]" else _event(payload)


def _event(payload: str) -> dict[str, Any]:
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise UpstreamError(f"the upstream sent a non-JSON event: {payload[:200]}") from exc
    if not isinstance(event, dict):
        raise UpstreamError(f"the upstream sent an unexpected event: {payload[:200]}")
    if "error" in event:  # an error after the reply began
        message = error_message(payload.encode()) or "unknown error"
        if CONTEXT_ERROR.search(message):
            raise ContextTooLong(f"the conversation does not fit the model's context: {message}")
        raise UpstreamError(f"the upstream failed mid-reply: {message}")
    return cast(dict[str, Any], event)


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Reply:
    """A streamed reply's tool calls (by index), finish reason and usage, as they come."""

    calls: dict[int, _PartialCall] = field(default_factory=dict)
    finish: FinishReason = "stop"
    usage: Usage | None = None
    ended: bool = False
    """A finish reason or ``[DONE]`` came: the reply is whole."""

    def add(self, event: dict[str, Any]) -> str:
        """The event's text; its other parts are kept for ``last``."""
        if isinstance(usage := event.get("usage"), dict):
            self.usage = Usage(
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
        text: list[str] = []
        for choice in event.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if isinstance(content := delta.get("content"), str):
                text.append(content)
            for piece in delta.get("tool_calls") or ():
                self._add_call(piece)
            if reason := choice.get("finish_reason"):
                self.finish = FINISH_REASONS.get(str(reason), "stop")
                self.ended = True
        return "".join(text)

    def _add_call(self, piece: dict[str, Any]) -> None:
        call = self.calls.setdefault(int(piece.get("index", len(self.calls))), _PartialCall())
        call.id = piece.get("id") or call.id
        function = piece.get("function") or {}
        call.name = function.get("name") or call.name
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # some servers send an object, not JSON text
            arguments = json.dumps(arguments)
        if isinstance(arguments, str):
            call.arguments.append(arguments)

    def last(self) -> ChatDelta:
        calls = tuple(
            ToolCall(call.id or new_call_id(), call.name, "".join(call.arguments) or "{}")
            for _, call in sorted(self.calls.items())
            if call.name
        )
        finish: FinishReason = "tool_calls" if calls else self.finish
        return ChatDelta(tool_calls=calls, finish_reason=finish, usage=self.usage)


def register(components: Components) -> None:
    settings = components.settings
    if not settings.openai_base_url:
        return
    components.engines.register(
        OpenAICompatibleEngine.name,
        OpenAICompatibleEngine(
            settings.openai_base_url,
            settings.openai_api_key,
            settings.openai_model,
            settings.openai_timeout_seconds,
            settings.openai_retries,
        ),
    )
