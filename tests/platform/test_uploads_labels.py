"""What completing an upload does with the file: the receive flow's verdict, the platform
label (Labeling Measures Art. 6), the propagation fields, and untrusted names, types and sizes."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from upload_support import (
    bomb_png,
    complete,
    marked_photo,
    photo,
    read_label,
    send,
    split,
    start,
    upload,
    video,
)

from hallmark.platform.uploads import display_name
from hallmark.policy import resolve_policy
from hallmark.services import Services
from hallmark.store.models import ContentRecord, Post, Upload
from helpers import MakeKey, auth

CN = ["cn"]


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_a_file_labelled_by_hallmark_is_confirmed_and_tagged_ai_generated(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    marked = marked_photo(services)
    post = upload(client, make_key(), marked, jurisdictions=CN)
    assert post["verdict"] == "confirmed"
    assert post["label"] == resolve_policy("cn").platform_label("confirmed") == "AI生成"
    assert post["labels"] == ["gb45438"]  # the tag is shown around it, in the feed


def test_the_stored_copy_carries_the_propagation_fields_beside_the_producers(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    marked = marked_photo(services)
    produced = read_label(marked, "image/png")
    assert produced is not None and not produced.ContentPropagator

    post = upload(client, make_key(), marked, jurisdictions=CN)
    stored = services.media.get(post["digest"])
    label = read_label(stored, "image/png")
    assert label is not None
    # the producer's fields are kept as they were ...
    assert (label.Label, label.ContentProducer, label.ProduceID, label.ReservedCode1) == (
        produced.Label,
        produced.ContentProducer,
        produced.ProduceID,
        produced.ReservedCode1,
    )
    # ... and the platform added its own: its code and its id of this content
    assert label.ContentPropagator == services.settings.producer_code
    assert label.PropagateID == post["content_id"] and label.ReservedCode2
    # the original as uploaded is kept too, untouched
    assert services.media.get(post["original_digest"]) == marked
    # and the inspect report of the stored copy says so
    report = client.get(f"/v1/feed/{post['id']}", headers=auth(make_key())).json()["report"]
    assert report["verdict"] == "confirmed"
    assert report["gb45438"]["ContentPropagator"] == services.settings.producer_code


def test_the_stored_copy_is_not_re_encoded(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    marked = marked_photo(services)
    post = upload(client, make_key(), marked, jurisdictions=CN)
    before, after = _pixels(marked), _pixels(services.media.get(post["digest"]))
    # Only the metadata changed: every pixel (the producer's label and watermark too) is kept.
    assert np.array_equal(before, after)


def test_an_unlabelled_photo_is_none_with_no_label(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    data = photo(seed=11)
    post = upload(client, make_key(), data, jurisdictions=CN)
    assert post["verdict"] == "none" and post["label"] is None and post["labels"] == []
    assert services.media.get(post["digest"]) == data  # stored as it came


def test_a_self_declared_ai_upload_gets_the_declaration_wording(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    """Art. 6(2): no implicit label found, but the uploader declares it AI-generated: the
    platform labels it as possibly AI-generated, and writes Label "2" with its own fields."""
    post = upload(client, make_key(), photo(seed=12), declared_ai=True, jurisdictions=CN)
    assert post["verdict"] == "possible" and post["declared_ai"] is True
    assert post["label"] == resolve_policy("cn").platform_label("possible") == "可能为AI生成"
    label = read_label(services.media.get(post["digest"]), "image/png")
    assert label is not None and label.Label == "2"
    assert label.ContentPropagator == services.settings.producer_code and not label.ProduceID


def test_a_video_is_received_and_labelled(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    post = upload(client, make_key(), video(), name="clip.mp4", declared_ai=True)
    assert post["medium"] == "video" and post["media_type"] == "video/mp4"
    assert post["verdict"] == "possible" and post["label"]
    label = read_label(services.media.get(post["digest"]), "video/mp4")
    assert label is not None and label.PropagateID == post["content_id"]


def test_the_same_bytes_posted_twice_give_the_same_post_and_no_second_copy(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token, data = make_key(), photo(seed=13)
    first = upload(client, token, data)
    second = upload(client, make_key(), data, name="again.png")  # another user, same tenant
    assert second["id"] == first["id"] and second["duplicate"] is True
    assert second["upload_id"] != first["upload_id"]
    with services.db.session() as session:
        assert session.query(Post).count() == 1
        assert session.query(ContentRecord).filter_by(flow="receive").count() == 1
    elsewhere = upload(client, make_key(tenant="other"), data)  # per tenant
    assert elsewhere["id"] != first["id"] and elsewhere["duplicate"] is False


def test_a_path_traversal_filename_is_stored_as_a_plain_name(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token = make_key()
    created = start(client, token, photo(seed=14), name="../../etc/passwd")
    assert created["filename"] == "passwd"
    send(client, token, created["id"], [photo(seed=14)])
    assert complete(client, token, created["id"]).status_code == 200
    home = services.settings.home
    assert not (home.parent / "etc").exists() and not any(home.rglob("passwd"))
    with services.db.session() as session:
        assert session.get(Upload, created["id"]).filename == "passwd"  # type: ignore[union-attr]


def test_odd_filenames_are_made_fit_to_show() -> None:
    assert display_name("..\\..\\windows\\system32\\evil.exe") == "evil.exe"
    assert display_name("a\x00b\u202e\u200bgnp.exe") == "abgnp.exe"
    assert display_name("...") == display_name("") == display_name(None) == "upload"
    assert display_name("  spaced \t name .png ") == "spaced name .png"
    long = display_name("x" * 1000 + ".jpeg")
    assert len(long) <= 255 and long.endswith("….jpeg")
    assert len(display_name("y" * 1000)) == 255


def test_nul_and_control_characters_never_reach_the_database(
    client: TestClient, make_key: MakeKey
) -> None:
    token, data = make_key(), photo(seed=16)
    fields = {"caption": "line one\nline\x00 two\x1b[31m", "declared_type": "image/\x00png"}
    created = start(client, token, data, name="a\x00b.png", **fields)
    assert created["filename"] == "ab.png"
    assert created["caption"] == "line one\nline two[31m"
    assert created["declared_type"] == "image/png"
    send(client, token, created["id"], [data])
    assert complete(client, token, created["id"]).json()["caption"] == "line one\nline two[31m"


def test_a_png_declared_as_mp4_is_treated_as_a_png_and_the_lie_recorded(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    data = photo(seed=15)
    post = upload(client, make_key(), data, name="movie.mp4", declared_type="video/mp4")
    assert post["media_type"] == "image/png" and post["medium"] == "image"
    with services.db.session() as session:
        entry = services.ledger.entries(session)[-1]
    assert entry.kind == "platform.post"
    assert entry.payload["declared_type"] == "video/mp4"
    assert entry.payload["media_type"] == "image/png" and entry.payload["type_mismatch"] is True


def test_a_decompression_bomb_is_refused_cleanly(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    token, bomb = make_key(), bomb_png()
    assert len(bomb) < 200_000  # 900 million pixels, small on disk
    created = start(client, token, bomb, name="bomb.png")
    send(client, token, created["id"], split(bomb, 2))
    response = complete(client, token, created["id"])
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and "pixels" in error["message"]
    status = client.get(f"/v1/uploads/{created['id']}", headers=auth(token)).json()
    assert status["state"] == "failed"
    with services.db.session() as session:
        assert services.ledger.entries(session)[-1].kind == "upload.refused"


def test_an_image_just_over_the_pixel_limit_is_refused_before_decoding(
    client: TestClient, make_key: MakeKey
) -> None:
    # 9000 x 9000 = 81 M pixels: under Pillow's own error threshold, over hallmark's limit
    response = client.post(
        "/v1/uploads/file",
        files={"file": ("big.png", bomb_png(9000), "image/png")},
        headers=auth(make_key()),
    )
    assert response.status_code == 413 and "9000×9000" in response.json()["error"]["message"]


def test_a_blocked_caption_is_refused_before_any_byte_is_sent(
    client: TestClient, make_key: MakeKey, services: Services
) -> None:
    response = client.post(
        "/v1/uploads",
        json={"filename": "a.png", "size": 10, "caption": "selling child porn here"},
        headers=auth(make_key()),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "content_blocked"
    with services.db.session() as session:
        assert services.ledger.entries(session)[-1].kind == "upload.blocked"
        assert session.query(Upload).count() == 0


def test_a_blocked_file_fails_the_upload_with_the_refusal(
    client: TestClient, make_key: MakeKey
) -> None:
    token, text = make_key(), b"selling child porn here"
    created = start(client, token, text, name="note.txt")
    send(client, token, created["id"], [text])
    response = complete(client, token, created["id"])
    assert response.status_code == 422 and response.json()["error"]["code"] == "content_blocked"
    status = client.get(f"/v1/uploads/{created['id']}", headers=auth(token)).json()
    assert status["state"] == "failed" and status["error"]
