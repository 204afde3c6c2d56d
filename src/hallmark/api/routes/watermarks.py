from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.mark.watermark.payload import ID_HEX_DIGITS
from hallmark.trace import trace

router = APIRouter(prefix="/v1/watermarks", tags=["watermarks"])
Auditor = Annotated[Principal, Allowed("ledger:read")]
WatermarkId = Annotated[
    str,
    Path(
        pattern=f"^[0-9a-fA-F]{{{ID_HEX_DIGITS}}}$",
        description=f"The id an invisible watermark carries ({ID_HEX_DIGITS} hex digits), "
        "as POST /v1/inspect reports it.",
    ),
]


@router.get("/{watermark_id}")
def show(watermark_id: WatermarkId, services: ServicesDep, principal: Auditor) -> dict[str, Any]:
    """The caller's tenant's content carrying this watermark, oldest first, each with its
    ledger entry and a check of that entry (its hash recomputed, and linked to the next)."""
    found = trace(services, watermark_id, tenant_id=principal.tenant_id)
    return {
        "watermark_id": watermark_id.lower(),
        "records": [traced.to_dict() for traced in found],
    }
