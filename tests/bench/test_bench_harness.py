"""The benchmark harness on tiny fake cases: the runner prints the table and computes ratios.

Nothing here asserts on how long anything takes; the ratio checks use a fake clock.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from bench.__main__ import discover, discover_reports, main
from bench.harness import Case, Plan, Skip, run_case
from rich.console import Console


@dataclass
class FakeState:
    units: int
    calls: dict[str, int] = field(default_factory=lambda: {"ours": 0, "baseline": 0})
    torn_down: bool = False


def sum_case(name: str = "fake.sum", **changes: Any) -> Case[FakeState]:
    """A case whose "ours" sums twice as many numbers as its baseline."""
    case: Case[FakeState] = Case(
        name=name,
        measures="summing twice as many numbers.",
        baseline_is="summing half as many.",
        setup=FakeState,
        ours=lambda state: sum(range(2_000 * state.units)),
        baseline=lambda state: sum(range(1_000 * state.units)),
        units=10,
        quick_units=2,
        unit="sum",
        teardown=lambda state: setattr(state, "torn_down", True),
    )
    return replace(case, **changes)


def run_main(args: list[str], cases: list[Case[FakeState]]) -> tuple[int, str]:
    buffer = io.StringIO()
    code = main(args, cases=cases, console=Console(file=buffer, width=200))
    return code, buffer.getvalue()


def test_quick_run_prints_the_table_and_saves_ratios(tmp_path: Path) -> None:
    saved = tmp_path / "results.json"
    code, out = run_main(["--quick", "--json", str(saved)], [sum_case()])

    assert code == 0
    assert "ratio" in out and "fake.sum" in out and "2 sum" in out
    report = json.loads(saved.read_text())
    assert report["plan"] == {"repeat": 1, "warmup": 0, "quick": True}
    (result,) = report["results"]
    assert result["status"] == "ok" and result["units_per_call"] == 2
    assert len(result["ours_s"]) == len(result["baseline_s"]) == 1
    assert result["ratio"] == result["ours_median_s"] / result["baseline_median_s"]
    assert result["ours_per_s"] == 2 / result["ours_median_s"]
    assert f"{result['ratio']:.2f}x" in out


def test_ratio_median_and_throughput_come_from_the_clock() -> None:
    now = [0.0]

    def advance(seconds: float) -> None:
        now[0] += seconds

    case = sum_case(
        ours=lambda state: advance(0.004), baseline=lambda state: advance(0.002), units=8
    )
    result = run_case(case, Plan(repeat=3, warmup=1), clock=lambda: now[0])

    assert result.ours == pytest.approx([0.004] * 3)
    assert result.baseline == pytest.approx([0.002] * 3)
    assert result.ratio == pytest.approx(2.0)
    assert result.ours_throughput == pytest.approx(8 / 0.004)
    assert result.baseline_throughput == pytest.approx(8 / 0.002)


def test_repeat_and_warmup_calls_alternate_and_teardown_runs() -> None:
    seen: list[FakeState] = []

    def setup(units: int) -> FakeState:
        seen.append(FakeState(units))
        return seen[-1]

    def count(side: str) -> object:
        return lambda state: state.calls.__setitem__(side, state.calls[side] + 1)

    case = sum_case(setup=setup, ours=count("ours"), baseline=count("baseline"))
    run_case(case, Plan.make(repeat=4))

    (state,) = seen
    assert state.units == 10  # the full size outside --quick
    assert state.calls == {"ours": 5, "baseline": 5}  # one warm-up + four timed, each side
    assert state.torn_down


def test_skipped_case_is_reported_and_a_failed_one_fails_the_run() -> None:
    def skip(units: int) -> FakeState:
        raise Skip("no server here")

    def boom(state: FakeState) -> None:
        raise ValueError("broken")

    failing = FakeState(1)
    cases = [
        sum_case("fake.skipped", setup=skip),
        sum_case("fake.failing", setup=lambda units: failing, ours=boom),
    ]
    code, out = run_main(["--quick"], cases)

    assert code == 1
    assert "skipped: no server here" in out
    assert "failed: ValueError: broken" in out
    assert failing.torn_down


def test_k_selects_cases_by_substring() -> None:
    code, out = run_main(["--quick", "-k", "wanted"], [sum_case("fake.wanted"), sum_case()])
    assert code == 0 and "fake.wanted" in out and "fake.sum" not in out

    code, out = run_main(["--quick", "-k", "nothing"], [sum_case()])
    assert code == 1 and "no benchmark case matches" in out


def test_discovery_finds_the_project_benchmarks() -> None:
    cases = discover()
    names = [case.name for case in cases]
    assert len(names) == len(set(names))
    assert {"ledger.append.sqlite", "ledger.verify.sqlite", "flows.create.echo"} <= set(names)
    assert {"watermark.audio.embed.wav", "watermark.audio.embed.mp3"} <= set(names)
    reports = [report.name for report in discover_reports()]
    assert {"watermark.robustness", "watermark.audio.robustness"} <= set(reports)
    for case in cases:
        assert case.measures and case.baseline_is and case.units > 0
        assert case.units_for(quick=True) <= case.units
