from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hallmark.accounts.service import Principal, set_tenant_jurisdictions
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.flows.common import policy_for
from hallmark.policy import parse_codes, policy_as_dict, resolve_policy

router = APIRouter(prefix="/v1/policy", tags=["policy"])


class PolicyUpdate(BaseModel):
    jurisdictions: list[str] | None = Field(
        description="The tenant's default jurisdictions; null returns to the deployment default."
    )


@router.get("")
def show_policy(
    services: ServicesDep,
    principal: Annotated[Principal, Allowed("policy:read")],
    jurisdictions: Annotated[
        str | None, Query(description="Comma-separated codes; default: the tenant's policy.")
    ] = None,
) -> dict[str, Any]:
    if jurisdictions is not None:
        policy = resolve_policy(parse_codes(jurisdictions), services.settings.policy_dir)
    else:
        with services.db.session() as session:
            policy = policy_for(services, session, principal.tenant_id, None)
    return policy_as_dict(policy)


@router.put("")
def update_policy(
    body: PolicyUpdate,
    services: ServicesDep,
    principal: Annotated[Principal, Allowed("policy:write")],
) -> dict[str, Any]:
    codes = None
    if body.jurisdictions:
        codes = list(resolve_policy(body.jurisdictions, services.settings.policy_dir).jurisdictions)
    with services.db.session() as session:
        tenant = set_tenant_jurisdictions(
            session, services.ledger, principal.tenant_id, codes, actor=f"key:{principal.key_id}"
        )
        return {"tenant": tenant.name, "jurisdictions": codes}
