from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.errors import NotFound
from hallmark.store.models import ContentRecord

router = APIRouter(prefix="/v1/contents", tags=["contents"])
Reader = Annotated[Principal, Allowed("content:read")]


def _public(record: ContentRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "flow": record.flow,
        "medium": record.medium,
        "media_type": record.media_type,
        "digest": record.digest,
        "size": record.size,
        "classification": record.classification,
        "decision": record.decision,
        "labels": json.loads(record.labels),
        "jurisdictions": record.jurisdictions.split(","),
        "ledger_seq": record.ledger_seq,
        "watermark_id": record.watermark_id,  # look it up at /v1/watermarks/{id}
        "created_at": record.created_at,
    }


def _owned(services: ServicesDep, principal: Principal, content_id: str) -> ContentRecord:
    with services.db.session() as session:
        record = session.get(ContentRecord, content_id)
    if record is None or record.tenant_id != principal.tenant_id:
        raise NotFound(f"no content {content_id!r}")
    return record


@router.get("")
def index(
    services: ServicesDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    with services.db.session() as session:
        records = session.scalars(
            select(ContentRecord)
            .where(ContentRecord.tenant_id == principal.tenant_id)
            .order_by(ContentRecord.created_at.desc())
            .limit(limit)
        ).all()
        return {"contents": [_public(record) for record in records]}


@router.get("/{content_id}")
def show(content_id: str, services: ServicesDep, principal: Reader) -> dict[str, Any]:
    return _public(_owned(services, principal, content_id))


@router.get("/{content_id}/raw")
def raw(content_id: str, services: ServicesDep, principal: Reader) -> Response:
    record = _owned(services, principal, content_id)
    return Response(services.media.get(record.digest), media_type=record.media_type)
