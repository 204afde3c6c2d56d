"""The assistant: chat through hallmark's OpenAI-compatible API against llama.cpp called directly.

One real ``hallmark`` app is served by uvicorn on loopback with the ``llama.cpp`` engine and the
bundled Gemma 3 270M model; the client is httpx, streaming, as an OpenAI client would. The
baseline is llama-cpp-python itself with the same GGUF, threads, context, prompt text (the
engine's own rendering of the messages), stop sequences and greedy decoding, so both sides
decode the same tokens.

- ``chat.decode``: one streamed reply of up to 64 tokens, end to end (screening of the prompt
  and of the stream, labels, ledger entry, SSE) against the bare decode.
- ``chat.ttft`` (report): time to the first content chunk (the label, sent before the model
  runs), and to the first text of the model's own, which the stream screen holds back until it
  has read ``holdback`` characters further, against llama.cpp's first token.
- ``chat.concurrent`` (report): four streams at once against four bare decodes one after
  another: the engine runs one reply at a time, so this shows what the queueing costs.
"""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from rich.table import Table

from bench.harness import Case, Plan, Report, Skip, Workspace
from hallmark.accounts.service import create_key
from hallmark.api.app import create_app
from hallmark.engines.llm import scaffold
from hallmark.engines.llm.base import ChatMessage, ChatRequest
from hallmark.engines.llm.llama_cpp import LlamaCppEngine, bundled_model

MAX_TOKENS = 64
QUICK_TOKENS = 16
PROMPT = "Tell me a long story about a lighthouse keeper and a storm at sea."
JURISDICTIONS = ["cn", "eu", "us-ca"]
STREAMS = 4


@dataclass(slots=True)
class ChatBench:
    workspace: Workspace
    server: Any
    thread: threading.Thread
    base: str
    token: str
    llama: Any
    prompt_text: str
    stop: list[str]
    max_tokens: int
    client: httpx.Client

    def close(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(10)
        self.workspace.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def open_bench(max_tokens: int) -> ChatBench:
    try:
        import uvicorn
        from llama_cpp import Llama
    except ImportError as exc:  # pragma: no cover - both are dependencies
        raise Skip(f"cannot import {exc.name}") from exc
    workspace = Workspace.open()
    try:
        services = workspace.services
        engine = services.components.engines.get("llama.cpp")
        assert isinstance(engine, LlamaCppEngine)
        engine.prepare()
        path = bundled_model(services.settings.home)
        request = _request(max_tokens)
        prompt_text = engine.prompt_text(request)
        stop = list(scaffold.render(request.messages).stop)
        llama = Llama(
            model_path=str(path),
            n_ctx=services.settings.chat_context,
            n_threads=services.settings.chat_threads,
            verbose=False,
        )
        with services.db.session() as session:
            token = create_key(
                session, services.ledger, tenant_name="bench", role="creator", name="bench"
            ).token
        port = _free_port()
        app = create_app(services.settings, services)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the bench server did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base, timeout=120)
    except BaseException:
        workspace.close()
        raise
    return ChatBench(
        workspace, server, thread, base, token, llama, prompt_text, stop, max_tokens, client
    )


def _request(max_tokens: int) -> ChatRequest:
    return ChatRequest(
        messages=(ChatMessage("user", PROMPT),), max_tokens=max_tokens, temperature=0.0, seed=1
    )


def _body(max_tokens: int) -> dict[str, Any]:
    return {
        "model": "llama.cpp",
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": 1,
        "jurisdictions": JURISDICTIONS,
    }


@dataclass(slots=True)
class StreamTimes:
    first_content: float
    first_model_text: float
    total: float
    completion_tokens: int
    label: str


def api_stream(bench: ChatBench, client: httpx.Client | None = None) -> StreamTimes:
    """One streamed reply through the API; the times are from sending the request."""
    client = client or bench.client
    start = time.perf_counter()
    first_content = first_model = 0.0
    label = ""
    text = ""
    tokens = 0
    headers = {"Authorization": f"Bearer {bench.token}"}
    with client.stream(
        "POST", "/v1/chat/completions", json=_body(bench.max_tokens), headers=headers
    ) as response:
        response.raise_for_status()
        for data in _events(response.iter_lines()):
            if data.get("usage"):
                tokens = int(data["usage"]["completion_tokens"])
            for choice in data.get("choices", ()):
                piece = choice["delta"].get("content") or ""
                if piece and not first_content:
                    first_content = time.perf_counter() - start
                text += piece
                record = data.get("hallmark")
                if record and record.get("explicit_label"):
                    label = record["explicit_label"]
            if text and not first_model:
                model_text = _without_prefix(text)
                if model_text:
                    first_model = time.perf_counter() - start
    return StreamTimes(first_content, first_model, time.perf_counter() - start, tokens, label)


_PREFIXES = ("[AI-generated] ", "【AI生成】", "You are talking to an AI system.\n\n")


def _without_prefix(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :]
                changed = True
            elif prefix.startswith(text):
                return ""
    return text


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if not line.startswith("data: "):
            continue
        payload = line[len("data: ") :]
        if payload == "[DONE]":
            return
        data = json.loads(payload)
        if "error" in data:
            raise RuntimeError(f"the stream failed: {data['error']}")
        yield data


def direct_stream(bench: ChatBench) -> tuple[float, float, int]:
    """The bare decode: (time to first token, total, tokens)."""
    start = time.perf_counter()
    first = 0.0
    tokens = 0
    for chunk in bench.llama.create_completion(
        bench.prompt_text,
        max_tokens=bench.max_tokens,
        temperature=0.0,
        top_p=0.95,
        stop=bench.stop,
        seed=1,
        stream=True,
    ):
        if chunk["choices"][0]["text"] and not first:
            first = time.perf_counter() - start
        tokens += 1
    return first, time.perf_counter() - start, tokens


def setup_decode(units: int) -> ChatBench:
    return open_bench(units)


CASES: list[Case[Any]] = [
    Case(
        name="chat.decode",
        measures="one streamed reply through POST /v1/chat/completions (uvicorn, loopback): "
        "screening in and as it streams, labels, ledger entry, SSE; llama.cpp + Gemma 270M.",
        baseline_is="llama-cpp-python's create_completion on the same GGUF, prompt text, stops "
        "and greedy settings, streamed.",
        setup=setup_decode,
        ours=api_stream,
        baseline=direct_stream,
        teardown=lambda bench: bench.close(),
        units=MAX_TOKENS,
        quick_units=QUICK_TOKENS,
        unit="token",
    ),
]


def build_ttft(plan: Plan) -> tuple[Table, dict[str, Any]]:
    runs = 3 if plan.quick else 10
    bench = open_bench(48)
    try:
        api_stream(bench)
        direct_stream(bench)
        ours = [api_stream(bench) for _ in range(runs)]
        bare = [direct_stream(bench) for _ in range(runs)]
    finally:
        bench.close()
    first_content = statistics.median(t.first_content for t in ours)
    first_model = statistics.median(t.first_model_text for t in ours)
    first_token = statistics.median(b[0] for b in bare)
    data = {
        "runs": runs,
        "api_first_content_p50_s": first_content,
        "api_first_model_text_p50_s": first_model,
        "llama_first_token_p50_s": first_token,
        "label": ours[0].label,
    }
    table = Table(title="chat: time to first token (p50, ms)")
    for column in ("what", "hallmark API", "llama.cpp direct", "overhead"):
        table.add_column(column, justify="left" if column == "what" else "right")
    table.add_row(
        "first content (the label)",
        f"{first_content * 1000:.1f}",
        f"{first_token * 1000:.1f}",
        f"{(first_content - first_token) * 1000:+.1f}",
    )
    table.add_row(
        "first text of the model",
        f"{first_model * 1000:.1f}",
        f"{first_token * 1000:.1f}",
        f"{(first_model - first_token) * 1000:+.1f}",
    )
    return table, data


def build_concurrent(plan: Plan) -> tuple[Table, dict[str, Any]]:
    tokens = QUICK_TOKENS if plan.quick else MAX_TOKENS
    bench = open_bench(tokens)
    try:
        api_stream(bench)
        results: list[StreamTimes] = []

        def one() -> None:
            with httpx.Client(base_url=bench.base, timeout=300) as client:
                results.append(api_stream(bench, client))

        threads = [threading.Thread(target=one) for _ in range(STREAMS)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ours_wall = time.perf_counter() - start
        start = time.perf_counter()
        bare = [direct_stream(bench) for _ in range(STREAMS)]
        bare_wall = time.perf_counter() - start
    finally:
        bench.close()
    ours_tokens = sum(r.completion_tokens for r in results)
    bare_tokens = sum(b[2] for b in bare)
    data = {
        "streams": STREAMS,
        "ours_wall_s": ours_wall,
        "ours_tokens": ours_tokens,
        "baseline_wall_s": bare_wall,
        "baseline_tokens": bare_tokens,
        "ours_p50_total_s": statistics.median(r.total for r in results),
        "ours_max_total_s": max(r.total for r in results),
    }
    table = Table(title=f"chat: {STREAMS} concurrent streams (tokens/s over the whole run)")
    for column in ("side", "tokens", "wall s", "tokens/s", "ratio"):
        table.add_column(column, justify="left" if column == "side" else "right")
    ours_rate = ours_tokens / ours_wall
    bare_rate = bare_tokens / bare_wall
    table.add_row(
        f"hallmark API, {STREAMS} at once",
        str(ours_tokens),
        f"{ours_wall:.2f}",
        f"{ours_rate:.1f}",
        f"{bare_rate / ours_rate:.2f}x",
    )
    table.add_row(
        f"llama.cpp, {STREAMS} in a row",
        str(bare_tokens),
        f"{bare_wall:.2f}",
        f"{bare_rate:.1f}",
        "1.00x",
    )
    return table, data


REPORTS = [Report("chat.ttft", build_ttft), Report("chat.concurrent", build_concurrent)]
