"""The flows and their stages: a whole create with the echo engine, and the lexicon screen.

``flows.create.echo``: ``run_create`` with the echo engine (policy, screen the prompt, echo,
screen the output, label, media store, ledger entry and content row) against the same echo plus
one plain INSERT of the output in its own transaction, on the same SQLite database. The ratio is
what the compliance around a generation costs when the model itself costs nothing.

``screen.lexicon.10kB``: the built-in lexicon screen over a 10 kB text against ``str.lower()``
and an ``in`` test for each of the same terms over the same text.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Column, LargeBinary, MetaData, String, Table, insert

from bench.harness import Case, Workspace
from hallmark.accounts.service import ensure_tenant, new_id
from hallmark.content import Content
from hallmark.engines.base import Engine, GenerationRequest
from hallmark.flows.create import CreateRequest, run_create
from hallmark.screen.lexicon import Lexicon, parse_lexicon
from hallmark.store.models import utcnow_iso

# The echo engine is a test fake (tests/fakes/echo.py), loaded through the plugin hook.
TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"
ECHO_PLUGIN = "fakes.echo"
TENANT = "bench"
TEXT_BYTES = 10_000

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


@dataclass(slots=True, frozen=True)
class ScreenState:
    lexicon: Lexicon
    terms: tuple[str, ...]
    content: Content
    text: str
    units: int


def sample_text(size: int, *, seed: int = 0) -> str:
    """About ``size`` bytes of UTF-8 prose, mostly English with some Chinese, and one
    profanity near the end so the screen finds a hit (found on the last pass over it)."""
    rng = random.Random(seed)
    words = [
        *("the", "a", "tea", "cup", "glaze", "kiln", "clay", "potter", "shelf", "morning"),
        *("light", "warm", "hand", "made", "small", "round", "blue", "green", "quiet"),
        *("table", "window", "garden", "steam", "pour", "leaf", "water", "stone", "slow"),
    ]
    chinese = ["茶杯在窗边。", "陶土与釉色。", "清晨的光很柔和。", "手工制作的小杯子。"]
    parts: list[str] = []
    size_so_far = 0
    while size_so_far < size - 40:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(6, 14))).capitalize()
        sentence += ". " if rng.random() < 0.8 else ". " + rng.choice(chinese)
        parts.append(sentence)
        size_so_far += len(sentence.encode("utf-8"))
    parts.append("Oh shit, the kiln went out.")
    return "".join(parts)


def setup_screen(units: int) -> ScreenState:
    source = resources.files("hallmark.screen").joinpath("lexicons/builtin.txt").read_text("utf-8")
    entries = parse_lexicon(source, "builtin.txt")
    text = sample_text(TEXT_BYTES)
    state = ScreenState(
        Lexicon(entries), tuple(term for _, term in entries), Content.from_text(text), text, units
    )
    found = {hit.term for hit in state.lexicon.find(state.content)}
    if found != {"shit"}:
        raise RuntimeError(f"the sample text should hit only 'shit', the lexicon found {found}")
    return state


def screen_with_lexicon(state: ScreenState) -> int:
    hits = 0
    for _ in range(state.units):
        hits += len(state.lexicon.find(state.content))
    return hits


def lower_and_search(state: ScreenState) -> int:
    hits = 0
    for _ in range(state.units):
        lowered = state.text.lower()
        hits += len([term for term in state.terms if term in lowered])
    return hits


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
    Case(
        name="screen.lexicon.10kB",
        measures=f"Lexicon.find (built-in lexicon) over a {TEXT_BYTES // 1000} kB text, "
        "English whole words by one regex, Chinese terms as substrings.",
        baseline_is="str.lower() of the same text and an `in` test for each of the same terms.",
        setup=setup_screen,
        ours=screen_with_lexicon,
        baseline=lower_and_search,
        units=100,
        quick_units=10,
        unit="screen",
    ),
]
