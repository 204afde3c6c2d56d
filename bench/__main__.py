"""``python -m bench``: find the ``bench/bench_*.py`` modules, run their cases, print the table.

python -m bench                  # every case, 7 timed calls per side
python -m bench -k ledger        # only cases whose name contains "ledger"
python -m bench --quick          # smaller cases, one timed call per side
python -m bench --json out.json  # also save the results and where they came from

A module may also list ``REPORTS`` (``bench.harness.Report``): tables printed after the
timings, for what a time ratio cannot show, selected by ``-k`` like cases.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

import bench
from bench.harness import (
    Case,
    Plan,
    Report,
    Skip,
    print_report,
    report_json,
    run_all,
    select_cases,
    select_reports,
)

MODULE_PREFIX = "bench_"


def _modules() -> list[Any]:
    return [
        importlib.import_module(f"{bench.__name__}.{module_info.name}")
        for module_info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name)
        if module_info.name.startswith(MODULE_PREFIX)
    ]


def discover() -> list[Case[Any]]:
    """Every case of every ``bench/bench_*.py`` module, in module-name order."""
    cases: list[Case[Any]] = []
    for module in _modules():
        cases.extend(module.CASES)
    return cases


def discover_reports() -> list[Report]:
    """The extra tables (``REPORTS``) of the modules that have them."""
    reports: list[Report] = []
    for module in _modules():
        reports.extend(getattr(module, "REPORTS", []))
    return reports


def run_reports(
    reports: Sequence[Report], plan: Plan, console: Console
) -> tuple[dict[str, Any], bool]:
    """Print each report's table; its data by name, and whether one failed."""
    data: dict[str, Any] = {}
    failed = False
    for report in reports:
        console.print(f"[dim]running {report.name} ...[/dim]")
        try:
            table, data[report.name] = report.build(plan)
        except Skip as exc:
            console.print(f"[bold]{report.name}[/bold]: [yellow]skipped[/yellow]: {exc}")
            continue
        except Exception as exc:
            console.print(f"[bold]{report.name}[/bold]: [yellow]failed[/yellow]: {exc!r}")
            failed = True
            continue
        console.print(table)
    return data, failed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time hallmark's capabilities against baselines measured in the same run.",
    )
    parser.add_argument(
        "-k", dest="substring", metavar="SUBSTRING", help="run only cases whose name contains it"
    )
    parser.add_argument(
        "--repeat", type=int, metavar="N", help="timed calls per side (default 7; 1 with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run: smaller cases, no warm-up"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save the results here")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(
    argv: Sequence[str] | None = None,
    *,
    cases: Sequence[Case[Any]] | None = None,
    console: Console | None = None,
    reports: Sequence[Report] | None = None,
) -> int:
    """Run the selected cases, then the selected reports; 0 when every case ran or was
    skipped, 1 when one failed. Given ``cases`` and no ``reports``, no report is run."""
    args = parse_args(argv)
    if console is None:
        # Piped into a log, rich would assume 80 columns and wrap the table.
        console = Console() if sys.stdout.isatty() else Console(width=120)
    if reports is None:
        reports = discover_reports() if cases is None else []
    selected = select_cases(discover() if cases is None else cases, args.substring)
    selected_reports = select_reports(reports, args.substring)
    if not selected and not selected_reports:
        console.print(f"no benchmark case matches -k {args.substring!r}")
        return 1
    plan = Plan.make(quick=args.quick, repeat=args.repeat)
    results = run_all(selected, plan, console=console)
    if results:
        print_report(results, plan, console)
    extra, report_failed = run_reports(selected_reports, plan, console)
    if args.json is not None:
        args.json.write_text(json.dumps(report_json(results, plan, extra), indent=2) + "\n")
        console.print(f"results saved to {args.json}")
    return 1 if report_failed or any(result.status == "failed" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
