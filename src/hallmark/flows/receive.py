"""The receive flow: inspect -> classify -> screen -> implicit propagation label -> ledger.

The original bytes are stored before anything else, so nothing a user uploaded is lost even when
a later stage refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hallmark.accounts.service import new_id
from hallmark.content import Content, Medium
from hallmark.errors import MissingMarker, UserError
from hallmark.flows.common import (
    blocked,
    label_context,
    label_or_refuse,
    language_for,
    policy_for,
    record_content,
    record_refusal,
)
from hallmark.mark.base import (
    Classification,
    Finding,
    classify,
    inspect_all,
    plan_labels,
)
from hallmark.mark.watermark.marker import watermark_record
from hallmark.media_types import medium_for
from hallmark.screen.base import Decision, screen_content
from hallmark.services import Services
from hallmark.store.models import utcnow_iso

# What a propagation platform writes into the file it stores (Labeling Measures Art. 6(1)-(3)):
# its own fields in the implicit label, a metadata edit that never re-encodes the content. The
# explicit notice goes "around" the content (the feed's tag, ``platform_label``), not into it,
# and the producer's marks (its visible label, watermark, Content Credentials) stay as they came:
# drawing or signing again would re-encode the file and claim more than the verdict says.
PROPAGATOR_SCHEMES = frozenset({"gb45438"})


def medium_of(media_type: str, *, inline_text: bool = False) -> Medium:
    if inline_text:
        return "text"
    return medium_for(media_type.split(";", 1)[0].strip().lower())


@dataclass(slots=True, frozen=True)
class ReceiveRequest:
    data: bytes
    media_type: str
    filename: str | None = None
    declared_ai: bool = False
    inline_text: bool = False
    jurisdictions: tuple[str, ...] | None = None
    language: str | None = None


@dataclass(slots=True, frozen=True)
class ReceiveOutcome:
    content_id: str
    original_digest: str
    content: Content
    digest: str
    classification: Classification
    findings: tuple[Finding, ...]
    decision: Decision
    labels: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    ledger_seq: int
    platform_label: str | None = None
    """The notice to show around the content (the feed's tag), in the user's language."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.content_id,
            "medium": self.content.medium,
            "media_type": self.content.media_type,
            "text": self.content.text if self.content.medium == "text" else None,
            "original_digest": self.original_digest,
            "digest": self.digest,
            "classification": self.classification,
            "findings": [finding.to_dict() for finding in self.findings],
            "screening": self.decision.to_dict(),
            "labels": list(self.labels),
            "platform_label": self.platform_label,
            "jurisdictions": list(self.jurisdictions),
            "ledger_seq": self.ledger_seq,
        }


def run_receive(services: Services, tenant_id: str, request: ReceiveRequest) -> ReceiveOutcome:
    if not request.data:
        raise UserError("the upload is empty")
    if len(request.data) > services.settings.max_upload_bytes:
        raise UserError(f"the upload is larger than {services.settings.max_upload_bytes} bytes")
    medium = medium_of(request.media_type, inline_text=request.inline_text)
    components = services.components
    with services.db.session() as session:
        policy = policy_for(services, session, tenant_id, request.jurisdictions)
    language = language_for(policy, request.language)
    original_digest = services.media.put(request.data)
    content = Content(medium, request.media_type, request.data)
    findings = tuple(inspect_all(components.inspectors, content))
    classification = classify(findings, declared_ai=request.declared_ai)
    base = {
        "medium": medium,
        "media_type": request.media_type,
        "filename": request.filename,
        "original_digest": original_digest,
        "declared_ai": request.declared_ai,
        "classification": classification,
        "findings": [finding.to_dict() for finding in findings],
        "jurisdictions": list(policy.jurisdictions),
    }

    decision = screen_content(components.screens, content, policy, language=language)
    if decision.action == "block":
        error = blocked("the upload", decision)
        raise record_refusal(
            services, tenant_id, "receive.blocked", {**base, "screening": decision.to_dict()}, error
        )

    labels: tuple[str, ...] = ()
    content_id = new_id()
    created_at = utcnow_iso()
    if classification != "none":
        try:
            plan = plan_labels(policy, medium, components.markers, only=PROPAGATOR_SCHEMES)
        except MissingMarker as exc:
            raise record_refusal(services, tenant_id, "receive.refused", base, exc) from None
        wording = policy.platform_label(classification, language)
        context = label_context(
            services,
            policy,
            language,
            wording,
            content_id=content_id,
            created_at=created_at,
            classification=classification,
        )
        content, labels = label_or_refuse(
            services, tenant_id, "receive.refused", base, content, plan, context
        )
    kept = _kept_watermark(findings)
    if kept is not None:  # trace leads to the entry of the first generation, through this copy too
        content = content.with_data(content.data, watermark=kept)
    digest, seq = record_content(
        services,
        tenant_id,
        flow="receive",
        content_id=content_id,
        created_at=created_at,
        content=content,
        labels=labels,
        classification=classification,
        decision=decision.action,
        jurisdictions=policy.jurisdictions,
        payload={**base, "screening": decision.to_dict()},
    )
    return ReceiveOutcome(
        content_id,
        original_digest,
        content,
        digest,
        classification,
        findings,
        decision,
        labels,
        policy.jurisdictions,
        seq,
        policy.platform_label(classification, language) if classification != "none" else None,
    )


def _kept_watermark(findings: tuple[Finding, ...]) -> dict[str, Any] | None:
    """The record of a watermark of ours the upload already carries (kept as it is), for the
    ledger entry and the content record's watermark id."""
    for finding in findings:
        detail = finding.detail
        if finding.scheme == "watermark" and isinstance(detail, dict):
            watermark_id = detail.get("watermark_id")
            if isinstance(watermark_id, str):
                return watermark_record(
                    watermark_id,
                    detail.get("payload"),
                    detail.get("key_id"),
                    detail.get("algorithm"),
                    existing=True,
                )
    return None
