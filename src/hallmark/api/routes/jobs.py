from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hallmark.accounts.roles import allows
from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.errors import Forbidden
from hallmark.jobs import service

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
JobUser = Annotated[Principal, Allowed("jobs:use")]


class JobCreate(BaseModel):
    kind: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


@router.post("", status_code=202)
def submit(
    body: JobCreate, request: Request, services: ServicesDep, principal: JobUser
) -> dict[str, Any]:
    kind = services.components.job_kinds.get(body.kind)
    if not allows(principal.role, kind.permission):
        raise Forbidden(f"the {principal.role} role may not run {body.kind} jobs")
    with services.db.session() as session:
        job = service.submit(
            session, services.components, principal.tenant_id, body.kind, body.params
        )
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.wake()
    return job.to_dict()


@router.get("")
def index(
    services: ServicesDep,
    principal: JobUser,
    state: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    with services.db.session() as session:
        jobs = service.list_jobs(session, principal.tenant_id, state=state, limit=limit)
    return {"jobs": [job.to_dict() for job in jobs]}


@router.get("/{job_id}")
def show(job_id: str, services: ServicesDep, principal: JobUser) -> dict[str, Any]:
    with services.db.session() as session:
        return service.get(session, job_id, principal.tenant_id).to_dict()


@router.get("/{job_id}/events")
async def events(job_id: str, services: ServicesDep, principal: JobUser) -> StreamingResponse:
    """Server-sent events: one ``progress`` event per change, then ``done``."""

    def read() -> service.JobView:
        with services.db.session() as session:
            return service.get(session, job_id, principal.tenant_id)

    first = await run_in_threadpool(read)  # a missing job is a 404 before streaming starts

    async def stream() -> AsyncIterator[str]:
        job, last = first, None
        while True:
            snapshot = (job.state, job.progress, job.message)
            if snapshot != last:
                last = snapshot
                name = "done" if job.done else "progress"
                yield f"event: {name}\ndata: {json.dumps(job.to_dict(), ensure_ascii=False)}\n\n"
            if job.done:
                return
            await asyncio.sleep(0.25)
            job = await run_in_threadpool(read)

    return StreamingResponse(stream(), media_type="text/event-stream")
