"""The mark flow: label a file the caller brings, as the create flow labels what it generates.

policy -> plan labels -> screen -> mark -> ledger. The input bytes are never modified; the
labelled copy goes to the media store and its ledger entry records which labels were written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hallmark.accounts.service import new_id
from hallmark.content import Content
from hallmark.errors import MissingMarker, PayloadTooLarge
from hallmark.flows.common import (
    blocked,
    label_context,
    label_or_refuse,
    language_for,
    policy_for,
    record_content,
    record_refusal,
)
from hallmark.mark.base import EXPLICIT, plan_labels
from hallmark.media_types import medium_for, sniff
from hallmark.screen.base import Decision, screen_content
from hallmark.services import Services
from hallmark.store.media import digest_of
from hallmark.store.models import utcnow_iso


@dataclass(slots=True, frozen=True)
class MarkRequest:
    data: bytes
    filename: str | None = None
    declared_type: str | None = None
    jurisdictions: tuple[str, ...] | None = None
    language: str | None = None
    explicit: bool = True


@dataclass(slots=True, frozen=True)
class MarkOutcome:
    content_id: str
    content: Content
    digest: str
    input_digest: str
    labels: tuple[str, ...]
    waived: tuple[str, ...]
    decision: Decision
    jurisdictions: tuple[str, ...]
    ledger_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.content_id,
            "medium": self.content.medium,
            "media_type": self.content.media_type,
            "input_digest": self.input_digest,
            "digest": self.digest,
            "size": len(self.content.data),
            "labels": list(self.labels),
            "waived": list(self.waived),
            "screening": self.decision.to_dict(),
            "jurisdictions": list(self.jurisdictions),
            "ledger_seq": self.ledger_seq,
        }


def run_mark(services: Services, tenant_id: str, request: MarkRequest) -> MarkOutcome:
    limit = services.settings.max_upload_bytes
    if len(request.data) > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes")
    media_type = sniff(request.data, request.declared_type or request.filename)
    medium = medium_for(media_type)
    with services.db.session() as session:
        policy = policy_for(services, session, tenant_id, request.jurisdictions)
    language = language_for(policy, request.language)
    waived = frozenset() if request.explicit else frozenset({EXPLICIT})
    input_digest = digest_of(request.data)
    base = {
        "medium": medium,
        "media_type": media_type,
        "filename": request.filename,
        "input_digest": input_digest,
        "jurisdictions": list(policy.jurisdictions),
        "waived": sorted(waived),
    }
    try:
        plan = plan_labels(policy, medium, services.components.markers, waived=waived)
    except MissingMarker as exc:
        raise record_refusal(services, tenant_id, "mark.refused", base, exc) from None

    content = Content(medium, media_type, request.data)
    decision = screen_content(services.components.screens, content, policy, language=language)
    if decision.action == "block":
        error = blocked("the file", decision)
        payload = {**base, "screening": decision.to_dict()}
        raise record_refusal(services, tenant_id, "mark.blocked", payload, error)

    content_id, created_at = new_id(), utcnow_iso()
    context = label_context(
        services,
        policy,
        language,
        policy.label_text(language),
        content_id=content_id,
        created_at=created_at,
    )
    content, labels = label_or_refuse(
        services, tenant_id, "mark.refused", base, content, plan, context
    )
    digest, seq = record_content(
        services,
        tenant_id,
        flow="mark",
        content_id=content_id,
        created_at=created_at,
        content=content,
        labels=labels,
        classification="confirmed",
        decision=decision.action,
        jurisdictions=policy.jurisdictions,
        payload={**base, "screening": decision.to_dict()},
    )
    return MarkOutcome(
        content_id,
        content,
        digest,
        input_digest,
        labels,
        tuple(sorted(waived)),
        decision,
        policy.jurisdictions,
        seq,
    )
