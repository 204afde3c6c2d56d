"""The inspect report: every label and trace found in one file, and the platform verdict.

Runs every registered inspector over the file, groups what they found by scheme, and classifies
the file as a distribution platform must (Labeling Measures Art. 6). ``inspect_paths`` reports
on many files, ``workers`` at a time, in threads: the costly parts (the C2PA reader in c2pa-rs,
hashing, image decoding and the numpy work) release the GIL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hallmark.content import Content
from hallmark.errors import HallmarkError, UserError
from hallmark.mark.base import Finding, classify, inspect_all
from hallmark.media_types import medium_for, sniff
from hallmark.registry import Components
from hallmark.store.media import digest_of

SCHEMES = ("explicit", "gb45438", "c2pa", "sb942", "watermark")
DEFAULT_WORKERS = 2  # files inspected at once by ``hallmark inspect``


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


def read_file(path: Path) -> bytes:
    """The file's bytes, or a UserError that says why they cannot be read."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc


def inspect_path(components: Components, path: Path, *, quick: bool = False) -> dict[str, Any]:
    """The report for one file; a file that cannot be read or inspected gives its error
    (``{"file": ..., "error": {...}}``) instead."""
    try:
        return inspect_bytes(components, read_file(path), filename=str(path), quick=quick)
    except HallmarkError as exc:
        return {"file": str(path), **exc.to_dict()}


def inspect_paths(
    components: Components,
    paths: Iterable[Path],
    *,
    workers: int = DEFAULT_WORKERS,
    quick: bool = False,
) -> Iterator[dict[str, Any]]:
    """``inspect_path`` for each file, ``workers`` files at a time; reports in the order of
    ``paths``, each as soon as it and those before it are done."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(lambda path: inspect_path(components, path, quick=quick), paths)
