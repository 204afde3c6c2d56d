"""Finds AI declarations in C2PA Content Credentials: the detection side of SB 942 and of
AI Act Art. 50(2). A manifest that declares trained-model output (created or composited) is an
implicit label (``Label`` "1": generated); a manifest without such a declaration is no AI
finding, though ``read_credentials`` still reports it in full."""

from __future__ import annotations

from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.mark.base import Finding, Inspector
from hallmark.mark.c2pa.credentials import CredentialSource
from hallmark.mark.c2pa.reader import read_credentials


class C2paInspector(Inspector):
    name: ClassVar[str] = "c2pa"
    # Inline text too: a C2PA text wrapper survives copy and paste.
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "image", "audio", "video", "document"})

    def __init__(self, anchors: CredentialSource | bytes = b"") -> None:
        self._anchors = anchors

    def inspect(self, content: Content) -> list[Finding]:
        anchors = self._anchors
        if isinstance(anchors, CredentialSource):
            anchors = anchors.anchors()
        report = read_credentials(content.data, content.media_type, anchors)
        findings = []
        if report.declares_ai:
            findings.append(Finding("c2pa", "implicit", {**report.to_dict(), "Label": "1"}))
        if report.sb942 is not None:
            detail = {**report.sb942, "state": report.state, "Label": "1"}
            findings.append(Finding("sb942", "implicit", detail))
        return findings
