"""The reports pages: the reviewer queue, one report with its timeline, and the forms that
file, decide and appeal a report.

``/ui/reports`` is the queue (``reports:review``): waiting reports, the soonest due first,
overdue ones highlighted, each with its timeline and the decision buttons. ``/ui/reports/{id}``
shows a report to a reviewer, or their part of it to the reporter and the post's uploader.
A post's page offers the "Report" form through the ``report_form.html`` partial, which posts to
``/ui/reports``. Mounted before the UI's catch-all route (see ``hallmark.api.app``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hallmark.accounts.roles import allows
from hallmark.accounts.service import Principal
from hallmark.api.deps import ServicesDep
from hallmark.errors import Forbidden
from hallmark.flows.common import policy_for
from hallmark.platform import reports as service
from hallmark.store.models import utcnow_iso
from hallmark.web.routes import PageRoute, SameOrigin, page_allowed, render, templates

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
Reviewer = Annotated[Principal, Depends(page_allowed("reports:review"))]
Filer = Annotated[Principal, Depends(page_allowed("reports:file"))]
QUEUE_LIMIT = 200

CATEGORY_LABELS = {
    "general": "Something else",
    "ncii": "An intimate image shared without consent",
    "sexual_minors": "Sexual content involving a minor",
    "other_prohibited": "Illegal content",
}
ACTION_LABELS = {
    "remove": "Remove",
    "restore": "Restore",
    "label": "Label as AI",
    "warn": "Warn uploader",
    "dismiss": "Dismiss",
}
EVENT_LABELS = {
    "filed": "Reported",
    "remove": "Removed",
    "restore": "Restored",
    "label": "Labelled",
    "warn": "Warned the uploader",
    "dismiss": "Dismissed",
    "appeal": "Appealed",
    "notice": "Notice sent",
}


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category) or service.category_name(category)


templates.env.globals["report_categories"] = [
    (category, category_label(category)) for category in service.PLATFORM_CATEGORIES
]
templates.env.filters["report_category"] = category_label


@dataclass(slots=True, frozen=True)
class QueueRow:
    report: service.ReportView
    overdue: bool
    when: str
    """``3 h 5 min late`` or ``in 2 d 1 h``."""


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _row(report: service.ReportView, now: str) -> QueueRow:
    late = report.late_by(now).total_seconds()
    when = f"{_span(late)} late" if late > 0 else f"in {_span(late)}"
    return QueueRow(report, report.overdue(now), when)


def _page(
    request: Request,
    report: service.ReportView,
    *,
    reviewer: bool,
    party: service.Party | None,
) -> Response:
    now = utcnow_iso()
    return render(
        request,
        "report.html",
        active="reports" if reviewer else "",
        row=_row(report, now),
        reviewer=reviewer,
        can_appeal=party is not None and report.state == "resolved",
        actions=ACTION_LABELS,
        events=EVENT_LABELS,
    )


@router.get("/reports")
def queue(
    request: Request,
    services: ServicesDep,
    principal: Reviewer,
    overdue: Annotated[bool, Query()] = False,
) -> Response:
    now = utcnow_iso()
    with services.db.session() as session:
        found = service.review_queue(
            session, principal.tenant_id, overdue_only=overdue, now=now, limit=QUEUE_LIMIT
        )
        found = service.with_events(session, found)
    rows = [_row(report, now) for report in found]
    return render(
        request,
        "reports.html",
        active="reports",
        rows=rows,
        overdue=overdue,
        late=sum(row.overdue for row in rows),
        actions=ACTION_LABELS,
        events=EVENT_LABELS,
    )


@router.post("/reports", dependencies=SameOrigin)
def file_report(
    services: ServicesDep,
    principal: Filer,
    post_id: Annotated[str, Form(min_length=1, max_length=64)],
    category: Annotated[str, Form(min_length=1, max_length=40)],
    details: Annotated[str, Form(max_length=service.MAX_DETAILS_CHARS)] = "",
) -> Response:
    with services.db.session() as session:
        report = service.file_report(
            session,
            services.ledger,
            principal.tenant_id,
            post_id,
            principal.key_id,
            category,
            details,
            policy=policy_for(services, session, principal.tenant_id, None),
        )
    return RedirectResponse(f"/ui/reports/{report.id}", status_code=303)


@router.get("/reports/{report_id}")
def show(request: Request, services: ServicesDep, principal: Filer, report_id: str) -> Response:
    with services.db.session() as session:
        report = service.get_report(session, principal.tenant_id, report_id)
    reviewer = allows(principal.role, "reports:review")
    party = report.party(principal.key_id)
    if not reviewer:
        if party is None:
            raise Forbidden("only reviewers, the reporter and the post's uploader see a report")
        report = report.seen_by(party)
    return _page(request, report, reviewer=reviewer, party=party)


@router.post("/reports/{report_id}/actions", dependencies=SameOrigin)
def decide(
    services: ServicesDep,
    principal: Reviewer,
    report_id: str,
    action: Annotated[str, Form(min_length=1, max_length=16)],
    note: Annotated[str, Form(max_length=service.MAX_NOTE_CHARS)] = "",
) -> Response:
    with services.db.session() as session:  # apart: a decision starts with its lock
        policy = policy_for(services, session, principal.tenant_id, None)
    with services.db.session() as session:
        service.act(
            session,
            services.ledger,
            principal.tenant_id,
            report_id,
            principal.key_id,
            action,
            note,
            policy=policy,
        )
    return RedirectResponse(f"/ui/reports/{report_id}", status_code=303)


@router.post("/reports/{report_id}/appeal", dependencies=SameOrigin)
def appeal(
    services: ServicesDep,
    principal: Filer,
    report_id: str,
    reason: Annotated[str, Form(min_length=1, max_length=service.MAX_NOTE_CHARS)],
) -> Response:
    with services.db.session() as session:  # apart: a decision starts with its lock
        policy = policy_for(services, session, principal.tenant_id, None)
    with services.db.session() as session:
        service.appeal(
            session,
            services.ledger,
            principal.tenant_id,
            report_id,
            principal.key_id,
            reason,
            policy=policy,
        )
    return RedirectResponse(f"/ui/reports/{report_id}", status_code=303)
