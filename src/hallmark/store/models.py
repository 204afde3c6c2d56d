"""SQLAlchemy models. Schema changes go through Alembic (store/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
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
