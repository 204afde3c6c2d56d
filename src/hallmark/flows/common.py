"""Stages both flows share: choosing the policy and language, and recording refusals."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from hallmark.content import Content
from hallmark.errors import ContentBlocked, HallmarkError, UserError
from hallmark.mark.base import Classification, LabelContext, Marker, Provenance, apply_labels
from hallmark.policy import Policy, resolve_policy
from hallmark.screen.base import Decision, screen_content
from hallmark.services import Services
from hallmark.store.models import ContentRecord, Tenant

LANGUAGES = ("zh", "en")


def policy_for(
    services: Services, session: Session, tenant_id: str, requested: Sequence[str] | None
) -> Policy:
    """Request jurisdictions override the tenant's, which override the deployment default."""
    if requested:
        codes: Sequence[str] = requested
    else:
        tenant = session.get(Tenant, tenant_id)
        codes = (
            tenant.jurisdictions.split(",")
            if tenant is not None and tenant.jurisdictions
            else services.settings.jurisdiction_codes()
        )
    return resolve_policy(list(codes), services.settings.policy_dir)


def language_for(policy: Policy, requested: str | None) -> str:
    if requested is None:
        return policy.language
    if requested not in LANGUAGES:
        raise UserError(
            f"unsupported language {requested!r}; choose one of: {', '.join(LANGUAGES)}"
        )
    return requested


def record_refusal(
    services: Services,
    tenant_id: str,
    kind: str,
    payload: dict[str, Any],
    error: HallmarkError,
) -> HallmarkError:
    """Commit the refusal to the ledger on its own, then hand back the error to raise."""
    with services.db.session() as session:
        entry = services.ledger.append(
            session,
            kind,
            {**payload, "error": {"code": error.code, "message": error.message}},
            tenant_id=tenant_id,
        )
    error.details.setdefault("ledger_seq", entry.seq)
    return error


def blocked(what: str, decision: Decision, **details: Any) -> ContentBlocked:
    """The error for blocked content. Its message is the policy's refusal in the user's
    language (decide it with ``language``), what the user is shown; the details say what was
    blocked and why: the categories, the reasons and the evidence."""
    record = decision.to_dict()
    reason = f"{what} was blocked: {'; '.join(decision.reasons)}"
    return ContentBlocked(
        decision.refusal or reason,
        reason=reason,
        refusal=decision.refusal,
        categories=decision.categories,
        evidence=record["evidence"],
        **details,
    )


def screen_or_refuse(
    services: Services,
    tenant_id: str,
    kind: str,
    base: dict[str, Any],
    content: Content,
    policy: Policy,
    *,
    what: str,
    stage: str,
    language: str,
    minor: bool = False,
) -> Decision:
    """The registered screens' decision on ``content``; when it blocks, the refusal is
    recorded as a ``kind`` entry (``base`` with the stage and the screening) and raised."""
    decision = screen_content(
        services.components.screens, content, policy, minor=minor, language=language
    )
    if decision.action == "block":
        payload = {**base, "stage": stage, "screening": decision.to_dict()}
        raise record_refusal(
            services, tenant_id, kind, payload, blocked(what, decision, stage=stage)
        )
    return decision


def record_content(
    services: Services,
    tenant_id: str,
    *,
    flow: str,
    content_id: str,
    created_at: str,
    content: Content,
    labels: tuple[str, ...],
    classification: str,
    decision: str,
    jurisdictions: tuple[str, ...],
    payload: dict[str, Any],
    digest_key: str = "digest",
) -> tuple[str, int]:
    """Store the content, then commit the flow's ledger entry and its content record together.

    The entry's payload gets the content id, the stored digest (under ``digest_key``), the
    labels written, the audio notice written (spoken or rhythm cue, and where) when there is
    one, and, when the content carries our watermark (written now, or kept by a propagator),
    the watermark record; the content record gets the watermark id, which is what
    ``hallmark.trace`` looks up. Returns the digest and the entry's seq.
    """
    digest = services.media.put(content.data)
    payload = {**payload, "content_id": content_id, digest_key: digest, "labels": list(labels)}
    if isinstance(content.metadata.get("audio_notice"), dict):
        payload["audio_notice"] = content.metadata["audio_notice"]
    watermark = content.metadata.get("watermark")
    watermark_id = None
    if isinstance(watermark, dict) and isinstance(watermark.get("id"), str):
        payload["watermark"] = watermark
        watermark_id = watermark["id"].lower()
    with services.db.session() as session:
        entry = services.ledger.append(session, flow, payload, tenant_id=tenant_id)
        session.add(
            ContentRecord(
                id=content_id,
                tenant_id=tenant_id,
                flow=flow,
                medium=content.medium,
                media_type=content.media_type,
                digest=digest,
                size=len(content.data),
                classification=classification,
                decision=decision,
                labels=json.dumps(list(labels)),
                jurisdictions=",".join(jurisdictions),
                ledger_seq=entry.seq,
                created_at=created_at,
                watermark_id=watermark_id,
            )
        )
    return digest, entry.seq


def label_context(
    services: Services,
    policy: Policy,
    language: str,
    wording: str,
    *,
    content_id: str,
    created_at: str,
    system: str | None = None,
    classification: Classification | None = None,
) -> LabelContext:
    """What markers need: the wording to show and the provenance implicit labels record.

    With a ``classification`` hallmark labels as a propagation platform, otherwise as producer.
    """
    service = services.settings.service_name
    return LabelContext(
        policy=policy,
        language=language,
        wording=wording,
        provenance=Provenance(
            content_id=content_id,
            service=f"{service}/{system}" if system else service,
            producer_code=services.settings.producer_code,
            created_at=created_at,
        ),
        role="producer" if classification is None else "propagator",
        classification=classification or "confirmed",
    )


def label_or_refuse(
    services: Services,
    tenant_id: str,
    kind: str,
    payload: dict[str, Any],
    content: Content,
    plan: list[Marker],
    context: LabelContext,
) -> tuple[Content, tuple[str, ...]]:
    """Run the planned markers; a marker that cannot label this file refuses on the record."""
    try:
        return apply_labels(content, plan, context)
    except HallmarkError as exc:
        raise record_refusal(services, tenant_id, kind, payload, exc) from None
