"""Assistant conversations in the database: create, append, read, list, delete, prune.

Every function runs in the caller's session (its transaction) and is scoped by tenant and
user: another tenant's or another user's conversation answers exactly like a missing one.
The user is the OpenAI ``user`` field when the client sends one, else the API key's id.
Nothing is kept past the retention setting (Interim Measures art. 11): see ``prune_conversations``
and ``hallmark.assistant.retention``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from hallmark.accounts.service import new_id
from hallmark.errors import NotFound, UserError
from hallmark.store.models import ChatMessageRecord, Conversation, utcnow_iso

Clock = Callable[[], str]
"""Returns the current time as a fixed-width ISO string (``utcnow_iso``); tests pin it."""

ROLES = ("system", "user", "assistant", "tool")
TITLE_CHARS = 60
ATTACHMENT_LINE = re.compile(r"^\[attached file [^\]]*: file-[0-9a-f]{64}\]$")
MAX_USER_ID_CHARS = 100
MAX_TITLE_CHARS = 200
MAX_MODEL_CHARS = 100
MAX_JURISDICTIONS_CHARS = 200
MAX_TOOL_CALL_ID_CHARS = 64
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(slots=True, frozen=True)
class NewMessage:
    """A message to append: OpenAI's shape, plus what hallmark decided about the turn."""

    role: str
    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_call_id: str | None = None
    hallmark: dict[str, Any] | None = None
    """The turn's screening decision, labels and ledger seq."""


@dataclass(slots=True, frozen=True)
class StoredMessage:
    role: str
    content: str
    tool_calls: list[dict[str, Any]]
    tool_call_id: str | None
    hallmark: dict[str, Any] | None
    created_at: str
    seq: int

    @classmethod
    def of(cls, record: ChatMessageRecord) -> StoredMessage:
        return cls(
            role=record.role,
            content=record.content,
            tool_calls=json.loads(record.tool_calls) if record.tool_calls else [],
            tool_call_id=record.tool_call_id,
            hallmark=json.loads(record.hallmark) if record.hallmark else None,
            created_at=record.created_at,
            seq=record.seq,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "role": self.role,
            "content": self.content,
            "tool_calls": self.tool_calls,
            "tool_call_id": self.tool_call_id,
            "hallmark": self.hallmark,
            "created_at": self.created_at,
        }


@dataclass(slots=True, frozen=True)
class ConversationSummary:
    id: str
    user_id: str
    title: str
    model: str
    minor: bool
    jurisdictions: tuple[str, ...]
    created_at: str
    updated_at: str
    message_count: int

    @classmethod
    def of(cls, record: Conversation, message_count: int) -> ConversationSummary:
        return cls(
            id=record.id,
            user_id=record.user_id,
            title=record.title,
            model=record.model,
            minor=record.minor,
            jurisdictions=tuple(code for code in record.jurisdictions.split(",") if code),
            created_at=record.created_at,
            updated_at=record.updated_at,
            message_count=message_count,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user_id,
            "title": self.title,
            "model": self.model,
            "minor": self.minor,
            "jurisdictions": list(self.jurisdictions),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "message_count": self.message_count,
        }


@dataclass(slots=True, frozen=True)
class ConversationExport:
    """A whole conversation, as a user gets it on request (art. 11)."""

    summary: ConversationSummary
    messages: tuple[StoredMessage, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary.to_dict(), "messages": [m.to_dict() for m in self.messages]}


def _check_length(what: str, value: str, most: int, *, empty_ok: bool = True) -> None:
    if not value and not empty_ok:
        raise UserError(f"{what} must not be empty")
    if len(value) > most:
        raise UserError(f"{what} is longer than {most} characters")


def _check_message(message: NewMessage) -> None:
    if message.role not in ROLES:
        raise UserError(f"unknown message role {message.role!r}; choose one of: {', '.join(ROLES)}")
    if message.role == "tool" and not message.tool_call_id:
        raise UserError("a tool message needs the tool_call_id of the call it answers")
    _check_length("tool_call_id", message.tool_call_id or "", MAX_TOOL_CALL_ID_CHARS)


def title_from(content: str) -> str:
    """A conversation's title from its first user message: one line, at most 60 characters,
    without the lines that only name an attached file."""
    lines = [line for line in content.splitlines() if not ATTACHMENT_LINE.match(line.strip())]
    return " ".join(" ".join(lines).split())[:TITLE_CHARS]


def _owned(session: Session, tenant_id: str, user_id: str, conversation_id: str) -> Conversation:
    record = session.scalars(
        select(Conversation).where(
            Conversation.id == conversation_id,
            Conversation.tenant_id == tenant_id,
            Conversation.user_id == user_id,
        )
    ).first()
    if record is None:
        raise NotFound(f"no conversation {conversation_id!r}")
    return record


def _message_counts(session: Session, ids: Sequence[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(ChatMessageRecord.conversation_id, func.count())
        .where(ChatMessageRecord.conversation_id.in_(ids))
        .group_by(ChatMessageRecord.conversation_id)
    )
    return {conversation_id: count for conversation_id, count in rows}


def create_conversation(
    session: Session,
    tenant_id: str,
    user_id: str,
    *,
    title: str = "",
    model: str = "",
    minor: bool = False,
    jurisdictions: Sequence[str] = (),
    clock: Clock = utcnow_iso,
) -> ConversationSummary:
    joined = ",".join(jurisdictions)
    _check_length("user", user_id, MAX_USER_ID_CHARS, empty_ok=False)
    _check_length("title", title, MAX_TITLE_CHARS)
    _check_length("model", model, MAX_MODEL_CHARS)
    _check_length("jurisdictions", joined, MAX_JURISDICTIONS_CHARS)
    now = clock()
    record = Conversation(
        id=new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        title=title,
        model=model,
        minor=minor,
        jurisdictions=joined,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    return ConversationSummary.of(record, 0)


def get_conversation(
    session: Session, tenant_id: str, user_id: str, conversation_id: str
) -> ConversationExport:
    record = _owned(session, tenant_id, user_id, conversation_id)
    messages = tuple(
        StoredMessage.of(row)
        for row in session.scalars(
            select(ChatMessageRecord)
            .where(ChatMessageRecord.conversation_id == record.id)
            .order_by(ChatMessageRecord.seq)
        )
    )
    return ConversationExport(ConversationSummary.of(record, len(messages)), messages)


def find_owner(session: Session, tenant_id: str, conversation_id: str) -> str:
    """The user a conversation of this tenant belongs to: for the local operator (the CLI),
    who knows a conversation's id but not whose it is."""
    user_id = session.scalar(
        select(Conversation.user_id).where(
            Conversation.id == conversation_id, Conversation.tenant_id == tenant_id
        )
    )
    if user_id is None:
        raise NotFound(f"no conversation {conversation_id!r}")
    return user_id


def append_messages(
    session: Session,
    tenant_id: str,
    user_id: str,
    conversation_id: str,
    messages: Sequence[NewMessage],
    *,
    clock: Clock = utcnow_iso,
) -> list[int]:
    """Append messages in order; their seqs, consecutive after the last one stored.

    The first statement updates the conversation's row, which takes its lock on both SQLite
    and PostgreSQL, so two appends to one conversation never read the same last seq.
    """
    for message in messages:
        _check_message(message)
    now = clock()
    touched = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.tenant_id == tenant_id,
            Conversation.user_id == user_id,
        )
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if touched.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"no conversation {conversation_id!r}")
    last = session.scalar(
        select(func.max(ChatMessageRecord.seq)).where(
            ChatMessageRecord.conversation_id == conversation_id
        )
    )
    first_seq = (last or 0) + 1
    seqs = list(range(first_seq, first_seq + len(messages)))
    for seq, message in zip(seqs, messages, strict=True):
        session.add(
            ChatMessageRecord(
                conversation_id=conversation_id,
                seq=seq,
                role=message.role,
                content=message.content,
                tool_calls=json.dumps(message.tool_calls, ensure_ascii=False)
                if message.tool_calls
                else None,
                tool_call_id=message.tool_call_id,
                hallmark=json.dumps(message.hallmark, ensure_ascii=False)
                if message.hallmark is not None
                else None,
                created_at=now,
            )
        )
    record = session.get(Conversation, conversation_id, populate_existing=True)
    assert record is not None  # the update above found it, under its lock
    first_user = next((m for m in messages if m.role == "user" and m.content.strip()), None)
    if not record.title and first_user is not None:
        record.title = title_from(first_user.content)
    session.flush()
    return seqs


def list_conversations(
    session: Session,
    tenant_id: str,
    user_id: str | None,
    *,
    limit: int = 50,
    before: str | None = None,
) -> list[ConversationSummary]:
    """Newest first (by ``updated_at``, then id). ``before`` is the id of the last
    conversation of the previous page. ``user_id=None`` lists every user of the tenant (the
    local operator's view; the API always names a user)."""
    if limit < 1:
        raise UserError("limit must be at least 1")
    query = select(Conversation).where(Conversation.tenant_id == tenant_id)
    if user_id is not None:
        query = query.where(Conversation.user_id == user_id)
    if before is not None:
        cursor = session.execute(
            query.with_only_columns(Conversation.updated_at, Conversation.id).where(
                Conversation.id == before
            )
        ).first()
        if cursor is None:
            raise NotFound(f"no conversation {before!r}")
        updated_at, ident = cursor
        query = query.where(
            or_(
                Conversation.updated_at < updated_at,
                (Conversation.updated_at == updated_at) & (Conversation.id < ident),
            )
        )
    records = session.scalars(
        query.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(limit)
    ).all()
    counts = _message_counts(session, [record.id for record in records])
    return [ConversationSummary.of(record, counts.get(record.id, 0)) for record in records]


def delete_conversation(
    session: Session, tenant_id: str, user_id: str, conversation_id: str
) -> None:
    """Delete a conversation and (by the foreign key's ON DELETE CASCADE) its messages."""
    deleted = session.execute(
        delete(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.tenant_id == tenant_id,
            Conversation.user_id == user_id,
        )
        .execution_options(synchronize_session=False)
    )
    if deleted.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"no conversation {conversation_id!r}")


def cutoff(older_than_days: int, clock: Clock = utcnow_iso) -> str:
    """The ISO timestamp ``older_than_days`` before now."""
    if older_than_days < 1:
        raise UserError("--older-than must be at least 1 day")
    now = datetime.strptime(clock(), _ISO).replace(tzinfo=UTC)
    return (now - timedelta(days=older_than_days)).strftime(_ISO)


def prune_conversations(
    session: Session, *, older_than_days: int, clock: Clock = utcnow_iso
) -> int:
    """Delete every tenant's conversations untouched for ``older_than_days``, with their
    messages (one statement; the cascade removes the messages); how many went."""
    deleted = session.execute(
        delete(Conversation)
        .where(Conversation.updated_at < cutoff(older_than_days, clock))
        .execution_options(synchronize_session=False)
    )
    return int(deleted.rowcount)  # type: ignore[attr-defined]
