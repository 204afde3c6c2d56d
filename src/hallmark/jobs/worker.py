"""The in-process job worker: threads that claim queued jobs and run them."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from hallmark.errors import HallmarkError
from hallmark.jobs import service
from hallmark.jobs.kinds import JobContext
from hallmark.services import Services

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.2  # seconds between progress writes; the final state is always written


def run_job(services: Services, job: service.JobView) -> service.JobView:
    """Run one claimed job to its end, recording progress and the outcome."""
    kind = services.components.job_kinds.get(job.kind)
    last_write = 0.0

    def progress(fraction: float, message: str, partial: dict[str, Any] | None = None) -> None:
        nonlocal last_write
        now = time.monotonic()
        if partial is None and now - last_write < PROGRESS_INTERVAL:
            return
        last_write = now
        with services.db.session() as session:
            service.report(session, job.id, fraction, message, partial)

    context = JobContext(job.id, job.tenant_id, job.params, job.result)
    error: dict[str, str] | None
    try:
        result = kind.run(services, context, progress)
    except HallmarkError as exc:
        error = {"code": exc.code, "message": exc.message}
    except Exception as exc:  # a bug in a job kind must not kill the worker
        log.exception("job %s (%s) failed", job.id, job.kind)
        error = {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}
    else:
        error = None
    with services.db.session() as session:
        if error is None:
            service.finish(session, job.id, result=result)
        else:
            service.finish(session, job.id, error=error)
        return service.get(session, job.id, None)


def run_pending(services: Services) -> int:
    """Run queued jobs until none is left (the CLI uses this; the server uses ``Worker``)."""
    ran = 0
    while True:
        with services.db.session() as session:
            job = service.claim_next(session)
        if job is None:
            return ran
        run_job(services, job)
        ran += 1


class Worker:
    def __init__(self, services: Services, threads: int, poll_seconds: float) -> None:
        self.services = services
        self.threads = threads
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        with self.services.db.session() as session:
            requeued = service.recover_interrupted(session)
        if requeued:
            log.info("requeued %d interrupted job(s)", requeued)
        for number in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"hallmark-job-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self.services.db.session() as session:
                    job = service.claim_next(session)
                if job is not None:
                    run_job(self.services, job)
                    continue
            except Exception:
                log.exception("job worker error")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
