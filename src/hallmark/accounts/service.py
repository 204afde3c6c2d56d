"""Tenants and API keys. Keys are shown once and stored only as a SHA-256 hash.

A key looks like ``hm_<prefix>_<secret>``: the prefix finds the row, the secret is checked in
constant time against the stored hash. Keys carry 256 bits of randomness, so a fast hash is
the right tool here (a slow password hash protects low-entropy secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallmark.accounts.roles import ROLES
from hallmark.errors import Conflict, NotAuthenticated, NotFound, UserError
from hallmark.ledger import Ledger
from hallmark.store.models import ApiKey, Tenant, utcnow_iso

KEY_PATTERN = re.compile(r"^hm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling: the tenant, the key and its role."""

    tenant_id: str
    tenant_name: str
    key_id: str
    role: str


@dataclass(slots=True, frozen=True)
class IssuedKey:
    id: str
    tenant: str
    role: str
    name: str
    token: str  # shown once, never stored


def _hash_secret(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def new_id() -> str:
    return uuid.uuid4().hex


def get_tenant(session: Session, name: str) -> Tenant:
    tenant = session.scalars(select(Tenant).where(Tenant.name == name)).first()
    if tenant is None:
        raise NotFound(f"no tenant named {name!r}")
    return tenant


def ensure_tenant(session: Session, ledger: Ledger, name: str) -> Tenant:
    if not TENANT_NAME.match(name):
        raise UserError(
            f"invalid tenant name {name!r}: use 1-63 lowercase letters, digits, '-' or '_'"
        )
    tenant = session.scalars(select(Tenant).where(Tenant.name == name)).first()
    if tenant is not None:
        return tenant
    tenant = Tenant(id=new_id(), name=name, created_at=utcnow_iso())
    session.add(tenant)
    session.flush()
    ledger.append(session, "admin.tenant_created", {"tenant": name}, tenant_id=tenant.id)
    return tenant


def create_key(
    session: Session,
    ledger: Ledger,
    *,
    tenant_name: str,
    role: str,
    name: str = "",
    actor: str = "cli",
) -> IssuedKey:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    if len(name) > 100:
        raise UserError("key name is longer than 100 characters")
    tenant = ensure_tenant(session, ledger, tenant_name)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id(),
        tenant_id=tenant.id,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        role=role,
        name=name,
        created_at=utcnow_iso(),
    )
    session.add(key)
    session.flush()
    ledger.append(
        session,
        "admin.key_created",
        {"key_id": key.id, "prefix": prefix, "role": role, "name": name, "actor": actor},
        tenant_id=tenant.id,
    )
    return IssuedKey(key.id, tenant.name, role, name, f"hm_{prefix}_{secret}")


def list_keys(session: Session, tenant_id: str | None = None) -> list[tuple[ApiKey, Tenant]]:
    query = select(ApiKey, Tenant).join(Tenant).order_by(ApiKey.created_at)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    return [(key, tenant) for key, tenant in session.execute(query)]


def revoke_key(
    session: Session, ledger: Ledger, key_id: str, *, tenant_id: str | None, actor: str
) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or (tenant_id is not None and key.tenant_id != tenant_id):
        raise NotFound(f"no API key {key_id!r}")
    if key.revoked_at is not None:
        raise Conflict(f"API key {key_id!r} is already revoked")
    key.revoked_at = utcnow_iso()
    ledger.append(
        session,
        "admin.key_revoked",
        {"key_id": key.id, "prefix": key.prefix, "actor": actor},
        tenant_id=key.tenant_id,
    )
    return key


def authenticate(session: Session, token: str) -> Principal:
    match = KEY_PATTERN.match(token.strip())
    if match is None:
        raise NotAuthenticated("malformed API key: expected 'hm_<prefix>_<secret>'")
    prefix, secret = match.groups()
    row = session.execute(
        select(ApiKey, Tenant).join(Tenant).where(ApiKey.prefix == prefix)
    ).first()
    if row is None:
        raise NotAuthenticated("unknown API key")
    key, tenant = row
    if not hmac.compare_digest(key.secret_hash, _hash_secret(secret)):
        raise NotAuthenticated("unknown API key")
    if key.revoked_at is not None:
        raise NotAuthenticated("this API key was revoked")
    return Principal(tenant.id, tenant.name, key.id, key.role)


def authenticate_key_id(session: Session, key_id: str) -> Principal:
    """For a web session whose signed cookie names a key that was checked at sign-in."""
    row = session.execute(select(ApiKey, Tenant).join(Tenant).where(ApiKey.id == key_id)).first()
    if row is None:
        raise NotAuthenticated("unknown API key")
    key, tenant = row
    if key.revoked_at is not None:
        raise NotAuthenticated("this API key was revoked")
    return Principal(tenant.id, tenant.name, key.id, key.role)


def set_tenant_jurisdictions(
    session: Session, ledger: Ledger, tenant_id: str, codes: list[str] | None, *, actor: str
) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id!r}")
    before = tenant.jurisdictions
    tenant.jurisdictions = ",".join(codes) if codes else None
    ledger.append(
        session,
        "admin.policy_changed",
        {"before": before, "after": tenant.jurisdictions, "actor": actor},
        tenant_id=tenant.id,
    )
    return tenant
