"""The inspect report: every label and trace found in one file, and the platform verdict.

Runs every registered inspector over the file, groups what they found by scheme, and classifies
the file as a distribution platform must (Labeling Measures Art. 6).
"""

from __future__ import annotations

from typing import Any

from hallmark.content import Content
from hallmark.mark.base import Finding, classify, inspect_all
from hallmark.media_types import medium_for, sniff
from hallmark.registry import Components
from hallmark.store.media import digest_of

SCHEMES = ("explicit", "gb45438", "c2pa", "sb942", "watermark")


def inspect_bytes(
    components: Components,
    data: bytes,
    *,
    filename: str | None = None,
    declared_type: str | None = None,
    declared_ai: bool = False,
    quick: bool = False,
) -> dict[str, Any]:
    """``quick`` skips costly inspectors (OCR of visible labels); the report says so."""
    media_type = sniff(data, declared_type or filename)
    content = Content(medium_for(media_type), media_type, data)
    findings = inspect_all(components.inspectors, content, quick=quick)
    report: dict[str, Any] = {
        "file": filename,
        "media_type": media_type,
        "size": len(data),
        "digest": digest_of(data),
    }
    for scheme in SCHEMES:
        report[scheme] = _scheme_report(scheme, findings)
    report["verdict"] = classify(findings, declared_ai=declared_ai)
    report["quick"] = quick
    report["findings"] = [finding.to_dict() for finding in findings]
    return report


def _scheme_report(scheme: str, findings: list[Finding]) -> Any:
    found = [f.detail for f in findings if f.scheme == scheme]
    if scheme == "explicit":
        return found  # there may be several notices
    return found[0] if found else None
