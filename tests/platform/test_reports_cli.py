"""`hallmark reports`: the overdue list for the operator, and a decision from the terminal."""

from __future__ import annotations

import json

from reports_support import make_post, tenant_id

from hallmark.platform import reports
from hallmark.policy import resolve_policy
from hallmark.services import Services
from hallmark.store.models import Post
from helpers import run_cli

LONG_AGO = "2020-01-01T00:00:00.000000Z"


def file_at(services: Services, tenant: str, post_id: str, category: str, when: str) -> str:
    with services.db.session() as session:
        return reports.file_report(
            session,
            services.ledger,
            tenant_id(services, tenant),
            post_id,
            "reporter-key-id",
            category,
            "details",
            policy=resolve_policy("cn"),
            clock=lambda: when,
        ).id


def test_reports_overdue_json_lists_every_tenants_late_reports(
    services: Services, cli_env: dict[str, str]
) -> None:
    acme_post, globex_post = make_post(services, "acme"), make_post(services, "globex")
    late = file_at(services, "acme", acme_post, "sexual_minors", LONG_AGO)
    later = file_at(services, "globex", globex_post, "general", "2020-02-01T00:00:00.000000Z")
    file_at(services, "acme", acme_post, "general", "2999-01-01T00:00:00.000000Z")  # not late

    result = run_cli(["reports", "--overdue", "--json"], cli_env)

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert [(r["id"], r["tenant"]) for r in body["reports"]] == [
        (late, "acme"),
        (later, "globex"),
    ]
    assert body["reports"][0]["due_at"] == "2020-01-02T00:00:00.000000Z"  # 24 h under cn
    assert all(r["overdue"] and r["late_seconds"] > 0 for r in body["reports"])

    only = run_cli(["reports", "--overdue", "--json", "--tenant", "globex"], cli_env)
    assert [r["id"] for r in json.loads(only.stdout)["reports"]] == [later]


def test_reports_table_shows_how_late(services: Services, cli_env: dict[str, str]) -> None:
    late = file_at(services, "acme", make_post(services, "acme"), "general", LONG_AGO)

    result = run_cli(["reports", "--overdue"], cli_env)

    assert result.returncode == 0, result.stderr
    assert late in result.stdout
    assert "late" in result.stdout and "2020-01-04 00:00" in result.stdout


def test_reports_act_decides_and_a_second_decision_is_refused(
    services: Services, cli_env: dict[str, str]
) -> None:
    post_id = make_post(services, "acme")
    report_id = file_at(services, "acme", post_id, "other_prohibited", LONG_AGO)

    result = run_cli(["reports", "act", report_id, "remove", "--note", "illegal"], cli_env)

    assert result.returncode == 0, result.stderr
    assert "removed, now resolved" in result.stdout
    assert "notice to the reporter: 举报" in result.stdout
    with services.db.session() as session:
        post = session.get(Post, post_id)
        assert post is not None and post.state == "removed"
    again = run_cli(["reports", "act", report_id, "restore"], cli_env)
    assert again.returncode == 2
    assert again.stderr.startswith("error: report ") and "Traceback" not in again.stderr
    empty = run_cli(["reports", "--overdue"], cli_env)
    assert "no overdue reports" in empty.stdout
    verify = run_cli(["ledger", "verify"], cli_env)
    assert verify.returncode == 0 and "ledger ok" in verify.stdout


def test_reports_act_bad_input_is_one_line(cli_env: dict[str, str], services: Services) -> None:
    missing = run_cli(["reports", "act", "0" * 32, "remove"], cli_env)
    assert missing.returncode == 2 and missing.stderr.strip() == f"error: no report '{'0' * 32}'"
    report_id = file_at(services, "acme", make_post(services, "acme"), "general", LONG_AGO)
    unknown = run_cli(["reports", "act", report_id, "ban"], cli_env)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "error: unknown action 'ban'; choose one of: remove, restore, label, warn, dismiss"
    )
    tenant = run_cli(["reports", "--tenant", "nobody"], cli_env)
    assert tenant.returncode == 2 and "no tenant named 'nobody'" in tenant.stderr
