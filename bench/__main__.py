"""``python -m bench``: find the ``bench/bench_*.py`` modules, run their cases, print the table.

python -m bench                  # every case, 7 timed calls per side
python -m bench -k ledger        # only cases whose name contains "ledger"
python -m bench --quick          # smaller cases, one timed call per side
python -m bench --json out.json  # also save the results and where they came from
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
from bench.harness import Case, Plan, print_report, report_json, run_all, select_cases

MODULE_PREFIX = "bench_"


def discover() -> list[Case[Any]]:
    """Every case of every ``bench/bench_*.py`` module, in module-name order."""
    cases: list[Case[Any]] = []
    for module_info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if module_info.name.startswith(MODULE_PREFIX):
            module = importlib.import_module(f"{bench.__name__}.{module_info.name}")
            cases.extend(module.CASES)
    return cases


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
) -> int:
    """Run the selected cases; 0 when every case ran or was skipped, 1 when one failed."""
    args = parse_args(argv)
    if console is None:
        # Piped into a log, rich would assume 80 columns and wrap the table.
        console = Console() if sys.stdout.isatty() else Console(width=120)
    selected = select_cases(discover() if cases is None else cases, args.substring)
    if not selected:
        console.print(f"no benchmark case matches -k {args.substring!r}")
        return 1
    plan = Plan.make(quick=args.quick, repeat=args.repeat)
    results = run_all(selected, plan, console=console)
    print_report(results, plan, console)
    if args.json is not None:
        args.json.write_text(json.dumps(report_json(results, plan), indent=2) + "\n")
        console.print(f"results saved to {args.json}")
    return 1 if any(result.status == "failed" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
