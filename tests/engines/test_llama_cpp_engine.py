"""The llama.cpp engine running the real bundled Gemma 3 270M, greedy, a few tokens a reply."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from hallmark.accounts.service import ensure_tenant
from hallmark.engines.llm.base import ChatMessage, ChatRequest, Tool, chat_engines, collect
from hallmark.engines.llm.llama_cpp import (
    BUNDLED_NAME,
    BUNDLED_SIZE,
    LlamaCppEngine,
    bundled_model,
)
from hallmark.engines.llm.scaffold import render
from hallmark.errors import ContextTooLong
from hallmark.flows.create import CreateRequest, run_create
from hallmark.registry import load_components
from hallmark.services import build_services
from hallmark.settings import Settings


def ask(text: str, max_tokens: int | None = 16, **options: object) -> ChatRequest:
    return ChatRequest(
        (ChatMessage("user", text),), max_tokens=max_tokens, temperature=0, seed=7, **options
    )


@pytest.fixture(scope="module")
def engine(chat_model: Path) -> LlamaCppEngine:
    """One thread: llama.cpp's threads spin-wait for each other, which slows it down several
    times over when other processes (a parallel test run) keep the cores busy."""
    return LlamaCppEngine(Path("/nonexistent"), chat_model, n_ctx=1024, n_threads=1).prepare()


def test_registered_as_llama_cpp_without_loading_a_model(tmp_path: Path) -> None:
    components = load_components(Settings(home=tmp_path, chat_model=tmp_path / "missing.gguf"))
    engine = chat_engines(components)["llama.cpp"]
    assert (engine.model, engine.context_length) == ("missing", 4096)
    bundled = chat_engines(load_components(Settings(home=tmp_path, chat_model=None)))
    assert bundled["llama.cpp"].model == "gemma-3-270m-q4_k_m"
    assert not (tmp_path / "models").exists()  # nothing assembled until first use


def test_the_bundled_model_is_assembled_once_atomically(chat_model: Path, tmp_path: Path) -> None:
    built = bundled_model(tmp_path)
    assert built == tmp_path / "models" / BUNDLED_NAME
    assert built.stat().st_size == BUNDLED_SIZE
    assert [p.name for p in built.parent.iterdir()] == [BUNDLED_NAME]  # no temporary left
    stamp = built.stat().st_mtime_ns
    assert bundled_model(tmp_path).stat().st_mtime_ns == stamp  # a later start only checks


def test_a_reply_streams_in_pieces_with_usage(engine: LlamaCppEngine, chat_model: Path) -> None:
    deltas = list(engine.stream(ask("Name three colours.")))
    result = collect(deltas)
    assert result.text and result.text == result.text.strip()
    assert sum(1 for d in deltas if d.text) > 1
    assert all(d.finish_reason is None for d in deltas[:-1])
    assert deltas[-1].finish_reason in ("stop", "length")
    from llama_cpp import Llama

    vocab = Llama(model_path=str(chat_model), vocab_only=True, verbose=False)
    prompt = render([ChatMessage("user", "Name three colours.")]).prompt
    assert result.usage.prompt_tokens == len(vocab.tokenize(prompt.encode(), add_bos=True))
    assert 0 < result.usage.completion_tokens <= 16


def test_greedy_replies_are_the_same_streamed_or_not(engine: LlamaCppEngine) -> None:
    request = ask("Count: one, two, three,", max_tokens=8)
    streamed = collect(engine.stream(request))
    whole = engine.chat(request)
    assert whole == streamed
    assert (whole.finish_reason, whole.usage.completion_tokens) == ("length", 8)


def test_the_reply_stops_before_the_next_user_turn(engine: LlamaCppEngine) -> None:
    for text in ("Hi!", "Tell me a joke."):
        reply = engine.chat(ask(text, max_tokens=24)).text
        assert "User:" not in reply
        assert "Assistant:" not in reply


def test_a_prompt_longer_than_the_context_is_refused_with_both_numbers(
    engine: LlamaCppEngine,
) -> None:
    with pytest.raises(ContextTooLong, match=r"is \d+ tokens .* 1024 tokens"):
        engine.chat(ask("word " * 2000))
    with pytest.raises(ContextTooLong, match="may take 1020, more than the 1024"):
        engine.chat(ask("Hi", max_tokens=1020))


def test_without_max_tokens_the_reply_fills_at_most_the_room_left(
    chat_model: Path,
) -> None:
    small = LlamaCppEngine(Path("/nonexistent"), chat_model, n_ctx=256, n_threads=1)
    filler = "one two three four five six seven eight nine ten " * 22
    result = small.chat(ask(filler, max_tokens=None))
    assert 200 < result.usage.prompt_tokens < 256
    assert result.usage.total_tokens <= 256


def test_closing_a_stream_midway_frees_the_model_for_the_next_request(
    engine: LlamaCppEngine,
) -> None:
    stream = engine.stream(ask("Count: one, two, three, four,", max_tokens=200))
    first = next(stream)
    assert first.text
    stream.close()
    replies: list[str] = []
    other = threading.Thread(target=lambda: replies.append(engine.chat(ask("Hi")).text))
    other.start()
    other.join(timeout=10)
    assert not other.is_alive() and replies


def test_concurrent_requests_are_served_one_at_a_time(engine: LlamaCppEngine) -> None:
    request = ask("Count: one, two, three,", max_tokens=8)
    expected = engine.chat(request).text
    replies: list[str] = []
    threads = [
        threading.Thread(target=lambda: replies.append(engine.chat(request).text)) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert replies == [expected] * 3


def test_tool_choice_none_offers_no_tools(engine: LlamaCppEngine) -> None:
    tool = Tool("weather", "The weather in a city.")
    result = engine.chat(ask("Weather in Paris?", tools=(tool,), tool_choice="none"))
    assert result.tool_calls == () and result.finish_reason != "tool_calls"


def test_a_prompted_tool_call_comes_back_as_a_call(engine: LlamaCppEngine) -> None:
    """The base model rarely calls a tool by itself, so the transcript starts its call and
    the model only has to finish the JSON; what matters is the parsing around it."""
    weather = Tool(
        "weather",
        "The weather in a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}},
    )
    example = '<tool_call>{"name": "weather", "arguments": {"city": "Rome"}}</tool_call>'
    request = ChatRequest(
        (
            ChatMessage("user", "Weather in Rome?"),
            ChatMessage("assistant", example),
            ChatMessage("tool", json.dumps({"celsius": 25}), name="weather"),
            ChatMessage("assistant", "It is 25 degrees in Rome."),
            ChatMessage("user", "Weather in Rome?"),
        ),
        max_tokens=32,
        temperature=0,
        seed=7,
        tools=(weather,),
    )
    deltas = list(engine.stream(request))
    result = collect(deltas)
    assert "<tool_call" not in result.text
    assert [c.name for c in result.tool_calls] == ["weather"]
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls[0].id.startswith("call_")


def test_the_create_flow_runs_a_prompt_through_the_engine(
    chat_model: Path, settings: Settings
) -> None:
    """``hallmark create --engine llama.cpp`` runs this flow; through the CLI a reply would
    take up to 512 tokens (no options there), too slow for a test."""
    services = build_services(settings.model_copy(update={"chat_threads": 1}))
    request = CreateRequest(
        "Write a greeting.",
        "llama.cpp",
        jurisdictions=("cn",),
        language="en",
        options={"max_tokens": 8, "temperature": 0, "seed": 7},
    )
    try:
        with services.db.session() as session:
            tenant_id = ensure_tenant(session, services.ledger, "acme").id
        outcome = run_create(services, tenant_id, request)
    finally:
        services.close()
    assert outcome.content.text is not None
    assert outcome.content.text.startswith("[AI-generated] ")
    assert len(outcome.content.text) > len("[AI-generated] ")
