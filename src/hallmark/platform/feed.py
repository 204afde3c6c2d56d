"""The feed: a tenant's posts, newest first, each with its platform label and verdict.

A post is what a completed upload became: the receive flow's stored, labelled copy (a content
record), the classification the platform gave it (Labeling Measures Art. 6) and the wording the
feed shows. Everyone in the tenant sees visible posts; a removed or restricted one only its
uploader and the tenant's moderators (admins and reviewers) see.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hallmark.errors import NotFound, UserError
from hallmark.files import write_atomically
from hallmark.mark.report import inspect_bytes
from hallmark.services import Services
from hallmark.store.models import ContentRecord, Post
from hallmark.trace import with_provenance

FEED_PAGE = 20
MAX_FEED_PAGE = 100
MODERATOR_ROLES = frozenset({"admin", "reviewer"})
REPORT_CACHE = ("cache", "inspect")  # under HOME: inspect reports by stored digest


@dataclass(slots=True, frozen=True)
class Member:
    """Who acts: a tenant, a user of it (the API key's id, or "cli"), and whether they
    moderate (see removed and restricted posts)."""

    tenant_id: str
    user_id: str
    moderator: bool = False

    @classmethod
    def of(cls, tenant_id: str, user_id: str, role: str = "") -> Member:
        return cls(tenant_id, user_id, role in MODERATOR_ROLES)


@dataclass(slots=True, frozen=True)
class PostView:
    """A post as the API and the pages show it."""

    id: str
    user_id: str
    upload_id: str | None
    content_id: str
    caption: str
    medium: str
    media_type: str
    verdict: str
    declared_ai: bool
    label: str | None
    labels: tuple[str, ...]
    state: str
    original_digest: str
    digest: str
    size: int
    created_at: str

    @classmethod
    def of(cls, post: Post, content: ContentRecord) -> PostView:
        return cls(
            id=post.id,
            user_id=post.user_id,
            upload_id=post.upload_id,
            content_id=post.content_id,
            caption=post.caption,
            medium=post.medium,
            media_type=post.media_type,
            verdict=post.classification,
            declared_ai=post.declared_ai,
            label=post.platform_label,
            labels=tuple(json.loads(content.labels)),
            state=post.state,
            original_digest=post.original_digest,
            digest=content.digest,
            size=content.size,
            created_at=post.created_at,
        )

    @property
    def media_url(self) -> str:
        return f"/v1/feed/{self.id}/media"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "upload_id": self.upload_id,
            "content_id": self.content_id,
            "caption": self.caption,
            "medium": self.medium,
            "media_type": self.media_type,
            "verdict": self.verdict,
            "declared_ai": self.declared_ai,
            "label": self.label,
            "labels": list(self.labels),
            "state": self.state,
            "original_digest": self.original_digest,
            "digest": self.digest,
            "size": self.size,
            "created_at": self.created_at,
            "media_url": self.media_url,
        }


@dataclass(slots=True, frozen=True)
class FeedPage:
    posts: tuple[PostView, ...]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"posts": [post.to_dict() for post in self.posts], "next_cursor": self.next_cursor}


def _encode_cursor(post: PostView) -> str:
    raw = f"{post.created_at}|{post.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    created_at, sep, post_id = raw.partition("|")
    if not sep or not created_at or not post_id.isalnum():
        raise UserError("bad cursor: pass the next_cursor of the previous page as it is")
    return created_at, post_id


def list_feed(
    services: Services, tenant_id: str, *, cursor: str | None = None, limit: int = FEED_PAGE
) -> FeedPage:
    """One page of the tenant's visible posts, newest first; ``next_cursor`` fetches the
    next page (``None`` on the last)."""
    if not 1 <= limit <= MAX_FEED_PAGE:
        raise UserError(f"limit must be from 1 to {MAX_FEED_PAGE}")
    query = (
        select(Post, ContentRecord)
        .join(ContentRecord, ContentRecord.id == Post.content_id)
        .where(Post.tenant_id == tenant_id, Post.state == "visible")
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        created_at, post_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Post.created_at < created_at,
                and_(Post.created_at == created_at, Post.id < post_id),
            )
        )
    with services.db.session() as session:
        rows = session.execute(query).all()
    posts = tuple(PostView.of(post, content) for post, content in rows[:limit])
    return FeedPage(posts, _encode_cursor(posts[-1]) if len(rows) > limit else None)


def post_view(session: Session, post: Post) -> PostView:
    content = session.get(ContentRecord, post.content_id)
    if content is None:  # the foreign key forbids it
        raise NotFound(f"no content {post.content_id!r}")
    return PostView.of(post, content)


def get_post(services: Services, member: Member, post_id: str) -> PostView:
    """A post of the member's tenant that the member may see; 404 otherwise."""
    with services.db.session() as session:
        post = session.get(Post, post_id)
        if (
            post is None
            or post.tenant_id != member.tenant_id
            or not (post.state == "visible" or member.moderator or post.user_id == member.user_id)
        ):
            raise NotFound(f"no post {post_id!r}")
        return post_view(session, post)


def media_path(services: Services, post: PostView) -> Path:
    """The stored labelled copy of a post, as a file (for ranged reads)."""
    path = services.media.path_for(post.digest)
    if not path.is_file():
        raise NotFound(f"the media of post {post.id!r} is missing")
    return path


def post_report(services: Services, post: PostView) -> dict[str, Any]:
    """The inspect report of the post's stored copy (what a viewer downloading it would find),
    with where its watermark leads in the ledger. The report itself is cached by digest: the
    stored copy never changes."""
    hexdigest = post.digest.partition(":")[2]
    cache = services.settings.home.joinpath(*REPORT_CACHE) / f"{hexdigest}.json"
    try:
        report: dict[str, Any] = json.loads(cache.read_text("utf-8"))
    except (OSError, ValueError):
        report = inspect_bytes(
            services.components, services.media.get(post.digest), declared_type=post.media_type
        )
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(cache, json.dumps(report, ensure_ascii=False).encode())
    return with_provenance(services.db, report)
