"""From a watermark id back to the ledger: which content carries it, and the entry recording it.

The invisible watermark carries a 48-bit *watermark id* (a keyed hash of the content id, see
``mark.watermark.payload``); ``flows.common.record_content`` stores it on the content record
and in the entry's payload. A look-up may find several records: a propagator keeps the mark it
found, so a received copy points at the same id as its first generation. Records come oldest
first, the first generation first.

``trace`` is the full answer for operators and auditors (the records, their ledger entries and
a cheap check of each entry); ``public_provenance`` is the little the public detector shows
about a file whose watermark resolves here: no tenant, no prompt, no payload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallmark.errors import NotFound, ValidationFailed
from hallmark.ledger.chain import Entry
from hallmark.ledger.service import HEAD_ID
from hallmark.mark.watermark.payload import ID_HEX_DIGITS
from hallmark.services import Services
from hallmark.settings import Settings
from hallmark.store.db import SCHEMA_REVISION, Database
from hallmark.store.models import ContentRecord, LedgerEntry, LedgerHead

WATERMARK_ID = re.compile(rf"^[0-9a-fA-F]{{{ID_HEX_DIGITS}}}$")
WATERMARK_SCHEME = "watermark"


def parse_watermark_id(text: str) -> str:
    """The id in canonical form (lowercase hex), or ``ValidationFailed``."""
    value = text.strip()
    if not WATERMARK_ID.match(value):
        raise ValidationFailed(
            f"{text!r} is not a watermark id: expected {ID_HEX_DIGITS} hexadecimal digits"
        )
    return value.lower()


@dataclass(slots=True, frozen=True)
class EntryCheck:
    """What can be checked about one entry without walking the chain: its hash recomputed from
    its fields, and whether the next entry (or the signed head) names that hash. The whole
    chain is checked by ``hallmark ledger verify`` (or an export and ``verify --file``)."""

    hash_matches: bool
    linked: bool

    def to_dict(self) -> dict[str, Any]:
        return {"hash_matches": self.hash_matches, "linked": self.linked}


@dataclass(slots=True, frozen=True)
class Traced:
    """One content record carrying the watermark, with its ledger entry (None once pruned)."""

    record: ContentRecord
    entry: Entry | None
    check: EntryCheck | None

    def to_dict(self) -> dict[str, Any]:
        record = self.record
        return {
            "content": {
                "id": record.id,
                "tenant_id": record.tenant_id,
                "flow": record.flow,
                "medium": record.medium,
                "media_type": record.media_type,
                "digest": record.digest,
                "size": record.size,
                "classification": record.classification,
                "labels": json.loads(record.labels),
                "jurisdictions": record.jurisdictions.split(","),
                "created_at": record.created_at,
            },
            "ledger_seq": record.ledger_seq,
            "ledger": self.entry.to_dict() if self.entry else None,
            "check": self.check.to_dict() if self.check else None,
        }


def trace(services: Services, watermark_id: str, *, tenant_id: str | None = None) -> list[Traced]:
    """The content records carrying ``watermark_id``, oldest first, each with its ledger entry.

    ``tenant_id`` limits the answer to one tenant's records (the API); None is every tenant's
    (the operator's CLI). Raises ``NotFound`` when there is none.
    """
    ident = parse_watermark_id(watermark_id)
    with services.db.session() as session:
        query = select(ContentRecord).where(ContentRecord.watermark_id == ident)
        if tenant_id is not None:
            query = query.where(ContentRecord.tenant_id == tenant_id)
        records = session.scalars(
            query.order_by(ContentRecord.created_at, ContentRecord.ledger_seq)
        ).all()
        found = []
        for record in records:
            entry = _entry(services, session, record.ledger_seq)
            check = _check(session, entry) if entry is not None else None
            found.append(Traced(record, entry, check))
    if not found:
        raise NotFound(f"no content carries the watermark id {ident}")
    return found


def _entry(services: Services, session: Session, seq: int) -> Entry | None:
    entries = services.ledger.entries(session, after=seq - 1, limit=1)
    return entries[0] if entries and entries[0].seq == seq else None


def _check(session: Session, entry: Entry) -> EntryCheck:
    following = session.scalar(
        select(LedgerEntry.prev_hash).where(LedgerEntry.seq == entry.seq + 1)
    )
    if following is None:
        head = session.get(LedgerHead, HEAD_ID)
        linked = head is not None and head.seq == entry.seq and head.hash == entry.hash
    else:
        linked = following == entry.hash
    return EntryCheck(entry.expected_hash() == entry.hash, linked)


# --- the public side: what the detector adds to an inspect report ---------------------------


def watermark_ids(report: Mapping[str, Any]) -> list[str]:
    """The watermark ids an inspect report found, in the order found, without repeats."""
    found: list[str] = []
    details: Iterable[Any] = [
        finding.get("detail")
        for finding in report.get("findings") or []
        if isinstance(finding, Mapping) and finding.get("scheme") == WATERMARK_SCHEME
    ]
    if not report.get("findings") and report.get(WATERMARK_SCHEME):
        details = [report[WATERMARK_SCHEME]]
    for detail in details:
        ident = detail.get("watermark_id") if isinstance(detail, Mapping) else None
        if isinstance(ident, str) and WATERMARK_ID.match(ident) and ident.lower() not in found:
            found.append(ident.lower())
    return found


def public_provenance(db: Database, report: Mapping[str, Any]) -> dict[str, Any] | None:
    """Where the file's watermark leads in this hallmark's store: the first generation's
    content id and time, and its ledger entry's seq and hash. None when nothing resolves."""
    idents = watermark_ids(report)
    if not idents:
        return None
    with db.session() as session:
        for ident in idents:
            record = session.scalars(
                select(ContentRecord)
                .where(ContentRecord.watermark_id == ident)
                .order_by(ContentRecord.created_at, ContentRecord.ledger_seq)
                .limit(1)
            ).first()
            if record is None:
                continue
            entry_hash = session.scalar(
                select(LedgerEntry.hash).where(LedgerEntry.seq == record.ledger_seq)
            )
            return {
                "watermark_id": ident,
                "content_id": record.id,
                "created_at": record.created_at,
                "ledger_seq": record.ledger_seq,
                "entry_hash": entry_hash,  # None once retention pruned the entry
            }
    return None


def with_provenance(db: Database | None, report: dict[str, Any]) -> dict[str, Any]:
    """The report with its ``provenance`` (None without a database or a resolving watermark);
    an error report (``{"file": ..., "error": ...}``) is returned as it is."""
    if "error" not in report:
        report["provenance"] = public_provenance(db, report) if db is not None else None
    return report


def open_existing(settings: Settings) -> Database | None:
    """The configured database when it exists at the current schema, else None.

    For read-only callers (``hallmark inspect``): it never creates nor migrates a database.
    """
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not path or path == ":memory:" or not Path(path).is_file():
            return None
    db = Database(url)
    if db.schema_revision() != SCHEMA_REVISION:
        db.dispose()
        return None
    return db
