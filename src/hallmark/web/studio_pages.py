"""The studio's page: ``/ui/studio``, where a creator uploads media, arranges clips on a simple
timeline, adds captions and a voice-over, renders, previews and downloads the labelled video.

The route renders only the page's shell. ``static/studio.js`` does the work through the JSON
API (``/v1/studio/...``, ``/v1/jobs/...``, ``/v1/contents/...``) with the session cookie, so
the page offers nothing the API does not, and this module needs none of the studio's code:
the page loads even where the studio's media tools are missing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hallmark.accounts.service import Principal
from hallmark.api.deps import ServicesDep
from hallmark.web.routes import PageRoute, page_allowed, render

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
Creator = Annotated[Principal, Depends(page_allowed("content:create"))]


@router.get("/studio")
def studio(request: Request, services: ServicesDep, principal: Creator) -> Response:
    return render(
        request,
        "studio.html",
        active="studio",
        max_bytes=services.settings.max_upload_bytes,
        # The saved project is kept per tenant: its media ids mean nothing to another one.
        storage_key=f"hallmark.studio.{principal.tenant_id}",
    )
