from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])
Auditor = Annotated[Principal, Allowed("ledger:read")]


@router.get("")
def entries(
    services: ServicesDep,
    principal: Auditor,
    after: Annotated[int, Query(ge=0, description="Return entries after this seq.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    kind: Annotated[str | None, Query(max_length=64, description="Kind prefix.")] = None,
) -> dict[str, Any]:
    """The caller's tenant's ledger entries, oldest first."""
    with services.db.session() as session:
        found = services.ledger.entries(
            session, tenant_id=principal.tenant_id, after=after, limit=limit, kind_prefix=kind
        )
    return {"entries": [entry.to_dict() for entry in found]}


@router.get("/verify")
def verify(services: ServicesDep, principal: Auditor) -> dict[str, Any]:
    """Verify the whole chain (all tenants): the report names the first bad entry."""
    with services.db.session() as session:
        return services.ledger.verify(session).to_dict()
