"""The feed's pages: ``/ui/feed`` (the posts, playing videos and showing images, each with its
platform label and verdict, and an upload form) and ``/ui/feed/{id}`` (a post with the inspect
report of its stored copy).

The upload form is driven by ``static/feed.js``, which sends the file through the chunked JSON
API (``/v1/uploads``) with the session cookie, showing a progress bar. The routes use the web
UI's ``PageRoute`` and helpers, so errors render as pages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hallmark.accounts.roles import allows
from hallmark.accounts.service import Principal
from hallmark.api.deps import ServicesDep
from hallmark.platform.feed import (
    FEED_PAGE,
    Member,
    get_post,
    list_feed,
    post_report,
)
from hallmark.web.routes import FileCard, PageRoute, page_allowed, render

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
FeedReader = Annotated[Principal, Depends(page_allowed("content:read"))]

LABEL_SENTENCES = {
    "confirmed": "The file carries an implicit AI label: the platform shows it as AI-generated.",
    "possible": "The uploader declared it AI-generated (or its label does not confirm it): the "
    "platform shows it as possibly AI-generated.",
    "suspected": "Signs of AI generation but no implicit label: the platform shows it as "
    "suspected AI-generated.",
    "none": "No sign of AI generation was found.",
}


@router.get("/feed")
def feed(
    request: Request,
    services: ServicesDep,
    principal: FeedReader,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    page = list_feed(services, principal.tenant_id, cursor=cursor, limit=FEED_PAGE)
    settings = services.settings
    return render(
        request,
        "feed.html",
        active="feed",
        posts=page.posts,
        next_cursor=page.next_cursor,
        can_upload=allows(principal.role, "content:receive"),
        chunk_bytes=settings.upload_chunk_bytes,
        max_bytes=settings.max_upload_bytes,
    )


@router.get("/feed/{post_id}")
def post(request: Request, services: ServicesDep, principal: FeedReader, post_id: str) -> Response:
    member = Member.of(principal.tenant_id, principal.key_id, principal.role)
    shown = get_post(services, member, post_id)
    card = FileCard.of(shown.id, post_report(services, shown))
    return render(
        request,
        "post.html",
        active="feed",
        post=shown,
        card=card,
        label_sentence=LABEL_SENTENCES.get(shown.verdict, ""),
    )
