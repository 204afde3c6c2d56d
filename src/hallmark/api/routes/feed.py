"""The feed: the tenant's posts with their platform labels, a post's inspect report, and its
media (the stored labelled copy, with Range support for video playback)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.platform.feed import (
    FEED_PAGE,
    MAX_FEED_PAGE,
    Member,
    get_post,
    list_feed,
    media_path,
    post_report,
)

router = APIRouter(prefix="/v1/feed", tags=["feed"])
Reader = Annotated[Principal, Allowed("content:read")]


def _member(principal: Principal) -> Member:
    return Member.of(principal.tenant_id, principal.key_id, principal.role)


@router.get("")
def index(
    services: ServicesDep,
    principal: Reader,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = FEED_PAGE,
) -> dict[str, Any]:
    """Visible posts, newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    return list_feed(services, principal.tenant_id, cursor=cursor, limit=limit).to_dict()


@router.get("/{post_id}")
def show(post_id: str, services: ServicesDep, principal: Reader) -> dict[str, Any]:
    """The post and the inspect report of its stored copy."""
    post = get_post(services, _member(principal), post_id)
    return {**post.to_dict(), "report": post_report(services, post)}


@router.get("/{post_id}/media")
def media(post_id: str, services: ServicesDep, principal: Reader) -> FileResponse:
    """The stored labelled copy; answers Range requests (206) so video can seek."""
    post = get_post(services, _member(principal), post_id)
    return FileResponse(
        media_path(services, post),
        media_type=post.media_type,
        # revalidated on every use (the ETag makes that cheap): a takedown takes effect at once
        headers={"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"},
    )
