"""The ledger over the database: append, read, verify, prune, export.

Appends run inside the caller's transaction, so a decision and its ledger entry commit together.
Appenders serialise on the single ``ledger_head`` row (an UPDATE takes its lock on both SQLite
and PostgreSQL), which also holds the signed seq and hash of the newest entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from hallmark.errors import LedgerTampered
from hallmark.ledger.chain import (
    GENESIS_HASH,
    ChainBreak,
    Entry,
    canonical_json,
    checkpoint_message,
    entry_hash,
    head_message,
    walk_chain,
)
from hallmark.ledger.signing import Signer, Verifier
from hallmark.store.models import LedgerCheckpoint, LedgerEntry, LedgerHead, utcnow_iso

HEAD_ID = 1
BATCH = 1000


def _entry_from_row(row: LedgerEntry) -> Entry:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = row.payload  # unparseable text cannot match its hash: verify reports it
    return Entry(
        seq=row.seq,
        created_at=row.created_at,
        tenant_id=row.tenant_id,
        kind=row.kind,
        payload=payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


@dataclass(slots=True, frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    head_seq: int
    problem: str | None = None
    bad_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "problem": self.problem,
            "bad_seq": self.bad_seq,
        }


@dataclass(slots=True, frozen=True)
class Checkpoint:
    created_at: str
    upto_seq: int
    upto_hash: str
    signature: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at,
            "upto_seq": self.upto_seq,
            "upto_hash": self.upto_hash,
            "signature": self.signature,
        }


class Ledger:
    """The audit ledger. ``clock`` returns the current time as an ISO string (tests pin it)."""

    def __init__(self, signer: Signer, clock: Callable[[], str] = utcnow_iso) -> None:
        self.signer = signer
        self.clock = clock

    def append(
        self,
        session: Session,
        kind: str,
        payload: dict[str, Any],
        *,
        tenant_id: str | None = None,
    ) -> Entry:
        # Lock the head row first: this is the write that serialises appenders.
        session.execute(
            update(LedgerHead).where(LedgerHead.id == HEAD_ID).values(seq=LedgerHead.seq)
        )
        head = session.execute(
            select(LedgerHead)
            .where(LedgerHead.id == HEAD_ID)
            .execution_options(populate_existing=True)
        ).scalar_one()
        payload = json.loads(canonical_json(payload))  # what is hashed is what is stored
        seq, created_at = head.seq + 1, self.clock()
        digest = entry_hash(
            seq=seq,
            created_at=created_at,
            tenant_id=tenant_id,
            kind=kind,
            payload=payload,
            prev_hash=head.hash,
        )
        session.add(
            LedgerEntry(
                seq=seq,
                created_at=created_at,
                tenant_id=tenant_id,
                kind=kind,
                payload=canonical_json(payload),
                prev_hash=head.hash,
                hash=digest,
            )
        )
        prev_hash = head.hash
        head.seq, head.hash = seq, digest
        head.signature = self.signer.sign(head_message(seq, digest))
        session.flush()
        return Entry(seq, created_at, tenant_id, kind, payload, prev_hash, digest)

    def entries(
        self,
        session: Session,
        *,
        tenant_id: str | None = None,
        after: int = 0,
        limit: int | None = None,
        kind_prefix: str | None = None,
    ) -> list[Entry]:
        query = select(LedgerEntry).where(LedgerEntry.seq > after).order_by(LedgerEntry.seq)
        if tenant_id is not None:
            query = query.where(LedgerEntry.tenant_id == tenant_id)
        if kind_prefix:
            query = query.where(LedgerEntry.kind.startswith(kind_prefix))
        if limit is not None:
            query = query.limit(limit)
        return [_entry_from_row(row) for row in session.scalars(query)]

    def iter_all(self, session: Session) -> Iterator[Entry]:
        """Every entry in seq order, read in batches (the ledger may be large)."""
        after = None
        while True:
            query = select(LedgerEntry).order_by(LedgerEntry.seq).limit(BATCH)
            if after is not None:
                query = query.where(LedgerEntry.seq > after)
            rows = list(session.scalars(query))
            if not rows:
                return
            for row in rows:
                yield _entry_from_row(row)
            after = rows[-1].seq
            session.expunge_all()

    def latest_checkpoint(self, session: Session) -> Checkpoint | None:
        row = session.scalars(
            select(LedgerCheckpoint).order_by(LedgerCheckpoint.upto_seq.desc()).limit(1)
        ).first()
        if row is None:
            return None
        return Checkpoint(row.created_at, row.upto_seq, row.upto_hash, row.signature)

    def head(self, session: Session) -> tuple[int, str, str]:
        head = session.get(LedgerHead, HEAD_ID, populate_existing=True)
        if head is None:
            return (-1, "", "")
        return head.seq, head.hash, head.signature

    def verify(self, session: Session) -> VerifyReport:
        return verify_entries(
            self.iter_all(session),
            checkpoint=self.latest_checkpoint(session),
            head=self.head(session),
            verifier=self.signer,
        )

    def prune(self, session: Session, *, older_than_days: int) -> Checkpoint | None:
        """Remove entries older than the cut-off, leaving a signed checkpoint in their place.

        Refuses to prune a chain that does not verify: pruning must never hide tampering.
        """
        report = self.verify(session)
        if not report.ok:
            raise LedgerTampered(
                f"refusing to prune a ledger that does not verify: {report.problem}"
            )
        now = datetime.strptime(self.clock(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        cutoff = (now - timedelta(days=older_than_days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        last = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.created_at < cutoff)
            .order_by(LedgerEntry.seq.desc())
            .limit(1)
        ).first()
        if last is None:
            return None
        upto_seq, upto_hash = last.seq, last.hash
        created_at = self.clock()
        checkpoint = Checkpoint(
            created_at,
            upto_seq,
            upto_hash,
            self.signer.sign(checkpoint_message(upto_seq, upto_hash, created_at)),
        )
        session.add(LedgerCheckpoint(**checkpoint.to_dict()))
        session.execute(delete(LedgerEntry).where(LedgerEntry.seq <= upto_seq))
        self.append(
            session,
            "ledger.pruned",
            {"upto_seq": upto_seq, "upto_hash": upto_hash, "older_than_days": older_than_days},
        )
        return checkpoint

    def count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(LedgerEntry)) or 0


def verify_entries(
    entries: Iterator[Entry] | list[Entry],
    *,
    checkpoint: Checkpoint | None,
    head: tuple[int, str, str],
    verifier: Verifier,
) -> VerifyReport:
    """Verify a chain from its anchor to its signed head (used for the database and exports)."""
    start_seq, start_hash = 0, GENESIS_HASH
    if checkpoint is not None:
        message = checkpoint_message(
            checkpoint.upto_seq, checkpoint.upto_hash, checkpoint.created_at
        )
        if not verifier.verify(message, checkpoint.signature):
            return VerifyReport(
                False,
                0,
                head[0],
                f"checkpoint at entry {checkpoint.upto_seq}: signature does not verify",
                checkpoint.upto_seq,
            )
        start_seq, start_hash = checkpoint.upto_seq, checkpoint.upto_hash
    result = walk_chain(entries, start_seq=start_seq, start_hash=start_hash)
    head_seq, head_hash, signature = head
    if isinstance(result, ChainBreak):
        return VerifyReport(False, 0, head_seq, str(result), result.seq)
    if head_seq < 0:
        return VerifyReport(False, result.checked, head_seq, "the ledger head row is missing", None)
    if result.seq > head_seq:
        return VerifyReport(
            False,
            result.checked,
            head_seq,
            f"entry {head_seq + 1}: beyond the signed head at entry {head_seq} (inserted)",
            head_seq + 1,
        )
    if result.seq < head_seq:
        first_missing = result.seq + 1
        return VerifyReport(
            False,
            result.checked,
            head_seq,
            f"entry {first_missing}: missing, but the signed head names entry {head_seq} (deleted)",
            first_missing,
        )
    if head_hash != result.hash:
        return VerifyReport(
            False,
            result.checked,
            head_seq,
            f"entry {head_seq}: does not match the signed head",
            head_seq,
        )
    genesis = head_seq == 0 and head_hash == GENESIS_HASH and signature == "genesis"
    if not genesis and not verifier.verify(head_message(head_seq, head_hash), signature):
        return VerifyReport(
            False,
            result.checked,
            head_seq,
            f"entry {head_seq}: the head signature does not verify (head rewritten)",
            head_seq,
        )
    return VerifyReport(True, result.checked, head_seq)
