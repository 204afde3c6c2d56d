from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.api.uploads import read_upload
from hallmark.flows.receive import ReceiveRequest, run_receive
from hallmark.media_types import sniff
from hallmark.policy import parse_codes

router = APIRouter(prefix="/v1/receive", tags=["receive"])
Receiver = Annotated[Principal, Allowed("content:receive")]


class ReceiveText(BaseModel):
    text: str = Field(min_length=1, max_length=1_000_000)
    declared_ai: bool = False
    jurisdictions: list[str] | None = None
    language: str | None = None


@router.post("")
def receive_text(body: ReceiveText, services: ServicesDep, principal: Receiver) -> dict[str, Any]:
    """Receive inline text from outside: inspect, classify, screen, label, record."""
    outcome = run_receive(
        services,
        principal.tenant_id,
        ReceiveRequest(
            data=body.text.encode("utf-8"),
            media_type="text/plain; charset=utf-8",
            declared_ai=body.declared_ai,
            inline_text=True,
            jurisdictions=tuple(body.jurisdictions) if body.jurisdictions else None,
            language=body.language,
        ),
    )
    return outcome.to_dict()


@router.post("/upload")
def receive_upload(
    services: ServicesDep,
    principal: Receiver,
    file: Annotated[UploadFile, File(description="The file to receive.")],
    declared_ai: Annotated[bool, Form()] = False,
    jurisdictions: Annotated[str | None, Form()] = None,
    language: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Receive a file upload. Its original bytes are kept whatever the outcome."""
    data = read_upload(file, services.settings.max_upload_bytes)
    outcome = run_receive(
        services,
        principal.tenant_id,
        ReceiveRequest(
            data=data,
            media_type=sniff(data, file.content_type or file.filename),
            filename=file.filename,
            declared_ai=declared_ai,
            jurisdictions=tuple(parse_codes(jurisdictions)) if jurisdictions else None,
            language=language,
        ),
    )
    return outcome.to_dict()
