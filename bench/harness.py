"""The benchmark harness: a ``Case`` times our code against a baseline in the same run.

A case builds its state once (``setup``), then the harness calls ``ours(state)`` and
``baseline(state)`` alternately: a warm-up, then ``repeat`` timed calls of each. It reports the
median time of each, their ratio (ours / baseline: 1.0 is parity, 3.0 is three times slower)
and the throughput in units of work per second. Only ratios measured in one run compare; the
absolute times depend on the machine.
"""

from __future__ import annotations

import gc
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from rich.console import Console
from rich.table import Table

from hallmark.services import Services, build_services
from hallmark.settings import Settings

S = TypeVar("S")
Clock = Callable[[], float]
Status = Literal["ok", "skipped", "failed"]


class Skip(Exception):
    """Raised by a case's ``setup`` when the case cannot run here; the message says why."""


@dataclass(slots=True, frozen=True)
class Case(Generic[S]):
    """One benchmark: our code and its baseline doing the same units of work per call.

    ``setup(units)`` builds the state for calls of ``units`` units each (``quick_units`` in a
    ``--quick`` run); ``teardown(state)``, when given, runs after the case even if it failed.
    """

    name: str
    measures: str
    baseline_is: str
    setup: Callable[[int], S]
    ours: Callable[[S], object]
    baseline: Callable[[S], object]
    units: int
    unit: str = "op"
    quick_units: int | None = None
    teardown: Callable[[S], None] | None = None

    def units_for(self, quick: bool) -> int:
        return self.quick_units if quick and self.quick_units is not None else self.units


@dataclass(slots=True, frozen=True)
class Plan:
    """How to run: timed calls per side, untimed warm-up calls, and the quick switch."""

    repeat: int = 7
    warmup: int = 1
    quick: bool = False

    @classmethod
    def make(cls, *, quick: bool = False, repeat: int | None = None) -> Plan:
        if quick:
            return cls(repeat=repeat or 1, warmup=0, quick=True)
        return cls(repeat=repeat or 7, warmup=1, quick=False)


@dataclass(slots=True)
class Result:
    name: str
    measures: str
    baseline_is: str
    unit: str
    units: int
    status: Status = "ok"
    note: str = ""
    ours: list[float] = field(default_factory=list)  # seconds per call, one per repeat
    baseline: list[float] = field(default_factory=list)

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def ratio(self) -> float:
        return self.ours_median / self.baseline_median

    @property
    def ours_throughput(self) -> float:
        """Units of work per second."""
        return self.units / self.ours_median

    @property
    def baseline_throughput(self) -> float:
        return self.units / self.baseline_median

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "measures": self.measures,
            "baseline_is": self.baseline_is,
            "unit": self.unit,
            "units_per_call": self.units,
            "status": self.status,
            "note": self.note,
            "ours_s": self.ours,
            "baseline_s": self.baseline,
        }
        if self.status == "ok":
            data |= {
                "ours_median_s": self.ours_median,
                "baseline_median_s": self.baseline_median,
                "ratio": self.ratio,
                "ours_per_s": self.ours_throughput,
                "baseline_per_s": self.baseline_throughput,
            }
        return data


def _timed(call: Callable[[S], object], state: S, clock: Clock) -> float:
    """One call's wall time, with the garbage collector held off as timeit does."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = clock()
        call(state)
        return clock() - start
    finally:
        if was_enabled:
            gc.enable()


def run_case(case: Case[Any], plan: Plan, clock: Clock = time.perf_counter) -> Result:
    """Set up, warm up, then time ours and the baseline alternately ``plan.repeat`` times."""
    units = case.units_for(plan.quick)
    result = Result(case.name, case.measures, case.baseline_is, case.unit, units)
    try:
        state = case.setup(units)
    except Skip as exc:
        result.status, result.note = "skipped", str(exc)
        return result
    except Exception as exc:
        result.status, result.note = "failed", f"setup: {type(exc).__name__}: {exc}"
        return result
    try:
        for _ in range(plan.warmup):
            case.ours(state)
            case.baseline(state)
        for index in range(plan.repeat):
            # Alternate which side goes first, so neither always runs on a warmer cache.
            if index % 2:
                result.baseline.append(_timed(case.baseline, state, clock))
                result.ours.append(_timed(case.ours, state, clock))
            else:
                result.ours.append(_timed(case.ours, state, clock))
                result.baseline.append(_timed(case.baseline, state, clock))
    except Exception as exc:
        result.status, result.note = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        if case.teardown is not None:
            case.teardown(state)
    return result


def select_cases(cases: Iterable[Case[Any]], substring: str | None) -> list[Case[Any]]:
    """The cases whose name contains ``substring`` (all of them when it is empty)."""
    return [case for case in cases if not substring or substring in case.name]


@dataclass(slots=True, frozen=True)
class Report:
    """A table a benchmark module prints after the timings, for what a time ratio cannot
    show (the watermark's robustness, say). ``build(plan)`` returns the table and the same
    numbers as plain data for ``--json``; it may raise ``Skip``. Modules list theirs in
    ``REPORTS``; ``-k`` selects them by name like cases."""

    name: str
    build: Callable[[Plan], tuple[Table, dict[str, Any]]]


def select_reports(reports: Iterable[Report], substring: str | None) -> list[Report]:
    return [report for report in reports if not substring or substring in report.name]


def run_all(
    cases: Sequence[Case[Any]],
    plan: Plan,
    *,
    console: Console | None = None,
    clock: Clock = time.perf_counter,
) -> list[Result]:
    results = []
    for case in cases:
        if console is not None:
            console.print(f"[dim]running {case.name} ...[/dim]")
        results.append(run_case(case, plan, clock))
    return results


def _three_digits(value: float) -> str:
    """Three significant digits, trailing zeros kept: 2.00, 65.8, 658."""
    decimals = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{decimals}f}"


def format_seconds(seconds: float) -> str:
    for scale, suffix in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{_three_digits(seconds / scale)} {suffix}"
    return f"{_three_digits(seconds / 1e-9)} ns"


def format_rate(per_second: float) -> str:
    if per_second >= 100:
        return f"{per_second:,.0f}/s"
    return f"{_three_digits(per_second)}/s"


def results_table(results: Sequence[Result], plan: Plan) -> Table:
    """Times are per unit of work; throughput is units per second."""
    table = Table(
        title="hallmark benchmarks: ours against a baseline timed in the same run",
        caption=(
            f"median of {plan.repeat} timed call(s) per side after {plan.warmup} warm-up; "
            "ratio = ours / baseline (lower is better, 1.0 is parity)"
        ),
    )
    table.add_column("case", style="bold", no_wrap=True)
    table.add_column("units/call", justify="right")
    table.add_column("ours", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("ratio", justify="right", style="bold")
    table.add_column("ours rate", justify="right")
    table.add_column("baseline rate", justify="right")
    for result in results:
        if result.status != "ok":
            table.add_row(result.name, f"{result.units:,} {result.unit}", result.status)
            continue
        table.add_row(
            result.name,
            f"{result.units:,} {result.unit}",
            format_seconds(result.ours_median / result.units),
            format_seconds(result.baseline_median / result.units),
            f"{result.ratio:.2f}x",
            format_rate(result.ours_throughput),
            format_rate(result.baseline_throughput),
        )
    return table


def print_report(results: Sequence[Result], plan: Plan, console: Console) -> None:
    console.print(results_table(results, plan))
    for result in results:
        console.print(
            f"[bold]{result.name}[/bold]: {result.measures} "
            f"[dim]Baseline: {result.baseline_is}[/dim]"
        )
        if result.status != "ok":
            console.print(f"  [yellow]{result.status}[/yellow]: {result.note}")


def environment() -> dict[str, Any]:
    """Where the numbers came from, saved with them."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }


def report_json(
    results: Sequence[Result], plan: Plan, reports: dict[str, Any] | None = None
) -> dict[str, Any]:
    data = {
        "environment": environment(),
        "plan": {"repeat": plan.repeat, "warmup": plan.warmup, "quick": plan.quick},
        "results": [result.to_dict() for result in results],
    }
    if reports:
        data["reports"] = reports
    return data


@dataclass(slots=True)
class Workspace:
    """A throwaway hallmark for one case: its own HALLMARK_HOME in a temp folder.

    Settings are given explicitly, so a HALLMARK_* variable in the environment never points a
    benchmark at a real database; the job worker stays off (``worker_threads=0``).
    """

    services: Services
    home: tempfile.TemporaryDirectory[str]

    @classmethod
    def open(cls, *, database_url: str | None = None, plugins: tuple[str, ...] = ()) -> Workspace:
        home = tempfile.TemporaryDirectory(prefix="hallmark-bench-")
        settings = Settings(
            home=Path(home.name), database_url=database_url, worker_threads=0, plugins=""
        )
        try:
            services = build_services(settings, plugins=plugins)
        except BaseException:
            home.cleanup()
            raise
        return cls(services, home)

    def close(self) -> None:
        self.services.close()
        self.home.cleanup()
