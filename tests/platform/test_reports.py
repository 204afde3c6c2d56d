"""Reports and takedowns: deadlines from the policy, the queue, actions, notices, appeals, and
every step in the ledger (TAKE IT DOWN Act: 48 h for NCII; Interim Measures Art. 15)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from reports_support import UPLOADER, make_post, tenant_id

from hallmark.errors import Conflict, Forbidden, NotFound, UserError
from hallmark.platform import reports
from hallmark.platform.feed import list_feed
from hallmark.platform.reports import ReportView
from hallmark.policy import Policy, resolve_policy
from hallmark.services import Services
from hallmark.store.models import Post, Report

T0 = "2025-03-01T08:00:00.000000Z"
REPORTER = "reporter-key-id"
REVIEWER = "reviewer-key-id"


def at(iso: str) -> Callable[[], str]:
    return lambda: iso


@pytest.fixture
def acme(services: Services) -> str:
    return tenant_id(services, "acme")


@pytest.fixture
def post_id(services: Services, acme: str) -> str:
    return make_post(services, "acme")


def file(
    services: Services,
    post: str,
    category: str = "general",
    *,
    policy: Policy | None = None,
    clock: str = T0,
    tenant: str = "acme",
    reporter: str = REPORTER,
    details: str = "this is my photo, posted without my consent",
) -> ReportView:
    with services.db.session() as session:
        return reports.file_report(
            session,
            services.ledger,
            tenant_id(services, tenant),
            post,
            reporter,
            category,
            details,
            policy=policy or resolve_policy("cn"),
            clock=at(clock),
        )


def act(
    services: Services,
    report_id: str,
    action: str,
    *,
    policy: Policy | None = None,
    note: str = "checked against the rules",
    clock: str = "2025-03-01T10:00:00.000000Z",
) -> ReportView:
    with services.db.session() as session:
        return reports.act(
            session,
            services.ledger,
            tenant_id(services, "acme"),
            report_id,
            REVIEWER,
            action,
            note,
            policy=policy or resolve_policy("cn"),
            clock=at(clock),
        )


def appeal(
    services: Services, report_id: str, by: str, clock: str = "2025-03-02T08:00:00.000000Z"
) -> ReportView:
    with services.db.session() as session:
        return reports.appeal(
            session,
            services.ledger,
            tenant_id(services, "acme"),
            report_id,
            by,
            "the decision was wrong",
            policy=resolve_policy("cn"),
            clock=at(clock),
        )


def post_row(services: Services, post: str) -> Post:
    with services.db.session() as session:
        found = session.get(Post, post)
        assert found is not None
        return found


# --- filing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdictions", "category", "due"),
    [
        ("us-ca", "ncii", "2025-03-03T08:00:00.000000Z"),  # TAKE IT DOWN Act: 48 h
        ("us-ca", "sexual_minors", "2025-03-03T08:00:00.000000Z"),
        ("cn", "general", "2025-03-04T08:00:00.000000Z"),  # Interim Measures Art. 15: 72 h
        ("cn", "sexual_minors", "2025-03-02T08:00:00.000000Z"),  # Art. 14: 24 h
        ("cn", "other_prohibited", "2025-03-02T08:00:00.000000Z"),
        ("cn", "ncii", "2025-03-04T08:00:00.000000Z"),  # no own deadline: the general one
        ("cn,eu,us-ca", "ncii", "2025-03-03T08:00:00.000000Z"),  # the shorter one wins
        ("eu", "general", "2025-03-04T08:00:00.000000Z"),  # no deadline at all: the default
    ],
)
def test_filing_sets_the_due_time_from_the_policy(
    services: Services, post_id: str, jurisdictions: str, category: str, due: str
) -> None:
    report = file(services, post_id, category, policy=resolve_policy(jurisdictions))

    assert report.state == "open" and report.resolution is None
    assert report.due_at == due
    assert report.created_at == T0
    assert [(e.action, e.actor) for e in report.events] == [("filed", REPORTER)]


def test_filing_records_ids_category_and_a_digest_of_the_details_only(
    services: Services, post_id: str
) -> None:
    report = file(services, post_id, "ncii", policy=resolve_policy("us-ca"))

    with services.db.session() as session:
        entry = services.ledger.entries(session, kind_prefix="report.")[-1]
    assert entry.kind == "report.filed"
    assert entry.seq == report.events[0].ledger_seq
    payload = entry.payload
    assert payload["report_id"] == report.id and payload["post_id"] == post_id
    assert payload["category"] == "ncii" and payload["deadline_hours"] == 48
    assert payload["details_digest"] == reports.text_digest(report.details)
    assert any("TAKE IT DOWN Act" in source for source in payload["deadline_sources"])
    assert "consent" not in json.dumps(payload)


def test_an_unknown_category_lists_the_policys_categories(services: Services, post_id: str) -> None:
    with pytest.raises(UserError) as caught:
        file(services, post_id, "rudeness")

    message = caught.value.message
    assert "rudeness" in message
    for category in ("general", "ncii", "sexual_minors", "other_prohibited"):
        assert category in message


def test_reports_on_missing_content_or_another_tenants_post_are_not_found(
    services: Services, post_id: str
) -> None:
    with pytest.raises(NotFound):
        file(services, "0" * 32)
    other = make_post(services, "globex")
    with pytest.raises(NotFound):
        file(services, other)  # acme cannot see globex's post
    with services.db.session() as session:
        assert session.query(Report).count() == 0


def test_overlong_details_are_refused(services: Services, post_id: str) -> None:
    with pytest.raises(UserError, match="longer than"):
        file(services, post_id, details="x" * (reports.MAX_DETAILS_CHARS + 1))


# --- the queue -----------------------------------------------------------------------------


def test_the_queue_lists_waiting_reports_soonest_due_first(
    services: Services, acme: str, post_id: str
) -> None:
    general = file(services, post_id, "general", clock="2025-03-01T00:00:00.000000Z")  # +72 h
    minors = file(services, post_id, "sexual_minors", clock="2025-03-01T06:00:00.000000Z")  # +24
    illegal = file(services, post_id, "other_prohibited", clock="2025-03-01T01:00:00.000000Z")
    done = file(services, post_id, "general", clock="2025-02-01T00:00:00.000000Z")
    act(services, done.id, "dismiss")

    with services.db.session() as session:
        queue = reports.review_queue(session, acme)
    assert [r.id for r in queue] == [illegal.id, minors.id, general.id]


def test_overdue_lists_only_waiting_reports_past_due(
    services: Services, acme: str, post_id: str
) -> None:
    late = file(services, post_id, "sexual_minors", clock="2025-03-01T00:00:00.000000Z")
    on_time = file(services, post_id, "general", clock="2025-03-01T00:00:00.000000Z")
    decided = file(services, post_id, "other_prohibited", clock="2025-03-01T00:00:00.000000Z")
    act(services, decided.id, "remove")
    make_post(services, "globex")
    elsewhere = file(
        services,
        make_post(services, "globex"),
        "sexual_minors",
        tenant="globex",
        clock="2025-02-01T00:00:00.000000Z",
    )
    now = "2025-03-02T12:00:00.000000Z"  # 36 h later: past 24 h, within 72 h

    with services.db.session() as session:
        queue = reports.review_queue(session, acme, overdue_only=True, now=now)
        everyone = reports.overdue(session, now=now)
        own = reports.overdue(session, acme, now=now)
    assert [r.id for r in queue] == [late.id]
    assert [r.id for r in everyone] == [elsewhere.id, late.id]  # the most overdue first
    assert [r.id for r in own] == [late.id]
    assert late.overdue(now) and not on_time.overdue(now)
    assert late.late_by(now).total_seconds() == 12 * 3600
    assert queue[0].to_dict(now)["late_seconds"] == 12 * 3600


# --- actions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "resolution", "post_state", "label"),
    [
        ("remove", "removed", "removed", None),
        ("label", "labelled", "visible", "AI生成"),
        ("warn", "warned", "visible", None),
        ("dismiss", "dismissed", "visible", None),
    ],
)
def test_each_action_resolves_the_report_and_changes_the_post(
    services: Services,
    post_id: str,
    action: str,
    resolution: str,
    post_state: str,
    label: str | None,
) -> None:
    before = post_row(services, post_id)
    report = file(services, post_id)

    decided = act(services, report.id, action)

    assert decided.state == "resolved" and decided.resolution == resolution
    in_feed = [post.id for post in list_feed(services, tenant_id(services)).posts]
    assert in_feed == ([] if post_state == "removed" else [post_id])  # the feed hides removed
    after = post_row(services, post_id)
    assert after.state == post_state
    assert after.platform_label == label
    assert after.classification == before.classification  # labelling keeps the finding
    assert after.content_id == before.content_id  # the media stays for the record
    assert [e.action for e in decided.events][:2] == ["filed", action]
    assert decided.events[1].note == "checked against the rules"


def test_restore_brings_a_removed_post_back(services: Services, post_id: str) -> None:
    first = file(services, post_id)
    act(services, first.id, "remove")
    assert post_row(services, post_id).state == "removed"
    second = file(services, post_id, reporter=UPLOADER, details="please look again")

    restored = act(services, second.id, "restore")

    assert restored.resolution == "restored"
    assert post_row(services, post_id).state == "visible"


def test_the_reporter_gets_a_notice_in_the_policys_language(
    services: Services, post_id: str
) -> None:
    chinese = act(services, file(services, post_id).id, "remove")
    english_report = file(services, post_id, "ncii", policy=resolve_policy("us-ca"))
    english = act(services, english_report.id, "remove", policy=resolve_policy("us-ca"))

    assert chinese.notice == f"举报 {chinese.id[:8]}（其他）已处理：相关内容已删除。"
    assert english.notice is not None
    assert english.notice.startswith(f"Report {english.id[:8]} (Non-consensual intimate")
    assert english.notice.endswith("was reviewed: the content was removed.")
    notices = [e.notice for e in english.events if e.action == "notice"]
    assert notices == [{"to": "reporter", "recipient": REPORTER, "text": english.notice}]


def test_a_warning_is_recorded_for_the_uploader(services: Services, post_id: str) -> None:
    warned = act(services, file(services, post_id).id, "warn")

    notices = [e.notice for e in warned.events if e.notice is not None]
    assert [(n["to"], n["recipient"]) for n in notices] == [
        ("uploader", UPLOADER),
        ("reporter", REPORTER),
    ]
    assert "请勿再发布此类内容" in notices[0]["text"]


def test_an_unknown_action_is_a_user_error(services: Services, post_id: str) -> None:
    report = file(services, post_id)
    with pytest.raises(UserError, match="remove, restore, label, warn, dismiss"):
        act(services, report.id, "ban")


def test_acting_on_a_decided_report_is_a_conflict(services: Services, post_id: str) -> None:
    report = file(services, post_id)
    act(services, report.id, "dismiss")

    with pytest.raises(Conflict) as caught:
        act(services, report.id, "remove")
    assert caught.value.status == 409
    assert post_row(services, post_id).state == "visible"


def test_another_tenants_report_is_not_found(services: Services, post_id: str) -> None:
    report = file(services, post_id)
    with services.db.session() as session, pytest.raises(NotFound):
        reports.act(
            session,
            services.ledger,
            tenant_id(services, "globex"),
            report.id,
            REVIEWER,
            "remove",
            policy=resolve_policy("cn"),
        )
    with services.db.session() as session, pytest.raises(NotFound):
        reports.get_report(session, tenant_id(services, "globex"), report.id)


# --- appeals -------------------------------------------------------------------------------


def test_the_uploader_appeals_and_a_second_decision_closes_the_report(
    services: Services, post_id: str
) -> None:
    report = file(services, post_id, "sexual_minors")
    act(services, report.id, "remove")

    appealed = appeal(services, report.id, UPLOADER, clock="2025-03-05T00:00:00.000000Z")
    assert appealed.state == "appealed"
    assert appealed.due_at == "2025-03-06T00:00:00.000000Z"  # the 24 h clock restarted
    with services.db.session() as session:
        queue = reports.review_queue(session, tenant_id(services))
    assert [r.id for r in queue] == [report.id]

    final = act(services, report.id, "restore", clock="2025-03-05T06:00:00.000000Z")
    assert final.state == "closed" and final.resolution == "restored"
    assert post_row(services, post_id).state == "visible"
    assert final.notice is not None and final.notice.startswith("申诉已处理。")
    recipients = [e.notice["to"] for e in final.events if e.notice is not None]
    assert recipients == ["reporter", "reporter", "uploader"]  # the appellant hears too
    actions = [e.action for e in final.events]
    assert actions == ["filed", "remove", "notice", "appeal", "restore", "notice", "notice"]

    with pytest.raises(Conflict, match="final"):
        act(services, report.id, "remove")
    with pytest.raises(Conflict, match="final"):
        appeal(services, report.id, REPORTER)


def test_the_reporter_may_appeal_a_dismissal(services: Services, post_id: str) -> None:
    report = file(services, post_id)
    act(services, report.id, "dismiss")

    appealed = appeal(services, report.id, REPORTER)

    assert appealed.state == "appealed"
    assert appealed.events[-1].action == "appeal" and appealed.events[-1].actor == REPORTER


def test_only_a_party_may_appeal_and_only_a_decided_report(
    services: Services, post_id: str
) -> None:
    report = file(services, post_id)
    with pytest.raises(Conflict, match="not been decided"):
        appeal(services, report.id, REPORTER)
    act(services, report.id, "dismiss")
    with pytest.raises(Forbidden):
        appeal(services, report.id, "someone-else")
    appeal(services, report.id, REPORTER)
    with pytest.raises(Conflict, match="already under appeal"):
        appeal(services, report.id, UPLOADER)


def test_the_reporter_sees_no_reviewer_notes_nor_notices_to_others(
    services: Services, post_id: str
) -> None:
    report = act(services, file(services, post_id).id, "warn", note="repeat offender")

    assert report.uploader == UPLOADER
    assert report.party(REPORTER) == "reporter" and report.party(UPLOADER) == "uploader"
    assert report.party("someone-else") is None
    seen = report.seen_by("reporter")
    assert [e.action for e in seen.events] == ["filed", "warn", "notice"]
    assert all("repeat offender" not in e.note for e in seen.events)
    assert seen.events[-1].notice is not None and seen.events[-1].notice["to"] == "reporter"


def test_the_uploader_never_learns_who_reported_nor_what_they_wrote(
    services: Services, post_id: str
) -> None:
    report = act(services, file(services, post_id).id, "warn", note="repeat offender")

    seen = report.seen_by("uploader")

    assert seen.reporter == "" and seen.details == "" and seen.notice is None
    assert [e.action for e in seen.events] == ["warn", "notice"]
    assert seen.events[-1].notice is not None and seen.events[-1].notice["to"] == "uploader"
    assert REPORTER not in json.dumps(seen.to_dict())


# --- the ledger ----------------------------------------------------------------------------


def test_every_step_is_in_the_ledger_without_free_text_and_the_chain_verifies(
    services: Services, post_id: str
) -> None:
    report = file(services, post_id, details="SECRET-DETAILS")
    act(services, report.id, "warn", note="SECRET-NOTE")
    with services.db.session() as session:
        reports.appeal(
            session,
            services.ledger,
            tenant_id(services),
            report.id,
            UPLOADER,
            "SECRET-REASON",
            policy=resolve_policy("cn"),
        )
    final = act(services, report.id, "dismiss", note="SECRET-NOTE-2")

    with services.db.session() as session:
        entries = services.ledger.entries(session, kind_prefix="report.")
        verified = services.ledger.verify(session)
    assert [e.kind for e in entries] == [
        "report.filed",
        "report.warn",
        "report.notice",
        "report.notice",
        "report.appeal",
        "report.dismiss",
        "report.notice",
        "report.notice",
    ]
    assert {e.seq for e in entries} == {e.ledger_seq for e in final.events}
    assert all(e.tenant_id == tenant_id(services) for e in entries)
    assert all(e.payload["report_id"] == report.id for e in entries)
    text = json.dumps([e.payload for e in entries], ensure_ascii=False)
    for secret in ("SECRET", "请勿", "已处理"):
        assert secret not in text
    assert verified.ok, verified.problem


def test_two_reviewers_deciding_at_once_make_one_decision(services: Services, post_id: str) -> None:
    report = file(services, post_id)
    start = threading.Barrier(4)

    def decide(action: str) -> str:
        start.wait()
        try:
            return act(services, report.id, action).resolution or ""
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(decide, ["remove", "dismiss", "warn", "label"]))

    assert sorted(outcomes).count("conflict") == 3, outcomes
    with services.db.session() as session:
        decisions = [e for e in services.ledger.entries(session) if e.kind == "report.notice"]
        assert services.ledger.verify(session).ok
    assert len([d for d in decisions if d.payload["to"] == "reporter"]) == 1
