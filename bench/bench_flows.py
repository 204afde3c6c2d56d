"""The flows: a whole create with the echo engine (the lexicon screen is in bench_screen).

``flows.create.echo``: ``run_create`` with the echo engine (policy, screen the prompt, echo,
screen the output, label, media store, ledger entry and content row) against the same echo plus
one plain INSERT of the output in its own transaction, on the same SQLite database. The ratio is
what the compliance around a generation costs when the model itself costs nothing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, LargeBinary, MetaData, String, Table, insert

from bench.harness import Case, Workspace
from hallmark.accounts.service import ensure_tenant, new_id
from hallmark.engines.base import Engine, GenerationRequest
from hallmark.flows.create import CreateRequest, run_create
from hallmark.store.models import utcnow_iso

# The echo engine is a test fake (tests/fakes/echo.py), loaded through the plugin hook.
TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"
ECHO_PLUGIN = "fakes.echo"
TENANT = "bench"

_metadata = MetaData()
# The baseline's table: just the output, no screening, labels or ledger.
plain_outputs = Table(
    "bench_plain_outputs",
    _metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(32)),
    Column("data", LargeBinary),
    Column("created_at", String(32)),
)


def prompt(n: int) -> str:
    """A distinct prompt per call, so the media store writes a new file every time."""
    return (
        "Write a short, friendly product description for a hand-made ceramic tea cup, "
        f"two sentences, calm tone, no superlatives. Request number {n}."
    )


@dataclass(slots=True)
class CreateState:
    workspace: Workspace
    tenant_id: str
    engine: Engine
    units: int
    next_prompt: int = 0


def setup_create(units: int) -> CreateState:
    if str(TESTS_DIR) not in sys.path:
        sys.path.append(str(TESTS_DIR))
    workspace = Workspace.open(plugins=(ECHO_PLUGIN,))
    services = workspace.services
    try:
        _metadata.create_all(services.db.engine)
        with services.db.session() as session:
            tenant_id = ensure_tenant(session, services.ledger, TENANT).id
        engine = services.components.engines.get("echo")
    except BaseException:
        workspace.close()
        raise
    return CreateState(workspace, tenant_id, engine, units)


def create_with_compliance(state: CreateState) -> None:
    services = state.workspace.services
    for _ in range(state.units):
        state.next_prompt += 1
        run_create(
            services,
            state.tenant_id,
            CreateRequest(prompt=prompt(state.next_prompt), engine="echo"),
        )


def echo_and_insert(state: CreateState) -> None:
    db = state.workspace.services.db
    for _ in range(state.units):
        state.next_prompt += 1
        output = state.engine.generate(GenerationRequest(prompt(state.next_prompt)))
        with db.session() as session:
            session.execute(
                insert(plain_outputs).values(
                    id=new_id(),
                    tenant_id=state.tenant_id,
                    data=output.data,
                    created_at=utcnow_iso(),
                )
            )


def teardown_create(state: CreateState) -> None:
    state.workspace.close()


CASES: list[Case[Any]] = [
    Case(
        name="flows.create.echo",
        measures="run_create with the echo engine: policy, screen in, echo, screen out, "
        "explicit label, media store (fsync), ledger entry and content row (SQLite).",
        baseline_is="the same echo and one plain INSERT of the output, in its own transaction.",
        setup=setup_create,
        ours=create_with_compliance,
        baseline=echo_and_insert,
        teardown=teardown_create,
        units=25,
        quick_units=5,
        unit="create",
    ),
]
