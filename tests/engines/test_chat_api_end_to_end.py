"""The chat API end to end: the official ``openai`` client against hallmark, whose engine is
the real bundled model, in process or behind llama.cpp's own server; and the failures a user
meets: a context that does not fit, an upstream that is down, a client that leaves."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from hallmark.api.app import create_app
from hallmark.services import Services, build_services
from hallmark.settings import Settings
from helpers import MakeKey, auth, run_cli
from server import free_port, running_server

GREEDY = {"temperature": 0, "seed": 1, "max_tokens": 12}


@pytest.fixture
def upstream_services(settings: Settings, llama_server: str) -> Iterator[Services]:
    built = build_services(
        settings.model_copy(update={"openai_base_url": llama_server, "openai_model": "gemma"})
    )
    yield built
    built.close()


def openai_client(services: Services, token: str) -> tuple[TestClient, openai.OpenAI]:
    client = TestClient(create_app(services.settings, services))
    return client, openai.OpenAI(
        base_url=f"{client.base_url}/v1", api_key=token, http_client=client, max_retries=0
    )


def test_a_reply_through_an_openai_compatible_upstream_is_labelled_and_logged(
    upstream_services: Services, chat_model: Path
) -> None:
    from hallmark.accounts.service import create_key

    with upstream_services.db.session() as session:
        token = create_key(
            session, upstream_services.ledger, tenant_name="acme", role="creator", name="t"
        ).token
    client, ai = openai_client(upstream_services, token)
    with client:
        assert {m.id for m in ai.models.list()} >= {"llama.cpp", "openai-compatible"}
        messages = [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Say hello."},
        ]
        reply = ai.chat.completions.create(
            model="openai-compatible",
            messages=messages,  # type: ignore[arg-type]
            extra_body={"jurisdictions": ["cn"]},
            **GREEDY,  # type: ignore[arg-type]
        )
        stream = ai.chat.completions.create(
            model="openai-compatible",
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            extra_body={"jurisdictions": ["cn"]},
            **GREEDY,  # type: ignore[arg-type]
        )
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    text = reply.choices[0].message.content or ""
    assert text.startswith("[AI-generated] ") and len(text) > len("[AI-generated] ")
    assert streamed == text  # the same greedy reply, streamed through the same labels
    record = (reply.model_extra or {})["hallmark"]
    assert record["labels"] == ["explicit"] and record["ledger_seq"] > 0


def test_a_conversation_longer_than_the_context_is_openais_400(
    client: TestClient, make_key: MakeKey, chat_model: Path
) -> None:
    ai = openai.OpenAI(
        base_url=f"{client.base_url}/v1", api_key=make_key(), http_client=client, max_retries=0
    )
    with pytest.raises(openai.BadRequestError) as raised:
        ai.chat.completions.create(
            model="llama.cpp",
            messages=[{"role": "user", "content": "lighthouse " * 6000}],
            max_tokens=8,
        )
    assert raised.value.code == "context_length_exceeded"


@pytest.mark.parametrize("stream", [False, True])
def test_an_upstream_that_is_down_is_a_502_before_any_stream(
    settings: Settings, stream: bool
) -> None:
    from hallmark.accounts.service import create_key

    services = build_services(
        settings.model_copy(
            update={
                "openai_base_url": f"http://127.0.0.1:{free_port()}/v1",
                "openai_model": "any",
                "openai_retries": 1,
            }
        )
    )
    try:
        with services.db.session() as session:
            token = create_key(
                session, services.ledger, tenant_name="acme", role="creator", name="t"
            ).token
        with TestClient(create_app(services.settings, services)) as client:
            response = client.post(
                "/v1/chat/completions",
                json={
                    "model": "openai-compatible",
                    "messages": [{"role": "user", "content": "hi"}],
                    "stream": stream,
                },
                headers=auth(token),
            )
        assert response.status_code == 502, response.text
        error = response.json()["error"]
        assert error["code"] == "upstream_error" and "unreachable" in error["message"]
        with services.db.session() as session:
            kinds = [entry.kind for entry in services.ledger.entries(session)]
        assert kinds[-1] == "chat.failed"
    finally:
        services.close()


@pytest.mark.slow
def test_a_client_that_leaves_mid_stream_stops_the_reply_and_the_store_stays_whole(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    with running_server(cli_env, tmp_path / "server.log") as (base, _process):
        issued = run_cli(["keys", "create", "--role", "creator", "--tenant", "acme"], cli_env)
        token = issued.stdout.strip()
        body = {
            "model": "echo-chat",
            "messages": [{"role": "user", "content": "slow 400"}],
            "stream": True,
            "store": True,
            "jurisdictions": ["us-ca"],
        }
        conversation = None
        with (
            httpx.Client(base_url=base, timeout=30) as http,
            http.stream("POST", "/v1/chat/completions", json=body, headers=auth(token)) as response,
        ):
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: {"):
                    data = json.loads(line.removeprefix("data: "))
                    conversation = conversation or data.get("hallmark", {}).get("conversation_id")
                    if "word5" in json.dumps(data):
                        break  # leave: the response is closed here, mid-stream
        assert conversation

        with httpx.Client(base_url=base, timeout=30) as http:
            # The server noticed, stopped the engine and logged it, and the conversation holds
            # the message and the part of the reply that was shown, marked as cut short.
            for _ in range(100):
                stored = http.get(f"/v1/conversations/{conversation}", headers=auth(token))
                if stored.status_code == 200 and len(stored.json()["messages"]) == 2:
                    break
                time.sleep(0.1)
            messages = stored.json()["messages"]
            assert [m["role"] for m in messages] == ["user", "assistant"]
            assert messages[1]["hallmark"]["interrupted"] is True
            assert "word399" not in messages[1]["content"]

            follow = http.post(
                "/v1/chat/completions",
                json={**body, "messages": [{"role": "user", "content": "again"}], "store": False}
                | {"conversation_id": conversation, "stream": False},
                headers=auth(token),
            )
            assert follow.status_code == 200, follow.text
    exported = run_cli(["ledger", "export", "-o", str(tmp_path / "audit.jsonl")], cli_env)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    kinds = [line["kind"] for line in lines if line.get("type") == "entry"]
    assert "chat.interrupted" in kinds and kinds[-1] == "chat"
