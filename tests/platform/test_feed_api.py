"""The feed API: newest first with cursors, a post's detail and report, its media with Range."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update
from upload_support import member_of, photo, upload, video

from hallmark.platform.uploads import UploadRequest, upload_bytes
from hallmark.services import Services
from hallmark.store.models import Post
from helpers import MakeKey, auth


def _post_text(services: Services, token: str, text: str) -> str:
    """A quick post (plain text goes through the same steps, without image inspection)."""
    data = text.encode()
    member = member_of(services, token)
    return upload_bytes(services, member, UploadRequest("note.txt", len(data)), data).post.id


def test_the_feed_lists_visible_posts_newest_first_with_cursors(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token = make_key()
    ids = [_post_text(services, token, f"note number {n}") for n in range(5)]
    with services.db.session() as session:
        session.execute(update(Post).where(Post.id == ids[2]).values(state="removed"))

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/feed", params=params, headers=auth(token)).json()
        seen += [post["id"] for post in page["posts"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [ids[4], ids[3], ids[1], ids[0]] and pages == 2
    first = client.get("/v1/feed", headers=auth(token)).json()["posts"][0]
    assert first["media_url"] == f"/v1/feed/{ids[4]}/media"
    assert {"verdict", "label", "caption", "media_type", "created_at"} <= first.keys()


def test_a_removed_post_is_seen_only_by_its_uploader_and_moderators(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    uploader = make_key()
    post_id = _post_text(services, uploader, "a note that gets removed")
    with services.db.session() as session:
        session.execute(update(Post).where(Post.id == post_id).values(state="removed"))
    assert client.get(f"/v1/feed/{post_id}", headers=auth(make_key())).status_code == 404
    assert client.get(f"/v1/feed/{post_id}/media", headers=auth(make_key())).status_code == 404
    for viewer in (uploader, make_key(role="reviewer"), make_key(role="admin")):
        response = client.get(f"/v1/feed/{post_id}", headers=auth(viewer))
        assert response.status_code == 200 and response.json()["state"] == "removed"


def test_a_post_detail_has_the_inspect_report_of_the_stored_copy(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token = make_key()
    post = upload(client, token, photo(seed=21), declared_ai=True, jurisdictions=["cn"])
    detail = client.get(f"/v1/feed/{post['id']}", headers=auth(token)).json()
    report = detail["report"]
    assert detail["id"] == post["id"] and detail["label"] == post["label"]
    assert report["digest"] == post["digest"] and report["media_type"] == "image/png"
    # Declared, not labelled: Label "2" (possibly AI) with the platform's own fields, and
    # nothing drawn or embedded into the pixels (the tag is shown around the image).
    assert report["gb45438"]["Label"] == "2"
    assert report["gb45438"]["ContentPropagator"] == services.settings.producer_code
    assert report["explicit"] == [] and report["watermark"] is None
    cached = client.get(f"/v1/feed/{post['id']}", headers=auth(token)).json()["report"]
    assert cached == report


def test_media_is_the_stored_copy_with_its_type_and_ranges(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token = make_key()
    post = upload(client, token, video(), name="clip.mp4")
    stored = services.media.get(post["digest"])
    whole = client.get(post["media_url"], headers=auth(token))
    assert whole.status_code == 200 and whole.content == stored
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(post["media_url"], headers={**auth(token), "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == stored[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(stored)}"


def test_reading_the_feed_needs_a_key_with_content_read(
    client: TestClient, make_key: MakeKey
) -> None:
    assert client.get("/v1/feed").status_code == 401
    assert client.get("/v1/feed", headers=auth(make_key(role="reviewer"))).status_code == 200
