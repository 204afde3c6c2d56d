"""Resumable uploads that end in a post of the feed (tus 1.0 core semantics, in JSON).

POST /v1/uploads starts one, PUT /v1/uploads/{id}?offset=N appends a chunk (the raw body, as
``application/offset+octet-stream``), GET says where it stands, POST .../complete posts it and
DELETE gives it up. POST /v1/uploads/file does all of it for one small file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.api.uploads import read_upload
from hallmark.errors import PayloadTooLarge, UserError
from hallmark.platform.feed import Member
from hallmark.platform.uploads import (
    MAX_CAPTION,
    UploadRequest,
    abort_upload,
    append_chunk,
    complete_upload,
    create_upload,
    upload_bytes,
    upload_status,
)
from hallmark.policy import parse_codes

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])
Uploader = Annotated[Principal, Allowed("content:receive")]
CHUNK_TYPE = "application/offset+octet-stream"


class UnsupportedMediaType(UserError):
    status = 415
    code = "unsupported_media_type"


class NewUpload(BaseModel):
    filename: str = Field(min_length=1, max_length=4096)
    size: int = Field(ge=1, description="Total bytes the upload will have.")
    sha256: str | None = Field(
        default=None, description="Hex SHA-256 of the whole file; checked at completion."
    )
    declared_type: str | None = Field(
        default=None, max_length=200, description="Ignored for the bytes' own type; recorded."
    )
    declared_ai: bool = Field(
        default=False, description="The creator declares the content AI-generated."
    )
    caption: str = Field(default="", max_length=MAX_CAPTION)
    jurisdictions: list[str] | None = Field(default=None, max_length=20)

    def request(self) -> UploadRequest:
        return UploadRequest(
            filename=self.filename,
            size=self.size,
            sha256=self.sha256,
            declared_type=self.declared_type,
            declared_ai=self.declared_ai,
            caption=self.caption,
            jurisdictions=tuple(self.jurisdictions) if self.jurisdictions else None,
        )


def _member(principal: Principal) -> Member:
    return Member.of(principal.tenant_id, principal.key_id, principal.role)


@router.post("", status_code=201)
def create(body: NewUpload, services: ServicesDep, principal: Uploader) -> JSONResponse:
    """Start an upload; the answer's ``id`` names it and ``offset`` (0) is where to write."""
    status = create_upload(services, _member(principal), body.request())
    return JSONResponse(
        {**status.to_dict(), "chunk_bytes": services.settings.upload_chunk_bytes},
        status_code=201,
        headers={"Location": f"{router.prefix}/{status.id}"},
    )


async def _read_chunk(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the chunk is larger than {limit} bytes (HALLMARK_UPLOAD_CHUNK_BYTES)", limit=limit
        )
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise PayloadTooLarge(
                f"the chunk is larger than {limit} bytes (HALLMARK_UPLOAD_CHUNK_BYTES)",
                limit=limit,
            )
        parts.append(part)
    return b"".join(parts)


@router.put("/{upload_id}")
async def append(
    upload_id: str,
    request: Request,
    services: ServicesDep,
    principal: Uploader,
    offset: Annotated[int, Query(ge=0, description="Where the chunk goes: the current offset.")],
) -> dict[str, Any]:
    """Append the request body at ``offset``; a wrong offset is a 409 carrying the right one."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != CHUNK_TYPE:
        raise UnsupportedMediaType(
            f"send the chunk as the raw body with Content-Type: {CHUNK_TYPE}"
        )
    chunk = await _read_chunk(request, services.settings.upload_chunk_bytes)
    status = await run_in_threadpool(
        append_chunk, services, _member(principal), upload_id, offset, chunk
    )
    return status.to_dict()


@router.get("/{upload_id}")
def show(upload_id: str, services: ServicesDep, principal: Uploader) -> dict[str, Any]:
    """Where the upload stands: ``offset`` (bytes durably received), ``size`` and ``state``."""
    return upload_status(services, _member(principal), upload_id).to_dict()


@router.post("/{upload_id}/complete")
def complete(upload_id: str, services: ServicesDep, principal: Uploader) -> dict[str, Any]:
    """Receive the upload (inspect, classify, screen, label, record) and post it; the post,
    with its verdict and platform label, ``upload_id`` naming this upload and ``duplicate``
    true when the same bytes had been posted before (that post is returned). Calling it again
    returns the same post."""
    return complete_upload(services, _member(principal), upload_id).to_dict()


@router.delete("/{upload_id}")
def abort(upload_id: str, services: ServicesDep, principal: Uploader) -> dict[str, Any]:
    """Give up an open upload; its bytes are deleted."""
    return abort_upload(services, _member(principal), upload_id).to_dict()


@router.post("/file", status_code=201)
def one_shot(
    services: ServicesDep,
    principal: Uploader,
    file: Annotated[UploadFile, File(description="The whole file (up to the chunk size).")],
    declared_ai: Annotated[bool, Form()] = False,
    caption: Annotated[str, Form(max_length=MAX_CAPTION)] = "",
    jurisdictions: Annotated[str | None, Form(max_length=200)] = None,
) -> dict[str, Any]:
    """Upload and post one small file in one request; larger ones use the chunked protocol."""
    data = read_upload(file, services.settings.upload_chunk_bytes)
    request = UploadRequest(
        filename=file.filename or "upload",
        size=len(data),
        declared_type=file.content_type,
        declared_ai=declared_ai,
        caption=caption,
        jurisdictions=tuple(parse_codes(jurisdictions)) if jurisdictions else None,
    )
    return upload_bytes(services, _member(principal), request, data).to_dict()
