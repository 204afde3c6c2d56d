"""The create flow: policy -> screen(input) -> engine -> screen(output) -> mark -> ledger.

Every stage is a plain function of typed data; the flow refuses before generating anything when
the policy asks for a label no marker can write, and every refusal is itself a ledger entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hallmark.accounts.service import new_id
from hallmark.content import Content, Medium
from hallmark.engines.base import Engine, GenerationRequest
from hallmark.errors import MissingMarker, UserError
from hallmark.flows.common import (
    label_context,
    label_or_refuse,
    language_for,
    policy_for,
    record_content,
    record_refusal,
    screen_or_refuse,
)
from hallmark.mark.base import EXPLICIT, plan_labels
from hallmark.screen.base import Decision
from hallmark.services import Services
from hallmark.store.media import digest_of
from hallmark.store.models import utcnow_iso

MAX_PROMPT_CHARS = 100_000


@dataclass(slots=True, frozen=True)
class CreateRequest:
    prompt: str
    engine: str
    medium: Medium = "text"
    jurisdictions: tuple[str, ...] | None = None
    language: str | None = None
    minor: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class CreateOutcome:
    content_id: str
    content: Content
    jurisdictions: tuple[str, ...]
    input_decision: Decision
    output_decision: Decision
    labels: tuple[str, ...]
    ledger_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.content_id,
            "medium": self.content.medium,
            "media_type": self.content.media_type,
            "text": self.content.text if self.content.medium == "text" else None,
            "digest": digest_of(self.content.data),
            "jurisdictions": list(self.jurisdictions),
            "screening": {
                "input": self.input_decision.to_dict(),
                "output": self.output_decision.to_dict(),
            },
            "labels": list(self.labels),
            "ledger_seq": self.ledger_seq,
        }


def run_create(
    services: Services,
    tenant_id: str,
    request: CreateRequest,
    *,
    engine: Engine | None = None,
) -> CreateOutcome:
    """Run the flow with the registered engine ``request.engine``, or with ``engine`` itself:
    in-process makers (the studio's renders) whose work cannot be named in a request."""
    if not request.prompt.strip():
        raise UserError("prompt is empty")
    if len(request.prompt) > MAX_PROMPT_CHARS:
        raise UserError(f"prompt is longer than {MAX_PROMPT_CHARS} characters")
    components = services.components
    if engine is None:
        engine = components.engines.get(request.engine)
    if request.medium not in engine.media:
        raise UserError(
            f"engine {engine.name!r} makes {', '.join(sorted(engine.media))}, not {request.medium}"
        )
    with services.db.session() as session:
        policy = policy_for(services, session, tenant_id, request.jurisdictions)
    language = language_for(policy, request.language)
    prompt_digest = digest_of(request.prompt.encode("utf-8"))
    base = {
        "engine": engine.name,
        "medium": request.medium,
        "jurisdictions": list(policy.jurisdictions),
        "prompt_digest": prompt_digest,
    }

    try:
        plan = plan_labels(policy, request.medium, components.markers)
    except MissingMarker as exc:
        raise record_refusal(services, tenant_id, "create.refused", base, exc) from None

    prompt = Content.from_text(request.prompt)
    input_decision = screen_or_refuse(
        services,
        tenant_id,
        "create.blocked",
        base,
        prompt,
        policy,
        what="the prompt",
        stage="input",
        language=language,
        minor=request.minor,
    )

    wording = policy.label_text(language)
    explicit = any(marker.scheme == EXPLICIT for marker in plan)
    output = engine.generate(
        GenerationRequest(
            request.prompt,
            request.medium,
            language,
            dict(request.options),
            label_wording=wording if explicit else None,
        )
    )
    output_decision = screen_or_refuse(
        services,
        tenant_id,
        "create.blocked",
        {**base, "output_digest": digest_of(output.data)},
        output,
        policy,
        what="the output",
        stage="output",
        language=language,
        minor=request.minor,
    )

    content_id = new_id()
    created_at = utcnow_iso()
    context = label_context(
        services,
        policy,
        language,
        wording,
        content_id=content_id,
        created_at=created_at,
        system=f"{engine.name}-{engine.version}",
    )
    output, labels = label_or_refuse(
        services, tenant_id, "create.refused", base, output, plan, context
    )
    screening = {"input": input_decision.to_dict(), "output": output_decision.to_dict()}
    _, seq = record_content(
        services,
        tenant_id,
        flow="create",
        content_id=content_id,
        created_at=created_at,
        content=output,
        labels=labels,
        classification="confirmed",
        decision=output_decision.action,
        jurisdictions=policy.jurisdictions,
        payload={**base, "screening": screening},
        digest_key="output_digest",
    )
    return CreateOutcome(
        content_id,
        output,
        policy.jurisdictions,
        input_decision,
        output_decision,
        labels,
        seq,
    )
