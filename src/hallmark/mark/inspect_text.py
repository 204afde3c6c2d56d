"""Reads explicit AI notices in text, such as "AI生成" or "AI-generated": a trace that makes
content suspected. Implicit labels (a GB 45438 ``AIGC`` block in front matter, a C2PA text
wrapper) are read by ``hallmark.mark.gb45438`` and ``hallmark.mark.c2pa``; the wrapper's
invisible characters are left out of what is searched here."""

from __future__ import annotations

from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.mark.base import Finding, Inspector
from hallmark.mark.c2pa.text import strip as strip_c2pa
from hallmark.mark.notices import find_notice
from hallmark.registry import Components


class TextLabelInspector(Inspector):
    name: ClassVar[str] = "text"
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "document"})

    def inspect(self, content: Content) -> list[Finding]:
        if not content.media_type.startswith("text/"):
            return []
        notice = find_notice(strip_c2pa(content.data).decode("utf-8", errors="replace"))
        if notice is None:
            return []
        return [Finding("explicit", "explicit", {"text": notice})]


def register(components: Components) -> None:
    components.inspectors.register("text", TextLabelInspector())
