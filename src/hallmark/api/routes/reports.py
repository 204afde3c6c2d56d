"""Reports about posts: file one, the reviewer queue, decisions, appeals (issue 8).

Anyone signed in may report a post of their tenant; reviewers (``reports:review``) see the
queue and decide; the reporter may read their own report; the reporter or the post's uploader
may appeal a decision. Another tenant's posts and reports do not exist here (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hallmark.accounts.roles import allows
from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.errors import Forbidden
from hallmark.flows.common import policy_for
from hallmark.platform import reports as service
from hallmark.policy import Policy
from hallmark.store.models import utcnow_iso

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Filer = Annotated[Principal, Allowed("reports:file")]
Reviewer = Annotated[Principal, Allowed("reports:review")]


class ReportCreate(BaseModel):
    post_id: str = Field(min_length=1, max_length=64)
    category: str = Field(
        min_length=1, max_length=40, description="`general`, `ncii`, `sexual_minors`, ..."
    )
    details: str = Field(default="", max_length=service.MAX_DETAILS_CHARS)


class ReportDecision(BaseModel):
    action: service.Action
    note: str = Field(default="", max_length=service.MAX_NOTE_CHARS)


class ReportAppeal(BaseModel):
    reason: str = Field(min_length=1, max_length=service.MAX_NOTE_CHARS)


def _policy(services: ServicesDep, principal: Principal) -> Policy:
    """Read in a session of its own: a decision's transaction starts with its lock."""
    with services.db.session() as session:
        return policy_for(services, session, principal.tenant_id, None)


def _shown(report: service.ReportView, principal: Principal) -> service.ReportView:
    """A reviewer sees everything; the reporter and the uploader their part; others nothing."""
    if allows(principal.role, "reports:review"):
        return report
    party = report.party(principal.key_id)
    if party is None:
        raise Forbidden("only reviewers, the reporter and the post's uploader may read a report")
    return report.seen_by(party)


@router.post("", status_code=201)
def file_report(body: ReportCreate, services: ServicesDep, principal: Filer) -> dict[str, Any]:
    """Report a post; it is due for a decision within the policy's deadline."""
    with services.db.session() as session:
        report = service.file_report(
            session,
            services.ledger,
            principal.tenant_id,
            body.post_id,
            principal.key_id,
            body.category,
            body.details,
            policy=policy_for(services, session, principal.tenant_id, None),
        )
    return report.seen_by("reporter").to_dict(utcnow_iso())


@router.get("")
def queue(
    services: ServicesDep,
    principal: Reviewer,
    overdue: Annotated[bool, Query(description="Only reports past their due time.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Reports waiting for a decision (open or appealed), the soonest due first."""
    now = utcnow_iso()
    with services.db.session() as session:
        found = service.review_queue(
            session, principal.tenant_id, overdue_only=overdue, now=now, limit=limit
        )
    return {"reports": [report.to_dict(now) for report in found]}


@router.get("/{report_id}")
def show(report_id: str, services: ServicesDep, principal: Filer) -> dict[str, Any]:
    """A report with its events: whole for reviewers; the reporter's and the uploader's part
    for them."""
    with services.db.session() as session:
        report = service.get_report(session, principal.tenant_id, report_id)
    return _shown(report, principal).to_dict(utcnow_iso())


@router.post("/{report_id}/actions")
def decide(
    report_id: str, body: ReportDecision, services: ServicesDep, principal: Reviewer
) -> dict[str, Any]:
    """Remove, restore, label, warn or dismiss; the reporter gets a notice."""
    policy = _policy(services, principal)
    with services.db.session() as session:
        report = service.act(
            session,
            services.ledger,
            principal.tenant_id,
            report_id,
            principal.key_id,
            body.action,
            body.note,
            policy=policy,
        )
    return report.to_dict(utcnow_iso())


@router.post("/{report_id}/appeal")
def appeal(
    report_id: str, body: ReportAppeal, services: ServicesDep, principal: Filer
) -> dict[str, Any]:
    """Ask for a second decision: the post's uploader or the reporter, once."""
    policy = _policy(services, principal)
    with services.db.session() as session:
        report = service.appeal(
            session,
            services.ledger,
            principal.tenant_id,
            report_id,
            principal.key_id,
            body.reason,
            policy=policy,
        )
    return _shown(report, principal).to_dict(utcnow_iso())
