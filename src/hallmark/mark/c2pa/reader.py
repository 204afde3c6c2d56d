"""Reads any file's C2PA manifest store into a plain report: the SB 942 detection side.

The state is c2pa-rs's validation state: ``Trusted`` (valid, signer chains to a trust anchor),
``Valid`` (well formed and intact, signer not trusted here), ``Invalid`` (a hash or signature
check failed), or ``absent`` when there is no manifest. Reading never raises on bad input: an
unreadable file is ``absent`` with the reason in ``error``. Nothing is fetched over the network.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from typing import Any

import c2pa

from hallmark.mark.c2pa import text
from hallmark.mark.c2pa.manifest import AI_SOURCE_TYPES, GENERATOR, SB942_LABEL

ABSENT = "absent"
_STATES = ("Trusted", "Valid", "Invalid")


@dataclass(slots=True, frozen=True)
class CredentialReport:
    state: str
    claim_generator: str | None = None
    title: str | None = None
    digital_source_types: tuple[str, ...] = ()
    signer_issuer: str | None = None
    signer_common_name: str | None = None
    status_codes: tuple[str, ...] = ()  # failures, e.g. assertion.dataHash.mismatch
    sb942: dict[str, Any] | None = None
    manifests: int = 0
    error: str | None = None

    @property
    def declares_ai(self) -> bool:
        return any(t in AI_SOURCE_TYPES for t in self.digital_source_types)

    @property
    def by_hallmark(self) -> bool:
        return (self.claim_generator or "").split(" ")[0] == GENERATOR

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["digital_source_types"] = list(self.digital_source_types)
        out["status_codes"] = list(self.status_codes)
        return out


def reader_context(anchors_pem: bytes = b"") -> Any:
    """A c2pa Context that checks trust against ``anchors_pem`` and never goes online."""
    config: dict[str, Any] = {
        "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False}
    }
    if anchors_pem.strip():
        config["trust"] = {"trust_anchors": anchors_pem.decode("ascii")}
    return c2pa.Context.from_dict(config)


def open_store(data: bytes, media_type: str | None, anchors_pem: bytes = b"") -> Any:
    """The manifest store as parsed JSON, or None when the asset carries none.

    Raises ``c2pa.C2paError`` when the asset cannot be parsed. The media type is a hint only:
    c2pa-rs detects the container from the bytes. Plain text and Markdown, which c2pa-rs cannot
    parse, are read from their C2PA text wrapper (``hallmark.mark.c2pa.text``).
    """
    hint = (media_type or "").split(";")[0].strip().lower() or None
    with reader_context(anchors_pem) as context:
        if hint in text.TEXT_TYPES:
            return text.open_store(data, hint, context)
        reader = c2pa.Reader.try_create(hint, io.BytesIO(data), None, context)
        if reader is None:
            return None
        with reader:
            return json.loads(reader.json())


def read_credentials(
    data: bytes, media_type: str | None = None, anchors_pem: bytes = b""
) -> CredentialReport:
    """The report for one file; never raises on bad input."""
    if not data:
        return CredentialReport(ABSENT, error="the file is empty")
    try:
        store = open_store(data, media_type, anchors_pem)
    except (c2pa.C2paError, ValueError, TypeError, OSError) as exc:
        return CredentialReport(ABSENT, error=f"unreadable: {exc}")
    if store is None:
        return CredentialReport(ABSENT)
    return report_from_store(store)


def report_from_store(store: dict[str, Any]) -> CredentialReport:
    manifests: dict[str, Any] = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest", ""), {})
    # The active manifest first, then those of its ingredients.
    ordered = [active, *(m for m in manifests.values() if m is not active)]
    generator: dict[str, Any] = next(iter(active.get("claim_generator_info") or []), {})
    signature = active.get("signature_info") or {}
    state = store.get("validation_state")
    return CredentialReport(
        state=state if state in _STATES else "Invalid",
        claim_generator=" ".join(str(generator[k]) for k in ("name", "version") if generator.get(k))
        or active.get("claim_generator"),
        title=active.get("title"),
        digital_source_types=_unique(t for m in ordered for t in _source_types(m)),
        signer_issuer=signature.get("issuer"),
        signer_common_name=signature.get("common_name"),
        status_codes=_failure_codes(store),
        sb942=next((a for m in ordered if (a := _assertion(m, SB942_LABEL)) is not None), None),
        manifests=len(manifests),
    )


def _source_types(manifest: dict[str, Any]) -> list[str]:
    return [
        str(action["digitalSourceType"])
        for assertion in manifest.get("assertions") or []
        if str(assertion.get("label", "")).startswith("c2pa.actions")
        for action in (assertion.get("data") or {}).get("actions") or []
        if action.get("digitalSourceType")
    ]


def _assertion(manifest: dict[str, Any], label: str) -> dict[str, Any] | None:
    for assertion in manifest.get("assertions") or []:
        if assertion.get("label") == label and isinstance(assertion.get("data"), dict):
            data: dict[str, Any] = assertion["data"]
            return data
    return None


def _failure_codes(store: dict[str, Any]) -> tuple[str, ...]:
    results = store.get("validation_results") or {}
    statuses = list((results.get("activeManifest") or {}).get("failure") or [])
    for delta in results.get("ingredientDeltas") or []:
        statuses += (delta.get("validationDeltas") or {}).get("failure") or []
    statuses += store.get("validation_status") or []
    return _unique(str(s["code"]) for s in statuses if isinstance(s, dict) and "code" in s)


def _unique(items: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
