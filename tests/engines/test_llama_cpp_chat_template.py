"""A GGUF with a chat template is prompted through it: the bundled model, copied with a
Gemma-style template added to its metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from gguf_template import GEMMA_TEMPLATE, TOOLS_TEMPLATE

from hallmark.engines.llm.base import ChatMessage, ChatRequest, Tool, collect
from hallmark.engines.llm.llama_cpp import LlamaCppEngine
from hallmark.errors import UpstreamError

WEATHER = Tool("weather", "The weather in a city.", {"type": "object"})
TURN = "<start_of_turn>{}\n{}<end_of_turn>\n"


def ask(*messages: ChatMessage, **options: object) -> ChatRequest:
    return ChatRequest(messages, max_tokens=8, temperature=0, seed=7, **options)


def engine_for(templated_model: Callable[[str], Path], template: str) -> LlamaCppEngine:
    return LlamaCppEngine(Path("/nonexistent"), templated_model(template), 512, n_threads=1)


def test_the_models_template_writes_the_prompt(templated_model: Callable[[str], Path]) -> None:
    engine = engine_for(templated_model, GEMMA_TEMPLATE)
    request = ask(ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello."))
    assert engine.prompt_text(request) == (
        "<bos>"
        + TURN.format("user", "Hi")
        + TURN.format("model", "Hello.")
        + "<start_of_turn>model\n"
    )
    result = collect(engine.stream(ask(ChatMessage("user", "Hi"))))
    assert result.finish_reason in ("stop", "length")
    llama = engine._loaded().llama
    expected = llama.tokenize(
        engine.prompt_text(ask(ChatMessage("user", "Hi"))).encode(), add_bos=False, special=True
    )
    assert result.usage.prompt_tokens == len(expected)
    assert expected[0] == llama.token_bos() and expected.count(llama.token_bos()) == 1


def test_tools_go_to_a_template_that_shows_them(templated_model: Callable[[str], Path]) -> None:
    engine = engine_for(templated_model, TOOLS_TEMPLATE + GEMMA_TEMPLATE)
    prompt = engine.prompt_text(ask(ChatMessage("user", "Weather?"), tools=(WEATHER,)))
    assert prompt.startswith(TURN.format("user", "Tools: weather"))
    assert "<tool_call>" not in prompt
    none = engine.prompt_text(
        ask(ChatMessage("user", "Weather?"), tools=(WEATHER,), tool_choice="none")
    )
    assert "Tools:" not in none


def test_tools_are_described_in_the_system_message_otherwise(
    templated_model: Callable[[str], Path],
) -> None:
    engine = engine_for(templated_model, GEMMA_TEMPLATE)
    prompt = engine.prompt_text(
        ask(ChatMessage("system", "Be brief."), ChatMessage("user", "Weather?"), tools=(WEATHER,))
    )
    system = prompt.split("<end_of_turn>")[0]
    assert system.startswith("<bos><start_of_turn>system\nBe brief.\n\nYou can call these tools:")
    assert "- weather: The weather in a city." in system
    assert prompt.count("<start_of_turn>system") == 1
    alone = engine.prompt_text(ask(ChatMessage("user", "Weather?"), tools=(WEATHER,)))
    assert alone.startswith("<bos><start_of_turn>system\nYou can call these tools:")


def test_a_template_that_refuses_the_conversation_is_an_upstream_error(
    templated_model: Callable[[str], Path],
) -> None:
    engine = engine_for(templated_model, TOOLS_TEMPLATE + GEMMA_TEMPLATE)
    with pytest.raises(UpstreamError, match="chat template failed: the user speaks first"):
        engine.chat(ask(ChatMessage("assistant", "Hi")))
    assert engine.chat(ask(ChatMessage("user", "Hi"))).usage.prompt_tokens > 0
