"""Resumable uploads (tus 1.0 core semantics, in JSON) that end in a post of the feed.

An upload is created with its size (and optionally its SHA-256, declared type, the creator's
AI self-declaration, a caption and jurisdictions); chunks are appended at an explicit offset
(a wrong offset is a 409 that says the right one); completing it checks the bytes, dedupes
them per tenant, runs the receive flow (inspect, classify, screen, platform label, ledger) and
posts the stored, labelled copy with the platform label the policy words for its
classification (Labeling Measures Art. 6).

Durability: the bytes live in a staging file (``platform.staging``) and are fsynced before the
new offset is committed, so a crash or a restart loses nothing committed and corrupts nothing.
An upload not completed within ``upload_expiry_hours`` expires and its bytes are deleted
(``prune_uploads``, run by the server at startup and daily).

Dedupe: bytes already posted in the tenant give that post back, whatever its state: content
taken down stays down when uploaded again.

Untrusted input: the file name is only shown (``display_name``), never used as a path; the
media type is sniffed from the bytes (a declared type that disagrees is ignored, and recorded);
images whose header announces more pixels than hallmark decodes are refused before decoding.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
import time
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hallmark.accounts.service import new_id
from hallmark.content import Content
from hallmark.errors import Conflict, HallmarkError, NotFound, PayloadTooLarge, UserError
from hallmark.flows.common import blocked, language_for, policy_for, record_refusal
from hallmark.flows.receive import ReceiveRequest, run_receive
from hallmark.flows.screen import screens_for
from hallmark.jobs.daily import start_daily
from hallmark.mark.explicit_image import MAX_PIXELS
from hallmark.media_types import medium_for, sniff
from hallmark.platform.feed import Member, PostView, post_view
from hallmark.platform.staging import StagingArea, StagingFile
from hallmark.policy import Policy, parse_codes
from hallmark.screen.base import screen_content
from hallmark.services import Services
from hallmark.settings import Settings
from hallmark.store.models import Post, Upload, utcnow_iso

log = logging.getLogger(__name__)

STATES = ("open", "processing", "complete", "failed", "expired")
MAX_CAPTION = 2200
MAX_FILENAME = 255
ORPHAN_SECONDS = 3600  # a staging file without an open upload is deleted after this long
_SHA256 = re.compile(r"[0-9a-f]{64}")


class UploadExpired(UserError):
    """The upload was not completed in time; its bytes are gone."""

    status = 410
    code = "upload_expired"


class ChecksumMismatch(UserError):
    """The bytes received do not have the SHA-256 announced at creation."""

    code = "checksum_mismatch"


@dataclass(slots=True, frozen=True)
class UploadRequest:
    """What a client announces when it starts an upload."""

    filename: str
    size: int
    sha256: str | None = None
    declared_type: str | None = None
    declared_ai: bool = False
    caption: str = ""
    jurisdictions: tuple[str, ...] | None = None


@dataclass(slots=True, frozen=True)
class UploadStatus:
    id: str
    filename: str
    size: int
    offset: int
    state: str
    sha256: str | None
    declared_type: str | None
    declared_ai: bool
    caption: str
    jurisdictions: tuple[str, ...] | None
    post_id: str | None
    error: str | None
    created_at: str
    updated_at: str
    expires_at: str

    @classmethod
    def of(cls, row: Upload) -> UploadStatus:
        return cls(
            id=row.id,
            filename=row.filename,
            size=row.size,
            offset=row.received,
            state=row.state,
            sha256=row.sha256,
            declared_type=row.declared_type,
            declared_ai=row.declared_ai,
            caption=row.caption,
            jurisdictions=tuple(row.jurisdictions.split(",")) if row.jurisdictions else None,
            post_id=row.post_id,
            error=row.error,
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "size": self.size,
            "offset": self.offset,
            "state": self.state,
            "sha256": self.sha256,
            "declared_type": self.declared_type,
            "declared_ai": self.declared_ai,
            "caption": self.caption,
            "jurisdictions": list(self.jurisdictions) if self.jurisdictions else None,
            "post_id": self.post_id,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
        }


@dataclass(slots=True, frozen=True)
class Completed:
    """A completed upload's post; ``duplicate`` when the same bytes were already posted."""

    upload_id: str
    post: PostView
    duplicate: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.post.to_dict(), "upload_id": self.upload_id, "duplicate": self.duplicate}


def staging_area(settings: Settings) -> StagingArea:
    return StagingArea(settings.home / "uploads")


def display_name(raw: str | None) -> str:
    """A file name fit to show: its last path component, without control or format
    characters, NUL, or leading dots and spaces, at most 255 characters (the extension kept).
    Never used as a path."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "upload"
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            return f"{stem[: MAX_FILENAME - len(extension) - 2]}….{extension}"
        return name[: MAX_FILENAME - 1] + "…"
    return name


def _plain_text(text: str) -> str:
    """Text without control characters (NUL included) other than newlines and tabs."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- creating ------------------------------------------------------------------------------


def create_upload(services: Services, member: Member, request: UploadRequest) -> UploadStatus:
    """Start an upload: check what is announced, screen the caption, stage an empty file."""
    settings = services.settings
    if request.size < 1:
        raise UserError("size must be at least 1 byte")
    if request.size > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"the upload is larger than {settings.max_upload_bytes} bytes "
            "(HALLMARK_MAX_UPLOAD_BYTES)",
            size=request.size,
            limit=settings.max_upload_bytes,
        )
    sha256 = (request.sha256 or "").strip().lower() or None
    if sha256 is not None and not _SHA256.fullmatch(sha256):
        raise UserError("sha256 must be 64 hexadecimal digits")
    caption = _plain_text(request.caption)
    if len(caption) > MAX_CAPTION:
        raise UserError(f"the caption is longer than {MAX_CAPTION} characters")
    codes = parse_codes(",".join(request.jurisdictions)) if request.jurisdictions else None
    with services.db.session() as session:
        policy = policy_for(services, session, member.tenant_id, codes)  # checks the codes
    filename = display_name(request.filename)
    declared = _plain_text(request.declared_type or "").strip()[:100] or None
    if caption.strip():
        _screen_caption(services, member, policy, caption, filename)

    upload_id = new_id()
    now = datetime.now(UTC)
    row = Upload(
        id=upload_id,
        tenant_id=member.tenant_id,
        user_id=member.user_id,
        filename=filename,
        declared_type=declared,
        size=request.size,
        received=0,
        sha256=sha256,
        declared_ai=request.declared_ai,
        caption=caption,
        jurisdictions=",".join(codes) if codes else None,
        state="open",
        created_at=_iso(now),
        updated_at=_iso(now),
        expires_at=_iso(now + timedelta(hours=settings.upload_expiry_hours)),
    )
    area = staging_area(settings)
    area.create(upload_id)  # the file first: a row never points at no file
    try:
        with services.db.session() as session:
            session.add(row)
    except BaseException:
        area.remove(upload_id)
        raise
    return UploadStatus.of(row)


def _screen_caption(
    services: Services, member: Member, policy: Policy, caption: str, filename: str
) -> None:
    """The caption is text the feed shows: screened like any received text."""
    content = Content.from_text(caption)
    screens, _ = screens_for(services.components.screens, content)
    decision = screen_content(screens, content, policy, language=language_for(policy, None))
    if decision.action == "block":
        payload = {"filename": filename, "screening": decision.to_dict()}
        error = blocked("the caption", decision)
        raise record_refusal(services, member.tenant_id, "upload.blocked", payload, error)


# --- reading and appending -----------------------------------------------------------------


def _owned(session: Session, member: Member, upload_id: str) -> Upload:
    row = session.get(Upload, upload_id)
    if row is None or row.tenant_id != member.tenant_id or row.user_id != member.user_id:
        raise NotFound(f"no upload {upload_id!r}")
    return row


def _set(services: Services, upload_id: str, **values: Any) -> None:
    with services.db.session() as session:
        session.execute(
            update(Upload).where(Upload.id == upload_id).values(updated_at=utcnow_iso(), **values)
        )


def _usable(services: Services, row: Upload, staged: StagingFile | None) -> StagingFile:
    """The staging file of an open upload that has not expired; else the error that says
    what became of it (an expired one is marked so, and its bytes deleted)."""
    if row.state == "open" and row.expires_at <= utcnow_iso():
        _set(services, row.id, state="expired")
        _record_expired(services, [row.id])
        if staged is not None:
            staged.discard()
        row.state = "expired"
    if row.state == "expired":
        raise UploadExpired(
            f"upload {row.id} expired at {row.expires_at}; start a new one", state="expired"
        )
    if row.state != "open":
        message = f"upload {row.id} is {row.state}"
        if row.error:
            message += f": {row.error}"
        raise Conflict(message, state=row.state, offset=row.received)
    if staged is None:
        error = "the staged bytes of this upload are missing; start a new one"
        _set(services, row.id, state="failed", error=error)
        raise Conflict(f"upload {row.id} failed: {error}", state="failed")
    return staged


def upload_status(services: Services, member: Member, upload_id: str) -> UploadStatus:
    """Where an upload stands: its offset (the bytes durably received) and its state."""
    with services.db.session() as session:
        row = _owned(session, member, upload_id)
    if row.state == "open" and row.expires_at <= utcnow_iso():
        prune_uploads(services, only=upload_id)
        with services.db.session() as session:
            row = _owned(session, member, upload_id)
    return UploadStatus.of(row)


def find_open_upload(
    services: Services, member: Member, sha256: str, size: int
) -> UploadStatus | None:
    """The member's newest open upload of these bytes (by announced hash and size): what a
    client resumes instead of starting again."""
    with services.db.session() as session:
        row = session.scalars(
            select(Upload)
            .where(
                Upload.tenant_id == member.tenant_id,
                Upload.user_id == member.user_id,
                Upload.sha256 == sha256.lower(),
                Upload.size == size,
                Upload.state == "open",
                Upload.expires_at > utcnow_iso(),
            )
            .order_by(Upload.created_at.desc())
            .limit(1)
        ).first()
    return UploadStatus.of(row) if row is not None else None


def append_chunk(
    services: Services, member: Member, upload_id: str, offset: int, chunk: bytes
) -> UploadStatus:
    """Write ``chunk`` at ``offset``, which must be the upload's current offset (else a 409
    whose details carry the right one). Durable when this returns."""
    if not chunk:
        raise UserError("the chunk is empty")
    limit = services.settings.upload_chunk_bytes
    if len(chunk) > limit:
        raise PayloadTooLarge(
            f"the chunk is larger than {limit} bytes (HALLMARK_UPLOAD_CHUNK_BYTES)", limit=limit
        )
    with services.db.session() as session:
        _owned(session, member, upload_id)
    with staging_area(services.settings).locked(upload_id) as found:
        with services.db.session() as session:
            row = _owned(session, member, upload_id)
        staged = _usable(services, row, found)
        if offset != row.received:
            raise Conflict(
                f"the upload is at offset {row.received}, not {offset}; resume from there",
                offset=row.received,
            )
        if offset + len(chunk) > row.size:
            raise UserError(
                f"the chunk ends at {offset + len(chunk)}, past the announced size {row.size}",
                offset=row.received,
                size=row.size,
            )
        staged.reconcile(row.received)
        if staged.length != row.received:
            error = "the staged bytes of this upload were lost; start a new one"
            _set(services, row.id, state="failed", error=error)
            staged.discard()
            raise Conflict(f"upload {row.id} failed: {error}", state="failed")
        staged.write_at(offset, chunk)  # fsynced before the offset moves
        with services.db.session() as session:
            session.execute(
                update(Upload)
                .where(Upload.id == upload_id, Upload.received == offset, Upload.state == "open")
                .values(received=offset + len(chunk), updated_at=utcnow_iso())
            )
            row = _owned(session, member, upload_id)
    return UploadStatus.of(row)


def abort_upload(services: Services, member: Member, upload_id: str) -> UploadStatus:
    """Give up an open upload: its bytes are deleted and it is marked failed."""
    with services.db.session() as session:
        _owned(session, member, upload_id)
    with staging_area(services.settings).locked(upload_id) as found:
        with services.db.session() as session:
            row = _owned(session, member, upload_id)
        staged = _usable(services, row, found)
        _set(services, upload_id, state="failed", error="aborted by the uploader")
        staged.discard()
    with services.db.session() as session:
        return UploadStatus.of(_owned(session, member, upload_id))


# --- completing ----------------------------------------------------------------------------


def complete_upload(services: Services, member: Member, upload_id: str) -> Completed:
    """Turn a fully received upload into a post (idempotent: once complete, the same post)."""
    with services.db.session() as session:
        row = _owned(session, member, upload_id)
        if row.state == "complete":
            return _completed(session, row)
    with staging_area(services.settings).locked(upload_id) as found:
        with services.db.session() as session:
            row = _owned(session, member, upload_id)
            if row.state == "complete":  # completed while we waited for the lock
                return _completed(session, row)
        if row.state == "processing":
            # Under the lock nobody is processing it: a process died doing so. Try again.
            row.state = "open"
        staged = _usable(services, row, found)
        if row.received != row.size:
            raise Conflict(
                f"the upload has {row.received} of {row.size} bytes; send the rest first",
                offset=row.received,
                size=row.size,
            )
        staged.reconcile(row.size)
        _set(services, upload_id, state="processing")
        try:
            completed = _post(services, member, row, staged.read(row.size))
        except HallmarkError as exc:
            _set(services, upload_id, state="failed", error=exc.message)
            staged.discard()
            raise
        except BaseException:
            _set(services, upload_id, state="open")  # unexpected: the client may retry
            raise
        staged.discard()
    return completed


def _completed(session: Session, row: Upload) -> Completed:
    post = session.get(Post, row.post_id) if row.post_id else None
    if post is None:
        raise NotFound(f"the post of upload {row.id} is gone")
    return Completed(row.id, post_view(session, post), post.upload_id != row.id)


def _post(services: Services, member: Member, row: Upload, data: bytes) -> Completed:
    if len(data) != row.size:
        raise UserError("the staged bytes of this upload were lost; start a new one")
    hexdigest = hashlib.sha256(data).hexdigest()
    if row.sha256 is not None and row.sha256 != hexdigest:
        raise ChecksumMismatch(
            f"the bytes received have SHA-256 {hexdigest}, not the {row.sha256} announced; "
            "the upload is discarded: start again",
            expected=row.sha256,
            received=hexdigest,
        )
    digest = f"sha256:{hexdigest}"
    with staging_area(services.settings).digest_lock(hexdigest):
        with services.db.session() as session:
            existing = session.scalars(
                select(Post)
                .where(Post.tenant_id == member.tenant_id, Post.original_digest == digest)
                .order_by(Post.created_at)
                .limit(1)
            ).first()
            if existing is not None:  # the same bytes were posted: no second copy
                _finish(session, row, existing.id)
                return Completed(row.id, post_view(session, existing), True)
        media_type = sniff(data, row.declared_type or row.filename)
        base = {
            "upload_id": row.id,
            "filename": row.filename,
            "declared_type": row.declared_type,
            "media_type": media_type,
            "original_digest": digest,
        }
        try:
            _refuse_bombs(data, media_type)
        except HallmarkError as exc:
            raise record_refusal(services, member.tenant_id, "upload.refused", base, exc) from None
        outcome = run_receive(
            services,
            member.tenant_id,
            ReceiveRequest(
                data=data,
                media_type=media_type,
                filename=row.filename,
                declared_ai=row.declared_ai,
                jurisdictions=tuple(row.jurisdictions.split(",")) if row.jurisdictions else None,
            ),
        )
        label = outcome.platform_label or None
        now = utcnow_iso()
        post = Post(
            id=new_id(),
            tenant_id=member.tenant_id,
            user_id=row.user_id,
            upload_id=row.id,
            content_id=outcome.content_id,
            original_digest=outcome.original_digest,
            caption=row.caption,
            medium=outcome.content.medium,
            media_type=outcome.content.media_type,
            classification=outcome.classification,
            declared_ai=row.declared_ai,
            platform_label=label,
            state="visible",
            created_at=now,
            updated_at=now,
        )
        with services.db.session() as session:
            session.add(post)
            session.flush()
            services.ledger.append(
                session,
                "platform.post",
                {
                    **base,
                    "post_id": post.id,
                    "content_id": outcome.content_id,
                    "type_mismatch": _mismatch(row.declared_type, media_type),
                    "declared_ai": row.declared_ai,
                    "classification": outcome.classification,
                    "platform_label": label,
                },
                tenant_id=member.tenant_id,
            )
            _finish(session, row, post.id)
            return Completed(row.id, post_view(session, post), False)


def _finish(session: Session, row: Upload, post_id: str) -> None:
    session.execute(
        update(Upload)
        .where(Upload.id == row.id)
        .values(state="complete", post_id=post_id, error=None, updated_at=utcnow_iso())
    )


def _mismatch(declared: str | None, sniffed: str) -> bool:
    """Whether a declared type disagrees with the bytes (it was ignored)."""
    if not declared:
        return False
    return declared.split(";", 1)[0].strip().lower() != sniffed.split(";", 1)[0]


def _refuse_bombs(data: bytes, media_type: str) -> None:
    """An image whose header announces more pixels than hallmark decodes is refused before
    anything decodes it (a decompression bomb: small on disk, huge in memory)."""
    if medium_for(media_type) != "image":
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        raise PayloadTooLarge(f"the image has too many pixels to decode safely: {exc}") from None
    except Exception:  # undecodable: the receive flow's inspectors say so
        return
    if width * height > MAX_PIXELS:
        raise PayloadTooLarge(
            f"the image is {width}×{height} pixels, more than the {MAX_PIXELS:,} hallmark "
            "decodes safely",
            width=width,
            height=height,
        )


# --- one shot ------------------------------------------------------------------------------


def upload_bytes(
    services: Services, member: Member, request: UploadRequest, data: bytes
) -> Completed:
    """A whole small file at once, through the same steps (create, append, complete)."""
    status = create_upload(services, member, _with_size(request, len(data)))
    append_chunk(services, member, status.id, 0, data)
    return complete_upload(services, member, status.id)


def _with_size(request: UploadRequest, size: int) -> UploadRequest:
    return UploadRequest(
        filename=request.filename,
        size=size,
        sha256=request.sha256,
        declared_type=request.declared_type,
        declared_ai=request.declared_ai,
        caption=request.caption,
        jurisdictions=request.jurisdictions,
    )


# --- expiry --------------------------------------------------------------------------------


def prune_uploads(services: Services, *, only: str | None = None) -> int:
    """Expire open uploads past their time (their bytes deleted), cut every open upload's
    staging file back to its committed offset, and delete staging files no open upload owns
    (after ``ORPHAN_SECONDS``, so an upload being created keeps its file). Returns how many
    expired; records that in the ledger when any did."""
    area = staging_area(services.settings)
    now = utcnow_iso()
    expired: list[str] = []
    with services.db.session() as session:
        query = select(Upload.id).where(
            Upload.state.in_(("open", "processing")), Upload.expires_at <= now
        )
        if only is not None:
            query = query.where(Upload.id == only)
        due = set(session.scalars(query))
    staged = {only: area.path_for(only)} if only is not None else dict(area.ids())
    for upload_id in sorted(due | staged.keys()):
        with area.locked(upload_id) as found, services.db.session() as session:
            row = session.get(Upload, upload_id)
            if row is None or row.state not in ("open", "processing"):
                if found is not None and _older_than(found, ORPHAN_SECONDS):
                    found.discard()
                continue
            # Under the lock, "processing" means a process died completing it.
            if row.expires_at <= now:
                row.state, row.updated_at = "expired", utcnow_iso()
                expired.append(upload_id)
                if found is not None:
                    found.discard()
            elif found is not None and row.state == "open":
                found.reconcile(row.received)
    _record_expired(services, expired)
    return len(expired)


def _record_expired(services: Services, upload_ids: list[str]) -> None:
    if upload_ids:
        with services.db.session() as session:
            services.ledger.append(
                session,
                "platform.uploads_expired",
                {"uploads": upload_ids, "count": len(upload_ids)},
            )


def _older_than(staged: StagingFile, seconds: float) -> bool:
    return time.time() - staged.path.stat().st_mtime > seconds


def start_pruning(services: Services) -> asyncio.Task[None]:
    """Expire uploads now, then once a day in the running event loop; cancel to stop."""
    return start_daily(lambda: prune_uploads(services), "expiring uploads")
