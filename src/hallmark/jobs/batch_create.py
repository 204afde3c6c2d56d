"""Job kind ``create.batch``: run the create flow over many prompts, resuming after a crash."""

from __future__ import annotations

from typing import Any, ClassVar

from hallmark.errors import HallmarkError, UserError
from hallmark.flows.create import CreateRequest, run_create
from hallmark.jobs.kinds import JobContext, JobKind, Progress
from hallmark.registry import Components
from hallmark.services import Services

MAX_PROMPTS = 10_000


class BatchCreate(JobKind):
    name: ClassVar[str] = "create.batch"
    permission: ClassVar[str] = "content:create"

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        prompts = params.get("prompts")
        if not isinstance(prompts, list) or not prompts:
            raise UserError("params.prompts must be a non-empty list of strings")
        if len(prompts) > MAX_PROMPTS:
            raise UserError(f"params.prompts holds more than {MAX_PROMPTS} prompts")
        if not all(isinstance(p, str) and p.strip() for p in prompts):
            raise UserError("every prompt in params.prompts must be a non-empty string")
        engine = params.get("engine")
        if not isinstance(engine, str) or not engine:
            raise UserError("params.engine must name an engine")
        jurisdictions = params.get("jurisdictions")
        if jurisdictions is not None and not (
            isinstance(jurisdictions, list) and all(isinstance(j, str) for j in jurisdictions)
        ):
            raise UserError("params.jurisdictions must be a list of jurisdiction codes")
        language = params.get("language")
        if language is not None and not isinstance(language, str):
            raise UserError("params.language must be a string")
        return {
            "prompts": prompts,
            "engine": engine,
            "jurisdictions": jurisdictions,
            "language": language,
        }

    def run(self, services: Services, job: JobContext, progress: Progress) -> dict[str, Any]:
        params = job.params
        prompts: list[str] = params["prompts"]
        items: list[dict[str, Any]] = list((job.partial or {}).get("items", []))
        total = len(prompts)
        for index in range(len(items), total):
            request = CreateRequest(
                prompt=prompts[index],
                engine=params["engine"],
                jurisdictions=tuple(params["jurisdictions"]) if params["jurisdictions"] else None,
                language=params["language"],
            )
            try:
                outcome = run_create(services, job.tenant_id, request)
                items.append({"index": index, "ok": True, "content_id": outcome.content_id})
            except HallmarkError as exc:
                items.append({"index": index, "ok": False, "error": exc.to_dict()["error"]})
            progress((index + 1) / total, f"{index + 1}/{total} prompts", {"items": items})
        succeeded = sum(1 for item in items if item["ok"])
        return {"items": items, "succeeded": succeeded, "failed": total - succeeded}


def register(components: Components) -> None:
    components.job_kinds.register(BatchCreate.name, BatchCreate())
