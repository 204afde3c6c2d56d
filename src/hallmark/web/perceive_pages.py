"""The perception page: ``/ui/perceive``. Upload an image, a sound or a video, ask a question,
and see the answer with each named thing linked to its box or time span, and the labeled
overlay (``/v1/contents/{id}/raw``, which the page's session cookie may read).

Server-rendered: the form posts here and the flow's outcome is the page. Errors the user can
fix (an unsupported file, a blocked question) are shown on the page with their status.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile

from hallmark.accounts.service import Principal
from hallmark.api.deps import ServicesDep
from hallmark.errors import HallmarkError
from hallmark.flows.perceive import (
    MAX_QUESTION_CHARS,
    PerceiveOutcome,
    PerceiveRequest,
    run_perceive,
)
from hallmark.services import Services
from hallmark.web.routes import PageRoute, page_allowed, render, same_origin

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
Creator = Annotated[Principal, Depends(page_allowed("content:create"))]


def _page(
    request: Request,
    status: int = 200,
    *,
    outcome: PerceiveOutcome | None = None,
    question: str = "",
    message: str | None = None,
) -> Response:
    return render(
        request,
        "perceive.html",
        status_code=status,
        active="perceive",
        outcome=outcome,
        question=question,
        message=message,
        max_question=MAX_QUESTION_CHARS,
    )


@router.get("/perceive")
def perceive_form(request: Request, principal: Creator) -> Response:
    return _page(request)


@router.post("/perceive", dependencies=[Depends(same_origin)])
async def perceive_file(request: Request, services: ServicesDep, principal: Creator) -> Response:
    form = await request.form(max_files=1)
    try:
        upload = form.get("file")
        question = str(form.get("question") or "")
        if not isinstance(upload, StarletteUploadFile) or not upload.filename:
            return _page(request, 400, question=question, message="Choose a file to look at.")
        data = await upload.read()
        return await run_in_threadpool(
            _answer, request, services, principal, data, upload, question
        )
    finally:
        await form.close()


def _answer(
    request: Request,
    services: Services,
    principal: Principal,
    data: bytes,
    upload: StarletteUploadFile,
    question: str,
) -> Response:
    try:
        outcome = run_perceive(
            services,
            principal.tenant_id,
            PerceiveRequest(
                data=data,
                filename=upload.filename,
                declared_type=upload.content_type,
                question=question or None,
            ),
        )
    except HallmarkError as exc:
        if exc.status >= 500:
            raise
        return _page(request, exc.status, question=question, message=exc.message)
    return _page(request, outcome=outcome, question=question)
