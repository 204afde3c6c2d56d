"""The web UI in a real headless Chromium against the real server (`hallmark serve`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from helpers import run_cli
from server import running_server

pytestmark = pytest.mark.browser


def test_sign_in_follow_a_job_verify_the_ledger_read_the_policy_and_inspect_files(
    page: Page, cli_env: dict[str, str], tmp_path: Path, artifacts: Path
) -> None:
    # No worker in the server: the job below waits, queued, until the CLI runs it.
    env = {**cli_env, "HALLMARK_WORKER_THREADS": "0"}
    with running_server(env, tmp_path / "server.log") as (base, _process):
        issued = run_cli(["keys", "create", "--role", "admin", "--tenant", "acme"], env)
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip()

        # Signed out, the UI sends the browser to the sign-in form.
        page.goto(base + "/")
        expect(page).to_have_url(base + "/ui/login")
        page.fill("#api_key", "hm_000000000000_" + "A" * 43)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#login-error")).to_contain_text("unknown API key")

        page.fill("#api_key", token)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(base + "/ui")
        expect(page.locator("#tenant-name")).to_have_text("acme")
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        expect(page.locator("#ai-notice")).to_contain_text("labelled as AI-generated")
        expect(page.locator("#ai-notice")).to_be_in_viewport()

        # The session cookie authenticates the JSON API; the dashboard polls a live job.
        job_id = page.evaluate(
            """async () => {
                const response = await fetch("/v1/jobs", {
                    method: "POST",
                    headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({
                        kind: "create.batch",
                        params: {prompts: ["a poem about tides"], engine: "echo"},
                    }),
                });
                return (await response.json()).id;
            }"""
        )
        row = page.locator(f'tr[data-job-id="{job_id}"]')
        with page.expect_response(lambda r: r.url.endswith(f"/v1/jobs/{job_id}")) as polled:
            page.reload()
            expect(row.locator('[data-field="state"]')).to_have_text("queued")
        assert polled.value.status == 200
        prompts = tmp_path / "prompts.txt"
        prompts.write_text("a haiku on rain\n")
        batch = ["create", "--file", str(prompts), "--engine", "echo", "--tenant", "acme"]
        ran = run_cli(batch, env)
        assert ran.returncode == 0, ran.stderr
        expect(row.locator('[data-field="state"]')).to_have_text("succeeded", timeout=10_000)
        expect(row.locator('[data-field="percent"]')).to_have_text("100%")
        page.reload()
        expect(page.locator("#contents-total")).to_have_text("2")
        page.screenshot(path=str(artifacts / "web-dashboard.png"), full_page=True)

        page.get_by_role("link", name="Ledger").click()
        expect(page).to_have_url(base + "/ui/ledger")
        expect(page.locator("table.ledger")).to_contain_text("admin.key_created")
        page.get_by_role("button", name="Verify chain").click()
        result = page.locator("#verify-result")
        expect(result).to_contain_text(re.compile(r"Ledger intact: \d+ entries verified"))
        page.screenshot(path=str(artifacts / "web-ledger.png"), full_page=True)

        page.get_by_role("link", name="Policy").click()
        expect(page).to_have_url(base + "/ui/policy")
        expect(page.locator("table.policy")).to_contain_text("GB 45438-2025")
        expect(page.locator("table.policy")).to_contain_text("Labeling Measures")
        page.screenshot(path=str(artifacts / "web-policy.png"), full_page=True)
        page.fill("#jurisdictions", "cn,atlantis")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#policy-error")).to_contain_text("unknown jurisdiction 'atlantis'")

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(base + "/ui/login")
        page.goto(base + "/ui/ledger")
        expect(page).to_have_url(base + "/ui/login")

        # Signed out, anyone may use the free detector (SB 942): pick files, then submit.
        note = tmp_path / "note.md"
        note.write_text(
            '---\nAIGC: {"Label": "1", "ContentProducer": "001191110102MACQD9K64010000"}\n'
            "---\nA note.\n"
        )
        plain = tmp_path / "plain.txt"
        plain.write_text("Just words, written by a person.\n")
        empty = tmp_path / "empty.txt"
        empty.write_bytes(b"")
        page.get_by_role("link", name="Inspect").click()
        expect(page).to_have_url(base + "/ui/inspect")
        expect(page.locator(".drop-hint")).to_be_visible()  # the script offers dropping too
        page.set_input_files("#inspect-files", [note, plain, empty])
        page.get_by_role("button", name="Inspect", exact=True).click()
        expect(page).to_have_url(base + "/ui/inspect")
        reports = page.locator("article.report")
        expect(reports).to_have_count(3)
        expect(reports.nth(0).locator('[data-field="verdict"]')).to_have_text("confirmed")
        expect(reports.nth(0)).to_contain_text("it was generated by AI")
        expect(reports.nth(0).locator('[data-scheme="gb45438"]')).to_contain_text(
            "001191110102MACQD9K64010000"
        )
        expect(reports.nth(1).locator('[data-field="verdict"]')).to_have_text("none")
        expect(reports.nth(1)).to_contain_text("No AI label found.")
        expect(reports.nth(2).locator('[data-field="error"]')).to_have_text("the upload is empty")
        expect(page.locator("#sign-in-link")).to_be_visible()
        expect(page.locator("#tenant-name")).to_have_count(0)
        page.screenshot(path=str(artifacts / "web-inspect.png"), full_page=True)

        # Dropping a file on the form inspects it straight away.
        with page.expect_navigation():
            page.evaluate(
                """() => {
                    const files = new DataTransfer();
                    files.items.add(new File(["An AI-generated caption."], "dropped.txt",
                                             {type: "text/plain"}));
                    const form = document.querySelector("form[data-dropzone]");
                    form.dispatchEvent(new DragEvent("dragover",
                        {dataTransfer: files, bubbles: true, cancelable: true}));
                    form.dispatchEvent(new DragEvent("drop",
                        {dataTransfer: files, bubbles: true, cancelable: true}));
                }"""
            )
        expect(reports).to_have_count(1)
        expect(reports.first).to_contain_text("dropped.txt")
        expect(reports.first.locator('[data-field="verdict"]')).to_have_text("suspected")
