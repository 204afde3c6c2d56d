"""A reviewer acts on an overdue report in a real headless Chromium against `hallmark serve`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from reports_support import make_post, tenant_id

from hallmark.platform import reports
from hallmark.policy import resolve_policy
from hallmark.services import Services
from hallmark.store.models import Post
from helpers import run_cli
from server import running_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh headless page; the test fails on any script or console error."""
    if not CHROMIUM.exists():
        if os.environ.get("HALLMARK_ALLOW_NO_BROWSER") == "1":
            pytest.skip(f"{CHROMIUM} is missing (allowed by HALLMARK_ALLOW_NO_BROWSER=1)")
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs it", pytrace=False)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            opened = context.new_page()
            opened.on("pageerror", lambda error: errors.append(str(error)))
            opened.on(
                "console",
                lambda message: (
                    errors.append(message.text)
                    if message.type == "error" and "Failed to load resource" not in message.text
                    else None
                ),
            )
            yield opened
        finally:
            browser.close()
    assert not errors, f"the browser reported errors: {errors}"


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
        issued = run_cli(["keys", "create", "--role", "reviewer", "--tenant", "acme"], env)
        assert issued.returncode == 0, issued.stderr

        page.goto(base + "/ui/login")
        page.fill("#api_key", issued.stdout.strip())
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Reports").click()
        expect(page).to_have_url(base + "/ui/reports")
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
