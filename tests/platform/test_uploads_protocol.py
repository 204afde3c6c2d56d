"""The resumable upload protocol over the API: chunks at explicit offsets, resumes, checks."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from upload_support import complete, member_of, photo, put, send, sha256, split, start, upload

from hallmark.errors import Conflict
from hallmark.platform.uploads import (
    UploadRequest,
    append_chunk,
    complete_upload,
    create_upload,
    prune_uploads,
    staging_area,
    upload_status,
)
from hallmark.services import Services
from hallmark.store.media import digest_of
from hallmark.store.models import Post, Upload
from helpers import MakeKey, auth


def test_a_file_sent_in_three_chunks_becomes_a_post_with_a_verdict(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token, data = make_key(), photo()
    created = start(client, token, data, caption="sunset")
    assert created["offset"] == 0 and created["state"] == "open"
    assert created["chunk_bytes"] == services.settings.upload_chunk_bytes
    offsets = []
    for index, chunk in enumerate(split(data, 3)):
        response = put(client, token, created["id"], sum(map(len, split(data, 3)[:index])), chunk)
        assert response.status_code == 200, response.text
        offsets.append(response.json()["offset"])
    assert offsets[-1] == len(data) and offsets == sorted(offsets)

    response = complete(client, token, created["id"])
    assert response.status_code == 200, response.text
    post = response.json()
    assert post["verdict"] == "none" and post["label"] is None
    assert post["caption"] == "sunset" and post["upload_id"] == created["id"]
    assert post["original_digest"] == digest_of(data) and post["duplicate"] is False
    status = client.get(f"/v1/uploads/{created['id']}", headers=auth(token)).json()
    assert status["state"] == "complete" and status["post_id"] == post["id"]
    # the staging file is gone once the upload is posted
    assert not staging_area(services.settings).path_for(created["id"]).exists()


def test_a_wrong_offset_is_a_409_that_carries_the_current_offset(
    client: TestClient, make_key: MakeKey
) -> None:
    token, data = make_key(), photo()
    created = start(client, token, data)
    first, *_ = split(data, 3)
    assert send(client, token, created["id"], [first]) == len(first)

    for wrong in (0, len(first) + 5):
        response = put(client, token, created["id"], wrong, b"x" * 10)
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "conflict" and error["details"]["offset"] == len(first)
    assert client.get(f"/v1/uploads/{created['id']}", headers=auth(token)).json()["offset"] == (
        len(first)
    )


def test_a_crash_between_write_and_commit_loses_and_corrupts_nothing(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token, data = make_key(), photo()
    created = start(client, token, data)
    first, second, third = split(data, 3)
    send(client, token, created["id"], [first])
    # The chunk reached the staging file but the process died before committing its offset:
    # the file is longer than the database says, with garbage where the chunk was going.
    path = staging_area(services.settings).path_for(created["id"])
    with path.open("ab") as staged:
        staged.write(b"\xde\xad" * 1000)
    assert path.stat().st_size > len(first)

    assert prune_uploads(services) == 0  # what the server does at startup: cut it back
    assert path.stat().st_size == len(first)
    with path.open("ab") as staged:  # and again, this time resumed without a restart
        staged.write(b"garbage")
    status = client.get(f"/v1/uploads/{created['id']}", headers=auth(token)).json()
    assert status["offset"] == len(first)
    send(client, token, created["id"], [second, third], offset=len(first))
    post = complete(client, token, created["id"]).json()
    assert services.media.get(post["original_digest"]) == data


def test_a_sha256_mismatch_fails_the_upload_with_a_clear_error(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token, data = make_key(), photo()
    created = start(client, token, data, sha256=sha256(b"something else"))
    send(client, token, created["id"], split(data, 2))
    response = complete(client, token, created["id"])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "checksum_mismatch"
    assert error["details"]["received"] == sha256(data)
    assert "not the" in error["message"] and "start again" in error["message"]
    status = client.get(f"/v1/uploads/{created['id']}", headers=auth(token)).json()
    assert status["state"] == "failed" and "SHA-256" in status["error"]
    assert not staging_area(services.settings).path_for(created["id"]).exists()
    again = complete(client, token, created["id"])
    assert again.status_code == 409 and "failed" in again.json()["error"]["message"]


def test_an_announced_size_over_the_limit_is_a_413(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    limit = services.settings.max_upload_bytes
    response = client.post(
        "/v1/uploads", json={"filename": "huge.mp4", "size": limit + 1}, headers=auth(make_key())
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_chunk_over_the_chunk_limit_or_past_the_size_is_refused(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token = make_key()
    services.settings.upload_chunk_bytes = 1000
    created = start(client, token, b"x" * 5000, name="notes.txt")
    too_big = put(client, token, created["id"], 0, b"x" * 1001)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    send(client, token, created["id"], [b"x" * 1000] * 4)
    assert put(client, token, created["id"], 4000, b"x" * 1000).json()["offset"] == 5000
    over = put(client, token, created["id"], 5000, b"y")
    assert over.status_code == 400 and "past the announced size" in over.json()["error"]["message"]


def test_a_chunk_must_be_sent_as_offset_octet_stream(client: TestClient, make_key: MakeKey) -> None:
    token = make_key()
    created = start(client, token, photo())
    response = client.put(
        f"/v1/uploads/{created['id']}",
        params={"offset": 0},
        content=b"abc",
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_completing_early_says_how_many_bytes_are_missing(
    client: TestClient, make_key: MakeKey
) -> None:
    token, data = make_key(), photo()
    created = start(client, token, data)
    first, *_ = split(data, 2)
    send(client, token, created["id"], [first])
    response = complete(client, token, created["id"])
    assert response.status_code == 409
    assert response.json()["error"]["details"]["offset"] == len(first)


def test_completing_twice_returns_the_same_post(client: TestClient, make_key: MakeKey) -> None:
    token, data = make_key(), photo(seed=3)
    created = start(client, token, data)
    send(client, token, created["id"], [data])
    first = complete(client, token, created["id"]).json()
    second = complete(client, token, created["id"]).json()
    assert first == second


def test_an_aborted_upload_is_gone_with_its_bytes(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token, data = make_key(), photo()
    created = start(client, token, data)
    send(client, token, created["id"], split(data, 3)[:1])
    response = client.delete(f"/v1/uploads/{created['id']}", headers=auth(token))
    assert response.status_code == 200 and response.json()["state"] == "failed"
    assert not staging_area(services.settings).path_for(created["id"]).exists()
    assert put(client, token, created["id"], response.json()["offset"], b"x").status_code == 409


def test_uploads_expire_and_their_bytes_are_deleted(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token, data = make_key(), photo()
    stale, fresh = start(client, token, data), start(client, token, data)
    send(client, token, stale["id"], split(data, 3)[:1])
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with services.db.session() as session:
        session.execute(update(Upload).where(Upload.id == stale["id"]).values(expires_at=past))

    assert prune_uploads(services) == 1
    area = staging_area(services.settings)
    assert not area.path_for(stale["id"]).exists() and area.path_for(fresh["id"]).exists()
    status = client.get(f"/v1/uploads/{stale['id']}", headers=auth(token)).json()
    assert status["state"] == "expired"
    response = put(client, token, stale["id"], status["offset"], b"x")
    assert response.status_code == 410 and response.json()["error"]["code"] == "upload_expired"
    with services.db.session() as session:
        entry = services.ledger.entries(session)[-1]
    assert entry.kind == "platform.uploads_expired" and entry.payload["uploads"] == [stale["id"]]


def test_the_expiry_follows_the_setting(services: Services, make_key: MakeKey) -> None:
    services.settings.upload_expiry_hours = 2
    member = member_of(services, make_key())
    status = create_upload(services, member, UploadRequest("a.png", 10))
    created = datetime.strptime(status.created_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    expires = datetime.strptime(status.expires_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    assert expires - created == timedelta(hours=2)


def test_an_orphaned_staging_file_is_swept_after_an_hour(
    services: Services, make_key: MakeKey
) -> None:
    member = member_of(services, make_key())
    status = create_upload(services, member, UploadRequest("a.png", 10))
    append_chunk(services, member, status.id, 0, b"0123456789")
    area = staging_area(services.settings)
    orphan = area.path_for("f" * 32)  # a file whose upload never got committed
    orphan.write_bytes(b"half")
    prune_uploads(services)
    assert orphan.exists()  # it may be an upload being created right now
    old = datetime.now().timestamp() - 2 * 3600
    os.utime(orphan, (old, old))
    prune_uploads(services)
    assert not orphan.exists() and area.path_for(status.id).exists()
    assert upload_status(services, member, status.id).offset == 10


def test_other_tenants_and_users_cannot_see_or_touch_an_upload(
    client: TestClient, make_key: MakeKey
) -> None:
    owner, data = make_key(), photo()
    created = start(client, owner, data)
    for stranger in (make_key(tenant="other"), make_key()):  # another tenant, another user
        headers = auth(stranger)
        assert client.get(f"/v1/uploads/{created['id']}", headers=headers).status_code == 404
        assert put(client, stranger, created["id"], 0, data).status_code == 404
        assert complete(client, stranger, created["id"]).status_code == 404
        assert client.delete(f"/v1/uploads/{created['id']}", headers=headers).status_code == 404
    post = upload(client, owner, photo(seed=4))
    other = auth(make_key(tenant="other"))
    assert client.get(f"/v1/feed/{post['id']}", headers=other).status_code == 404
    assert client.get(f"/v1/feed/{post['id']}/media", headers=other).status_code == 404
    assert client.get("/v1/feed", headers=other).json()["posts"] == []


def test_uploading_needs_content_receive(client: TestClient, make_key: MakeKey) -> None:
    reviewer = make_key(role="reviewer")
    response = client.post(
        "/v1/uploads", json={"filename": "a.png", "size": 10}, headers=auth(reviewer)
    )
    assert response.status_code == 403
    assert client.get("/v1/feed", headers=auth(reviewer)).status_code == 200


def test_the_one_shot_upload_posts_a_small_file(client: TestClient, make_key: MakeKey) -> None:
    token = make_key()
    response = client.post(
        "/v1/uploads/file",
        files={"file": ("shot.png", photo(seed=5), "image/png")},
        data={"caption": "one go", "declared_ai": "true"},
        headers=auth(token),
    )
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["caption"] == "one go" and post["declared_ai"] is True
    assert post["verdict"] == "possible"


def test_racing_chunks_at_one_offset_store_one_of_them_whole(
    services: Services, make_key: MakeKey
) -> None:
    member = member_of(services, make_key())
    status = create_upload(services, member, UploadRequest("race.bin", 2 * 1024 * 1024))
    chunks = [bytes([n]) * 1024 * 1024 for n in range(8)]

    def send_one(chunk: bytes) -> str:
        try:
            append_chunk(services, member, status.id, 0, chunk)
        except Conflict as exc:
            assert exc.details["offset"] == len(chunk)
            return "conflict"
        return "stored"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(send_one, chunks))
    assert sorted(outcomes) == ["conflict"] * 7 + ["stored"]
    staged = staging_area(services.settings).path_for(status.id).read_bytes()
    assert len(staged) == 1024 * 1024 and staged in chunks
    assert upload_status(services, member, status.id).offset == 1024 * 1024


def test_racing_completions_post_once(services: Services, make_key: MakeKey) -> None:
    member = member_of(services, make_key())
    data = b"a caption long enough to post, sent once and completed twice at the same time"
    status = create_upload(services, member, UploadRequest("race.txt", len(data)))
    append_chunk(services, member, status.id, 0, data)
    with ThreadPoolExecutor(max_workers=2) as pool:
        posts = list(pool.map(lambda _: complete_upload(services, member, status.id), range(2)))
    assert posts[0].post == posts[1].post
    with services.db.session() as session:
        assert session.query(Post).count() == 1
