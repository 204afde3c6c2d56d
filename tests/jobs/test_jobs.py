"""Jobs persist, report progress, and survive a crash: interrupted work resumes where it stopped."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from hallmark.accounts.service import ensure_tenant
from hallmark.errors import UnknownComponent, UserError
from hallmark.jobs import service
from hallmark.jobs.worker import Worker, run_job, run_pending
from hallmark.services import Services
from hallmark.store.models import Job


def submit(services: Services, prompts: list[str]) -> service.JobView:
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, "acme").id
        return service.submit(
            session,
            services.components,
            tenant_id,
            "create.batch",
            {"prompts": prompts, "engine": "echo"},
        )


def test_batch_job_runs_to_completion_with_results(services: Services) -> None:
    job = submit(services, ["a", "b", "c"])
    assert job.state == "queued"
    assert run_pending(services) == 1
    with services.db.session() as session:
        done = service.get(session, job.id, None)
    assert done.state == "succeeded" and done.progress == 1.0
    assert done.result is not None and done.result["succeeded"] == 3


def test_interrupted_job_resumes_without_redoing_finished_items(services: Services) -> None:
    job = submit(services, ["a", "b", "c"])
    with services.db.session() as session:
        claimed = service.claim_next(session)
    assert claimed is not None and claimed.id == job.id
    # The process "crashes" after item 0 was saved as partial progress.
    partial = {"items": [{"index": 0, "ok": True, "content_id": "earlier"}]}
    with services.db.session() as session:
        service.report(session, job.id, 1 / 3, "1/3 prompts", partial)
    with services.db.session() as session:
        assert service.recover_interrupted(session) == 1
        requeued = service.get(session, job.id, None)
    assert requeued.state == "queued" and requeued.attempts == 1
    run_pending(services)
    with services.db.session() as session:
        done = service.get(session, job.id, None)
        created = [e for e in services.ledger.entries(session) if e.kind == "create"]
    assert done.state == "succeeded" and done.attempts == 2
    assert done.result is not None and done.result["items"][0]["content_id"] == "earlier"
    assert len(created) == 2  # only items 1 and 2 ran again


def test_job_interrupted_three_times_fails_instead_of_looping(services: Services) -> None:
    job = submit(services, ["a"])
    with services.db.session() as session:
        session.execute(update(Job).where(Job.id == job.id).values(state="running", attempts=3))
    with services.db.session() as session:
        service.recover_interrupted(session)
        failed = service.get(session, job.id, None)
    assert failed.state == "failed" and failed.error is not None


def test_item_errors_are_results_not_job_failures(services: Services) -> None:
    job = submit(services, ["a"])
    with services.db.session() as session:
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(
                params=json.dumps(
                    {"prompts": ["a"], "engine": "gone", "jurisdictions": None, "language": None}
                )
            )
        )
        claimed = service.claim_next(session)
    assert claimed is not None
    finished = run_job(services, claimed)
    assert finished.state == "succeeded"  # per-item errors are results, not job failures
    assert finished.result is not None and finished.result["failed"] == 1


def test_worker_thread_picks_up_submitted_jobs(services: Services) -> None:
    worker = Worker(services, threads=1, poll_seconds=0.05)
    worker.start()
    try:
        job = submit(services, ["x", "y"])
        worker.wake()
        import time

        deadline = time.monotonic() + 20
        while True:
            with services.db.session() as session:
                state = service.get(session, job.id, None).state
            if state == "succeeded":
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.05)
    finally:
        worker.stop()


def test_bad_job_params_are_user_errors(services: Services) -> None:
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, "acme").id
        with pytest.raises(UnknownComponent):
            service.submit(session, services.components, tenant_id, "nope", {})
        with pytest.raises(UserError, match="prompts"):
            service.submit(
                session, services.components, tenant_id, "create.batch", {"prompts": [1]}
            )
        with pytest.raises(UserError, match="engine"):
            service.submit(
                session, services.components, tenant_id, "create.batch", {"prompts": ["a"]}
            )
