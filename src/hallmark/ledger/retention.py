"""Retention pruning per policy: never below the strictest minimum of any jurisdiction in use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from hallmark.errors import UserError
from hallmark.ledger.service import Checkpoint
from hallmark.policy import resolve_policy
from hallmark.store.models import Tenant

if TYPE_CHECKING:
    from hallmark.services import Services


def minimum_retention_days(services: Services) -> tuple[int, str]:
    """The longest minimum retention over the deployment default and every tenant's policy."""
    codes = set(services.settings.jurisdiction_codes())
    with services.db.session() as session:
        for value in session.scalars(select(Tenant.jurisdictions)):
            if value:
                codes.update(value.split(","))
    policy = resolve_policy(sorted(codes), services.settings.policy_dir)
    sources = "; ".join(f"{c.jurisdiction}: {c.ref}" for c in policy.retention.sources)
    return policy.retention.min_days, sources


def prune_per_policy(services: Services, older_than_days: int | None = None) -> Checkpoint | None:
    days = (
        older_than_days if older_than_days is not None else services.settings.ledger_retention_days
    )
    if days < 1:
        raise UserError("--older-than must be at least 1 day")
    minimum, sources = minimum_retention_days(services)
    if days < minimum:
        raise UserError(
            f"retention of {days} days is below the policy minimum of {minimum} days ({sources})"
        )
    with services.db.session() as session:
        return services.ledger.prune(session, older_than_days=days)
