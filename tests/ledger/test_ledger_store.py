"""The ledger in the database: appends verify, and any direct edit of a row is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from hallmark.errors import LedgerTampered, UserError
from hallmark.ledger.export import verify_export, write_export
from hallmark.ledger.retention import prune_per_policy
from hallmark.ledger.service import Ledger
from hallmark.services import Services


def fill(services: Services, n: int) -> None:
    with services.db.session() as session:
        for i in range(n):
            services.ledger.append(session, "test.event", {"i": i, "note": "审计"}, tenant_id="t1")


def verify(services: Services) -> tuple[bool, str | None, int | None]:
    with services.db.session() as session:
        report = services.ledger.verify(session)
    return report.ok, report.problem, report.bad_seq


def sql(services: Services, statement: str) -> None:
    with services.db.engine.begin() as connection:
        connection.exec_driver_sql(statement)


def test_fresh_ledger_verifies(services: Services) -> None:
    assert verify(services) == (True, None, None)


def test_appended_entries_verify(services: Services) -> None:
    fill(services, 20)
    ok, problem, _ = verify(services)
    assert ok, problem


def test_edited_row_is_caught_and_named(services: Services) -> None:
    fill(services, 10)
    sql(services, 'UPDATE ledger_entries SET payload = \'{"i":99,"note":"审计"}\' WHERE seq = 4')
    ok, problem, bad = verify(services)
    assert not ok and bad == 4 and "edited" in (problem or "")


def test_deleted_row_is_caught(services: Services) -> None:
    fill(services, 10)
    sql(services, "DELETE FROM ledger_entries WHERE seq = 6")
    ok, _, bad = verify(services)
    assert not ok and bad == 7


def test_deleted_last_row_is_caught_by_the_signed_head(services: Services) -> None:
    fill(services, 10)
    sql(services, "DELETE FROM ledger_entries WHERE seq = 10")
    ok, problem, bad = verify(services)
    assert not ok and bad == 10 and "deleted" in (problem or "")


def test_rewritten_head_is_caught(services: Services) -> None:
    fill(services, 5)
    sql(services, "DELETE FROM ledger_entries WHERE seq = 5")
    with services.db.session() as session:
        entry = services.ledger.entries(session, after=3)[0]
    sql(services, f"UPDATE ledger_head SET seq = 4, hash = '{entry.hash}' WHERE id = 1")
    ok, problem, _ = verify(services)
    assert not ok and "signature" in (problem or "")


def test_inserted_row_is_caught(services: Services) -> None:
    fill(services, 5)
    sql(
        services,
        "INSERT INTO ledger_entries (seq, created_at, tenant_id, kind, payload, prev_hash, hash) "
        "SELECT 6, created_at, tenant_id, kind, payload, hash, hash "
        "FROM ledger_entries WHERE seq = 5",
    )
    ok, _, bad = verify(services)
    assert not ok and bad == 6


def test_reordered_rows_are_caught(services: Services) -> None:
    fill(services, 6)
    # Swap the contents of entries 2 and 3, keeping their positions.
    sql(services, "UPDATE ledger_entries SET seq = 1000 WHERE seq = 2")
    sql(services, "UPDATE ledger_entries SET seq = 2 WHERE seq = 3")
    sql(services, "UPDATE ledger_entries SET seq = 3 WHERE seq = 1000")
    ok, _, bad = verify(services)
    assert not ok and bad == 2


def test_payload_is_stored_as_canonical_json(services: Services) -> None:
    with services.db.session() as session:
        services.ledger.append(session, "k", {"b": 1, "a": "中文"})
    with services.db.engine.connect() as connection:
        stored = connection.execute(text("SELECT payload FROM ledger_entries")).scalar_one()
    assert stored == '{"a":"中文","b":1}'


def aged_ledger(services: Services, days_old: int, n: int) -> Ledger:
    """A ledger whose clock says entries were written ``days_old`` days ago."""
    from datetime import UTC, datetime, timedelta

    when = (datetime.now(UTC) - timedelta(days=days_old)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    old = Ledger(services.ledger.signer, clock=lambda: when)
    with services.db.session() as session:
        for i in range(n):
            old.append(session, "old.event", {"i": i})
    return old


def test_pruning_leaves_a_verifiable_chain(services: Services) -> None:
    aged_ledger(services, 500, 5)
    fill(services, 3)
    checkpoint = prune_per_policy(services, 400)
    assert checkpoint is not None and checkpoint.upto_seq == 5
    with services.db.session() as session:
        assert services.ledger.count(session) == 4  # 3 recent + the ledger.pruned entry
        kinds = [e.kind for e in services.ledger.entries(session)]
    assert kinds[-1] == "ledger.pruned"
    assert verify(services)[0]


def test_pruning_below_the_policy_minimum_is_refused(services: Services) -> None:
    aged_ledger(services, 500, 2)
    with pytest.raises(UserError, match="below the policy minimum"):
        prune_per_policy(services, 30)


def test_forged_checkpoint_is_caught(services: Services) -> None:
    aged_ledger(services, 500, 5)
    fill(services, 2)
    prune_per_policy(services, 400)
    sql(services, "UPDATE ledger_checkpoints SET upto_seq = 4")
    ok, problem, _ = verify(services)
    assert not ok and "checkpoint" in (problem or "")


def test_pruning_a_tampered_ledger_is_refused(services: Services) -> None:
    aged_ledger(services, 500, 5)
    sql(services, "UPDATE ledger_entries SET kind = 'x' WHERE seq = 2")
    with pytest.raises(LedgerTampered):
        prune_per_policy(services, 400)


def test_export_verifies_offline_and_catches_edits(services: Services, tmp_path: Path) -> None:
    fill(services, 5)
    path = tmp_path / "ledger.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        assert write_export(services, handle) == 5
    assert verify_export(path).ok
    lines = path.read_text("utf-8").splitlines()
    record = json.loads(lines[3])
    record["payload"]["i"] = 42
    lines[3] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    report = verify_export(path)
    assert not report.ok and report.bad_seq == 3


def test_export_with_a_substituted_key_fails_when_the_key_is_pinned(
    services: Services, tmp_path: Path
) -> None:
    from hallmark.ledger.signing import Signer

    fill(services, 2)
    path = tmp_path / "ledger.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        write_export(services, handle)
    other = Signer.load_or_create(tmp_path / "other-keys")
    pinned = tmp_path / "other.pem"
    pinned.write_text(other.public_pem())
    assert not verify_export(path, pinned).ok
