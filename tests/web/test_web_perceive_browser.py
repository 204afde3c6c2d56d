"""The perception page in a real headless Chromium against the real server."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from browser_helpers import issue_key, sign_in
from hallmark.mark.explicit_image import label_font
from server import running_server

pytestmark = pytest.mark.browser

SIGN = "FRESH BREAD"


def test_a_question_about_a_picture_is_answered_with_boxes_and_a_labeled_overlay(
    page: Page, cli_env: dict[str, str], tmp_path: Path, artifacts: Path
) -> None:
    picture = tmp_path / "bakery.png"
    image = Image.new("RGB", (640, 480), "#8a5a2b")
    ImageDraw.Draw(image).text((80, 180), SIGN, font=label_font(64), fill="white")
    image.save(picture)
    with running_server(cli_env, tmp_path / "server.log") as (base, _process):
        sign_in(page, base, issue_key(cli_env, "creator"))
        expect(page).to_have_url(base + "/ui")

        page.get_by_role("link", name="Perceive").click()
        expect(page).to_have_url(base + "/ui/perceive")
        page.set_input_files("#perceive-file", str(picture))
        page.fill("#perceive-question", "What does the sign say?")
        page.get_by_role("button", name="Look").click()

        answer = page.locator('[data-field="answer"]')
        expect(answer).to_contain_text(SIGN, ignore_case=True, timeout=120_000)
        expect(page.locator("#entities")).to_contain_text(SIGN, ignore_case=True)
        expect(page.locator("#entities")).to_contain_text("px")
        overlay = page.locator("#overlay")
        expect(overlay).to_be_visible()
        loaded = overlay.evaluate("img => img.complete && img.naturalWidth")
        assert loaded >= 640
        raw = page.request.get(base + (overlay.get_attribute("src") or ""))
        assert raw.status == 200
        assert Image.open(io.BytesIO(raw.body())).size[0] >= 640
        page.screenshot(path=str(artifacts / "web-perceive.png"), full_page=True)
