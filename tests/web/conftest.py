"""Browser fixtures: one headless Chromium a session (tests/browser_helpers.py), a fresh page
a test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from browser_helpers import ARTIFACTS, CHROMIUM_ARGS, record_errors
from browser_helpers import chromium as launch_chromium

SESSION_ARGS = (
    *CHROMIUM_ARGS,
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with launch_chromium(SESSION_ARGS) as browser:
        yield browser


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page.

    The test fails on a script error, a console error other than a page's own HTTP status
    (a 401 sign-in page is expected), or a failed load of anything but a page.
    """
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    record_errors(page, errors, failed_requests=True)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"the browser reported errors: {errors}"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
