"""Jobs in the database: submit, read, claim, report progress, finish, recover after a crash."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hallmark.accounts.service import new_id
from hallmark.errors import NotFound, UserError
from hallmark.registry import Components
from hallmark.store.models import Job, utcnow_iso

STATES = ("queued", "running", "succeeded", "failed")
MAX_ATTEMPTS = 3


@dataclass(slots=True, frozen=True)
class JobView:
    id: str
    tenant_id: str
    kind: str
    state: str
    progress: float
    message: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(
            id=job.id,
            tenant_id=job.tenant_id,
            kind=job.kind,
            state=job.state,
            progress=job.progress,
            message=job.message,
            params=json.loads(job.params),
            result=json.loads(job.result) if job.result else None,
            error=json.loads(job.error) if job.error else None,
            attempts=job.attempts,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )

    @property
    def done(self) -> bool:
        return self.state in ("succeeded", "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": self.progress,
            "message": self.message,
            "params": self.params,
            "result": self.result if self.state == "succeeded" else None,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def submit(
    session: Session, components: Components, tenant_id: str, kind: str, params: Any
) -> JobView:
    if not isinstance(params, dict):
        raise UserError("job params must be a JSON object")
    job_kind = components.job_kinds.get(kind)
    params = job_kind.validate(params)
    now = utcnow_iso()
    job = Job(
        id=new_id(),
        tenant_id=tenant_id,
        kind=kind,
        params=json.dumps(params, ensure_ascii=False),
        state="queued",
        progress=0.0,
        message="queued",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return JobView.of(job)


def get(session: Session, job_id: str, tenant_id: str | None) -> JobView:
    job = session.get(Job, job_id, populate_existing=True)
    # Another tenant's job answers exactly like a missing one.
    if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
        raise NotFound(f"no job {job_id!r}")
    return JobView.of(job)


def list_jobs(
    session: Session, tenant_id: str | None, *, state: str | None = None, limit: int = 50
) -> list[JobView]:
    if state is not None and state not in STATES:
        raise UserError(f"unknown job state {state!r}; choose one of: {', '.join(STATES)}")
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Job.tenant_id == tenant_id)
    if state is not None:
        query = query.where(Job.state == state)
    return [JobView.of(job) for job in session.scalars(query)]


def claim_next(session: Session) -> JobView | None:
    """Move the oldest queued job to running; safe against other workers claiming it too."""
    candidates = session.scalars(
        select(Job.id).where(Job.state == "queued").order_by(Job.created_at).limit(5)
    ).all()
    for job_id in candidates:
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == "queued")
            .values(
                state="running",
                attempts=Job.attempts + 1,
                message="started",
                updated_at=utcnow_iso(),
            )
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            session.flush()
            return get(session, job_id, None)
    return None


def report(
    session: Session,
    job_id: str,
    progress: float,
    message: str,
    partial: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {
        "progress": max(0.0, min(1.0, progress)),
        "message": message,
        "updated_at": utcnow_iso(),
    }
    if partial is not None:
        values["result"] = json.dumps(partial, ensure_ascii=False)
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def finish(
    session: Session,
    job_id: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {"updated_at": utcnow_iso()}
    if error is None:
        values.update(state="succeeded", progress=1.0, message="done")
        values["result"] = json.dumps(result or {}, ensure_ascii=False)
    else:
        values.update(state="failed", message=error.get("message", "failed"))
        values["error"] = json.dumps(error, ensure_ascii=False)
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def recover_interrupted(session: Session) -> int:
    """Jobs left running by a crashed process go back to the queue (or fail after 3 tries)."""
    requeued = session.execute(
        update(Job)
        .where(Job.state == "running", Job.attempts < MAX_ATTEMPTS)
        .values(state="queued", message="requeued after an interruption", updated_at=utcnow_iso())
    )
    session.execute(
        update(Job)
        .where(Job.state == "running")
        .values(
            state="failed",
            message=f"interrupted {MAX_ATTEMPTS} times",
            error=json.dumps(
                {"code": "interrupted", "message": f"interrupted {MAX_ATTEMPTS} times"}
            ),
            updated_at=utcnow_iso(),
        )
    )
    return int(requeued.rowcount)  # type: ignore[attr-defined]
