"""Stages both flows share: choosing the policy and language, and recording refusals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from hallmark.errors import HallmarkError, UserError
from hallmark.policy import Policy, resolve_policy
from hallmark.services import Services
from hallmark.store.models import Tenant

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
