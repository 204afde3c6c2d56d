"""The openai-compatible engine against llama-cpp-python's real server, and against loopback
servers of our own that fail on purpose (down, silent, 500s, endless)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import pytest
from upstreams import LoopbackServer, free_port

from hallmark.engines.llm.base import ChatMessage, ChatRequest, chat_engines, collect
from hallmark.engines.llm.openai_compatible import OpenAICompatibleEngine
from hallmark.errors import ContextTooLong, UpstreamError, UpstreamTimeout
from hallmark.registry import load_components
from hallmark.settings import Settings

Loopback = Callable[[Callable[[BaseHTTPRequestHandler, int], None]], LoopbackServer]


def ask(text: str, max_tokens: int = 16) -> ChatRequest:
    return ChatRequest((ChatMessage("user", text),), max_tokens=max_tokens, temperature=0, seed=7)


# llama_cpp.server falls back to the llama-2 chat format for the bundled base model, which
# answers a lone user message with an empty reply; a system message gets it talking.
GREETING = ChatRequest(
    (ChatMessage("system", "You are a helpful assistant."), ChatMessage("user", "Hi")),
    max_tokens=16,
    temperature=0,
    seed=7,
)


def sse(handler: BaseHTTPRequestHandler, events: list[object]) -> None:
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.end_headers()
    for event in events:
        payload = event if isinstance(event, str) else json.dumps(event)
        handler.wfile.write(f"data: {payload}\n\n".encode())
    handler.wfile.flush()


def chunk(text: str = "", finish: str | None = None, **delta: object) -> dict[str, object]:
    if text:
        delta["content"] = text
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def error(handler: BaseHTTPRequestHandler, status: int, message: str) -> None:
    body = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_registered_only_when_a_base_url_is_set(tmp_path) -> None:
    bare = load_components(Settings(home=tmp_path))
    assert "openai-compatible" not in chat_engines(bare)
    components = load_components(
        Settings(home=tmp_path, openai_base_url="http://127.0.0.1:9/v1", openai_api_key="sk-x")
    )
    engine = chat_engines(components)["openai-compatible"]
    assert isinstance(engine, OpenAICompatibleEngine)
    assert "sk-x" not in repr(engine)


def test_a_reply_streams_from_a_real_llama_server(llama_server: str) -> None:
    engine = OpenAICompatibleEngine(llama_server)
    deltas = list(engine.stream(GREETING))
    assert engine.model.endswith("gemma-3-270m-q4_k_m.gguf")  # discovered from GET /models
    streamed = collect(deltas)
    assert streamed.text.strip()
    assert sum(1 for d in deltas if d.text) > 1
    assert deltas[-1].finish_reason == "length"
    assert deltas[-1].usage is None  # llama_cpp.server ignores stream_options.include_usage


def test_a_whole_reply_from_a_real_llama_server_has_usage(llama_server: str) -> None:
    engine = OpenAICompatibleEngine(llama_server)
    whole = engine.chat(GREETING)
    assert whole.text == collect(engine.stream(GREETING)).text  # greedy: the same reply
    assert whole.finish_reason == "length"
    assert whole.usage.prompt_tokens > 0
    assert whole.usage.completion_tokens == 16


def test_a_huge_prompt_is_context_too_long_at_a_real_llama_server(llama_server: str) -> None:
    engine = OpenAICompatibleEngine(llama_server, retries=0)
    with pytest.raises(ContextTooLong, match="maximum context length is 2048 tokens"):
        engine.chat(ask("word " * 5000))
    # streamed, llama_cpp.server fails after its 200 and closes the stream without a word
    with pytest.raises(UpstreamError, match="ended its reply before it finished"):
        list(engine.stream(ask("word " * 5000)))


def test_an_upstream_that_is_down_fails_quickly_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    engine = OpenAICompatibleEngine(url, model="m", retries=2, backoff=0.05)
    started = time.monotonic()
    with pytest.raises(UpstreamError, match="is unreachable") as caught:
        engine.chat(ask("hi"))
    assert time.monotonic() - started < 2
    assert not isinstance(caught.value, UpstreamTimeout)


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "chat"])
def test_an_upstream_that_never_answers_times_out(loopback: Loopback, streamed: bool) -> None:
    def silent(handler: BaseHTTPRequestHandler, index: int) -> None:
        server.stopping.wait(10)

    server = loopback(silent)
    engine = OpenAICompatibleEngine(server.url, model="m", timeout=0.5, retries=2)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match=r"did not answer within 0\.5 s"):
        collect(engine.stream(ask("hi"))) if streamed else engine.chat(ask("hi"))
    assert time.monotonic() - started < 2
    assert server.requests == 1  # a slow upstream is not asked again


def test_an_upstream_that_stalls_mid_reply_times_out(loopback: Loopback) -> None:
    def stalls(handler: BaseHTTPRequestHandler, index: int) -> None:
        sse(handler, [chunk("Hel")])
        server.stopping.wait(10)

    server = loopback(stalls)
    stream = OpenAICompatibleEngine(server.url, model="m", timeout=0.5).stream(ask("hi"))
    assert next(stream).text == "Hel"
    with pytest.raises(UpstreamTimeout, match="stopped sending its reply"):
        next(stream)
    assert server.requests == 1  # never retried once the reply has begun


def test_a_stream_cut_off_before_it_ends_is_an_error(loopback: Loopback) -> None:
    server = loopback(lambda handler, index: sse(handler, [chunk("Hel")]))
    with pytest.raises(UpstreamError, match="ended its reply before it finished"):
        collect(OpenAICompatibleEngine(server.url, model="m").stream(ask("hi")))


def test_500s_are_retried_until_a_reply_comes(loopback: Loopback) -> None:
    def flaky(handler: BaseHTTPRequestHandler, index: int) -> None:
        if index < 2:
            error(handler, 500 if index == 0 else 503, "overloaded")
            return
        sse(
            handler,
            [
                chunk("Hel", role="assistant"),
                chunk("lo"),
                chunk(finish="stop"),
                {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}},
                "[DONE]",
            ],
        )

    server = loopback(flaky)
    engine = OpenAICompatibleEngine(server.url, model="m", retries=2, backoff=0.01)
    result = collect(engine.stream(ask("hi")))
    assert (result.text, result.finish_reason) == ("Hello", "stop")
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (5, 2)
    assert server.requests == 3


def test_a_whole_reply_is_retried_after_a_429_too(loopback: Loopback) -> None:
    def limited(handler: BaseHTTPRequestHandler, index: int) -> None:
        if index == 0:
            error(handler, 429, "slow down")
            return
        body = json.dumps(
            {
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Hi."},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            }
        ).encode()
        handler.send_response(200)
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server = loopback(limited)
    result = OpenAICompatibleEngine(server.url, model="m", backoff=0.01).chat(ask("hi"))
    assert (result.text, result.usage.total_tokens, server.requests) == ("Hi.", 5, 2)


def test_500s_past_the_retries_are_an_upstream_error_with_its_message(
    loopback: Loopback,
) -> None:
    server = loopback(lambda handler, index: error(handler, 500, "the GPU caught fire"))
    engine = OpenAICompatibleEngine(server.url, model="m", retries=1, backoff=0.01)
    with pytest.raises(UpstreamError, match="500: the GPU caught fire"):
        engine.chat(ask("hi"))
    assert server.requests == 2


def test_a_4xx_is_not_retried_and_carries_the_upstreams_message(loopback: Loopback) -> None:
    keys: list[str | None] = []

    def refuses(handler: BaseHTTPRequestHandler, index: int) -> None:
        keys.append(handler.headers.get("authorization"))
        error(handler, 401, "bad key")

    server = loopback(refuses)
    engine = OpenAICompatibleEngine(server.url, api_key="sk-test", model="m", backoff=0.01)
    with pytest.raises(UpstreamError, match="401: bad key") as caught:
        engine.chat(ask("hi"))
    assert "sk-test" not in str(caught.value)
    assert keys == ["Bearer sk-test"]


def test_tool_call_pieces_are_assembled_into_whole_calls(loopback: Loopback) -> None:
    def tools(handler: BaseHTTPRequestHandler, index: int) -> None:
        first = {"index": 0, "id": "call_a", "function": {"name": "weather", "arguments": ""}}
        sse(
            handler,
            [
                chunk(tool_calls=[first]),
                chunk(tool_calls=[{"index": 0, "function": {"arguments": '{"city": '}}]),
                chunk(tool_calls=[{"index": 1, "id": "call_b", "function": {"name": "clock"}}]),
                chunk(tool_calls=[{"index": 0, "function": {"arguments": '"Paris"}'}}]),
                chunk(finish="tool_calls"),
                "[DONE]",
            ],
        )

    server = loopback(tools)
    deltas = list(OpenAICompatibleEngine(server.url, model="m").stream(ask("weather?")))
    assert [d.tool_calls for d in deltas[:-1]] == [()] * (len(deltas) - 1)
    calls = deltas[-1].tool_calls
    assert [(c.id, c.name, c.parsed_arguments()) for c in calls] == [
        ("call_a", "weather", {"city": "Paris"}),
        ("call_b", "clock", {}),
    ]
    assert deltas[-1].finish_reason == "tool_calls"


def test_closing_the_stream_closes_the_upstream_connection(loopback: Loopback) -> None:
    gone = threading.Event()

    def endless(handler: BaseHTTPRequestHandler, index: int) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.end_headers()
        try:
            while not server.stopping.is_set():
                handler.wfile.write(f"data: {json.dumps(chunk('tick '))}\n\n".encode())
                handler.wfile.flush()
                time.sleep(0.02)
        except OSError:  # the client hung up
            gone.set()

    server = loopback(endless)
    stream = OpenAICompatibleEngine(server.url, model="m").stream(ask("go on"))
    assert next(stream).text == "tick "
    assert next(stream).text == "tick "
    stream.close()
    assert gone.wait(5)
