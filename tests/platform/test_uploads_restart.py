"""An upload survives the server being killed mid-way: the real `hallmark serve`, twice."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from upload_support import photo, put, send, split

from helpers import auth, run_cli
from server import running_server

pytestmark = pytest.mark.slow


def test_a_killed_server_resumes_the_upload_and_posts_identical_bytes(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**cli_env, "HALLMARK_WORKER_THREADS": "0"}
    issued = run_cli(["keys", "create", "--role", "creator", "--tenant", "acme"], env)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    data = photo(seed=31, size=(640, 480))
    first, second, third = split(data, 3)

    with running_server(env, tmp_path / "first.log") as (base, process):
        with httpx.Client(base_url=base, timeout=60) as client:
            body = {"filename": "trip.png", "size": len(data), "sha256": _hex(data)}
            created = client.post("/v1/uploads", json=body, headers=auth(token))
            assert created.status_code == 201, created.text
            upload_id = created.json()["id"]
            assert send(client, token, upload_id, [first]) == len(first)
        process.kill()  # no shutdown: as if the machine lost power after the first chunk
        process.wait()

    with (
        running_server(env, tmp_path / "second.log") as (base, _process),
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        status = client.get(f"/v1/uploads/{upload_id}", headers=auth(token)).json()
        assert status["state"] == "open" and status["offset"] == len(first)
        stale = put(client, token, upload_id, 0, first)  # a client that lost its place
        assert stale.status_code == 409
        assert stale.json()["error"]["details"]["offset"] == len(first)
        offset = stale.json()["error"]["details"]["offset"]
        assert send(client, token, upload_id, [second, third], offset=offset) == len(data)
        completed = client.post(f"/v1/uploads/{upload_id}/complete", headers=auth(token))
        assert completed.status_code == 200, completed.text
        post = completed.json()
        assert post["original_digest"] == f"sha256:{_hex(data)}"
        feed = client.get("/v1/feed", headers=auth(token)).json()["posts"]
        assert [item["id"] for item in feed] == [post["id"]]
        media = client.get(post["media_url"], headers=auth(token))
        assert media.status_code == 200 and _hex(media.content) == post["digest"][7:]

    original = Path(env["HALLMARK_HOME"]) / "media" / "sha256" / _hex(data)[:2] / _hex(data)[2:]
    assert original.read_bytes() == data


def _hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
