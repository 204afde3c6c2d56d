"""Registries of swappable parts, filled by calling ``register`` (never by import side effects).

Built-ins register through the same hook as add-ons: each plugin module has a
``register(components)`` function; ``load_components`` calls the built-ins' hooks and then
those of the modules named in settings (``HALLMARK_PLUGINS``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from hallmark.errors import HallmarkError, UnknownComponent
from hallmark.settings import Settings

if TYPE_CHECKING:
    from hallmark.assistant.tools import AssistantTool
    from hallmark.engines.base import Engine
    from hallmark.jobs.kinds import JobKind
    from hallmark.mark.base import Inspector, Marker
    from hallmark.perception.base import Perceiver
    from hallmark.screen.base import Screen
    from hallmark.speech.base import SpeechToText, TextToSpeech

T = TypeVar("T")


class Registry(Generic[T]):
    """Named members of one kind of component."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._members: dict[str, T] = {}

    def register(self, name: str, member: T) -> None:
        if name in self._members:
            raise HallmarkError(f"{self.kind} {name!r} is registered twice")
        self._members[name] = member

    def get(self, name: str) -> T:
        try:
            return self._members[name]
        except KeyError:
            known = ", ".join(sorted(self._members)) or "none"
            raise UnknownComponent(f"unknown {self.kind} {name!r}; registered: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._members)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._members.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __len__(self) -> int:
        return len(self._members)


@dataclass(slots=True)
class Components:
    settings: Settings  # what members need to find their keys and options
    screens: Registry[Screen] = field(default_factory=lambda: Registry("screen"))
    markers: Registry[Marker] = field(default_factory=lambda: Registry("marker"))
    inspectors: Registry[Inspector] = field(default_factory=lambda: Registry("inspector"))
    engines: Registry[Engine] = field(default_factory=lambda: Registry("engine"))
    job_kinds: Registry[JobKind] = field(default_factory=lambda: Registry("job kind"))
    voices: Registry[TextToSpeech] = field(default_factory=lambda: Registry("voice"))
    transcribers: Registry[SpeechToText] = field(default_factory=lambda: Registry("transcriber"))
    tools: Registry[AssistantTool] = field(default_factory=lambda: Registry("assistant tool"))
    perceivers: Registry[Perceiver] = field(default_factory=lambda: Registry("perceiver"))


DEFAULT_PLUGINS: tuple[str, ...] = (
    "hallmark.screen.lexicon",
    "hallmark.screen.classifier",
    "hallmark.screen.image",
    "hallmark.speech.piper",
    "hallmark.speech.espeak",  # after piper: the fallback for the languages piper lacks
    "hallmark.speech.whisper",
    "hallmark.engines.llm.llama_cpp",
    "hallmark.engines.llm.openai_compatible",
    "hallmark.screen.audio",
    "hallmark.screen.video",
    "hallmark.screen.judge",
    "hallmark.mark.explicit_text",
    "hallmark.mark.inspect_text",
    "hallmark.mark.inspect_image_text",
    "hallmark.mark.inspect_video_text",
    "hallmark.mark.gb45438",
    "hallmark.mark.explicit_document",
    "hallmark.mark.explicit_image",
    "hallmark.mark.explicit_video",
    "hallmark.mark.explicit_audio",
    "hallmark.mark.inspect_audio_cue",
    "hallmark.mark.watermark",
    "hallmark.mark.c2pa",
    "hallmark.jobs.batch_create",
    "hallmark.platform.publish",
    "hallmark.assistant.tools",
    "hallmark.studio.jobs",
    "hallmark.perception.image",
    "hallmark.perception.audio",
    "hallmark.perception.video",
    "hallmark.perception.vlm",
)


def load_components(settings: Settings, plugins: Iterable[str] = ()) -> Components:
    """The built-ins, then the settings' plugins, then ``plugins``, each through its hook."""
    components = Components(settings)
    for module_name in (*DEFAULT_PLUGINS, *settings.plugin_modules(), *plugins):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UnknownComponent(f"cannot import plugin {module_name!r}: {exc}") from exc
        hook = getattr(module, "register", None)
        if hook is None:
            raise UnknownComponent(f"plugin {module_name!r} has no register(components) function")
        hook(components)
    return components
