"""The assistant's stored conversations: list, start, export and delete (art. 11 on request).

A conversation belongs to one user of the caller's tenant: the ``user`` the client names (the
OpenAI ``user`` field of its chat requests), else the API key's id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.assistant import conversations as service
from hallmark.policy import resolve_policy

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
Chatter = Annotated[Principal, Allowed("chat:use")]
UserQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=service.MAX_USER_ID_CHARS,
        description="The end user (OpenAI's `user`); default: the API key's id.",
    ),
]


class ConversationCreate(BaseModel):
    title: str = Field(default="", max_length=service.MAX_TITLE_CHARS)
    model: str = Field(default="", max_length=service.MAX_MODEL_CHARS)
    minor: bool = False
    jurisdictions: list[str] = Field(default_factory=list)
    user: str | None = Field(default=None, min_length=1, max_length=service.MAX_USER_ID_CHARS)


def _user(principal: Principal, user: str | None) -> str:
    return user or principal.key_id


@router.get("")
def index(
    services: ServicesDep,
    principal: Chatter,
    user: UserQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        str | None, Query(description="Id of the last conversation of the previous page.")
    ] = None,
) -> dict[str, Any]:
    with services.db.session() as session:
        found = service.list_conversations(
            session, principal.tenant_id, _user(principal, user), limit=limit, before=before
        )
    return {"conversations": [summary.to_dict() for summary in found]}


@router.post("", status_code=201)
def start(body: ConversationCreate, services: ServicesDep, principal: Chatter) -> dict[str, Any]:
    codes: tuple[str, ...] = ()
    if body.jurisdictions:  # unknown codes are refused here, not when the chat starts
        codes = resolve_policy(body.jurisdictions, services.settings.policy_dir).jurisdictions
    with services.db.session() as session:
        summary = service.create_conversation(
            session,
            principal.tenant_id,
            _user(principal, body.user),
            title=body.title,
            model=body.model,
            minor=body.minor,
            jurisdictions=codes,
        )
    return summary.to_dict()


@router.get("/{conversation_id}")
def export(
    conversation_id: str, services: ServicesDep, principal: Chatter, user: UserQuery = None
) -> dict[str, Any]:
    with services.db.session() as session:
        found = service.get_conversation(
            session, principal.tenant_id, _user(principal, user), conversation_id
        )
    return found.to_dict()


@router.delete("/{conversation_id}", status_code=204)
def remove(
    conversation_id: str, services: ServicesDep, principal: Chatter, user: UserQuery = None
) -> Response:
    with services.db.session() as session:
        service.delete_conversation(
            session, principal.tenant_id, _user(principal, user), conversation_id
        )
    return Response(status_code=204)
