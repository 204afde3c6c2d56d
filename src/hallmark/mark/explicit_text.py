"""The explicit label for text: a notice at the start (GB 45438-2025, text: start, end or a
suitable middle position). Chinese wording takes the full-width brackets readers expect."""

from __future__ import annotations

from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.mark.base import EXPLICIT, LabelContext, Marker
from hallmark.registry import Components


def text_notice(wording: str, language: str) -> str:
    return f"【{wording}】" if language == "zh" else f"[{wording}] "


class ExplicitTextLabel(Marker):
    scheme: ClassVar[str] = EXPLICIT
    media: ClassVar[frozenset[Medium]] = frozenset({"text"})

    def mark(self, content: Content, context: LabelContext) -> Content:
        notice = text_notice(context.wording, context.language)
        text = content.text
        if text.startswith(notice):
            return content
        return content.with_data((notice + text).encode("utf-8"), explicit_label=notice.strip())


def register(components: Components) -> None:
    components.markers.register("explicit.text", ExplicitTextLabel())
