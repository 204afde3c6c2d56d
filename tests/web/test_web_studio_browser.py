"""The studio page in a real headless Chromium against the real server (`hallmark serve`, with a
worker thread so its jobs run): a clip uploaded, put on the timeline with a title and a
voice-over spoken by the bundled voice, previewed through the real render (screening, labels),
and the labelled MP4 downloaded; a file the studio does not take is refused in the alert."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from browser_helpers import issue_key, sign_in
from server import running_server

pytestmark = pytest.mark.browser

RENDER_TIMEOUT = 240_000  # ms: a preview goes through screening (whisper, OCR) and labelling
VOICE_TIMEOUT = 60_000
FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]


def make_clip(path: Path) -> Path:
    """Two seconds of ffmpeg's test pattern (H.264) with a tone (AAC), 320x240."""
    subprocess.run(
        [*FFMPEG, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path


def probe(path: Path) -> dict[str, Any]:
    shown = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    data: dict[str, Any] = json.loads(shown.stdout)
    return data


def seconds(text: str) -> float:
    """``"3.0 s"`` -> 3.0"""
    match = re.fullmatch(r"([\d.]+) s", text.strip())
    assert match, text
    return float(match.group(1))


def test_a_clip_with_a_title_and_a_voice_over_previews_and_downloads_as_a_labelled_mp4(
    page: Page, chromium: Browser, cli_env: dict[str, str], tmp_path: Path, artifacts: Path
) -> None:
    clip = make_clip(tmp_path / "beach.mp4")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n")
    env = {**cli_env, "HALLMARK_WORKER_THREADS": "1"}
    with running_server(env, tmp_path / "server.log") as (base, _process):
        sign_in(page, base, issue_key(env, "creator"))
        expect(page).to_have_url(base + "/ui")
        page.get_by_role("link", name="Studio").click()
        expect(page).to_have_url(base + "/ui/studio")
        expect(page.locator("#media-empty")).to_be_visible()
        expect(page.locator("#preset option").first).not_to_have_text("loading…")

        # Upload the clip and put it on the main track; its length comes from its metadata.
        page.set_input_files("#media-file", str(clip))
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#upload-status")).to_have_text("Uploaded beach.mp4.")
        item = page.locator("#media-list li.media-item")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("video/mp4")
        page.get_by_role("button", name="Add beach.mp4 to the timeline").click()
        visual = page.locator("#lane-visual .clip-block")
        expect(visual).to_have_count(1)
        expect(visual).to_contain_text("beach.mp4")
        expect(page.locator("#total-duration")).to_have_text("2.0 s")

        # A title at 0 s (the cursor follows the selected clip), 3 s long.
        page.get_by_role("button", name="Add text", exact=True).click()
        page.fill("#clip-text", "Hello studio")
        title = page.locator("#lane-text .clip-block")
        expect(title).to_have_count(1)
        expect(title).to_contain_text("Hello studio")
        expect(page.locator("#total-duration")).to_have_text("3.0 s")

        # A voice-over from the bundled voice, on the voice lane at 0 s.
        page.fill("#cursor", "0")
        page.fill("#voiceover-text", "Welcome to the studio.")
        page.get_by_role("button", name="Add voice-over", exact=True).click()
        voice = page.locator("#lane-voice .clip-block")
        expect(voice).to_have_count(1, timeout=VOICE_TIMEOUT)
        expect(page.locator("#voiceover-status")).to_contain_text("Voice-over added")
        expect(page.locator("#studio-error")).to_be_hidden()

        shown = page.locator("#project-json").text_content()
        assert shown
        project = json.loads(shown)
        roles = [(track["kind"], track.get("role")) for track in project["tracks"]]
        assert roles == [("visual", "main"), ("text", None), ("audio", "voice")], roles
        video = project["tracks"][0]["clips"][0]
        assert video["source"].startswith("media:")
        assert (video["kind"], video["start"], video["in"]) == ("video", 0, 0)
        assert abs(video["out"] - 2) < 0.1, video
        assert project["tracks"][1]["clips"][0]["text"] == "Hello studio"
        spoken = project["tracks"][2]["clips"][0]
        assert spoken["kind"] == "audio" and spoken["start"] == 0 and spoken["out"] > 0.5
        total = seconds(page.locator("#total-duration").inner_text())

        # A file the studio does not take is refused with the server's message; in a second
        # tab, since the page fixture treats every 4xx answer as a failure.
        other = chromium.new_context(storage_state=page.context.storage_state())
        try:
            tab = other.new_page()
            tab.goto(base + "/ui/studio")
            tab.set_input_files("#media-file", str(notes))
            tab.get_by_role("button", name="Upload").click()
            alert = tab.get_by_role("alert")
            expect(alert).to_contain_text("Upload failed")
            expect(alert).to_contain_text("video, audio and images")
            expect(tab.locator("#media-list li.media-item")).to_have_count(2)  # clip and voice
        finally:
            other.close()

        # Preview: a render job whose progress the page follows, then the labelled video.
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#render-job")).to_be_visible()
        expect(page.locator("#result-video")).to_be_visible(timeout=RENDER_TIMEOUT)
        expect(page.locator("#studio-error")).to_be_hidden()
        expect(page.locator("#render-status")).to_have_text("Preview ready.")
        link = page.locator("#download-link")
        href = link.get_attribute("href")
        assert href and re.fullmatch(r"/v1/contents/[^/]+/raw", href), href
        assert link.get_attribute("download")
        assert page.locator("#result-video").get_attribute("src") == href
        expect(page.locator("#result-labels li.label-item").first).to_be_visible()
        page.screenshot(path=str(artifacts / "web-studio.png"), full_page=True)

        downloaded = page.request.get(base + href)
        assert downloaded.ok, downloaded.status
        movie = tmp_path / "preview.mp4"
        movie.write_bytes(downloaded.body())
        facts = probe(movie)
        kinds = {stream["codec_type"] for stream in facts["streams"]}
        assert {"video", "audio"} <= kinds, kinds
        assert "mp4" in facts["format"]["format_name"]
        duration = float(facts["format"]["duration"])
        assert abs(duration - total) < 0.3, (duration, total)

        # The work survives a reload (localStorage).
        page.reload()
        expect(page.locator("#lane-visual .clip-block")).to_have_count(1)
        expect(page.locator("#lane-text .clip-block")).to_contain_text("Hello studio")
        expect(page.locator("#lane-voice .clip-block")).to_have_count(1)
        expect(page.locator("#total-duration")).to_have_text(f"{total:.1f} s")
