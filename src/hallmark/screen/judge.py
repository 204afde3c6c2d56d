"""The LLM judge screen: a chat model asked, Llama Guard style, whether a text is safe.

Off by default. ``HALLMARK_SCREEN_JUDGE`` names a registered chat engine (``llama.cpp``,
``openai-compatible``, ...); only then does the judge register. The engine is looked up on the
judge's first use, or by ``prepare``, since engines may register after the screens; a name that
is not a registered chat engine is a ``ConfigurationError``.

The prompt (``PROMPT``) lists every category of :mod:`hallmark.screen.taxonomy` as ``S1``,
``S2``, ... with its id and description, then the text (its first ``TEXT_LIMIT`` characters),
and asks for Llama Guard's answer format: ``safe``, or ``unsafe`` and a line of comma-separated
codes. A Llama Guard model answers so with a custom category list; another instruction model
can be told to. Each category the answer names is one hit of severity 2 (likely harmful: it
blocks where the policy blocks the category), its evidence the span of text judged and its term
the engine's model.

The judge never blocks on its own failure. When the engine fails (``UpstreamError``, a text too
long for its context, any ``HallmarkError``) or answers in another format (or ``unsafe`` with no
code it knows), the judge reports no hit and logs a warning on the ``hallmark.screen.judge``
logger, naming the engine and quoting its answer, never the text; the other screens decide.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.engines.llm.base import ChatEngine, ChatMessage, ChatRequest, chat_engines
from hallmark.errors import ConfigurationError, HallmarkError
from hallmark.registry import Components
from hallmark.screen.base import Hit, Screen, TextSpan
from hallmark.screen.document import text_of
from hallmark.screen.taxonomy import CATEGORIES, CATEGORY_IDS

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4_000
"""Characters of a text the judge reads; the rest is not judged."""
ANSWER_TOKENS = 64
SEVERITY = 2
CODES: dict[str, str] = {f"s{index}": c.id for index, c in enumerate(CATEGORIES, start=1)}
"""Lower-case code (``s1``) -> category id, in the taxonomy's order."""
CATEGORY_LIST = "\n".join(
    f"S{index}: {category.id} - {category.en}."
    for index, category in enumerate(CATEGORIES, start=1)
)

PROMPT = """Task: Check if there is unsafe content in the message below according to our safety \
policy with the below categories.

<BEGIN UNSAFE CONTENT CATEGORIES>
{categories}
<END UNSAFE CONTENT CATEGORIES>

<BEGIN MESSAGE>

{text}

<END MESSAGE>

Provide your safety assessment for the message above:
 - First line must read 'safe' or 'unsafe'.
 - If unsafe, a second line must include a comma-separated list of violated categories."""

_MARKER = re.compile(r"<(?=\s*(?:BEGIN|END)\b)", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9_]+")
_KNOWN = frozenset(CATEGORY_IDS)

EngineSource = ChatEngine | Callable[[], ChatEngine]


def prompt_for(text: str) -> str:
    """The judge's prompt for a text (already cut to ``TEXT_LIMIT``). A ``<BEGIN``/``<END``
    marker inside the text is defused, so the text cannot close the message early."""
    return PROMPT.format(categories=CATEGORY_LIST, text=_MARKER.sub("‹", text))


def parse_answer(answer: str) -> tuple[str, ...] | None:
    """The category ids of an answer: ``()`` for ``safe``, the ids of the codes (``S3``) or ids
    (``terrorism``) after ``unsafe``, and ``None`` for anything else, ``unsafe`` with no known
    category included."""
    words = _WORD.findall(answer.lower())
    if not words or words[0] not in ("safe", "unsafe"):
        return None
    if words[0] == "safe":
        return ()
    found = [CODES.get(word, word) for word in words[1:]]
    categories = tuple(dict.fromkeys(word for word in found if word in _KNOWN))
    return categories or None


class JudgeScreen(Screen):
    """The judge over one chat engine, given or found on first use (``engine`` may be a
    function that returns it)."""

    name: ClassVar[str] = "judge"
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "document"})

    def __init__(self, engine: EngineSource) -> None:
        self._source = engine
        self._engine = engine if isinstance(engine, ChatEngine) else None
        self._lock = threading.Lock()

    @property
    def engine(self) -> ChatEngine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    source = self._source
                    assert not isinstance(source, ChatEngine)
                    self._engine = source()
        return self._engine

    def prepare(self) -> JudgeScreen:
        """Find the engine and let it load its model now."""
        self.engine.prepare()
        return self

    def find(self, content: Content) -> list[Hit]:
        return self.find_text(text_of(content))

    def find_text(self, text: str) -> list[Hit]:
        if not text.strip():
            return []
        engine = self.engine
        judged = text[:TEXT_LIMIT]
        request = ChatRequest(
            messages=(ChatMessage("user", prompt_for(judged)),),
            max_tokens=ANSWER_TOKENS,
            temperature=0.0,
        )
        try:
            answer = engine.chat(request).text
        except HallmarkError as exc:
            logger.warning("judge: engine %r failed, no verdict: %s", engine.name, exc.message)
            return []
        categories = parse_answer(answer)
        if categories is None:
            logger.warning(
                "judge: engine %r answered neither 'safe' nor 'unsafe' with a known category, "
                "no verdict: %r",
                engine.name,
                answer[:200],
            )
            return []
        span = TextSpan(0, len(judged))
        return [Hit(category, engine.model, self.name, SEVERITY, span) for category in categories]


def engine_named(components: Components, name: str) -> Callable[[], ChatEngine]:
    """A function that finds the chat engine ``name`` among the registered engines."""

    def find() -> ChatEngine:
        engines = chat_engines(components)
        if name in engines:
            return engines[name]
        known = ", ".join(sorted(engines)) or "none"
        if name in components.engines:
            problem = f"engine {name!r} is not a chat engine"
        else:
            problem = f"no engine {name!r} is registered"
        raise ConfigurationError(
            f"HALLMARK_SCREEN_JUDGE: {problem}; registered chat engines: {known}"
        )

    return find


def register(components: Components) -> None:
    name = (components.settings.screen_judge or "").strip()
    if name:
        components.screens.register(JudgeScreen.name, JudgeScreen(engine_named(components, name)))
