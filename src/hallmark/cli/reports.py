"""``hallmark reports``: the reviewer queue for the operator, every tenant's or one's.

``hallmark reports`` lists the reports waiting for a decision, the soonest due first;
``--overdue`` only those past their due time (the deadlines come from the policy: 48 hours for
NCII under the TAKE IT DOWN Act, for example). ``hallmark reports act ID ACTION`` decides one.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hallmark.services import Services, build_services
from hallmark.settings import load_settings
from hallmark.store.models import utcnow_iso

if TYPE_CHECKING:
    from hallmark.platform.reports import ReportView

reports_app = typer.Typer(
    help="List the reports waiting for review (--overdue: past due) and decide them.",
    invoke_without_command=True,
)
out = Console()

OPERATOR = "cli"
"""Who the ledger names as the reviewer of a decision made here."""


def _services() -> Services:
    return build_services(load_settings())


def _span(delta: timedelta) -> str:
    """``timedelta(hours=26, minutes=5)`` -> ``1 d 2 h``; minutes under an hour."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _when(now: str, report: ReportView) -> Text:
    late = report.late_by(now)
    if late.total_seconds() > 0:
        return Text(f"{_span(late)} late", style="bold red")
    return Text(f"in {_span(late)}")


@reports_app.callback()
def reports_list(
    ctx: typer.Context,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only reports past due.")] = False,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the reports waiting for a decision, the soonest due first."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select

    from hallmark.accounts.service import get_tenant
    from hallmark.platform import reports as service
    from hallmark.store.models import Tenant

    services = _services()
    now = utcnow_iso()
    with services.db.session() as session:
        tenant_id = get_tenant(session, tenant).id if tenant else None
        found = (
            service.overdue(session, tenant_id, now=now)
            if overdue
            else service.pending(session, tenant_id)
        )
        names = {ident: name for ident, name in session.execute(select(Tenant.id, Tenant.name))}
    if as_json:
        items = [{"tenant": names.get(r.tenant_id), **r.to_dict(now)} for r in found]
        sys.stdout.write(json.dumps({"now": now, "reports": items}, ensure_ascii=False) + "\n")
        return
    if not found:
        out.print("no overdue reports" if overdue else "no reports waiting for review")
        return
    table = Table(title="overdue reports" if overdue else "reports waiting for review")
    table.add_column("id", no_wrap=True, min_width=32)  # whole: it is what `act` takes
    for name in ("tenant", "category", "state", "post", "due (UTC)", "when"):
        table.add_column(name)
    for report in found:
        table.add_row(
            report.id,
            names.get(report.tenant_id, report.tenant_id),
            report.category,
            report.state,
            report.post_id[:12],
            report.due_at[:16].replace("T", " "),
            _when(now, report),
        )
    out.print(table)


@reports_app.command("act")
def reports_act(
    report_id: Annotated[str, typer.Argument(help="The report's id.")],
    action: Annotated[str, typer.Argument(help="remove, restore, label, warn or dismiss.")],
    note: Annotated[str, typer.Option(help="Why (kept with the report, not in the ledger).")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Decide a report: the post changes, the reporter gets a notice, the ledger records it."""
    from hallmark.flows.common import policy_for
    from hallmark.platform import reports as service

    services = _services()
    with services.db.session() as session:
        tenant_id = service.tenant_of(session, report_id)
        policy = policy_for(services, session, tenant_id, None)
    with services.db.session() as session:  # apart: a decision starts with its lock
        report = service.act(
            session, services.ledger, tenant_id, report_id, OPERATOR, action, note, policy=policy
        )
    if as_json:
        body: dict[str, Any] = report.to_dict(utcnow_iso())
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(
        f"report {report.id}: {report.resolution}, now {report.state}",
        markup=False,
        highlight=False,
    )
    if report.notice:
        out.print(f"notice to the reporter: {report.notice}", markup=False, highlight=False)
