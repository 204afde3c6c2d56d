"""The OpenAI-compatible chat API: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Requests and replies follow OpenAI's wire format, so the official clients work unchanged;
streaming is server-sent events of ``chat.completion.chunk`` objects ending in
``data: [DONE]``. hallmark adds a ``hallmark`` object to the reply (on the last chunk when
streaming): the content id and ledger entry, the labels, the implicit AIGC label, the
screening decisions and the results of hallmark's own tools. Extra request fields (the
clients' ``extra_body``): ``conversation_id``, ``store``, ``jurisdictions``, ``language``,
``minor`` and ``hallmark_tools``. ``POST /v1/chat/attachments`` stores a file the assistant's
``inspect`` tool can read.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, File, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from hallmark.accounts.service import Principal, new_id
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.api.uploads import read_upload
from hallmark.assistant.tools import file_id_for
from hallmark.engines.llm import openai_format
from hallmark.engines.llm.base import ChatMessage, Tool, ToolCall, chat_engines
from hallmark.errors import HallmarkError, UserError
from hallmark.flows.chat import (
    ChatTurn,
    Event,
    Started,
    TextPiece,
    ToolRun,
    TurnEnd,
    UnknownModel,
    run_turn,
    start_turn,
)
from hallmark.media_types import sniff

router = APIRouter(prefix="/v1", tags=["chat"])
Chatter = Annotated[Principal, Allowed("chat:use")]


class FunctionCallBody(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    arguments: str = "{}"


class ToolCallBody(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    type: Literal["function"] = "function"
    function: FunctionCallBody


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class MessageBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = Field(default=None, max_length=64)
    tool_calls: list[ToolCallBody] | None = None
    tool_call_id: str | None = Field(default=None, max_length=64)


class FunctionBody(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = Field(default="", max_length=4000)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ToolBody(BaseModel):
    type: Literal["function"]
    function: FunctionBody


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatBody(BaseModel):
    # OpenAI's clients send parameters hallmark does not use (logprobs, presence_penalty...).
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=100)
    messages: list[MessageBody] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1, description="One choice only.")
    tools: list[ToolBody] | None = Field(default=None, max_length=64)
    tool_choice: str | dict[str, Any] | None = None
    user: str | None = Field(default=None, max_length=100)
    conversation_id: str | None = Field(default=None, max_length=32)
    store: bool = False
    jurisdictions: str | list[str] | None = None
    language: Literal["zh", "en"] | None = None
    minor: bool = False
    hallmark_tools: list[str] | None = Field(default=None, max_length=16)


def turn_from_body(body: ChatBody, principal: Principal) -> ChatTurn:
    stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
    if len(stop) > 4:
        raise UserError("stop takes at most 4 sequences")
    jurisdictions = body.jurisdictions
    if isinstance(jurisdictions, str):
        jurisdictions = [code.strip() for code in jurisdictions.split(",") if code.strip()]
    tool_choice = body.tool_choice if body.tool_choice is not None else "auto"
    if isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required"):
        raise UserError(f"tool_choice {tool_choice!r} is not auto, none or required")
    return ChatTurn(
        engine=body.model,
        messages=tuple(_message(message) for message in body.messages),
        user_id=body.user or principal.key_id,
        jurisdictions=tuple(jurisdictions) if jurisdictions else None,
        language=body.language,
        minor=body.minor,
        conversation_id=body.conversation_id,
        store=body.store,
        client_tools=tuple(
            Tool(t.function.name, t.function.description, t.function.parameters)
            for t in body.tools or ()
        ),
        hallmark_tools=tuple(body.hallmark_tools or ()),
        tool_choice=tool_choice,
        max_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop=stop,
        seed=body.seed,
    )


def _message(body: MessageBody) -> ChatMessage:
    content = body.content
    if isinstance(content, list):
        texts = []
        for part in content:
            if part.type != "text" or part.text is None:
                raise UserError(
                    f"message content part of type {part.type!r} is not supported; "
                    "send text (images and audio go to /v1/perceive)"
                )
            texts.append(part.text)
        content = "".join(texts)
    calls = tuple(
        ToolCall(call.id, call.function.name, call.function.arguments)
        for call in body.tool_calls or ()
    )
    if body.role == "tool" and not body.tool_call_id:
        raise UserError("a tool message needs tool_call_id")
    role = "system" if body.role == "developer" else body.role
    return ChatMessage(role, content or "", calls, body.tool_call_id, body.name)


@router.get("/models")
def list_models(services: ServicesDep, principal: Chatter) -> dict[str, Any]:
    """The chat models: one per registered chat engine."""
    engines = chat_engines(services.components)
    return {
        "object": "list",
        "data": [_model(name, engine.model) for name, engine in engines.items()],
    }


@router.get("/models/{model_id:path}")
def get_model(model_id: str, services: ServicesDep, principal: Chatter) -> dict[str, Any]:
    engine = chat_engines(services.components).get(model_id)
    if engine is None:
        raise UnknownModel(f"unknown model {model_id!r}")
    return _model(model_id, engine.model)


def _model(name: str, model: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "hallmark", "root": model}


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatBody, services: ServicesDep, principal: Chatter
) -> dict[str, Any] | StreamingResponse:
    """Answer a conversation, as OpenAI's Chat Completions do; see the module docs."""
    turn = turn_from_body(body, principal)
    completion_id = f"chatcmpl-{new_id()}"
    created = int(time.time())
    if not body.stream:
        end, tool_runs = await anyio.to_thread.run_sync(
            run_turn, services, principal.tenant_id, turn
        )
        return _completion(completion_id, created, body.model, end, tool_runs)
    run = await anyio.to_thread.run_sync(start_turn, services, principal.tenant_id, turn)
    events = run.events()
    # Wait for the engine's first output, so that a backend that is down is still an HTTP
    # error rather than an error event after a 200.
    head = await anyio.to_thread.run_sync(_head, events)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    chunks = _chunks(
        completion_id,
        created,
        body.model,
        itertools.chain(head, events),
        include_usage,
        events,
        run.conversation_id,
    )
    return StreamingResponse(
        _in_thread(chunks),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/chat/attachments")
def attach(
    services: ServicesDep,
    principal: Chatter,
    file: Annotated[UploadFile, File(description="A file for the assistant to inspect.")],
) -> dict[str, Any]:
    """Keep a file for this chat; the ``inspect`` tool reads it by the returned ``id``."""
    data = read_upload(file, services.settings.max_upload_bytes)
    digest = services.media.put(data)
    return {
        "id": file_id_for(digest),
        "object": "file",
        "bytes": len(data),
        "filename": file.filename,
        "media_type": sniff(data, file.content_type or file.filename),
    }


def _completion(
    completion_id: str, created: int, model: str, end: TurnEnd, tool_runs: list[ToolRun]
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": end.text, "refusal": None}
    if end.tool_calls:
        message["tool_calls"] = [openai_format.tool_call(call) for call in end.tool_calls]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": end.finish_reason}
        ],
        "usage": end.usage.to_dict(),
        "system_fingerprint": None,
        "hallmark": end.hallmark,
    }


def _head(events: Iterator[Event]) -> list[Event]:
    """The events up to the engine's first output (or the end of a turn without one)."""
    head: list[Event] = []
    for event in events:
        head.append(event)
        if isinstance(event, Started | TurnEnd):
            break
    return head


def _chunks(
    completion_id: str,
    created: int,
    model: str,
    events: Iterator[Event],
    include_usage: bool,
    source: Generator[Event, None, None],
    conversation_id: str | None,
) -> Generator[bytes, None, None]:
    """The events as SSE lines; an error after the stream started goes out as an OpenAI
    error event, since the status line has already been sent."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            **extra,
        }
        return _sse(body)

    try:
        yield chunk(
            {"role": "assistant", "content": ""}, hallmark={"conversation_id": conversation_id}
        )
        for event in events:
            if isinstance(event, TextPiece):
                if event.text:
                    yield chunk({"content": event.text})
            elif isinstance(event, ToolRun):
                yield chunk({}, hallmark={"tool_run": event.to_dict()})
            elif isinstance(event, TurnEnd):
                if event.tool_calls:
                    calls = [
                        {"index": index, **openai_format.tool_call(call)}
                        for index, call in enumerate(event.tool_calls)
                    ]
                    yield chunk({"tool_calls": calls})
                yield chunk({}, event.finish_reason, hallmark=event.hallmark)
                if include_usage:
                    yield _sse(
                        {
                            "id": completion_id,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model,
                            "choices": [],
                            "usage": event.usage.to_dict(),
                        }
                    )
    except HallmarkError as exc:
        body = exc.to_dict()
        body["error"]["type"] = "server_error" if exc.status >= 500 else "invalid_request_error"
        yield _sse(body)
    finally:
        source.close()
    yield b"data: [DONE]\n\n"


async def _in_thread(chunks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    """Pull each chunk in a worker thread (the engine blocks); when the client goes away the
    response is cancelled here, and the generator is closed once its running step is done,
    which stops the engine."""
    sentinel = b""
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, chunks, sentinel)
            if item is sentinel:
                return
            yield item
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(chunks.close)


def _sse(body: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()
