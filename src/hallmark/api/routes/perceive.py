"""``POST /v1/perceive``: a grounded answer about an uploaded image, sound or video; the
labeled overlay picture is content (``/v1/contents/{overlay.id}/raw``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.api.uploads import read_upload
from hallmark.flows.perceive import PerceiveRequest, run_perceive
from hallmark.policy import parse_codes

router = APIRouter(prefix="/v1", tags=["perception"])


@router.post("/perceive")
def perceive(
    services: ServicesDep,
    principal: Annotated[Principal, Allowed("content:create")],
    file: Annotated[UploadFile, File(description="An image, audio or video file.")],
    question: Annotated[str | None, Form(max_length=2000)] = None,
    jurisdictions: Annotated[str | None, Form(description="e.g. cn,eu,us-ca")] = None,
    language: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """What is in the file: ``answer``, ``entities`` (each with its ``box`` [x, y, w, h] or
    ``start``/``end`` in seconds), ``findings``, and the overlay's content id."""
    outcome = run_perceive(
        services,
        principal.tenant_id,
        PerceiveRequest(
            data=read_upload(file, services.settings.max_upload_bytes),
            filename=file.filename,
            declared_type=file.content_type,
            question=question,
            jurisdictions=tuple(parse_codes(jurisdictions)) if jurisdictions else None,
            language=language,
        ),
    )
    return outcome.to_dict()
