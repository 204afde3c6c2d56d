"""The platform: uploads that end in a post, in process and under load.

``platform.upload.photos``: the whole upload service per file (``hallmark.platform.uploads``:
create, three chunks each fsynced before its offset is committed, complete: SHA-256 check,
dedupe look-up, the receive flow (store the original, inspect every label scheme, OCR
included, classify, screen, record), the post and its ledger entry) on distinct unlabelled
640x480 PNG photos, against writing the same bytes to a file with fsync. The ratio is what the
platform costs over merely keeping the upload.

``platform.upload.chunks``: the chunk path alone in MiB (create, 8 MiB chunks appended and
fsynced with their offsets committed, then abort) against writing the same bytes to a file in
the same 8 MiB blocks with one fsync each: what the resumable protocol costs per byte.

The report ``platform.load``: concurrent uploads (4 clients, each create, three chunks,
complete, as fast as it can) for 2 minutes (``--quick``: 10 s) against a real ``hallmark serve``
on loopback through httpx, each on a distinct photo. It gives p50 and p99 latency per upload
(create to post), files/s and MB/s, and checks that no file was lost or corrupted: every post
is in the feed and its stored original has the digest of the bytes sent.
"""

from __future__ import annotations

import hashlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image
from rich.table import Table

from bench.harness import Case, Plan, Report, Skip, Workspace
from hallmark.accounts.service import create_key, ensure_tenant
from hallmark.platform.feed import Member
from hallmark.platform.uploads import (
    UploadRequest,
    abort_upload,
    append_chunk,
    complete_upload,
    create_upload,
)

TENANT = "bench"
CHUNKS_PER_PHOTO = 3
MIB = 1024 * 1024
CLIENTS = 4
LOAD_SECONDS = 120
LOAD_SECONDS_QUICK = 10
SEEDS = 1_000_000  # photo seeds per client: every upload distinct


def photo(seed: int, width: int = 640, height: int = 480) -> bytes:
    """A distinct photo-like PNG per seed (gradients and noise), so no upload is a duplicate."""
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
    base = np.stack([x * 200 + 30, y * 180 + 40, (1 - x) * 150 + y * 60], axis=2)
    pixels = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _split(data: bytes, parts: int) -> list[bytes]:
    step = -(-len(data) // parts)
    return [data[i : i + step] for i in range(0, len(data), step)]


def _write_fsynced(path: Path, blocks: list[bytes]) -> None:
    with path.open("wb") as handle:
        for block in blocks:
            handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())


@dataclass(slots=True)
class UploadState:
    workspace: Workspace
    member: Member
    files: list[bytes]
    scratch: Path
    units: int
    next_file: int = 0
    chunk_bytes: int = 8 * MIB


def _open(files: list[bytes], units: int) -> UploadState:
    workspace = Workspace.open()
    services = workspace.services
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, TENANT).id
    scratch = Path(workspace.home.name) / "baseline"
    scratch.mkdir()
    return UploadState(workspace, Member(tenant_id, "bench"), files, scratch, units)


def setup_photos(units: int) -> UploadState:
    # a fresh photo for every file of every call of either side (no dedupe short-cut)
    return _open([photo(seed) for seed in range(units * 20)], units)


def upload_photos(state: UploadState) -> None:
    services = state.workspace.services
    for _ in range(state.units):
        data = state.files[state.next_file % len(state.files)]
        state.next_file += 1
        status = create_upload(services, state.member, UploadRequest("p.png", len(data)))
        offset = 0
        for chunk in _split(data, CHUNKS_PER_PHOTO):
            offset = append_chunk(services, state.member, status.id, offset, chunk).offset
        complete_upload(services, state.member, status.id)


def write_photos(state: UploadState) -> None:
    for _ in range(state.units):
        data = state.files[state.next_file % len(state.files)]
        state.next_file += 1
        _write_fsynced(state.scratch / f"{state.next_file}.png", [data])


def setup_chunks(units: int) -> UploadState:
    rng = np.random.default_rng(units)
    return _open([rng.integers(0, 256, units * MIB, dtype=np.uint8).tobytes()], units)


def upload_chunks(state: UploadState) -> None:
    services, data = state.workspace.services, state.files[0]
    status = create_upload(services, state.member, UploadRequest("big.bin", len(data)))
    for offset in range(0, len(data), state.chunk_bytes):
        chunk = data[offset : offset + state.chunk_bytes]
        append_chunk(services, state.member, status.id, offset, chunk)
    abort_upload(services, state.member, status.id)


def write_chunks(state: UploadState) -> None:
    data = state.files[0]
    blocks = [data[i : i + state.chunk_bytes] for i in range(0, len(data), state.chunk_bytes)]
    _write_fsynced(state.scratch / "big.bin", blocks)


def teardown(state: UploadState) -> None:
    state.workspace.close()


CASES: list[Case[Any]] = [
    Case(
        name="platform.upload.photos",
        measures="the upload service per 640x480 PNG photo: create, 3 fsynced chunks, complete "
        "(SHA-256, dedupe, receive flow with every inspector, post, ledger entry), SQLite.",
        baseline_is="writing the same bytes to a file with fsync.",
        setup=setup_photos,
        ours=upload_photos,
        baseline=write_photos,
        teardown=teardown,
        units=4,
        quick_units=1,
        unit="file",
    ),
    Case(
        name="platform.upload.chunks",
        measures="the chunk path per MiB: create, 8 MiB chunks written and fsynced before "
        "their offsets are committed, abort.",
        baseline_is="writing the same bytes to a file in 8 MiB blocks, fsync after each.",
        setup=setup_chunks,
        ours=upload_chunks,
        baseline=write_chunks,
        teardown=teardown,
        units=64,
        quick_units=16,
        unit="MiB",
    ),
]


# --- the load test -------------------------------------------------------------------------


@dataclass(slots=True)
class LoadResults:
    latencies: list[float] = field(default_factory=list)
    sent: dict[str, str] = field(default_factory=dict)  # post id -> hex digest sent
    bytes_sent: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(base: str, token: str, seeds: range, deadline: float, results: LoadResults) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    chunk_headers = {**headers, "Content-Type": "application/offset+octet-stream"}
    with httpx.Client(base_url=base, timeout=300) as client:
        for seed in seeds:
            if time.monotonic() >= deadline:
                return
            data = photo(seed, 320, 240)
            digest = hashlib.sha256(data).hexdigest()
            started = time.perf_counter()
            try:
                body = {"filename": f"{seed}.png", "size": len(data), "sha256": digest}
                created = client.post("/v1/uploads", json=body, headers=headers)
                created.raise_for_status()
                upload_id, offset = created.json()["id"], 0
                for chunk in _split(data, CHUNKS_PER_PHOTO):
                    put = client.put(
                        f"/v1/uploads/{upload_id}",
                        params={"offset": offset},
                        content=chunk,
                        headers=chunk_headers,
                    )
                    put.raise_for_status()
                    offset = put.json()["offset"]
                done = client.post(f"/v1/uploads/{upload_id}/complete", headers=headers)
                done.raise_for_status()
            except httpx.HTTPError as exc:
                with results.lock:
                    results.errors.append(f"{seed}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            with results.lock:
                results.latencies.append(elapsed)
                results.sent[done.json()["id"]] = digest
                results.bytes_sent += len(data)


def _wait_for(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start in 120 s")


def _verify(home: Path, base: str, token: str, results: LoadResults) -> tuple[int, int]:
    """Posts missing from the feed, and stored originals whose bytes do not match."""
    listed: set[str] = set()
    cursor: str | None = None
    with httpx.Client(base_url=base, timeout=60) as client:
        while True:
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = client.get(
                "/v1/feed", params=params, headers={"Authorization": f"Bearer {token}"}
            ).json()
            listed |= {post["id"] for post in page["posts"]}
            cursor = page["next_cursor"]
            if cursor is None:
                break
    lost = sum(1 for post_id in results.sent if post_id not in listed)
    corrupted = 0
    for digest in results.sent.values():
        path = home / "media" / "sha256" / digest[:2] / digest[2:]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            corrupted += 1
    return lost, corrupted


def build_load(plan: Plan) -> tuple[Table, dict[str, Any]]:
    seconds = LOAD_SECONDS_QUICK if plan.quick else LOAD_SECONDS
    with tempfile.TemporaryDirectory(prefix="hallmark-bench-load-") as folder:
        home = Path(folder)
        env = {key: value for key, value in os.environ.items() if not key.startswith("HALLMARK_")}
        env |= {"HALLMARK_HOME": str(home), "HALLMARK_WORKER_THREADS": "0"}
        from hallmark.services import build_services
        from hallmark.settings import Settings

        services = build_services(Settings(home=home, worker_threads=0, plugins=""))
        with services.db.session() as session:
            token = create_key(session, services.ledger, tenant_name=TENANT, role="creator").token
        services.close()

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = home / "server.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "hallmark.cli.main", "serve", "--port", str(port)],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            try:
                _wait_for(base, process, log)
            except RuntimeError as exc:
                raise Skip(str(exc)) from exc
            results = LoadResults()
            started = time.monotonic()
            deadline = started + seconds
            threads = [
                threading.Thread(
                    target=_client,
                    args=(base, token, range(n * SEEDS, (n + 1) * SEEDS), deadline, results),
                )
                for n in range(CLIENTS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.monotonic() - started
            lost, corrupted = _verify(home, base, token, results)
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    done = len(results.latencies)
    latencies = sorted(results.latencies)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else p50
    data = {
        "seconds": seconds,
        "wall_s": wall,
        "clients": CLIENTS,
        "uploads": done,
        "errors": len(results.errors),
        "error_samples": results.errors[:5],
        "p50_s": p50,
        "p99_s": p99,
        "max_s": latencies[-1] if latencies else None,
        "files_per_s": done / wall,
        "mb_per_s": results.bytes_sent / wall / 1e6,
        "lost": lost,
        "corrupted": corrupted,
    }
    table = Table(
        title=f"platform load: {CLIENTS} clients uploading 320x240 PNGs for {seconds} s to "
        "`hallmark serve` on loopback (create, 3 chunks, complete each)"
    )
    for column in ("uploads", "errors", "p50", "p99", "max", "files/s", "MB/s", "lost", "corrupt"):
        table.add_column(column, justify="right")
    table.add_row(
        str(done),
        str(len(results.errors)),
        f"{p50:.2f} s",
        f"{p99:.2f} s",
        f"{data['max_s'] or 0:.2f} s",
        f"{data['files_per_s']:.2f}",
        f"{data['mb_per_s']:.2f}",
        str(lost),
        str(corrupted),
    )
    return table, data


REPORTS = [Report("platform.load", build_load)]
