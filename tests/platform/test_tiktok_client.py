"""TikTokClient against the fake TikTok over real HTTP: TikTok's errors become typed errors
naming TikTok's code and log id; chunks go in order with the right headers, a failed one is
sent again and a finished one never is; and the fake holds the client to the contract."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from fakes.tiktok_server import FakeTikTok
from hallmark.platform.tiktok import (
    MB,
    PublishError,
    TikTokBadRequest,
    TikTokClient,
    TikTokForbidden,
    TikTokRateLimited,
    TikTokUnauthorized,
    chunk_plan,
)

POST_INFO = {"title": "a test", "privacy_level": "SELF_ONLY", "is_aigc": True}


def client_for(fake: FakeTikTok, token: str, **options: float) -> TikTokClient:
    return TikTokClient(fake.url, token, timeout=10, backoff=0.01, **options)  # type: ignore[arg-type]


def random_file(folder: Path, size: int) -> Path:
    path = folder / "video.bin"
    path.write_bytes(os.urandom(size))
    return path


def test_creator_info_fields(fake: FakeTikTok) -> None:
    token = fake.add_token(privacy_level_options=("SELF_ONLY",), duet_disabled=True)
    with client_for(fake, token) as client:
        info = client.creator_info()
    assert info.username == "hallmark_creator" and info.privacy_level_options == ("SELF_ONLY",)
    assert info.duet_disabled and not info.comment_disabled
    assert info.max_video_post_duration_sec == 600
    assert token not in repr(client)


def test_a_bad_token_is_an_unauthorized_error_with_tiktoks_code_and_log_id(
    fake: FakeTikTok,
) -> None:
    with client_for(fake, "act.wrong") as client, pytest.raises(TikTokUnauthorized) as caught:
        client.creator_info()
    error = caught.value
    assert error.status == 401 and error.details["tiktok_code"] == "access_token_invalid"
    assert error.details["log_id"] and error.details["log_id"] in error.message
    assert (
        "access_token_invalid" in error.message and "HALLMARK_TIKTOK_ACCESS_TOKEN" in error.message
    )
    assert "act.wrong" not in error.message


def test_a_missing_scope_is_forbidden(fake: FakeTikTok) -> None:
    token = fake.add_token(scopes=frozenset({"video.upload"}))
    with client_for(fake, token) as client, pytest.raises(TikTokForbidden) as caught:
        client.creator_info()
    assert caught.value.details["tiktok_code"] == "scope_not_authorized"


def test_rate_limits_and_the_daily_cap(fake: FakeTikTok) -> None:
    limited = fake.add_token(rate_limited=True)
    with client_for(fake, limited) as client, pytest.raises(TikTokRateLimited) as caught:
        client.creator_info()
    assert caught.value.status == 429
    capped = fake.add_token(daily_post_cap=0)
    with client_for(fake, capped) as client, pytest.raises(TikTokForbidden, match="daily"):
        client.init_direct_post(POST_INFO, chunk_plan(100).source_info())


def test_creator_info_is_limited_to_20_a_minute(fake: FakeTikTok) -> None:
    token = fake.add_token()
    with client_for(fake, token) as client:
        for _ in range(20):
            client.creator_info()
        with pytest.raises(TikTokRateLimited, match="rate_limit_exceeded"):
            client.creator_info()


def test_bad_fields_are_invalid_param(fake: FakeTikTok) -> None:
    source = chunk_plan(100).source_info()
    cases = [
        ({**POST_INFO, "is_aigc": "yes"}, source, "is_aigc"),
        ({**POST_INFO, "is_ai_generated": True}, source, "unknown fields"),
        ({k: v for k, v in POST_INFO.items() if k != "privacy_level"}, source, "privacy_level"),
        (POST_INFO, {**source, "chunk_size": 50}, "whole"),
        (POST_INFO, {**source, "source": "PULL_FROM_URL"}, "url_ownership_unverified"),
        ({**POST_INFO, "title": "x" * 2201}, source, "2200"),
        ({**POST_INFO, "brand_content_toggle": True}, source, "private"),
    ]
    for post_info, source_info, expected in cases:  # a token each: 6 inits a minute
        client = client_for(fake, fake.add_token())
        with client, pytest.raises(PublishError, match=expected) as caught:
            client.init_direct_post(post_info, source_info)
        assert caught.value.status in (400, 403)
    assert fake.posts == {}


def test_direct_posts_are_limited_to_6_a_minute(fake: FakeTikTok) -> None:
    token = fake.add_token()
    with client_for(fake, token) as client:
        for _ in range(6):
            client.init_direct_post(POST_INFO, chunk_plan(100).source_info())
        with pytest.raises(TikTokRateLimited):
            client.init_direct_post(POST_INFO, chunk_plan(100).source_info())


def test_a_privacy_level_the_creator_lacks_is_refused(fake: FakeTikTok) -> None:
    token = fake.add_token(privacy_level_options=("SELF_ONLY",))
    info = {**POST_INFO, "privacy_level": "PUBLIC_TO_EVERYONE"}
    with client_for(fake, token) as client, pytest.raises(TikTokBadRequest) as caught:
        client.init_direct_post(info, chunk_plan(100).source_info())
    assert caught.value.details["tiktok_code"] == "privacy_level_option_mismatch"


def test_chunks_go_in_order_with_range_and_type_and_never_the_token(
    fake: FakeTikTok, tmp_path: Path
) -> None:
    token = fake.add_token()
    path = random_file(tmp_path, 12 * MB + 7)
    plan = chunk_plan(path.stat().st_size)
    seen = []
    with client_for(fake, token) as client:
        init = client.init_direct_post(POST_INFO, plan.source_info())
        client.upload_chunks(
            init.upload_url, path, plan, media_type="video/webm", progress=seen.append
        )
    post = fake.post(init.publish_id)
    assert post.complete and bytes(post.data) == path.read_bytes()
    assert [c["content_range"] for c in post.chunks] == [
        f"bytes 0-{5 * MB - 1}/{12 * MB + 7}",
        f"bytes {5 * MB}-{12 * MB + 6}/{12 * MB + 7}",
    ]
    assert {c["content_type"] for c in post.chunks} == {"video/webm"}
    assert [(s.index, s.count) for s in seen] == [(0, 2), (1, 2)]
    assert seen[-1].sent_bytes == seen[-1].total_bytes == 12 * MB + 7
    puts = [auth for method, _, auth in fake.requests if method == "PUT"]
    assert puts == [False, False]  # the token never goes to the upload URL


def test_a_failed_chunk_is_sent_again_and_finished_ones_never(
    fake: FakeTikTok, tmp_path: Path
) -> None:
    token = fake.add_token()
    path = random_file(tmp_path, 11 * MB)
    plan = chunk_plan(path.stat().st_size)
    fake.fail_chunks = {1}
    with client_for(fake, token) as client:
        init = client.init_direct_post(POST_INFO, plan.source_info())
        client.upload_chunks(init.upload_url, path, plan)
    assert bytes(fake.post().data) == path.read_bytes()
    puts = [path for method, path, _ in fake.requests if method == "PUT"]
    assert len(puts) == 3  # chunk 0 once, chunk 1 twice
    assert len(fake.post().chunks) == 2


def test_a_chunk_failing_every_try_is_an_error_naming_it(fake: FakeTikTok, tmp_path: Path) -> None:
    token = fake.add_token()
    path = random_file(tmp_path, 1000)
    plan = chunk_plan(1000)
    with client_for(fake, token, chunk_retries=1) as client:
        init = client.init_direct_post(POST_INFO, plan.source_info())
        fake.fail_chunks = {0}
        client.upload_chunks(init.upload_url, path, plan)  # one failure, one retry: fine
        init = client.init_direct_post(POST_INFO, plan.source_info())
        original = fake._store_chunk

        def always_fail(request, body):  # type: ignore[no-untyped-def]
            fake.fail_chunks = {0}
            return original(request, body)

        fake._store_chunk = always_fail  # type: ignore[method-assign]
        with pytest.raises(PublishError, match=r"chunk 1 of 1 \(tried 2 times\).*internal_error"):
            client.upload_chunks(init.upload_url, path, plan)


def test_an_upload_url_serves_once(fake: FakeTikTok, tmp_path: Path) -> None:
    token = fake.add_token()
    path = random_file(tmp_path, 1000)
    plan = chunk_plan(1000)
    with client_for(fake, token) as client:
        init = client.init_direct_post(POST_INFO, plan.source_info())
        client.upload_chunks(init.upload_url, path, plan)
        with pytest.raises(PublishError, match="used up"):
            client.upload_chunks(init.upload_url, path, plan)


def test_status_progresses_to_publish_complete(fake: FakeTikTok, tmp_path: Path) -> None:
    token = fake.add_token(processing_polls=2)
    path = random_file(tmp_path, 1000)
    plan = chunk_plan(1000)
    with client_for(fake, token) as client:
        init = client.init_direct_post(
            {**POST_INFO, "privacy_level": "PUBLIC_TO_EVERYONE"}, plan.source_info()
        )
        assert client.fetch_status(init.publish_id).status == "PROCESSING_UPLOAD"
        client.upload_chunks(init.upload_url, path, plan)
        statuses = [client.fetch_status(init.publish_id) for _ in range(3)]
    assert [s.status for s in statuses] == ["PROCESSING_UPLOAD"] * 2 + ["PUBLISH_COMPLETE"]
    assert statuses[-1].post_ids and statuses[-1].uploaded_bytes == 1000
    with client_for(fake, fake.add_token()) as other, pytest.raises(TikTokBadRequest):
        other.fetch_status(init.publish_id)  # another creator's post is not found


# --- the fake is strict: what a sloppy client would get wrong -------------------------------


def put(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.put(url, content=body, headers=headers, timeout=10)


def test_the_fake_refuses_out_of_order_and_miscounted_chunks(
    fake: FakeTikTok, tmp_path: Path
) -> None:
    token = fake.add_token()
    size = 11 * MB
    data = os.urandom(size)
    plan = chunk_plan(size)
    with client_for(fake, token) as client:
        url = client.init_direct_post(POST_INFO, plan.source_info()).upload_url
    second = data[5 * MB :]
    mp4 = {"Content-Type": "video/mp4"}
    out_of_order = put(url, second, {**mp4, "Content-Range": f"bytes {5 * MB}-{size - 1}/{size}"})
    assert out_of_order.status_code == 416
    assert out_of_order.json()["error"]["log_id"]
    short = put(url, data[:100], {**mp4, "Content-Range": f"bytes 0-99/{size}"})
    assert short.status_code == 416  # a chunk must be chunk_size long
    wrong_total = put(url, data[: 5 * MB], {**mp4, "Content-Range": f"bytes 0-{5 * MB - 1}/9"})
    assert wrong_total.status_code == 400
    bad_type = {"Content-Type": "video/x-msvideo", "Content-Range": f"bytes 0-{5 * MB - 1}/{size}"}
    assert put(url, data[: 5 * MB], bad_type).json()["error"]["code"] == "invalid_param"
    lying = put(url, data[: 5 * MB - 1], {**mp4, "Content-Range": f"bytes 0-{5 * MB - 1}/{size}"})
    assert lying.status_code == 400  # Content-Length must match the range
    first = put(url, data[: 5 * MB], {**mp4, "Content-Range": f"bytes 0-{5 * MB - 1}/{size}"})
    assert first.status_code == 206
    again = put(url, data[: 5 * MB], {**mp4, "Content-Range": f"bytes 0-{5 * MB - 1}/{size}"})
    assert again.status_code == 416  # a finished chunk is not taken twice
    last = put(url, second, {**mp4, "Content-Range": f"bytes {5 * MB}-{size - 1}/{size}"})
    assert last.status_code == 201 and bytes(fake.post().data) == data


def test_the_fake_wants_json_with_its_content_type(fake: FakeTikTok) -> None:
    token = fake.add_token()
    response = httpx.post(
        f"{fake.url}/v2/post/publish/creator_info/query/",
        content=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_param"
