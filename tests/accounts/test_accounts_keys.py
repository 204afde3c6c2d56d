"""API keys: hashed at rest, shown once, revocable, and roles limit what a key may do."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hallmark.accounts.service import authenticate, create_key, revoke_key
from hallmark.errors import NotAuthenticated, UserError
from hallmark.services import Services
from hallmark.store.models import ApiKey
from helpers import MakeKey, auth


def test_key_is_stored_only_as_a_hash(services: Services) -> None:
    with services.db.session() as session:
        issued = create_key(session, services.ledger, tenant_name="acme", role="creator")
    with services.db.session() as session:
        stored = session.scalars(select(ApiKey)).one()
    secret = issued.token.rsplit("_", 1)[1]
    assert secret not in stored.secret_hash and stored.secret_hash.startswith("sha256:")
    with services.db.session() as session:
        principal = authenticate(session, issued.token)
    assert principal.role == "creator" and principal.tenant_name == "acme"


def test_wrong_secret_and_revoked_keys_are_refused(services: Services) -> None:
    with services.db.session() as session:
        issued = create_key(session, services.ledger, tenant_name="acme", role="admin")
    forged = issued.token[:-4] + ("AAAA" if not issued.token.endswith("AAAA") else "BBBB")
    with services.db.session() as session, pytest.raises(NotAuthenticated):
        authenticate(session, forged)
    with services.db.session() as session:
        revoke_key(session, services.ledger, issued.id, tenant_id=None, actor="test")
    with services.db.session() as session, pytest.raises(NotAuthenticated, match="revoked"):
        authenticate(session, issued.token)


def test_unknown_role_and_bad_tenant_name_are_user_errors(services: Services) -> None:
    with services.db.session() as session, pytest.raises(UserError, match="unknown role"):
        create_key(session, services.ledger, tenant_name="acme", role="root")
    with services.db.session() as session, pytest.raises(UserError, match="invalid tenant"):
        create_key(session, services.ledger, tenant_name="Bad Name!", role="admin")


def test_key_creation_and_revocation_are_ledger_entries(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    admin = make_key("admin")
    made = client.post(
        "/v1/keys", json={"role": "reviewer", "name": "auditor"}, headers=auth(admin)
    )
    assert made.status_code == 201
    assert client.delete(f"/v1/keys/{made.json()['id']}", headers=auth(admin)).status_code == 200
    with services.db.session() as session:
        kinds = [entry.kind for entry in services.ledger.entries(session)]
    assert kinds.count("admin.key_created") == 2 and "admin.key_revoked" in kinds


def test_roles_limit_routes(client: TestClient, make_key: MakeKey) -> None:
    creator, reviewer = make_key("creator"), make_key("reviewer")
    assert client.get("/v1/ledger", headers=auth(creator)).status_code == 403
    assert client.get("/v1/ledger", headers=auth(reviewer)).status_code == 200
    assert client.post("/v1/keys", json={"role": "admin"}, headers=auth(creator)).status_code == 403
    denied = client.post(
        "/v1/create", json={"prompt": "hi", "engine": "echo"}, headers=auth(reviewer)
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"


def test_policy_change_is_a_ledger_entry_and_applies(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    admin = make_key("admin")
    changed = client.put("/v1/policy", json={"jurisdictions": ["us-ca"]}, headers=auth(admin))
    assert changed.status_code == 200
    assert client.get("/v1/policy", headers=auth(admin)).json()["jurisdictions"] == ["us-ca"]
    with services.db.session() as session:
        entry = services.ledger.entries(session, kind_prefix="admin.policy_changed")[0]
    assert entry.payload["after"] == "us-ca"
