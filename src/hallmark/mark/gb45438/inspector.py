"""The GB 45438 inspector: finds ``AIGC`` labels in every serialization a format allows and
checks their integrity codes.

One finding per distinct label: the same label written twice (PNG's XMP and its ``AIGC`` text
chunk) is one finding listing both serializations; two different labels in one file are two
findings, so a tampered copy beside the real one is not hidden. A value named AIGC that is not a
label is a trace (it makes content "suspected", not "confirmed").
"""

from __future__ import annotations

from typing import Any, ClassVar

from hallmark.content import Content, Medium
from hallmark.mark.base import Finding, Inspector
from hallmark.mark.gb45438.fields import AIGCFields, Reading
from hallmark.mark.gb45438.formats import ContainerFormat, format_for
from hallmark.mark.gb45438.integrity import IntegrityKey, KeyStore, verify

SCHEME = "gb45438"


def _label_finding(
    fields: AIGCFields, serializations: list[str], digest: str, key: IntegrityKey | None
) -> Finding:
    overall, codes = verify(fields, digest, key)
    detail: dict[str, Any] = fields.to_dict()
    detail.update(
        integrity=overall,
        integrity_codes=dict(codes),
        serialization=serializations[0],
        serializations=serializations,
    )
    return Finding(SCHEME, "implicit", detail)


def findings_in(found: ContainerFormat, data: bytes, keys: KeyStore) -> list[Finding]:
    container = found.open(data)
    readings: list[Reading] = container.read()
    labels: dict[str, tuple[AIGCFields, list[str]]] = {}
    broken: list[Reading] = []
    for item in readings:
        if item.fields is None:
            broken.append(item)
            continue
        _, where = labels.setdefault(item.fields.to_json(), (item.fields, []))
        if item.serialization not in where:
            where.append(item.serialization)
    findings: list[Finding] = []
    if labels:
        digest = container.content_digest()
        key = keys.for_reading()
        findings = [_label_finding(f, where, digest, key) for f, where in labels.values()]
    for item in broken:
        detail = {"serialization": item.serialization, "raw": item.raw, "error": item.error}
        findings.append(Finding(SCHEME, "trace", detail))
    return findings


class GB45438Inspector(Inspector):
    name: ClassVar[str] = SCHEME
    # Inline text too: a pasted Markdown document keeps its front matter.
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "document", "image", "audio", "video"})

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def inspect(self, content: Content) -> list[Finding]:
        found = format_for(content.media_type, content.data)
        if found is None:
            return []
        return findings_in(found, content.data, self.keys)
