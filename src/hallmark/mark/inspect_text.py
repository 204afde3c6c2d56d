"""Reads explicit AI notices in text, such as "AI生成" or "AI-generated": a trace that makes
content suspected. Implicit labels (a GB 45438 ``AIGC`` block in front matter) are read by
``hallmark.mark.gb45438``."""

from __future__ import annotations

from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.mark.base import Finding, Inspector
from hallmark.mark.notices import find_notice
from hallmark.registry import Components


class TextLabelInspector(Inspector):
    name: ClassVar[str] = "text"
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "document"})

    def inspect(self, content: Content) -> list[Finding]:
        if not content.media_type.startswith("text/"):
            return []
        notice = find_notice(content.text)
        if notice is None:
            return []
        return [Finding("explicit", "explicit", {"text": notice})]


def register(components: Components) -> None:
    components.inspectors.register("text", TextLabelInspector())
