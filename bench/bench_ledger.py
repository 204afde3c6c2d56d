"""The audit ledger: appending entries and verifying the chain.

``ledger.append.sqlite``: appends, each in its own transaction as the flows do, against plain
INSERTs of the same canonical-JSON row into a plain table with the same columns and indexes,
through the same ``Database.session()`` (so the same engine, WAL, ``synchronous=FULL`` and one
commit per row). The ratio is what chaining, signing and the head lock cost.

``ledger.append.postgres``: the same on the PostgreSQL server named by
HALLMARK_BENCH_DATABASE_URL, in a throwaway database; skipped when that is unset.

``ledger.verify.sqlite``: ``Ledger.verify`` over a 10,000-entry chain against reading the same
rows and hashing each payload once with SHA-256. The ratio is the verification overhead.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bench.harness import Case, Skip, Workspace
from hallmark.ledger.chain import canonical_json, entry_hash, head_message
from hallmark.ledger.service import HEAD_ID
from hallmark.store.models import LedgerEntry, LedgerHead, utcnow_iso

POSTGRES_ENV = "HALLMARK_BENCH_DATABASE_URL"
TENANT_ID = "0" * 31 + "1"
KIND = "bench.event"
PLACEHOLDER_HASH = "sha256:" + "0" * 64
FILL_BATCH = 1000

_metadata = MetaData()
# The baseline's table: ledger_entries' columns and indexes, without the chain around them.
plain_rows = Table(
    "bench_plain_rows",
    _metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", String(32), index=True),
    Column("tenant_id", String(32), index=True),
    Column("kind", String(64)),
    Column("payload", Text),
    Column("prev_hash", String(80)),
    Column("hash", String(80)),
)


def event_payload(n: int) -> dict[str, Any]:
    """An entry shaped like the create flow's (about 400 bytes of canonical JSON)."""
    decision = {"action": "allow", "categories": [], "reasons": []}
    return {
        "engine": "echo",
        "medium": "text",
        "jurisdictions": ["cn", "eu", "us-ca"],
        "prompt_digest": "sha256:" + hashlib.sha256(str(n).encode()).hexdigest(),
        "content_id": f"{n:032x}",
        "output_digest": "sha256:" + hashlib.sha256(str(-n).encode()).hexdigest(),
        "labels": ["explicit"],
        "screening": {"input": decision, "output": decision},
        "note": "审计",
    }


@dataclass(slots=True)
class AppendState:
    workspace: Workspace
    units: int
    next_event: int = 0
    next_plain_seq: int = 0
    admin: Engine | None = None  # PostgreSQL: the server connection that drops the database
    database: str | None = None


def _open_append(units: int, database_url: str | None = None) -> AppendState:
    workspace = Workspace.open(database_url=database_url)
    _metadata.create_all(workspace.services.db.engine)
    return AppendState(workspace, units)


def setup_append_sqlite(units: int) -> AppendState:
    return _open_append(units)


def setup_append_postgres(units: int) -> AppendState:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        raise Skip(f"set {POSTGRES_ENV} to a PostgreSQL server URL to run this case")
    try:
        server = make_url(url)
    except ArgumentError as exc:
        raise Skip(f"{POSTGRES_ENV} is not a database URL: {exc}") from exc
    if server.get_backend_name() != "postgresql":
        raise Skip(f"{POSTGRES_ENV} names a {server.get_backend_name()} database, not PostgreSQL")
    name = f"hm_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        admin.dispose()
        where = server.render_as_string(hide_password=True)
        raise Skip(f"PostgreSQL at {where} is not usable: {exc.orig}") from exc
    try:
        state = _open_append(units, server.set(database=name).render_as_string(hide_password=False))
    except BaseException:
        _drop_database(admin, name)
        raise
    state.admin, state.database = admin, name
    return state


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def teardown_append(state: AppendState) -> None:
    state.workspace.close()
    if state.admin is not None and state.database is not None:
        _drop_database(state.admin, state.database)


def append_entries(state: AppendState) -> None:
    services = state.workspace.services
    for _ in range(state.units):
        with services.db.session() as session:
            services.ledger.append(
                session, KIND, event_payload(state.next_event), tenant_id=TENANT_ID
            )
        state.next_event += 1


def insert_plain_rows(state: AppendState) -> None:
    db = state.workspace.services.db
    for _ in range(state.units):
        state.next_plain_seq += 1
        with db.session() as session:
            session.execute(
                insert(plain_rows).values(
                    seq=state.next_plain_seq,
                    created_at=utcnow_iso(),
                    tenant_id=TENANT_ID,
                    kind=KIND,
                    payload=canonical_json(event_payload(state.next_plain_seq)),
                    prev_hash=PLACEHOLDER_HASH,
                    hash=PLACEHOLDER_HASH,
                )
            )


@dataclass(slots=True)
class VerifyState:
    workspace: Workspace
    units: int


def fill_chain(workspace: Workspace, count: int) -> None:
    """Write ``count`` chained entries and the signed head as ``Ledger.append`` would, in bulk.

    Appending 10,000 entries one by one would take most of the run's time budget; the rows
    written here are the same, and setup verifies them before anything is timed.
    """
    services = workspace.services
    with services.db.session() as session:
        head = session.get(LedgerHead, HEAD_ID)
        if head is None:
            raise RuntimeError("the ledger head row is missing after migration")
        seq, prev_hash = head.seq, head.hash
        rows: list[dict[str, Any]] = []
        for n in range(count):
            seq += 1
            created_at = utcnow_iso()
            payload = event_payload(n)
            digest = entry_hash(
                seq=seq,
                created_at=created_at,
                tenant_id=TENANT_ID,
                kind=KIND,
                payload=payload,
                prev_hash=prev_hash,
            )
            rows.append(
                {
                    "seq": seq,
                    "created_at": created_at,
                    "tenant_id": TENANT_ID,
                    "kind": KIND,
                    "payload": canonical_json(payload),
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
            )
            prev_hash = digest
            if len(rows) == FILL_BATCH:
                session.execute(insert(LedgerEntry), rows)
                rows = []
        if rows:
            session.execute(insert(LedgerEntry), rows)
        head.seq, head.hash = seq, prev_hash
        head.signature = services.ledger.signer.sign(head_message(seq, prev_hash))


def setup_verify(units: int) -> VerifyState:
    workspace = Workspace.open()
    try:
        fill_chain(workspace, units)
        state = VerifyState(workspace, units)
        verify_chain(state)
    except BaseException:
        workspace.close()
        raise
    return state


def verify_chain(state: VerifyState) -> None:
    services = state.workspace.services
    with services.db.session() as session:
        report = services.ledger.verify(session)
    if not report.ok or report.checked != state.units:
        raise RuntimeError(f"the benchmark chain does not verify: {report.to_dict()}")


def hash_payloads(state: VerifyState) -> None:
    with state.workspace.services.db.session() as session:
        rows = session.execute(select(LedgerEntry.__table__).order_by(LedgerEntry.seq))
        checked = 0
        for row in rows:
            hashlib.sha256(row.payload.encode()).digest()
            checked += 1
    if checked != state.units:
        raise RuntimeError(f"read {checked} rows, expected {state.units}")


def teardown_verify(state: VerifyState) -> None:
    state.workspace.close()


def _append_case(name: str, where: str, setup: Callable[[int], AppendState]) -> Case[AppendState]:
    return Case(
        name=name,
        measures=f"Ledger.append, one transaction per entry ({where}).",
        baseline_is="a plain INSERT of the same canonical-JSON row into a table with the same "
        "columns and indexes, one transaction per row, same engine and settings.",
        setup=setup,
        ours=append_entries,
        baseline=insert_plain_rows,
        teardown=teardown_append,
        units=100,
        quick_units=20,
        unit="entry",
    )


CASES: list[Case[Any]] = [
    _append_case("ledger.append.sqlite", "SQLite, WAL, synchronous=FULL", setup_append_sqlite),
    _append_case(
        "ledger.append.postgres", f"PostgreSQL from {POSTGRES_ENV}", setup_append_postgres
    ),
    Case(
        name="ledger.verify.sqlite",
        measures="Ledger.verify over the whole chain: re-hash every entry, check the links "
        "and the signed head (SQLite).",
        baseline_is="read the same rows and compute one SHA-256 over each payload.",
        setup=setup_verify,
        ours=verify_chain,
        baseline=hash_payloads,
        teardown=teardown_verify,
        units=10_000,
        quick_units=1_000,
        unit="entry",
    ),
]
