"""Shared pieces of the browser tests: Debian's Chromium driven by Playwright (not Playwright's
own download), a page that records what goes wrong in it, and signing in to the web UI of a
running `hallmark serve` (tests/server.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect, sync_playwright

from helpers import run_cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
"""Where browser tests leave their screenshots."""


def require_chromium() -> None:
    """Fail the test if Chromium is missing, or skip it where HALLMARK_ALLOW_NO_BROWSER=1."""
    if not CHROMIUM.exists():
        if os.environ.get("HALLMARK_ALLOW_NO_BROWSER") == "1":
            pytest.skip(f"{CHROMIUM} is missing (allowed by HALLMARK_ALLOW_NO_BROWSER=1)")
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs it", pytrace=False)


@contextmanager
def chromium(args: Sequence[str] = CHROMIUM_ARGS) -> Iterator[Browser]:
    """A headless Chromium, closed on the way out."""
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(args)
        )
        try:
            yield browser
        finally:
            browser.close()


def record_errors(
    page: Page,
    errors: list[str],
    *,
    console: bool = True,
    failed_loads: bool = False,
    failed_requests: bool = False,
) -> None:
    """Append to ``errors`` what goes wrong in ``page``: every uncaught script error; with
    ``console``, every console error (``failed_loads`` keeps Chromium's "Failed to load
    resource" messages too, which repeat a page's own HTTP status); with ``failed_requests``,
    every response of 400 or more to anything but a page."""
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and (
            failed_loads or "Failed to load resource" not in message.text
        ):
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} for {response.url}")

    if console:
        page.on("console", on_console)
    if failed_requests:
        page.on("response", on_response)


@contextmanager
def watched_page(
    *,
    viewport: tuple[int, int] | None = (1280, 900),
    console: bool = True,
    failed_loads: bool = False,
    failed_requests: bool = False,
) -> Iterator[Page]:
    """A fresh page in its own headless Chromium (the default viewport where ``viewport`` is
    None); on the way out it asserts that the page reported no errors (see record_errors)."""
    errors: list[str] = []
    with chromium() as browser:
        if viewport is None:
            page = browser.new_page()
        else:
            width, height = viewport
            page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        record_errors(
            page,
            errors,
            console=console,
            failed_loads=failed_loads,
            failed_requests=failed_requests,
        )
        yield page
    assert not errors, f"the browser reported errors: {errors}"


def issue_key(env: dict[str, str], role: str, tenant: str = "acme") -> str:
    """A new API key from the real CLI (`hallmark keys create`)."""
    issued = run_cli(["keys", "create", "--role", role, "--tenant", tenant], env)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def sign_in(page: Page, base: str, key: str) -> None:
    """Sign in on the web UI's sign-in form at ``base`` with the API key ``key``."""
    page.goto(base + "/ui/login")
    page.fill("#api_key", key)
    page.get_by_role("button", name="Sign in").click()


def follow_link(page: Page, base: str, name: str, path: str) -> None:
    """Click the link named ``name`` and wait for ``base + path`` to load."""
    page.get_by_role("link", name=name).click()
    expect(page).to_have_url(base + path)
