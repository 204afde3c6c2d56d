"""Publishing elsewhere: ``POST /v1/publish/tiktok`` runs the ``publish.tiktok`` job."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.errors import NotFound
from hallmark.jobs import service
from hallmark.platform.publish import PublishTikTok
from hallmark.platform.tiktok import MAX_TITLE_UTF16, TikTokNotConfigured
from hallmark.store.models import ContentRecord

router = APIRouter(prefix="/v1/publish", tags=["publish"])

PrivacyLevel = Literal[
    "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"
]


class TikTokPublishBody(BaseModel):
    content_id: str = Field(min_length=1, max_length=32)
    caption: str = Field(default="", max_length=MAX_TITLE_UTF16)
    privacy_level: PrivacyLevel | None = None
    mode: Literal["direct", "inbox"] = "direct"
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    declare_ai: bool = False


@router.post("/tiktok", status_code=202)
def publish_tiktok(
    body: TikTokPublishBody,
    request: Request,
    services: ServicesDep,
    principal: Annotated[Principal, Allowed("content:create")],
) -> dict[str, Any]:
    """Queue a job that publishes stored video content to TikTok with its AI flag set; follow
    it at ``/v1/jobs/{id}`` (or its ``/events``). Its result names the publication."""
    with services.db.session() as session:
        record = session.get(ContentRecord, body.content_id)
        if record is None or record.tenant_id != principal.tenant_id:
            raise NotFound(f"no content {body.content_id!r}")
        if not services.settings.tiktok_access_token:
            raise TikTokNotConfigured(
                "publishing to TikTok is not set up on this server (HALLMARK_TIKTOK_ACCESS_TOKEN)"
            )
        job = service.submit(
            session,
            services.components,
            principal.tenant_id,
            PublishTikTok.name,
            body.model_dump(),
        )
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.wake()
    return job.to_dict()
