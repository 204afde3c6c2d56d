"""Reports about posts and their handling: file, the review queue, act, appeal.

A report moves ``open`` -> ``resolved`` (a reviewer acted) -> ``appealed`` (the uploader or the
reporter asked again) -> ``closed`` (the appeal's decision is final). Its deadline comes from
the policy: the category's own complaint deadline or the general one, whichever is shorter
(48 hours for non-consensual intimate imagery under the TAKE IT DOWN Act; timely handling under
Interim Measures Art. 15). An appeal restarts the clock.

Every step is a :class:`~hallmark.store.models.ReportEvent` and a ledger entry (kind
``report.<step>``) written in the caller's transaction. Ledger payloads carry ids, the
category and digests only: the reporter's details, the reviewer's note and the notices stay
in the database. Each decision records a notice to the reporter (Interim Measures Art. 15:
give feedback), in the policy's language, in ``Report.notice`` and a ``notice`` event whose
note is JSON: ``{"to": "reporter" | "uploader", "recipient": ..., "text": ...}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from hallmark.accounts.service import new_id
from hallmark.errors import Conflict, Forbidden, NotFound, UserError
from hallmark.ledger import Ledger
from hallmark.ledger.chain import HASH_PREFIX
from hallmark.policy import Policy
from hallmark.screen.taxonomy import CATEGORY_IDS
from hallmark.screen.taxonomy import category as taxonomy_category
from hallmark.store.models import Post, Report, ReportEvent, utcnow_iso

Clock = Callable[[], str]
Action = Literal["remove", "restore", "label", "warn", "dismiss"]
Party = Literal["reporter", "uploader"]
ACTIONS: tuple[Action, ...] = get_args(Action)
RESOLUTIONS: dict[Action, str] = {
    "remove": "removed",
    "restore": "restored",
    "label": "labelled",
    "warn": "warned",
    "dismiss": "dismissed",
}
POST_STATES: dict[Action, str] = {"remove": "removed", "restore": "visible"}
"""What an action does to the post's state; the media stays stored for the record."""

STATES = ("open", "resolved", "appealed", "closed")
PENDING = ("open", "appealed")
"""States that wait for a reviewer: the queue."""

PLATFORM_CATEGORIES = ("general", "ncii", "sexual_minors", "other_prohibited")
"""Categories every deployment accepts, whatever its policy: other matters, non-consensual
intimate imagery, minors, illegal content. A policy's own complaint categories come after."""
DEFAULT_DEADLINE_HOURS = 72
"""The deadline when no jurisdiction sets one for the category nor a general one (EU alone):
hallmark's choice, the same as CN's general deadline."""

MAX_DETAILS_CHARS = 5000
MAX_NOTE_CHARS = 2000
LANGUAGES = ("zh", "en")

NOTICES: dict[str, dict[Action, str]] = {
    "en": {
        "remove": "Report {ref} ({category}) was reviewed: the content was removed.",
        "restore": "Report {ref} ({category}) was reviewed: the content was restored.",
        "label": "Report {ref} ({category}) was reviewed: the content is now labelled “{label}”.",
        "warn": "Report {ref} ({category}) was reviewed: the uploader was warned.",
        "dismiss": "Report {ref} ({category}) was reviewed: no violation was found and the "
        "content stays.",
    },
    "zh": {
        "remove": "举报 {ref}（{category}）已处理：相关内容已删除。",
        "restore": "举报 {ref}（{category}）已处理：相关内容已恢复。",
        "label": "举报 {ref}（{category}）已处理：相关内容已标注“{label}”。",
        "warn": "举报 {ref}（{category}）已处理：已警告发布者。",
        "dismiss": "举报 {ref}（{category}）已处理：未发现违规，内容保留。",
    },
}
APPEAL_PREFIX = {"en": "Appeal decided. ", "zh": "申诉已处理。"}
WARNINGS = {
    "en": "Your post {post} was reported ({category}) and a reviewer found that it breaks the "
    "rules of this platform. Please do not post such content again.",
    "zh": "您发布的内容 {post} 被举报（{category}），经审核违反本平台规则。请勿再发布此类内容。",
}
GENERAL_NAMES = {"en": "other", "zh": "其他"}


# --- what callers get back -----------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ReportEventView:
    id: int
    actor: str
    action: str
    note: str
    ledger_seq: int | None
    created_at: str

    @classmethod
    def of(cls, event: ReportEvent) -> ReportEventView:
        return cls(
            event.id, event.actor, event.action, event.note, event.ledger_seq, event.created_at
        )

    @property
    def notice(self) -> dict[str, str] | None:
        """A ``notice`` event's recipient and text; ``None`` for other events."""
        if self.action != "notice":
            return None
        try:
            value = json.loads(self.note)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "actor": self.actor,
            "action": self.action,
            "note": self.note,
            "ledger_seq": self.ledger_seq,
            "created_at": self.created_at,
        }
        if self.notice is not None:
            body["notice"] = self.notice
        return body


@dataclass(slots=True, frozen=True)
class ReportView:
    id: str
    tenant_id: str
    post_id: str
    reporter: str
    category: str
    details: str
    state: str
    resolution: str | None
    due_at: str
    notice: str | None
    created_at: str
    updated_at: str
    uploader: str = ""
    """The post's uploader (``Post.user_id``), where it was looked up."""
    events: tuple[ReportEventView, ...] = ()

    @classmethod
    def of(
        cls, report: Report, events: Sequence[ReportEvent] = (), uploader: str = ""
    ) -> ReportView:
        return cls(
            id=report.id,
            tenant_id=report.tenant_id,
            post_id=report.post_id,
            uploader=uploader,
            reporter=report.reporter,
            category=report.category,
            details=report.details,
            state=report.state,
            resolution=report.resolution,
            due_at=report.due_at,
            notice=report.notice,
            created_at=report.created_at,
            updated_at=report.updated_at,
            events=tuple(ReportEventView.of(event) for event in events),
        )

    @property
    def pending(self) -> bool:
        return self.state in PENDING

    def overdue(self, now: str) -> bool:
        return self.pending and self.due_at < now

    def late_by(self, now: str) -> timedelta:
        """How far past its due time (negative: time left)."""
        return parse_time(now) - parse_time(self.due_at)

    def party(self, key_id: str) -> Party | None:
        """What ``key_id`` is to this report: its reporter, the post's uploader, or neither."""
        if key_id == self.reporter:
            return "reporter"
        if self.uploader and key_id == self.uploader:
            return "uploader"
        return None

    def seen_by(self, party: Party) -> ReportView:
        """What a party may see: no reviewer notes and no notices to others; the uploader
        learns neither who reported the post nor what they wrote."""
        shown = []
        for event in self.events:
            notice = event.notice
            if notice is not None and notice.get("to") != party:
                continue
            if party == "uploader" and event.actor == self.reporter and notice is None:
                continue  # the filing, or the reporter's appeal
            if event.action in ACTIONS:
                event = replace(event, note="")
            shown.append(event)
        if party == "uploader":
            return replace(self, reporter="", details="", notice=None, events=tuple(shown))
        return replace(self, events=tuple(shown))

    def to_dict(self, now: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "post_id": self.post_id,
            "uploader": self.uploader,
            "reporter": self.reporter,
            "category": self.category,
            "details": self.details,
            "state": self.state,
            "resolution": self.resolution,
            "due_at": self.due_at,
            "notice": self.notice,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if now is not None:
            body["overdue"] = self.overdue(now)
            body["late_seconds"] = int(self.late_by(now).total_seconds()) if self.pending else None
        if self.events:
            body["events"] = [event.to_dict() for event in self.events]
        return body


# --- small pieces --------------------------------------------------------------------------


def parse_time(iso: str) -> datetime:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text_digest(text: str) -> str:
    """What the ledger keeps of a free text: its hash, never the text."""
    return HASH_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def report_categories(policy: Policy) -> tuple[str, ...]:
    """The categories a report may name under ``policy``."""
    extra = [name for name in policy.complaints if name not in PLATFORM_CATEGORIES]
    return (*PLATFORM_CATEGORIES, *extra)


def category_name(category: str, language: str = "en") -> str:
    """``ncii`` -> ``Non-consensual intimate images, including AI forgeries``."""
    if category == "general":
        return GENERAL_NAMES.get(language, GENERAL_NAMES["en"])
    if category in CATEGORY_IDS:
        found = taxonomy_category(category)
        return found.zh if language == "zh" else found.en
    return category


def deadline(policy: Policy, category: str) -> tuple[int, tuple[str, ...]]:
    """Hours to handle a report of ``category``, and the citations that set them."""
    rule = policy.complaint_deadline(category)
    if rule is None:
        return DEFAULT_DEADLINE_HOURS, ("hallmark's default: no jurisdiction sets a deadline",)
    return rule.hours, tuple(str(source) for source in rule.sources)


def _language(policy: Policy) -> str:
    return policy.language if policy.language in LANGUAGES else "en"


def _text(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise UserError(f"the {what} is longer than {limit} characters")
    return value


def _lock(session: Session, report_id: str) -> None:
    """Take the report's row lock (on SQLite, the write lock) before reading it, so that two
    reviewers deciding at once run one after the other and the second sees the first's
    decision; ``_move``'s conditional update stays as the safety net."""
    session.execute(
        update(Report)
        .where(Report.id == report_id)
        .values(updated_at=Report.updated_at)
        .execution_options(synchronize_session=False)
    )


def _owned(session: Session, tenant_id: str, report_id: str) -> Report:
    report = session.get(Report, report_id, populate_existing=True)
    if report is None or report.tenant_id != tenant_id:
        raise NotFound(f"no report {report_id!r}")
    return report


def _post(session: Session, tenant_id: str, post_id: str) -> Post:
    post = session.get(Post, post_id)
    if post is None or post.tenant_id != tenant_id:
        raise NotFound(f"no post {post_id!r}")
    return post


def _events(session: Session, report_id: str) -> list[ReportEvent]:
    return list(
        session.scalars(
            select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)
        )
    )


def _view(session: Session, report: Report) -> ReportView:
    session.flush()
    post = session.get(Post, report.post_id)
    uploader = post.user_id if post is not None else ""
    return ReportView.of(report, _events(session, report.id), uploader)


def _move(session: Session, report: Report, expected: str, **values: Any) -> None:
    """Change the report's row only if it is still in state ``expected`` (two reviewers acting
    at once: the second gets a conflict, not a second decision)."""
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Report)
            .where(Report.id == report.id, Report.state == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise Conflict(f"report {report.id} changed meanwhile; reload it and try again")
    session.refresh(report)


class _Steps:
    """Writes one step: the ledger entry, then the event naming it."""

    def __init__(self, session: Session, ledger: Ledger, report: Report, now: str) -> None:
        self.session, self.ledger, self.report, self.now = session, ledger, report, now

    def record(self, actor: str, action: str, note: str, payload: dict[str, Any]) -> int:
        entry = self.ledger.append(
            self.session,
            f"report.{action}",
            {"report_id": self.report.id, "post_id": self.report.post_id, **payload},
            tenant_id=self.report.tenant_id,
        )
        self.session.add(
            ReportEvent(
                report_id=self.report.id,
                actor=actor,
                action=action,
                note=note,
                ledger_seq=entry.seq,
                created_at=self.now,
            )
        )
        return entry.seq

    def notice(self, actor: str, to: str, recipient: str, text: str) -> None:
        note = json.dumps({"to": to, "recipient": recipient, "text": text}, ensure_ascii=False)
        self.record(
            actor,
            "notice",
            note,
            {"to": to, "recipient": recipient, "notice_digest": text_digest(text)},
        )


# --- the operations ------------------------------------------------------------------------


def file_report(
    session: Session,
    ledger: Ledger,
    tenant_id: str,
    post_id: str,
    reporter: str,
    category: str,
    details: str = "",
    *,
    policy: Policy,
    clock: Clock = utcnow_iso,
) -> ReportView:
    """Report a post of the tenant; due within the policy's deadline for the category."""
    post = _post(session, tenant_id, post_id)
    known = report_categories(policy)
    if category not in known:
        raise UserError(f"unknown report category {category!r}; choose one of: {', '.join(known)}")
    details = _text(details, "details", MAX_DETAILS_CHARS)
    now = clock()
    hours, sources = deadline(policy, category)
    report = Report(
        id=new_id(),
        tenant_id=tenant_id,
        post_id=post.id,
        reporter=reporter,
        category=category,
        details=details,
        state="open",
        resolution=None,
        due_at=format_time(parse_time(now) + timedelta(hours=hours)),
        notice=None,
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    session.flush()
    _Steps(session, ledger, report, now).record(
        reporter,
        "filed",
        "",
        {
            "category": category,
            "reporter": reporter,
            "details_digest": text_digest(details),
            "due_at": report.due_at,
            "deadline_hours": hours,
            "deadline_sources": list(sources),
            "jurisdictions": list(policy.jurisdictions),
        },
    )
    return _view(session, report)


def get_report(session: Session, tenant_id: str, report_id: str) -> ReportView:
    """One report of the tenant with its events, oldest first."""
    return _view(session, _owned(session, tenant_id, report_id))


def review_queue(
    session: Session,
    tenant_id: str,
    *,
    overdue_only: bool = False,
    now: str | None = None,
    limit: int | None = None,
) -> list[ReportView]:
    """Reports waiting for a reviewer (open or appealed), the soonest due first."""
    query = (
        select(Report)
        .where(Report.tenant_id == tenant_id, Report.state.in_(PENDING))
        .order_by(Report.due_at, Report.created_at, Report.id)
    )
    if overdue_only:
        query = query.where(Report.due_at < (now or utcnow_iso()))
    if limit is not None:
        query = query.limit(limit)
    return [ReportView.of(report) for report in session.scalars(query)]


def overdue(
    session: Session, tenant_id: str | None = None, now: str | None = None
) -> list[ReportView]:
    """Waiting reports past their due time, of one tenant or all, the most overdue first."""
    query = (
        select(Report)
        .where(Report.state.in_(PENDING), Report.due_at < (now or utcnow_iso()))
        .order_by(Report.due_at, Report.created_at, Report.id)
    )
    if tenant_id is not None:
        query = query.where(Report.tenant_id == tenant_id)
    return [ReportView.of(report) for report in session.scalars(query)]


def pending(session: Session, tenant_id: str | None = None) -> list[ReportView]:
    """Every waiting report, of one tenant or all, the soonest due first."""
    query = (
        select(Report)
        .where(Report.state.in_(PENDING))
        .order_by(Report.due_at, Report.created_at, Report.id)
    )
    if tenant_id is not None:
        query = query.where(Report.tenant_id == tenant_id)
    return [ReportView.of(report) for report in session.scalars(query)]


def with_events(session: Session, found: Sequence[ReportView]) -> list[ReportView]:
    """The same reports with their events and uploaders, read in two queries."""
    ids = [report.id for report in found]
    events: dict[str, list[ReportEventView]] = {report_id: [] for report_id in ids}
    for event in session.scalars(
        select(ReportEvent).where(ReportEvent.report_id.in_(ids)).order_by(ReportEvent.id)
    ):
        events[event.report_id].append(ReportEventView.of(event))
    uploaders = {
        post_id: user_id
        for post_id, user_id in session.execute(
            select(Post.id, Post.user_id).where(Post.id.in_({r.post_id for r in found}))
        )
    }
    return [
        replace(r, events=tuple(events[r.id]), uploader=uploaders.get(r.post_id, "")) for r in found
    ]


def tenant_of(session: Session, report_id: str) -> str:
    """The tenant a report belongs to (for the operator's CLI, which sees every tenant)."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report {report_id!r}")
    return report.tenant_id


def act(
    session: Session,
    ledger: Ledger,
    tenant_id: str,
    report_id: str,
    reviewer: str,
    action: str,
    note: str = "",
    *,
    policy: Policy,
    clock: Clock = utcnow_iso,
) -> ReportView:
    """Decide a waiting report: remove, restore, label, warn or dismiss.

    A decision on an open report resolves it; a decision on an appealed one closes it for
    good. A decided report takes no further action (409) until it is appealed.
    """
    if action not in ACTIONS:
        raise UserError(f"unknown action {action!r}; choose one of: {', '.join(ACTIONS)}")
    chosen: Action = action
    note = _text(note, "note", MAX_NOTE_CHARS)
    _lock(session, report_id)
    report = _owned(session, tenant_id, report_id)
    if report.state not in PENDING:
        raise Conflict(
            f"report {report.id} is already {report.state} ({report.resolution}); "
            + (
                "an appeal's decision is final"
                if report.state == "closed"
                else "the uploader or the reporter may appeal it"
            )
        )
    was_appealed = report.state == "appealed"
    post = _post(session, tenant_id, report.post_id)
    now = clock()
    language = _language(policy)
    label = policy.platform_label("confirmed", language) or policy.label_text(language)

    if chosen in POST_STATES:
        post.state = POST_STATES[chosen]
    if chosen == "label":
        post.platform_label = label  # the strongest label; the classification stays as found
    post.updated_at = now
    _move(
        session,
        report,
        report.state,
        state="closed" if was_appealed else "resolved",
        resolution=RESOLUTIONS[chosen],
        updated_at=now,
    )

    steps = _Steps(session, ledger, report, now)
    steps.record(
        reviewer,
        chosen,
        note,
        {
            "category": report.category,
            "reviewer": reviewer,
            "resolution": report.resolution,
            "state": report.state,
            "post_state": post.state,
            "platform_label": post.platform_label,
            "appeal": was_appealed,
            "note_digest": text_digest(note),
        },
    )
    words = {"ref": report.id[:8], "category": category_name(report.category, language)}
    if chosen == "warn":
        warning = WARNINGS[language].format(post=post.id[:8], category=words["category"])
        steps.notice(reviewer, "uploader", post.user_id, warning)
    text = NOTICES[language][chosen].format(label=label, **words)
    if was_appealed:
        text = APPEAL_PREFIX[language] + text
    report.notice = text
    steps.notice(reviewer, "reporter", report.reporter, text)
    appellant = _appellant(session, report.id)
    if was_appealed and appellant not in (None, report.reporter):
        steps.notice(reviewer, "uploader", post.user_id, text)
    return _view(session, report)


def appeal(
    session: Session,
    ledger: Ledger,
    tenant_id: str,
    report_id: str,
    by: str,
    reason: str,
    *,
    policy: Policy,
    clock: Clock = utcnow_iso,
) -> ReportView:
    """Ask for a second decision on a resolved report: the post's uploader or the reporter.

    The report waits in the queue again, due within the category's deadline from now.
    """
    reason = _text(reason, "reason", MAX_NOTE_CHARS)
    if not reason:
        raise UserError("an appeal needs a reason")
    _lock(session, report_id)
    report = _owned(session, tenant_id, report_id)
    post = _post(session, tenant_id, report.post_id)
    if by == post.user_id:
        party = "uploader"
    elif by == report.reporter:
        party = "reporter"
    else:
        raise Forbidden("only the post's uploader or the reporter may appeal a decision")
    if report.state != "resolved":
        why = {
            "open": "it has not been decided yet",
            "appealed": "it is already under appeal",
            "closed": "an appeal's decision is final",
        }
        raise Conflict(f"report {report.id} cannot be appealed: {why.get(report.state, '')}")
    now = clock()
    hours, sources = deadline(policy, report.category)
    due_at = format_time(parse_time(now) + timedelta(hours=hours))
    _move(session, report, "resolved", state="appealed", due_at=due_at, updated_at=now)
    _Steps(session, ledger, report, now).record(
        by,
        "appeal",
        reason,
        {
            "category": report.category,
            "by": by,
            "party": party,
            "reason_digest": text_digest(reason),
            "due_at": due_at,
            "deadline_hours": hours,
            "deadline_sources": list(sources),
        },
    )
    return _view(session, report)


def _appellant(session: Session, report_id: str) -> str | None:
    return session.scalars(
        select(ReportEvent.actor)
        .where(ReportEvent.report_id == report_id, ReportEvent.action == "appeal")
        .order_by(ReportEvent.id.desc())
        .limit(1)
    ).first()
