"""/v1/conversations through the real app: a user's own conversations, and nobody else's."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hallmark.accounts.service import authenticate, ensure_tenant
from hallmark.api.app import create_app
from hallmark.assistant.conversations import (
    NewMessage,
    append_messages,
    create_conversation,
    list_conversations,
)
from hallmark.services import Services
from hallmark.store.models import LedgerEntry
from helpers import MakeKey, auth


def _append(services: Services, token: str, conversation_id: str, user: str | None = None) -> None:
    """What the chat flow does after a turn, as the key's principal."""
    with services.db.session() as session:
        principal = authenticate(session, token)
        append_messages(
            session,
            principal.tenant_id,
            user or principal.key_id,
            conversation_id,
            [NewMessage("user", "Is this AI-generated?"), NewMessage("assistant", "Yes.")],
        )


def test_a_user_starts_lists_exports_and_deletes_a_conversation(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    key = make_key("creator")
    started = client.post(
        "/v1/conversations",
        json={"model": "echo", "minor": True, "jurisdictions": ["CN", "eu"]},
        headers=auth(key),
    )
    assert started.status_code == 201, started.text
    summary = started.json()
    assert summary["jurisdictions"] == ["cn", "eu"] and summary["minor"] is True
    assert summary["message_count"] == 0 and summary["title"] == ""
    _append(services, key, summary["id"])

    listed = client.get("/v1/conversations", headers=auth(key))
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["conversations"]
    assert item["id"] == summary["id"] and item["message_count"] == 2
    assert item["title"] == "Is this AI-generated?"

    exported = client.get(f"/v1/conversations/{summary['id']}", headers=auth(key)).json()
    assert exported["user"] == summary["user"]  # the key's id, as no user was named
    assert [(m["seq"], m["role"], m["content"]) for m in exported["messages"]] == [
        (1, "user", "Is this AI-generated?"),
        (2, "assistant", "Yes."),
    ]

    deleted = client.delete(f"/v1/conversations/{summary['id']}", headers=auth(key))
    assert deleted.status_code == 204 and deleted.content == b""
    gone = client.get(f"/v1/conversations/{summary['id']}", headers=auth(key))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert client.get("/v1/conversations", headers=auth(key)).json() == {"conversations": []}


def test_the_openai_user_field_names_whose_conversation_it_is(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    key = make_key("creator")
    body = {"title": "homework", "user": "student-7"}
    started = client.post("/v1/conversations", json=body, headers=auth(key)).json()
    _append(services, key, started["id"], user="student-7")
    path = f"/v1/conversations/{started['id']}"

    assert client.get(path, headers=auth(key)).status_code == 404  # not the key's own
    mine = client.get(path, params={"user": "student-7"}, headers=auth(key))
    assert mine.status_code == 200 and mine.json()["title"] == "homework"
    listed = client.get("/v1/conversations", params={"user": "student-7"}, headers=auth(key))
    assert [c["id"] for c in listed.json()["conversations"]] == [started["id"]]
    assert client.get("/v1/conversations", headers=auth(key)).json()["conversations"] == []
    wrong = client.delete(path, params={"user": "student-8"}, headers=auth(key))
    assert wrong.status_code == 404
    assert client.delete(path, params={"user": "student-7"}, headers=auth(key)).status_code == 204


def test_another_tenants_or_keys_conversation_is_not_found(
    client: TestClient, make_key: MakeKey
) -> None:
    owner, colleague, stranger = make_key(), make_key(), make_key(tenant="other")
    started = client.post("/v1/conversations", json={}, headers=auth(owner)).json()
    path = f"/v1/conversations/{started['id']}"
    for key in (colleague, stranger):
        for method in ("GET", "DELETE"):
            response = client.request(method, path, headers=auth(key))
            assert response.status_code == 404, (method, response.text)
            assert response.json()["error"] == {
                "code": "not_found",
                "message": f"no conversation {started['id']!r}",
            }
        listed = client.get("/v1/conversations", headers=auth(key)).json()
        assert listed == {"conversations": []}
    # Naming the owner's user does not cross tenants either.
    crossed = client.get(path, params={"user": started["user"]}, headers=auth(stranger))
    assert crossed.status_code == 404
    assert client.get(path, headers=auth(owner)).status_code == 200


def test_listing_pages_with_before(client: TestClient, make_key: MakeKey) -> None:
    key = make_key()
    ids = [
        client.post("/v1/conversations", json={"title": str(n)}, headers=auth(key)).json()["id"]
        for n in range(3)
    ]
    first = client.get("/v1/conversations", params={"limit": 2}, headers=auth(key)).json()
    assert [c["id"] for c in first["conversations"]] == [ids[2], ids[1]]
    rest = client.get(
        "/v1/conversations", params={"limit": 2, "before": ids[1]}, headers=auth(key)
    ).json()
    assert [c["id"] for c in rest["conversations"]] == [ids[0]]


def test_a_reviewer_may_not_use_the_assistant(client: TestClient, make_key: MakeKey) -> None:
    response = client.get("/v1/conversations", headers=auth(make_key("reviewer")))
    assert response.status_code == 403
    assert "chat:use" in response.json()["error"]["message"]
    assert client.get("/v1/conversations").status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/v1/conversations", {"params": {"limit": 0}}, 422, "validation_error"),
        ("GET", "/v1/conversations", {"params": {"limit": 201}}, 422, "validation_error"),
        ("GET", "/v1/conversations", {"params": {"user": "u" * 101}}, 422, "validation_error"),
        ("GET", "/v1/conversations", {"params": {"before": "nope"}}, 404, "not_found"),
        ("POST", "/v1/conversations", {"json": {"title": "t" * 201}}, 422, "validation_error"),
        ("POST", "/v1/conversations", {"json": {"user": ""}}, 422, "validation_error"),
        (
            "POST",
            "/v1/conversations",
            {"json": {"jurisdictions": ["mars"]}},
            400,
            "unknown_jurisdiction",
        ),
        ("GET", "/v1/conversations/nope", {}, 404, "not_found"),
        ("DELETE", "/v1/conversations/nope", {}, 404, "not_found"),
    ],
)
def test_bad_input_is_a_json_error(
    client: TestClient,
    make_key: MakeKey,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = client.request(method, path, headers=auth(make_key()), **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_the_server_prunes_conversations_past_retention_as_it_starts(services: Services) -> None:
    days = services.settings.conversation_retention_days
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, "acme").id
        old = create_conversation(
            session, tenant_id, "someone", clock=lambda: "2000-01-01T00:00:00.000000Z"
        )
        kept = create_conversation(session, tenant_id, "someone")
    with TestClient(create_app(services.settings, services)):
        pass
    with services.db.session() as session:
        left = [c.id for c in list_conversations(session, tenant_id, None)]
        recorded = session.scalars(
            select(LedgerEntry.payload).where(LedgerEntry.kind == "assistant.conversations_pruned")
        ).all()
    assert old.id not in left and left == [kept.id]
    assert len(recorded) == 1 and f'"older_than_days":{days}' in recorded[0]
