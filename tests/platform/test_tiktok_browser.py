"""The "Publish to TikTok" partial in a real headless Chromium against the real server and
the fake TikTok: the button posts to the API, follows the job and shows the outcome."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from playwright.sync_api import Page, expect
from test_tiktok_support import camera_clip, cli_tiktok_env, needs_ffmpeg

from browser_helpers import issue_key, sign_in, watched_page
from fakes.tiktok_server import FakeTikTok, running
from helpers import run_cli
from server import running_server

pytestmark = [pytest.mark.browser, needs_ffmpeg]

TEMPLATES = Path(__file__).parents[2] / "src" / "hallmark" / "web" / "templates"


class _Static:
    def __init__(self, path: str) -> None:
        self.path = path


def render_button(content_id: str) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    template = environment.get_template("publish_button.html")
    return template.render(
        content_id=content_id, url_for=lambda name, path: _Static(f"/static/{path}")
    )


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh headless page (default viewport); the test fails on any script error."""
    with watched_page(viewport=None, console=False) as opened:
        yield opened


def test_the_publish_button_publishes_and_shows_the_outcome(
    page: Page, cli_env: dict[str, str], tmp_path: Path
) -> None:
    with running() as fake:
        token = fake.add_token()
        env = cli_tiktok_env(cli_env, fake, token)
        clip = camera_clip(tmp_path / "camera.mp4")
        first = run_cli(
            ["publish", "tiktok", str(clip), "--declare-ai", "--tenant", "acme", "--json"],
            env,
            180,
        )
        assert first.returncode == 0, first.stderr
        content_id = json.loads(first.stdout)["content_id"]
        key = issue_key(env, "creator")
        with running_server(env, tmp_path / "server.log") as (base, _process):
            _publish_in_the_browser(page, base, key, content_id, fake)


def _publish_in_the_browser(
    page: Page, base: str, key: str, content_id: str, fake: FakeTikTok
) -> None:
    sign_in(page, base, key)
    expect(page).to_have_url(base + "/ui")
    # The pages that show videos include the partial; here it is added to the dashboard.
    page.evaluate(
        """html => {
            document.querySelector("main").insertAdjacentHTML("beforeend", html);
            const script = document.createElement("script");
            script.src = "/static/publish.js";
            document.head.append(script);
        }""",
        render_button(content_id),
    )
    form = page.locator("form[data-publish-tiktok]")
    form.locator("summary").click()
    form.locator('input[name="caption"]').fill("from the browser")
    form.locator('select[name="privacy_level"]').select_option("SELF_ONLY")
    expect(form.get_by_role("button", name="Publish to TikTok")).to_be_enabled()
    form.get_by_role("button", name="Publish to TikTok").click()
    status = form.locator('[data-field="status"]')
    expect(status).to_contain_text("Published on TikTok", timeout=60_000)
    expect(status).to_contain_text("AI-generated label on")
    latest = fake.posts[max(fake.posts, key=lambda pid: int(pid.rsplit(".", 1)[-1]))]
    assert latest.post_info is not None
    assert latest.post_info["title"] == "from the browser"
    assert latest.post_info["privacy_level"] == "SELF_ONLY" and latest.post_info["is_aigc"]
