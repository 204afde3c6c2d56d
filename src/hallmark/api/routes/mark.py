from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.api.uploads import read_upload
from hallmark.flows.mark import MarkRequest, run_mark
from hallmark.mark.report import inspect_bytes
from hallmark.policy import parse_codes
from hallmark.trace import with_provenance

router = APIRouter(prefix="/v1", tags=["mark"])


@router.post("/mark")
def mark(
    services: ServicesDep,
    principal: Annotated[Principal, Allowed("content:create")],
    file: Annotated[UploadFile, File(description="The file to label.")],
    jurisdictions: Annotated[str | None, Form(description="e.g. cn,eu,us-ca")] = None,
    language: Annotated[str | None, Form()] = None,
    explicit: Annotated[bool, Form(description="false waives the visible label")] = True,
) -> dict[str, Any]:
    """Write every label the policy requires; fetch the result at /v1/contents/{id}/raw."""
    outcome = run_mark(
        services,
        principal.tenant_id,
        MarkRequest(
            data=read_upload(file, services.settings.max_upload_bytes),
            filename=file.filename,
            declared_type=file.content_type,
            jurisdictions=tuple(parse_codes(jurisdictions)) if jurisdictions else None,
            language=language,
            explicit=explicit,
        ),
    )
    return outcome.to_dict()


@router.post("/inspect")
def inspect(
    request: Request,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="Any file: ours or anyone's.")],
    quick: Annotated[bool, Query(description="Skip OCR of visible labels.")] = False,
) -> dict[str, Any]:
    """The free, public AI-content detector (SB 942): labels found and the verdict.

    No key needed; rate-limited per client address. When the file carries this service's
    watermark, ``provenance`` names the content it was made as and that content's ledger entry
    (seq and hash, to check against a ledger export); otherwise it is null.
    """
    client = request.client.host if request.client else "unknown"
    request.app.state.inspect_limiter.check(client)
    data = read_upload(file, services.settings.max_upload_bytes)
    report = inspect_bytes(
        services.components,
        data,
        filename=file.filename,
        declared_type=file.content_type,
        quick=quick,
    )
    return with_provenance(services.db, report)
