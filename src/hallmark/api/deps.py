"""Request dependencies: the services, the caller's identity, and permission checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from hallmark.accounts.roles import allows
from hallmark.accounts.service import Principal, authenticate, authenticate_key_id
from hallmark.errors import Forbidden, NotAuthenticated
from hallmark.services import Services

SESSION_KEY = "key_id"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(request: Request, services: ServicesDep) -> Principal:
    """A Bearer API key, or the web UI's signed session cookie naming a key."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("expected 'Authorization: Bearer <API key>'")
        with services.db.session() as session:
            return authenticate(session, value.strip())
    key_id = request.session.get(SESSION_KEY) if "session" in request.scope else None
    if not isinstance(key_id, str):
        raise NotAuthenticated("an API key is required: send 'Authorization: Bearer <API key>'")
    with services.db.session() as session:
        return authenticate_key_id(session, key_id)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(permission: str) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if not allows(principal.role, permission):
            raise Forbidden(f"the {principal.role} role may not do this (needs {permission})")
        return principal

    return check


def Allowed(permission: str) -> object:
    return Depends(require(permission))
