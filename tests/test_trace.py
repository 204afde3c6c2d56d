"""A watermark id resolves to the content records carrying it and their ledger entries."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import update

from hallmark.accounts.service import ensure_tenant
from hallmark.errors import NotFound, ValidationFailed
from hallmark.flows.mark import MarkOutcome, MarkRequest, run_mark
from hallmark.flows.receive import ReceiveRequest, run_receive
from hallmark.mark.report import inspect_bytes
from hallmark.mark.watermark.attacks import synthetic_scene
from hallmark.services import Services
from hallmark.settings import Settings
from hallmark.store.models import LedgerEntry
from hallmark.trace import (
    open_existing,
    parse_watermark_id,
    public_provenance,
    trace,
    watermark_ids,
    with_provenance,
)


def png(seed: int = 3) -> bytes:
    buffer = io.BytesIO()
    synthetic_scene(seed, 320, 256).save(buffer, "PNG")
    return buffer.getvalue()


def tenant(services: Services, name: str = "acme") -> str:
    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, name).id


def mark_image(services: Services, tenant_id: str, seed: int = 3) -> tuple[MarkOutcome, str]:
    request = MarkRequest(png(seed), filename="a.png", jurisdictions=("cn",), explicit=False)
    outcome = run_mark(services, tenant_id, request)
    return outcome, outcome.content.metadata["watermark"]["id"]


def test_a_marked_image_traces_to_its_record_and_entry(services: Services) -> None:
    outcome, ident = mark_image(services, tenant(services))
    (found,) = trace(services, ident)
    assert found.record.id == outcome.content_id and found.record.watermark_id == ident
    assert found.entry is not None and found.entry.seq == outcome.ledger_seq
    assert found.entry.kind == "mark" and found.entry.payload["watermark"]["id"] == ident
    assert found.check is not None and found.check.hash_matches and found.check.linked
    body = found.to_dict()
    assert body["ledger"]["hash"] == found.entry.hash and body["content"]["medium"] == "image"


def test_a_received_copy_keeps_the_mark_and_both_records_come_oldest_first(
    services: Services,
) -> None:
    made, ident = mark_image(services, tenant(services))
    received = run_receive(
        services,
        tenant(services, "globex"),
        ReceiveRequest(made.content.data, "image/png", jurisdictions=("cn",)),
    )
    assert received.content.metadata["watermark"]["existing"] is True
    assert [t.record.id for t in trace(services, ident)] == [made.content_id, received.content_id]
    only_globex = trace(services, ident.upper(), tenant_id=tenant(services, "globex"))
    assert [t.record.flow for t in only_globex] == ["receive"]
    with pytest.raises(NotFound):
        trace(services, ident, tenant_id=tenant(services, "initech"))


def test_a_tampered_entry_fails_its_check(services: Services) -> None:
    outcome, ident = mark_image(services, tenant(services))
    mark_image(services, tenant(services), seed=4)  # a later entry links to this one
    with services.db.session() as session:
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.seq == outcome.ledger_seq)
            .values(kind="mark.nothing")
        )
    (found,) = trace(services, ident)
    assert found.check is not None
    assert not found.check.hash_matches and found.check.linked


def test_unknown_and_malformed_ids(services: Services) -> None:
    with pytest.raises(NotFound, match="0123456789ab"):
        trace(services, "0123456789AB")
    for bad in ("", "0123456789a", "0123456789abc", "0123456789ag", "../etc/passwd"):
        with pytest.raises(ValidationFailed, match="12 hexadecimal digits"):
            parse_watermark_id(bad)


def test_the_public_provenance_of_an_inspected_file(services: Services) -> None:
    made, ident = mark_image(services, tenant(services))
    report = inspect_bytes(services.components, made.content.data, quick=True)
    assert watermark_ids(report) == [ident]
    with services.db.session() as session:
        (entry,) = services.ledger.entries(session, after=made.ledger_seq - 1, limit=1)
    assert public_provenance(services.db, report) == {
        "watermark_id": ident,
        "content_id": made.content_id,
        "created_at": trace(services, ident)[0].record.created_at,
        "ledger_seq": made.ledger_seq,
        "entry_hash": entry.hash,
    }
    unmarked = inspect_bytes(services.components, png(5), quick=True)
    assert with_provenance(services.db, unmarked)["provenance"] is None
    assert with_provenance(None, report)["provenance"] is None
    failed = {"file": "x.bin", "error": {"code": "bad_request", "message": "unsupported"}}
    assert with_provenance(services.db, dict(failed)) == failed


def test_open_existing_never_creates_a_database(tmp_path: Path, services: Services) -> None:
    fresh = Settings(home=tmp_path / "nowhere", database_url=None)
    assert open_existing(fresh) is None
    assert not (tmp_path / "nowhere").exists()
    existing = open_existing(services.settings)
    assert existing is not None
    existing.dispose()
