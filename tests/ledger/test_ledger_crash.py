"""kill -9 of the server while it writes ledger entries loses no committed entry."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx
import pytest

from hallmark.services import build_services
from hallmark.settings import Settings
from helpers import auth, run_cli
from server import running_server

pytestmark = pytest.mark.slow


def test_kill_9_during_writes_loses_no_acknowledged_entry(
    settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    token = run_cli(["keys", "create", "--role", "creator"], cli_env).stdout.strip()
    acknowledged: list[tuple[int, str]] = []
    lock = threading.Lock()
    enough = threading.Event()

    with running_server(cli_env, tmp_path / "server.log") as (base, process):

        def hammer(worker: int) -> None:
            with httpx.Client(base_url=base, headers=auth(token), timeout=10) as http:
                for i in range(10_000):
                    try:
                        response = http.post(
                            "/v1/create",
                            json={"prompt": f"worker {worker} item {i}", "engine": "echo"},
                        )
                    except httpx.TransportError:
                        return  # the server is gone
                    if response.status_code == 200:
                        body = response.json()
                        with lock:
                            acknowledged.append((body["ledger_seq"], body["id"]))
                            if len(acknowledged) >= 60:
                                enough.set()

        threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        assert enough.wait(120), "the server acknowledged too few requests"
        process.send_signal(signal.SIGKILL)  # mid-stream: other requests are in flight
        process.wait()
        for thread in threads:
            thread.join(30)

    services = build_services(settings)
    try:
        with services.db.session() as session:
            seqs = {entry.seq: entry for entry in services.ledger.entries(session)}
            report = services.ledger.verify(session)
        assert report.ok, report.problem
        for seq, content_id in acknowledged:
            assert seq in seqs, f"acknowledged entry {seq} was lost"
            assert seqs[seq].payload["content_id"] == content_id
    finally:
        services.close()
    result = run_cli(["ledger", "verify"], cli_env)
    assert result.returncode == 0, result.stderr
