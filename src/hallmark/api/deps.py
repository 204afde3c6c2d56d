"""Request dependencies: the services, the caller's identity, and permission checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from hallmark.accounts.roles import allows
from hallmark.accounts.service import Principal, authenticate
from hallmark.errors import Forbidden, NotAuthenticated
from hallmark.services import Services

SESSION_KEY = "api_key"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("expected 'Authorization: Bearer <API key>'")
        return value.strip()
    if "session" in request.scope:
        token = request.session.get(SESSION_KEY)
        return token if isinstance(token, str) else None
    return None


def get_principal(request: Request, services: ServicesDep) -> Principal:
    token = _token(request)
    if token is None:
        raise NotAuthenticated("an API key is required: send 'Authorization: Bearer <API key>'")
    with services.db.session() as session:
        return authenticate(session, token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(permission: str) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if not allows(principal.role, permission):
            raise Forbidden(f"the {principal.role} role may not do this (needs {permission})")
        return principal

    return check


def Allowed(permission: str) -> object:
    return Depends(require(permission))
