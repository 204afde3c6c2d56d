"""A creator posts an image through the feed page in a real headless Chromium against
`hallmark serve`: the chunked upload from the page's script, then the post with its label."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect, sync_playwright
from upload_support import photo

from helpers import run_cli
from server import running_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh headless page; the test fails on a script error, a console error or a failed
    request to the API."""
    if not CHROMIUM.exists():
        if os.environ.get("HALLMARK_ALLOW_NO_BROWSER") == "1":
            pytest.skip(f"{CHROMIUM} is missing (allowed by HALLMARK_ALLOW_NO_BROWSER=1)")
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs it", pytrace=False)
    errors: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} for {response.url}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            opened = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            opened.on("pageerror", lambda error: errors.append(str(error)))
            opened.on("response", on_response)
            opened.on(
                "console",
                lambda message: errors.append(message.text) if message.type == "error" else None,
            )
            yield opened
        finally:
            browser.close()
    assert not errors, f"the browser reported errors: {errors}"


def test_an_image_uploaded_on_the_feed_page_shows_with_its_ai_label(
    page: Page, cli_env: dict[str, str], tmp_path: Path
) -> None:
    picture = tmp_path / "sunrise.png"
    picture.write_bytes(photo(seed=61, size=(480, 360)))
    # small chunks, so the page really sends several
    env = {**cli_env, "HALLMARK_WORKER_THREADS": "0", "HALLMARK_UPLOAD_CHUNK_BYTES": "65536"}
    with running_server(env, tmp_path / "server.log") as (base, _process):
        issued = run_cli(["keys", "create", "--role", "creator", "--tenant", "acme"], env)
        assert issued.returncode == 0, issued.stderr

        page.goto(base + "/ui/login")
        page.fill("#api_key", issued.stdout.strip())
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Feed").click()
        expect(page).to_have_url(base + "/ui/feed")
        expect(page.locator("#feed-empty")).to_be_visible()

        page.set_input_files("#upload-file", str(picture))
        page.fill("#upload-caption", "sunrise over the bay")
        page.check("#upload-declared-ai")
        chunks: list[str] = []
        page.on(
            "request",
            lambda request: chunks.append(request.url) if request.method == "PUT" else None,
        )
        page.get_by_role("button", name="Upload").click()

        post = page.locator("article.post").first
        expect(post.locator('[data-field="caption"]')).to_have_text(
            "sunrise over the bay", timeout=60_000
        )
        expect(post.locator('[data-field="label"]')).to_have_text("可能为AI生成")  # cn is first: zh
        expect(post.locator('[data-field="verdict"]')).to_have_text("possible")
        image = post.locator("img")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 480
        assert len(chunks) == -(-picture.stat().st_size // 65536) >= 3
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "feed-upload.png"), full_page=True)

        post.locator('[data-field="details"]').click()
        expect(page.locator("#inspect-report")).to_contain_text("ContentPropagator")
        expect(page.locator('[data-field="label-sentence"]')).to_contain_text("declared")
        page.screenshot(path=str(ARTIFACTS / "feed-post.png"), full_page=True)
