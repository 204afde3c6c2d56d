"""Tools the assistant runs itself: hallmark's own capabilities, offered to the model.

A tool is a name, a description and a JSON Schema of its arguments (what the model sees), and
``run``, which gets the arguments and who is asking and returns a JSON-able result. A tool's
errors come back to the model as ``{"error": ...}`` rather than ending the turn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hallmark.engines.llm.base import Tool
from hallmark.errors import NotFound, UserError
from hallmark.mark.report import inspect_bytes

if TYPE_CHECKING:
    from hallmark.registry import Components
    from hallmark.services import Services

DIGEST_LENGTH = 64
FILE_PREFIX = "file-"


def file_id_for(digest: str) -> str:
    """The id a chat attachment goes by: ``file-`` and the hex SHA-256 of its bytes."""
    return FILE_PREFIX + digest.removeprefix("sha256:")


@dataclass(slots=True, frozen=True)
class ToolContext:
    services: Services
    tenant_id: str


class AssistantTool(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]]

    def spec(self) -> Tool:
        return Tool(self.name, self.description, self.parameters)

    @abstractmethod
    def run(self, context: ToolContext, arguments: dict[str, Any]) -> dict[str, Any]:
        """The result the model (and the user's screen) gets."""


FILE_PROPERTIES: dict[str, Any] = {
    "file_id": {"type": "string", "description": "id of a file attached to the chat"},
    "content_id": {"type": "string", "description": "id of content made by hallmark"},
}
"""The arguments that name the file a tool reads (``_tool_file``)."""


class InspectTool(AssistantTool):
    """Reads the AI labels of a file the user attached to the chat, or of content hallmark
    made for this tenant: the same report as ``hallmark inspect``, without the raw findings."""

    name: ClassVar[str] = "inspect"
    description: ClassVar[str] = (
        "Check a file for AI-generated-content labels (visible notice, GB 45438 metadata, "
        "C2PA Content Credentials, invisible watermark) and say whether it is AI-generated. "
        "Give the file_id of a file the user attached, or the content_id of hallmark content."
    )
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": FILE_PROPERTIES}

    def run(self, context: ToolContext, arguments: dict[str, Any]) -> dict[str, Any]:
        data, name = _tool_file(context, arguments)
        report = inspect_bytes(context.services.components, data, filename=name, quick=True)
        report.pop("findings", None)
        return report


def _tool_file(context: ToolContext, arguments: dict[str, Any]) -> tuple[bytes, str | None]:
    from hallmark.store.models import ContentRecord

    media = context.services.media
    file_id = arguments.get("file_id")
    content_id = arguments.get("content_id")
    if isinstance(file_id, str) and file_id:
        hex_digest = file_id.removeprefix(FILE_PREFIX).lower()
        digest = f"sha256:{hex_digest}"
        if len(hex_digest) != DIGEST_LENGTH or not media.exists(digest):
            raise NotFound(f"no attached file {file_id!r}")
        return media.get(digest), None
    if isinstance(content_id, str) and content_id:
        with context.services.db.session() as session:
            record = session.get(ContentRecord, content_id)
            if record is None or record.tenant_id != context.tenant_id:
                raise NotFound(f"no content {content_id!r}")
            digest = record.digest
        return media.get(digest), content_id
    raise UserError("give file_id or content_id")


class PerceiveTool(AssistantTool):
    """Looks at an attached image, sound or video and answers with grounded findings: the
    perceive flow (``hallmark perceive``), its overlay labeled and logged."""

    name: ClassVar[str] = "perceive"
    description: ClassVar[str] = (
        "Look at an image, audio or video file and say what is in it: text with its place, "
        "faces and people, colours, sounds with their times, words spoken. Give the file_id "
        "of a file the user attached (or a content_id) and, optionally, the user's question."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            **FILE_PROPERTIES,
            "question": {"type": "string", "description": "what the user wants to know"},
        },
    }

    def run(self, context: ToolContext, arguments: dict[str, Any]) -> dict[str, Any]:
        from hallmark.flows.perceive import PerceiveRequest, run_perceive

        data, name = _tool_file(context, arguments)
        question = arguments.get("question")
        outcome = run_perceive(
            context.services,
            context.tenant_id,
            PerceiveRequest(
                data=data,
                filename=name,
                question=question if isinstance(question, str) else None,
            ),
        )
        result = outcome.perception.to_dict()
        result.pop("findings", None)  # the answer and its grounded entities are what counts
        result["overlay_id"] = outcome.overlay.content_id
        return result


def register(components: Components) -> None:
    components.tools.register(InspectTool.name, InspectTool())
    components.tools.register(PerceiveTool.name, PerceiveTool())
