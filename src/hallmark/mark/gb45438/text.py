"""Markdown and plain-text documents: the label as ``AIGC: {json}`` in YAML front matter.

The writer replaces an existing top-level ``AIGC`` entry in place (a one-line value, a nested
mapping or a multi-line value) or adds one at the end of the front matter, keeping every other
line; a document without front matter gets one. The reader takes the value as JSON, as a quoted
string holding JSON, as a YAML flow mapping, or as a nested block mapping.

The content's "bytes without metadata" are the document without the ``AIGC`` entry, and without
the front matter when nothing else is left in it, and without a C2PA text wrapper: C2PA signs
after this label is written and appends its manifest to the end of the text.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace

from hallmark.errors import UserError
from hallmark.mark.c2pa.text import strip as strip_c2pa
from hallmark.mark.gb45438.fields import AIGCFields, Reading, reading

_OPEN = re.compile(r"---[ \t]*\r?\n")
_CLOSE = frozenset({"---", "..."})
_ENTRY = re.compile(r"(?i)aigc[ \t]*:")
BOM = "\ufeff"


@dataclass(slots=True, frozen=True)
class Document:
    """A text split at its front matter; ``lines`` keep their line endings. Without front
    matter, ``opening`` and ``closing`` are empty and ``body`` is the whole text (less a BOM)."""

    bom: str
    opening: str
    lines: tuple[str, ...]
    closing: str
    body: str

    @property
    def has_front_matter(self) -> bool:
        return bool(self.opening)

    @property
    def newline(self) -> str:
        return "\r\n" if self.opening.endswith("\r\n") else "\n"

    def render(self, lines: tuple[str, ...] | list[str] | None = None) -> str:
        lines = self.lines if lines is None else lines
        if not self.opening:
            return self.bom + self.body
        closing = self.closing
        if self.body and not closing.endswith("\n"):
            closing += self.newline
        return self.bom + self.opening + "".join(lines) + closing + self.body

    def with_body(self, body: str) -> Document:
        return replace(self, body=body)

    def entry(self) -> tuple[int, int] | None:
        """The [start, end) line span of the top-level AIGC entry, or None."""
        for start, line in enumerate(self.lines):
            if _ENTRY.match(line):
                end = start + 1
                while end < len(self.lines) and (
                    self.lines[end][:1] in (" ", "\t") or _open_braces(self.lines[start:end])
                ):
                    end += 1
                return start, end
        return None


def _open_braces(lines: tuple[str, ...]) -> bool:
    """Whether a flow mapping (``AIGC: {`` ...) spans more lines than these."""
    value = _ENTRY.sub("", "".join(lines), count=1).strip()
    if not value.startswith("{") or value.count("{") <= value.count("}"):
        return False
    try:
        json.loads(value)
    except ValueError:
        return True
    return False  # a brace inside a string value


def split(text: str) -> Document:
    bom = BOM if text.startswith(BOM) else ""
    text = text[len(bom) :]
    opened = _OPEN.match(text)
    if opened is not None:
        rest = text[opened.end() :].splitlines(keepends=True)
        for index, line in enumerate(rest):
            if line.strip() in _CLOSE:
                body = "".join(rest[index + 1 :])
                return Document(bom, opened.group(0), tuple(rest[:index]), line, body)
    return Document(bom, "", (), "", text)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"the document is not UTF-8 text (bad byte at {exc.start})") from None


def _value(lines: tuple[str, ...]) -> str | dict[str, str]:
    first = _ENTRY.sub("", lines[0], count=1).strip()
    rest = [line.strip() for line in lines[1:]]
    if not first and rest and not rest[0].startswith(("{", '"', "'")):
        pairs = (line.partition(":") for line in rest if line and not line.startswith("#"))
        return {k.strip(): v.strip().strip("'\"") for k, sep, v in pairs if sep}
    value = " ".join([first, *rest]).strip()
    if value.startswith('"'):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, str) else value
    if value.startswith("'") and value.endswith("'"):
        return value[1:-1].replace("''", "'")
    return value


def read(data: bytes) -> list[Reading]:
    document = split(data.decode("utf-8", errors="replace"))
    span = document.entry()
    if span is None:
        return []
    return [reading("front-matter", _value(document.lines[span[0] : span[1]]))]


def strip_label(text: str) -> str:
    """The document without its AIGC entry (and without front matter left empty)."""
    document = split(text)
    span = document.entry()
    lines = (
        document.lines if span is None else document.lines[: span[0]] + document.lines[span[1] :]
    )
    if not any(line.strip() for line in lines):
        return document.bom + document.body
    return document.render(lines)


def write(data: bytes, fields: AIGCFields) -> bytes:
    document = split(decode(data))
    if not document.has_front_matter:
        document = replace(document, opening="---\n", closing="---\n")
    line = f"AIGC: {fields.to_json()}{document.newline}"
    lines = list(document.lines)
    span = document.entry()
    if span is None:
        lines.append(line)
    else:
        lines[span[0] : span[1]] = [line]
    return document.render(lines).encode("utf-8")


def content_digest(data: bytes) -> str:
    text = strip_c2pa(data).decode("utf-8", errors="replace")
    return "sha256:" + hashlib.sha256(strip_label(text).encode("utf-8")).hexdigest()
