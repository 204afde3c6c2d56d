"""Small helpers shared by tests (importable because tests/ is on pythonpath)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

HALLMARK_CLI = [sys.executable, "-m", "hallmark.cli.main"]

MakeKey = Callable[..., str]
"""The make_key fixture: make_key(role="creator", tenant="acme") -> a bearer token."""


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HALLMARK_CLI, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
