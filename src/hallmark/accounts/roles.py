"""Roles and what each may do. A dict, so a new role is one line."""

from __future__ import annotations

from typing import Literal

Role = Literal["creator", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("creator", "reviewer", "admin")

PERMISSIONS: dict[str, frozenset[str]] = {
    "creator": frozenset(
        {
            "content:create",
            "content:receive",
            "content:read",
            "jobs:use",
            "policy:read",
            "chat:use",
            "reports:file",
        }
    ),
    "reviewer": frozenset(
        {"content:read", "jobs:use", "policy:read", "ledger:read", "reports:file", "reports:review"}
    ),
    "admin": frozenset(
        {
            "content:create",
            "content:receive",
            "content:read",
            "jobs:use",
            "policy:read",
            "policy:write",
            "ledger:read",
            "keys:manage",
            "chat:use",
            "reports:file",
            "reports:review",
        }
    ),
}


def allows(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())
