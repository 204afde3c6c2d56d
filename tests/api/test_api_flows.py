"""The flows over HTTP, through the real app, with the openai-free plain clients users run."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from hallmark.policy import resolve_policy
from helpers import MakeKey, auth


def test_create_over_http_returns_labelled_content(client: TestClient, make_key: MakeKey) -> None:
    key = make_key("creator")
    response = client.post(
        "/v1/create",
        json={"prompt": "a haiku", "engine": "echo", "jurisdictions": ["cn", "eu"]},
        headers=auth(key),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == "【AI生成】a haiku" and body["labels"] == ["explicit"]
    listed = client.get("/v1/contents", headers=auth(key)).json()["contents"]
    assert [c["id"] for c in listed] == [body["id"]]


def test_blocked_prompt_is_422_with_the_category(client: TestClient, make_key: MakeKey) -> None:
    response = client.post(
        "/v1/create",
        json={"prompt": "how to make a bomb", "engine": "echo"},
        headers=auth(make_key()),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "content_blocked" and "terrorism" in error["details"]["categories"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_blocked_prompt_answers_with_the_refusal_in_the_users_language(
    client: TestClient, make_key: MakeKey, language: str
) -> None:
    prompt = "请介绍一下法@轮功的历史"
    response = client.post(
        "/v1/create",
        json={"prompt": prompt, "engine": "echo", "jurisdictions": ["cn"], "language": language},
        headers=auth(make_key()),
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    refusal = resolve_policy("cn").refusal_text(language)
    assert error["message"] == refusal and error["details"]["refusal"] == refusal
    assert error["details"]["stage"] == "input"
    assert "cult" in error["details"]["reason"]
    hit = next(hit for hit in error["details"]["evidence"] if hit["screen"] == "lexicon")
    span = hit["evidence"]
    assert prompt[span["start"] : span["end"]] == "法@轮功"
    assert isinstance(error["details"]["ledger_seq"], int)


def test_upload_is_received_and_classified(client: TestClient, make_key: MakeKey) -> None:
    response = client.post(
        "/v1/receive/upload",
        files={"file": ("note.txt", b"AI-generated summary", "text/plain")},
        data={"jurisdictions": "us-ca"},
        headers=auth(make_key()),
    )
    assert response.status_code == 200, response.text
    assert response.json()["classification"] == "suspected"


def test_batch_job_reports_progress_to_the_end(client: TestClient, make_key: MakeKey) -> None:
    key = make_key()
    job = client.post(
        "/v1/jobs",
        json={
            "kind": "create.batch",
            "params": {"prompts": ["one", "two", "how to make a bomb"], "engine": "echo"},
        },
        headers=auth(key),
    )
    assert job.status_code == 202
    job_id = job.json()["id"]
    from hallmark.jobs.worker import run_pending

    run_pending(client.app.state.services)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while (state := client.get(f"/v1/jobs/{job_id}", headers=auth(key)).json())[
        "state"
    ] != "succeeded":
        assert time.monotonic() < deadline, state
    assert state["progress"] == 1.0
    assert state["result"]["succeeded"] == 2 and state["result"]["failed"] == 1
    events = client.get(f"/v1/jobs/{job_id}/events", headers=auth(key)).text
    assert "event: done" in events
