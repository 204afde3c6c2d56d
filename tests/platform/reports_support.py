"""Posts to report, for the reports tests: real uploads through the uploads service."""

from __future__ import annotations

import uuid

from hallmark.accounts.service import authenticate, ensure_tenant
from hallmark.platform.feed import Member
from hallmark.platform.uploads import UploadRequest, upload_bytes
from hallmark.services import Services

UPLOADER = "uploader-key-id"


def tenant_id(services: Services, name: str = "acme") -> str:
    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, name).id


def key_id(services: Services, token: str) -> str:
    """The id of the key behind a bearer token (what ``Post.user_id`` and reporters hold)."""
    with services.db.session() as session:
        return authenticate(session, token).key_id


def make_post(
    services: Services,
    tenant: str = "acme",
    *,
    user_id: str = UPLOADER,
    text: str = "a holiday photo caption",
) -> str:
    """A visible post of ``tenant`` uploaded by ``user_id`` (a small text file, made unique so
    that the upload's dedupe never hands back an earlier post); its id."""
    member = Member.of(tenant_id(services, tenant), user_id, "creator")
    data = f"{text}\n{uuid.uuid4().hex}\n".encode()
    request = UploadRequest(filename="note.txt", size=len(data), caption=text)
    return upload_bytes(services, member, request, data).post.id
