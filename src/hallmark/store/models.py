"""SQLAlchemy models. Schema changes go through Alembic (store/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow_iso() -> str:
    """Fixed-width ISO-8601 UTC: such timestamps sort and hash the same everywhere."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    jurisdictions: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    revoked_at: Mapped[str | None] = mapped_column(String(32))


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[str] = mapped_column(String(32), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(80))
    hash: Mapped[str] = mapped_column(String(80))


class LedgerHead(Base):
    """One row (id 1): the last entry's seq and hash, signed; the lock appenders take."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(200))


class LedgerCheckpoint(Base):
    """A signed anchor left by retention pruning: the chain resumes after ``upto_seq``."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[str] = mapped_column(String(32))
    upto_seq: Mapped[int] = mapped_column(BigInteger)
    upto_hash: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(200))


class ContentRecord(Base):
    """Every piece of content that went through a flow, owned by one tenant."""

    __tablename__ = "contents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    flow: Mapped[str] = mapped_column(String(16))
    medium: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(BigInteger)
    classification: Mapped[str] = mapped_column(String(16), default="none")
    decision: Mapped[str] = mapped_column(String(8))
    labels: Mapped[str] = mapped_column(Text, default="[]")
    jurisdictions: Mapped[str] = mapped_column(String(200))
    ledger_seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    # The id the invisible watermark carries (a keyed hash of the content id, or, when a
    # propagator kept an existing mark, of the first generation's): what a trace looks up.
    watermark_id: Mapped[str | None] = mapped_column(String(32), index=True)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)


class Conversation(Base):
    """An assistant conversation, owned by one user of one tenant (the OpenAI ``user`` field
    when the client sends one, else the API key's id). Deleted once untouched for
    ``conversation_retention_days`` (Interim Measures art. 11)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    jurisdictions: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    # Indexed: listing sorts on it and retention pruning deletes by it.
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso, index=True)


class ChatMessageRecord(Base):
    """One message of a conversation; ``seq`` orders them (1, 2, ... within a conversation)."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_conversation_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Indexed by the unique constraint, whose index leads with this column.
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    tool_calls: Mapped[str | None] = mapped_column(Text)  # JSON list, OpenAI's shape
    tool_call_id: Mapped[str | None] = mapped_column(String(64))
    # JSON: the turn's screening decision, labels and ledger seq.
    hallmark: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)


class UsageRecord(Base):
    """Time one user spent with the assistant on one UTC day (minors mode, art. 10)."""

    __tablename__ = "chat_usage"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    turns: Mapped[int] = mapped_column(Integer, default=0)


class Upload(Base):
    """A resumable upload: ``received`` bytes are durably in ``HOME/uploads/<id>.part``."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(100))  # the uploader's API key id
    filename: Mapped[str] = mapped_column(String(255))  # sanitized, for display only
    declared_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)  # total bytes announced
    received: Mapped[int] = mapped_column(BigInteger, default=0)  # the resume offset
    sha256: Mapped[str | None] = mapped_column(String(64))  # hex, checked at completion
    declared_ai: Mapped[bool] = mapped_column(Boolean, default=False)
    caption: Mapped[str] = mapped_column(Text, default="")
    jurisdictions: Mapped[str | None] = mapped_column(String(200))
    # "open" | "processing" | "complete" | "failed" | "expired"
    state: Mapped[str] = mapped_column(String(16), index=True)
    post_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    expires_at: Mapped[str] = mapped_column(String(32))


class Post(Base):
    """One item of the feed: a received upload's stored, labelled copy."""

    __tablename__ = "posts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(100))
    upload_id: Mapped[str | None] = mapped_column(String(32))
    content_id: Mapped[str] = mapped_column(ForeignKey("contents.id"))
    # The digest of the bytes as uploaded: with tenant_id, the dedupe key.
    original_digest: Mapped[str] = mapped_column(String(71), index=True)
    caption: Mapped[str] = mapped_column(Text, default="")
    medium: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str] = mapped_column(String(100))
    classification: Mapped[str] = mapped_column(String(16))  # confirmed|possible|suspected|none
    declared_ai: Mapped[bool] = mapped_column(Boolean, default=False)
    platform_label: Mapped[str | None] = mapped_column(String(200))  # the feed's wording
    state: Mapped[str] = mapped_column(String(16), index=True)  # visible|removed|restricted
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)


class Report(Base):
    """A complaint about a post, handled by a reviewer before ``due_at``."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"), index=True)
    reporter: Mapped[str] = mapped_column(String(100))  # key id or "anonymous:<ip hash>"
    category: Mapped[str] = mapped_column(String(40))  # a policy complaint category
    details: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), index=True)  # open|resolved|appealed|closed
    # "removed" | "restored" | "labelled" | "warned" | "dismissed"
    resolution: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[str] = mapped_column(String(32), index=True)
    notice: Mapped[str | None] = mapped_column(Text)  # the last notice sent to the reporter
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)


class ReportEvent(Base):
    """One step of a report's handling, in order."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    # "filed" | "remove" | "restore" | "label" | "warn" | "dismiss" | "appeal" | "notice"
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    ledger_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)


class Publication(Base):
    """Content published to an outside platform (TikTok) and where that stands."""

    __tablename__ = "publications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    content_id: Mapped[str] = mapped_column(ForeignKey("contents.id"))
    platform: Mapped[str] = mapped_column(String(20))  # "tiktok"
    mode: Mapped[str] = mapped_column(String(16))  # "direct" | "inbox"
    publish_id: Mapped[str | None] = mapped_column(String(100))
    # "initialized" | "uploading" | "processing" | "published" | "inbox" | "failed"
    state: Mapped[str] = mapped_column(String(24))
    is_aigc: Mapped[bool] = mapped_column(Boolean)
    privacy_level: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow_iso)
