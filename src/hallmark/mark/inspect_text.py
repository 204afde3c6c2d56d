"""Reads AI labels in text: a GB 45438 ``AIGC`` block in Markdown/YAML front matter (implicit)
and explicit notices such as "AI生成" or "AI-generated" (a trace that makes content suspected)."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from hallmark.content import Content, Medium
from hallmark.mark.base import Finding, Inspector
from hallmark.registry import Components

_FRONT_MATTER = re.compile(r"\A\ufeff?---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_AIGC_LINE = re.compile(r"^AIGC\s*:\s*(\{.*\})\s*$", re.MULTILINE)
_AIGC_BLOCK = re.compile(r"^AIGC\s*:\s*\n((?:[ \t]+\S.*\n?)+)", re.MULTILINE)
_NOTICES = re.compile(
    r"人工智能生成|AI\s*生成|由\s*AI\s*提供|AI[- ]generated|generated (?:by|with) (?:an )?AI",
    re.IGNORECASE,
)


def _front_matter_aigc(text: str) -> dict[str, Any] | None:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None
    block = match.group(1) + "\n"
    line = _AIGC_LINE.search(block)
    if line is not None:
        try:
            value = json.loads(line.group(1))
        except ValueError:
            return {"raw": line.group(1)}
        return value if isinstance(value, dict) else {"raw": value}
    nested = _AIGC_BLOCK.search(block)
    if nested is None:
        return None
    fields: dict[str, Any] = {}
    for raw in nested.group(1).splitlines():
        key, sep, value = raw.strip().partition(":")
        if sep:
            fields[key.strip()] = value.strip().strip("'\"")
    return fields


class TextLabelInspector(Inspector):
    name: ClassVar[str] = "text"
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "document"})

    def inspect(self, content: Content) -> list[Finding]:
        if not content.media_type.startswith("text/"):
            return []
        text = content.text
        findings = []
        aigc = _front_matter_aigc(text)
        if aigc is not None:
            findings.append(Finding("gb45438", "implicit", aigc))
        notice = _NOTICES.search(text)
        if notice is not None:
            findings.append(Finding("explicit", "explicit", {"text": notice.group(0)}))
        return findings


def register(components: Components) -> None:
    components.inspectors.register("text", TextLabelInspector())
