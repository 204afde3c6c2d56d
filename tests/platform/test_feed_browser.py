"""A creator posts an image through the feed page in a real headless Chromium against
`hallmark serve`: the chunked upload from the page's script, then the post with its label."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from upload_support import photo

from browser_helpers import ARTIFACTS, follow_link, issue_key, sign_in, watched_page
from server import running_server

pytestmark = pytest.mark.browser


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh headless page; the test fails on a script error, a console error or a failed
    request to the API."""
    with watched_page(failed_loads=True, failed_requests=True) as opened:
        yield opened


def test_an_image_uploaded_on_the_feed_page_shows_with_its_ai_label(
    page: Page, cli_env: dict[str, str], tmp_path: Path
) -> None:
    picture = tmp_path / "sunrise.png"
    picture.write_bytes(photo(seed=61, size=(480, 360)))
    # small chunks, so the page really sends several
    env = {**cli_env, "HALLMARK_WORKER_THREADS": "0", "HALLMARK_UPLOAD_CHUNK_BYTES": "65536"}
    with running_server(env, tmp_path / "server.log") as (base, _process):
        sign_in(page, base, issue_key(env, "creator"))
        follow_link(page, base, "Feed", "/ui/feed")
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
