from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hallmark.accounts.service import Principal, create_key, list_keys, revoke_key
from hallmark.api.deps import Allowed, ServicesDep

router = APIRouter(prefix="/v1/keys", tags=["keys"])
Admin = Annotated[Principal, Allowed("keys:manage")]


class KeyCreate(BaseModel):
    role: Literal["creator", "reviewer", "admin"]
    name: str = Field(default="", max_length=100)


@router.post("", status_code=201)
def create(body: KeyCreate, services: ServicesDep, principal: Admin) -> dict[str, Any]:
    with services.db.session() as session:
        issued = create_key(
            session,
            services.ledger,
            tenant_name=principal.tenant_name,
            role=body.role,
            name=body.name,
            actor=f"key:{principal.key_id}",
        )
    return {"id": issued.id, "role": issued.role, "name": issued.name, "key": issued.token}


@router.get("")
def index(services: ServicesDep, principal: Admin) -> dict[str, Any]:
    with services.db.session() as session:
        keys = list_keys(session, principal.tenant_id)
        return {
            "keys": [
                {
                    "id": key.id,
                    "prefix": key.prefix,
                    "role": key.role,
                    "name": key.name,
                    "created_at": key.created_at,
                    "revoked_at": key.revoked_at,
                }
                for key, _tenant in keys
            ]
        }


@router.delete("/{key_id}")
def revoke(key_id: str, services: ServicesDep, principal: Admin) -> dict[str, Any]:
    with services.db.session() as session:
        key = revoke_key(
            session,
            services.ledger,
            key_id,
            tenant_id=principal.tenant_id,
            actor=f"key:{principal.key_id}",
        )
        return {"id": key.id, "revoked_at": key.revoked_at}
