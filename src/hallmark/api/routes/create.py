from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.flows.create import MAX_PROMPT_CHARS, CreateRequest, run_create

router = APIRouter(prefix="/v1/create", tags=["create"])


class CreateBody(BaseModel):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    engine: str = Field(min_length=1, max_length=100)
    medium: Literal["text", "document", "image", "audio", "video"] = "text"
    jurisdictions: list[str] | None = None
    language: str | None = None
    minor: bool = False
    options: dict[str, Any] = Field(default_factory=dict)


@router.post("")
def create(
    body: CreateBody,
    services: ServicesDep,
    principal: Annotated[Principal, Allowed("content:create")],
) -> dict[str, Any]:
    """Run the create flow: policy, screening, the engine, labels, and a ledger entry."""
    outcome = run_create(
        services,
        principal.tenant_id,
        CreateRequest(
            prompt=body.prompt,
            engine=body.engine,
            medium=body.medium,
            jurisdictions=tuple(body.jurisdictions) if body.jurisdictions else None,
            language=body.language,
            minor=body.minor,
            options=body.options,
        ),
    )
    return outcome.to_dict()
