"""Ledger exports for auditors (JSON Lines) and their offline verification.

Line 1 is a header with the signer's public key and the pruning checkpoint, then one line per
entry, then the signed head. Anyone with the file (and, to pin it, the public key) can verify.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from hallmark.errors import UserError
from hallmark.ledger.chain import Entry
from hallmark.ledger.service import Checkpoint, VerifyReport, verify_entries
from hallmark.ledger.signing import Verifier
from hallmark.store.models import utcnow_iso

if TYPE_CHECKING:
    from hallmark.services import Services

FORMAT = "hallmark-ledger-export/1"


def write_export(services: Services, handle: TextIO) -> int:
    ledger = services.ledger
    count = 0
    with services.db.session() as session:
        checkpoint = ledger.latest_checkpoint(session)
        header = {
            "type": "header",
            "format": FORMAT,
            "exported_at": utcnow_iso(),
            "public_key": ledger.signer.public_pem(),
            "checkpoint": checkpoint.to_dict() if checkpoint else None,
        }
        handle.write(json.dumps(header, ensure_ascii=False) + "\n")
        for entry in ledger.iter_all(session):
            handle.write(
                json.dumps({"type": "entry", **entry.to_dict()}, ensure_ascii=False) + "\n"
            )
            count += 1
        seq, hash_, signature = ledger.head(session)
    handle.write(
        json.dumps({"type": "head", "seq": seq, "hash": hash_, "signature": signature}) + "\n"
    )
    return count


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise UserError(f"{path}:{number}: expected a JSON object")
            yield record


def verify_export(path: Path, public_key: Path | None = None) -> VerifyReport:
    records = list(_read_lines(path))
    if not records or records[0].get("type") != "header" or records[0].get("format") != FORMAT:
        raise UserError(f"{path} is not a hallmark ledger export ({FORMAT})")
    if records[-1].get("type") != "head":
        raise UserError(f"{path} is truncated: its last line is not the signed head")
    header, head = records[0], records[-1]
    try:
        pem = public_key.read_text() if public_key else str(header["public_key"])
        verifier = Verifier.from_pem(pem)
        checkpoint = Checkpoint(**header["checkpoint"]) if header.get("checkpoint") else None
        entries = [
            Entry(
                seq=int(r["seq"]),
                created_at=str(r["created_at"]),
                tenant_id=r.get("tenant_id"),
                kind=str(r["kind"]),
                payload=r["payload"],
                prev_hash=str(r["prev_hash"]),
                hash=str(r["hash"]),
            )
            for r in records[1:-1]
        ]
        head_tuple = (int(head["seq"]), str(head["hash"]), str(head["signature"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: malformed export ({exc})") from exc
    return verify_entries(entries, checkpoint=checkpoint, head=head_tuple, verifier=verifier)
