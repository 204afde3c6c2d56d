"""A reviewer acts on an overdue report in a real headless Chromium against `hallmark serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from reports_support import make_post, tenant_id

from browser_helpers import ARTIFACTS, follow_link, issue_key, sign_in, watched_page
from hallmark.platform import reports
from hallmark.policy import resolve_policy
from hallmark.services import Services
from hallmark.store.models import Post
from server import running_server

pytestmark = pytest.mark.browser


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh headless page; the test fails on any script or console error."""
    with watched_page() as opened:
        yield opened


def test_a_reviewer_removes_an_overdue_post_from_the_queue(
    page: Page, services: Services, cli_env: dict[str, str], tmp_path: Path
) -> None:
    post_id = make_post(services, "acme")
    with services.db.session() as session:
        report = reports.file_report(
            session,
            services.ledger,
            tenant_id(services, "acme"),
            post_id,
            "reporter-key-id",
            "ncii",
            "this is a private photo of me",
            policy=resolve_policy("us-ca"),
            clock=lambda: "2020-01-01T00:00:00.000000Z",
        )
    env = {**cli_env, "HALLMARK_WORKER_THREADS": "0"}
    with running_server(env, tmp_path / "server.log") as (base, _process):
        sign_in(page, base, issue_key(env, "reviewer"))
        follow_link(page, base, "Reports", "/ui/reports")
        item = page.locator(f"#report-{report.id}")
        expect(item).to_have_class("complaint card overdue")
        expect(item.locator('[data-field="due"]')).to_contain_text("late")
        expect(page.locator("#overdue-count")).to_contain_text("1 report past due")
        item.get_by_text("Timeline (1)").click()
        expect(item.locator('[data-action="filed"]')).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web-reports-queue.png"), full_page=True)

        item.get_by_label("Note").fill("the complainant proved it is her")
        item.get_by_role("button", name="Remove").click()

        expect(page).to_have_url(f"{base}/ui/reports/{report.id}")
        expect(page.locator("#report-state")).to_have_text("resolved")
        expect(page.locator("#report-resolution")).to_have_text("removed")
        expect(page.locator("#report-notice")).to_contain_text(
            "相关内容已删除"
        )  # the policy speaks zh
        expect(page.locator('[data-action="notice"]')).to_contain_text("to the reporter")
        page.screenshot(path=str(ARTIFACTS / "web-reports-decided.png"), full_page=True)

        page.get_by_role("link", name="« The queue").click()
        expect(page.locator("#queue-empty")).to_have_text("No reports waiting for review.")

    with services.db.session() as session:
        post = session.get(Post, post_id)
        assert post is not None and post.state == "removed"
        assert services.ledger.verify(session).ok
