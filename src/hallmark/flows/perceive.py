"""The perceive flow: a grounded answer about an image, a sound or a video.

question screened -> perceivers find things -> an answer composed from the findings -> its
phrases grounded to boxes and time spans -> the answer screened -> the overlay (boxes on the
image, or the sound's timeline) made through the create flow, so it leaves labeled and logged.

The file itself is the user's: it is read, never changed or stored. What leaves is the answer
(text, screened, with the policy's notice beside it so the entities' offsets stay true) and
the overlay picture (an artifact hallmark made: screened, labeled, one ``create`` entry).
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

from hallmark import __version__
from hallmark.content import Content, Medium
from hallmark.engines.base import Engine, GenerationRequest
from hallmark.engines.llm.base import helper_engine
from hallmark.errors import PayloadTooLarge, UpstreamError, UserError
from hallmark.flows.common import language_for, policy_for, screen_or_refuse
from hallmark.flows.create import CreateOutcome, CreateRequest, run_create
from hallmark.media_types import medium_for, sniff
from hallmark.perception.answer import compose
from hallmark.perception.base import (
    Entity,
    Finding,
    PerceivedMedium,
    Perceiver,
    Perception,
    PerceptionInput,
)
from hallmark.perception.grounding import ground
from hallmark.perception.overlay import draw_overlay, draw_timeline
from hallmark.screen.base import Decision
from hallmark.services import Services
from hallmark.store.media import digest_of

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 2000
PERCEIVABLE: dict[Medium, PerceivedMedium] = {"image": "image", "audio": "audio", "video": "video"}


@dataclass(slots=True, frozen=True)
class PerceiveRequest:
    data: bytes
    filename: str | None = None
    declared_type: str | None = None
    question: str | None = None
    jurisdictions: tuple[str, ...] | None = None
    language: str | None = None


@dataclass(slots=True, frozen=True)
class PerceiveOutcome:
    perception: Perception
    notice: str  # the policy's explicit label for the answer, shown beside it
    answer_decision: Decision
    overlay: CreateOutcome  # the labeled overlay picture, stored as content
    notes: tuple[str, ...] = ()  # perceivers that failed and were left out

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.perception.to_dict(),
            "notice": self.notice,
            "screening": self.answer_decision.to_dict(),
            "overlay": {
                "id": self.overlay.content_id,
                "media_type": self.overlay.content.media_type,
                "labels": list(self.overlay.labels),
                "ledger_seq": self.overlay.ledger_seq,
            },
            "jurisdictions": list(self.overlay.jurisdictions),
            "notes": list(self.notes),
        }


class _Overlay(Engine):
    """The create flow's engine for one answer: hands back the overlay already drawn."""

    name: ClassVar[str] = "perception"
    media: ClassVar[frozenset[Medium]] = frozenset({"image"})
    version: ClassVar[str] = __version__

    def __init__(self, picture: Image.Image) -> None:
        self._picture = picture

    def generate(self, request: GenerationRequest) -> Content:
        buffer = io.BytesIO()
        self._picture.convert("RGB").save(buffer, format="PNG")
        return Content("image", "image/png", buffer.getvalue())


def perceivers_for(services: Services, medium: PerceivedMedium) -> list[Perceiver]:
    """The registered perceivers of ``medium``: the bundled ones, and any configured bigger
    model (registered only when configured), all of them asked."""
    chosen = [p for p in services.components.perceivers if medium in p.media]
    if not chosen:
        raise UserError(f"no perceiver for {medium} is registered")
    return chosen


def run_perceive(
    services: Services,
    tenant_id: str,
    request: PerceiveRequest,
    *,
    progress: Callable[[float, str], None] | None = None,
) -> PerceiveOutcome:
    show = progress or (lambda share, what: None)
    limit = services.settings.max_upload_bytes
    if len(request.data) > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes")
    question = (request.question or "").strip() or None
    if question is not None and len(question) > MAX_QUESTION_CHARS:
        raise UserError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    media_type = sniff(request.data, request.declared_type or request.filename)
    medium = PERCEIVABLE.get(medium_for(media_type))
    if medium is None:
        raise UserError(f"perception reads images, audio and video, not {media_type}")
    with services.db.session() as session:
        policy = policy_for(services, session, tenant_id, request.jurisdictions)
    language = language_for(policy, request.language or _language_of(question))
    base = {
        "medium": medium,
        "media_type": media_type,
        "input_digest": digest_of(request.data),
        "jurisdictions": list(policy.jurisdictions),
    }
    if question is not None:
        screen_or_refuse(
            services,
            tenant_id,
            "perceive.blocked",
            base,
            Content.from_text(question),
            policy,
            what="the question",
            stage="input",
            language=language,
        )

    show(0.05, "perceiving")
    with tempfile.TemporaryDirectory(prefix="hallmark-perceive-") as folder:
        path = Path(folder) / _safe_name(request.filename)  # errors name the user's file
        path.write_bytes(request.data)
        source = PerceptionInput(path, media_type)
        measured = _measure(source, medium)
        findings, notes = _findings(services, source, medium, question)
        show(0.6, "answering")
        chat = helper_engine(
            services.components,
            services.settings.perception_chat_engine,
            "HALLMARK_PERCEPTION_CHAT_ENGINE",
        )
        answer = compose(
            findings,
            medium,
            question,
            chat,
            language,
            size=measured.size,
            duration=measured.duration,
        )
        entities = ground(answer, findings)
        picture = _overlay(source, medium, measured, findings, entities)
    perception = Perception(
        medium,
        answer,
        tuple(entities),
        tuple(findings),
        width=measured.size[0] if measured.size else None,
        height=measured.size[1] if measured.size else None,
        duration=measured.duration,
    )
    show(0.8, "screening the answer")
    decision = screen_or_refuse(
        services,
        tenant_id,
        "perceive.blocked",
        base,
        Content.from_text(answer),
        policy,
        what="the answer",
        stage="output",
        language=language,
    )
    overlay = run_create(
        services,
        tenant_id,
        CreateRequest(
            prompt=question or f"perceive {medium}",
            engine=_Overlay.name,
            medium="image",
            jurisdictions=policy.jurisdictions,
            language=language,
        ),
        engine=_Overlay(picture),
    )
    show(1.0, "done")
    return PerceiveOutcome(perception, policy.label_text(language), decision, overlay, tuple(notes))


def _language_of(question: str | None) -> str | None:
    """The answer's language when none is asked for: the question's (zh when it is mostly
    Han characters, else en); without a question, the policy's."""
    if question is None:
        return None
    from hallmark.studio.captions import detect_language

    return "zh" if detect_language(question) == "zh" else "en"


def _safe_name(filename: str | None) -> str:
    """The upload's base name with only safe characters, or ``input``."""
    base = re.split(r"[\\/]", filename or "")[-1]
    cleaned = re.sub(r"[^\w.-]", "_", base).lstrip(".")[:80]
    return cleaned or "input"


def _findings(
    services: Services, source: PerceptionInput, medium: PerceivedMedium, question: str | None
) -> tuple[list[Finding], list[str]]:
    """Every perceiver's findings. A bigger model that fails (down, slow, an unreadable
    reply) is noted and left out while a bundled perceiver still answers."""
    perceivers = perceivers_for(services, medium)
    findings: list[Finding] = []
    notes: list[str] = []
    for perceiver in perceivers:
        try:
            findings.extend(perceiver.perceive(source, question))
        except UpstreamError as exc:
            if len(perceivers) == 1:
                raise
            log.warning("perceiver %s failed: %s", perceiver.name, exc.message)
            notes.append(f"{perceiver.name}: {exc.message}")
    return findings, notes


@dataclass(slots=True, frozen=True)
class _Measured:
    size: tuple[int, int] | None  # an image's, or a video's frame
    duration: float | None  # a sound's or a video's
    image: Image.Image | None = None  # the image itself, opened once


def _measure(source: PerceptionInput, medium: PerceivedMedium) -> _Measured:
    if medium == "image":
        from hallmark.perception.image import open_image

        image = open_image(source.path, source.media_type)
        return _Measured(image.size, None, image)
    from hallmark.studio.media import probe

    info = probe(source.path)
    size = (info.width, info.height) if info.width and info.height else None
    return _Measured(size if medium == "video" else None, info.duration)


def _overlay(
    source: PerceptionInput,
    medium: PerceivedMedium,
    measured: _Measured,
    findings: list[Finding],
    entities: list[Entity],
) -> Image.Image:
    """The picture that shows what was found: boxes on the image, the sound's timeline, or
    for a video its busiest frame's boxes above the timeline."""
    if measured.image is not None:
        return draw_overlay(measured.image, findings, entities)
    timeline = draw_timeline(measured.duration or 0.0, findings, entities)
    if medium == "audio":
        return timeline
    from hallmark.perception.video import key_frame

    frame = key_frame(source.path, findings)
    boxed = [f for f in findings if f.box is not None]
    return _stack(draw_overlay(frame, boxed, entities), timeline)


def _stack(top: Image.Image, bottom: Image.Image) -> Image.Image:
    """``top`` above ``bottom``, scaled to the same width."""
    width = bottom.width
    top = top.resize((width, max(1, round(top.height * width / top.width))))
    out = Image.new("RGB", (width, top.height + bottom.height), "white")
    out.paste(top.convert("RGB"), (0, 0))
    out.paste(bottom.convert("RGB"), (0, top.height))
    return out
