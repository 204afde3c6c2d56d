"""The feed's pages in process: posts with their label tags, media elements, the detail page
with the inspect report, the upload form, and errors as HTML."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from upload_support import photo, upload, video

from hallmark.services import Services
from helpers import MakeKey


def sign_in(client: TestClient, token: str) -> None:
    response = client.post("/ui/login", data={"api_key": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def test_the_feed_page_shows_each_post_with_its_label_tag_and_media(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token = make_key()
    labelled = upload(client, token, photo(seed=51), declared_ai=True, jurisdictions=["cn"])
    clip = upload(client, token, video(), name="clip.mp4", caption="<b>my clip</b>")
    sign_in(client, token)

    page = client.get("/ui/feed")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<a href="/ui/feed" aria-current="page">Feed</a>' in page.text
    assert 'id="upload-form"' in page.text and 'id="upload-declared-ai"' in page.text
    tag = '<span class="platform-label platform-label-possible" data-field="label">'
    assert f"{tag}{labelled['label']}</span>" in page.text
    assert f'<img src="/v1/feed/{labelled["id"]}/media"' in page.text
    assert f'src="/v1/feed/{clip["id"]}/media"' in page.text and "<video controls" in page.text
    assert "&lt;b&gt;my clip&lt;/b&gt;" in page.text  # a caption is text, never markup
    # newest first
    assert page.text.index(f'data-post-id="{clip["id"]}"') < page.text.index(
        f'data-post-id="{labelled["id"]}"'
    )
    assert client.get(f"/v1/feed/{clip['id']}/media").status_code == 200  # the cookie works


def test_the_post_page_shows_the_inspect_report_of_the_stored_copy(
    client: TestClient, make_key: MakeKey
) -> None:
    token = make_key()
    post = upload(client, token, photo(seed=52), declared_ai=True, jurisdictions=["cn"])
    sign_in(client, token)
    page = client.get(f"/ui/feed/{post['id']}")
    assert page.status_code == 200
    assert "Inspect report of the stored copy" in page.text
    assert 'data-field="report-verdict">possible<' in page.text
    assert re.search(r"<th scope=\"row\">ContentPropagator</th><td>\d{27}</td>", page.text)
    assert f'<th scope="row">PropagateID</th><td>{post["content_id"]}</td>' in page.text
    assert 'data-field="declared">yes<' in page.text


def test_feed_pages_need_sign_in_and_hide_other_tenants_posts(
    client: TestClient, make_key: MakeKey
) -> None:
    post = upload(client, make_key(), photo(seed=53))
    response = client.get("/ui/feed", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    sign_in(client, make_key(tenant="other"))
    missing = client.get(f"/ui/feed/{post['id']}")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert f'data-post-id="{post["id"]}"' not in client.get("/ui/feed").text


def test_a_reader_who_may_not_upload_gets_no_form(client: TestClient, make_key: MakeKey) -> None:
    sign_in(client, make_key(role="reviewer"))
    page = client.get("/ui/feed")
    assert page.status_code == 200 and 'id="upload-form"' not in page.text
    assert 'id="feed-empty"' in page.text
    bad = client.get("/ui/feed", params={"cursor": "!!"})
    assert bad.status_code == 400 and "bad cursor" in bad.text
