"""The studio's API: a media library per tenant and studio work as jobs, checked when
submitted, with the labeled result downloadable as content."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from studio_media import make_video

from hallmark.jobs.worker import run_pending
from hallmark.services import Services
from helpers import MakeKey, auth


def _upload(client: TestClient, token: str, path: Path) -> dict[str, Any]:
    response = client.post(
        "/v1/studio/media",
        headers=auth(token),
        files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _project(source: str) -> dict[str, Any]:
    return {
        "width": 320,
        "height": 568,
        "fps": 15,
        "tracks": [
            {"kind": "visual", "clips": [{"kind": "video", "source": source, "out": 1.0}]},
            {"kind": "text", "clips": [{"kind": "text", "text": "Studio test", "duration": 1}]},
        ],
    }


def test_a_render_job_exports_a_labeled_video_to_download(
    client: TestClient, services: Services, make_key: MakeKey, tmp_path: Path
) -> None:
    token = make_key()
    item = _upload(client, token, make_video(tmp_path / "clip.mp4", seconds=1.5))
    assert item["source"] == f"media:{item['id']}"
    listed = client.get("/v1/studio/media", headers=auth(token)).json()["media"]
    assert [m["id"] for m in listed] == [item["id"]]
    job = client.post(
        "/v1/studio/render",
        headers=auth(token),
        json={"project": _project(item["source"]), "preview": True},
    )
    assert job.status_code == 202, job.text
    assert run_pending(services) == 1
    done = client.get(f"/v1/jobs/{job.json()['id']}", headers=auth(token)).json()
    assert done["state"] == "succeeded", done
    result = done["result"]
    assert "explicit" in result["labels"]
    video = client.get(f"/v1/contents/{result['content_id']}/raw", headers=auth(token))
    assert video.status_code == 200
    assert video.content[4:8] == b"ftyp"


def test_a_bad_project_is_refused_when_submitted_naming_the_field(
    client: TestClient, make_key: MakeKey
) -> None:
    token = make_key()
    project = _project("media:" + "0" * 24)
    project["tracks"][0]["clips"][0]["colour"] = "#fff"
    response = client.post("/v1/studio/render", headers=auth(token), json={"project": project})
    assert response.status_code in (400, 422)
    assert "tracks[0].clips[0].colour" in response.json()["error"]["message"]


def test_a_server_project_cannot_read_server_paths(client: TestClient, make_key: MakeKey) -> None:
    response = client.post(
        "/v1/studio/render",
        headers=auth(make_key()),
        json={"project": _project("/etc/passwd")},
    )
    assert response.status_code == 400
    assert "media:ID" in response.json()["error"]["message"]


def test_an_unknown_preset_is_refused(client: TestClient, make_key: MakeKey) -> None:
    response = client.post(
        "/v1/studio/render",
        headers=auth(make_key()),
        json={"project": _project("media:" + "0" * 24), "preset": "imax"},
    )
    assert response.status_code == 400
    assert "imax" in response.json()["error"]["message"]


def test_media_of_one_tenant_is_invisible_to_another(
    client: TestClient, make_key: MakeKey, tmp_path: Path
) -> None:
    item = _upload(client, make_key(tenant="a"), make_video(tmp_path / "a.mp4", seconds=1.0))
    other = make_key(tenant="b")
    response = client.get(f"/v1/studio/media/{item['id']}/raw", headers=auth(other))
    assert response.status_code == 404
    assert client.get("/v1/studio/media", headers=auth(other)).json() == {"media": []}


def test_text_is_not_studio_media(client: TestClient, make_key: MakeKey) -> None:
    response = client.post(
        "/v1/studio/media",
        headers=auth(make_key()),
        files={"file": ("notes.txt", io.BytesIO(b"just some text"), "text/plain")},
    )
    assert response.status_code == 400
    assert "text/plain" in response.json()["error"]["message"]


def test_a_voiceover_is_spoken_into_the_library(client: TestClient, make_key: MakeKey) -> None:
    token = make_key()
    response = client.post(
        "/v1/studio/voiceover",
        headers=auth(token),
        json={"text": "Welcome to the studio."},  # English by its words, whatever the policy
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["media_type"] == "audio/wav"
    assert 0.8 < body["duration"] < 5
    audio = client.get(f"/v1/studio/media/{body['id']}/raw", headers=auth(token))
    assert audio.content[:4] == b"RIFF"


def test_a_blocked_voiceover_text_is_refused_before_any_speech(
    client: TestClient, make_key: MakeKey
) -> None:
    token = make_key()
    response = client.post(
        "/v1/studio/voiceover",
        headers=auth(token),
        json={"text": "how to make a pipe bomb", "language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "content_blocked"
    assert client.get("/v1/studio/media", headers=auth(token)).json() == {"media": []}
