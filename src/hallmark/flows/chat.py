"""The chat flow: one assistant turn, screened, labeled and logged, streamed as it is made.

``start_turn`` does everything that can fail on the request itself (the engine, the policy,
the conversation, minors' daily time, screening the prompt) before a byte is sent, so those
failures become ordinary HTTP errors. ``ChatRun.events`` then generates: the reply streams
through a ``StreamScreen`` that holds back a few characters, so a blocked term never reaches
the user; hallmark's own tools (``components.tools``) run here and their results go back to
the model; tools the client declared are handed back to the client, as OpenAI does.

Every reply starts with the labels the policy asks for: the EU Art. 50(1) disclosure on the
first reply of a conversation, and the explicit text label (GB 45438) on every reply. The
implicit label (the GB 45438 ``AIGC`` fields, sealed) travels beside the text in the result's
``hallmark`` record. Each turn ends in one ledger entry: ``chat`` (with a content record),
``chat.blocked``, or ``chat.interrupted`` when the client went away mid-stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from hallmark.accounts.service import new_id
from hallmark.assistant.conversations import (
    NewMessage,
    StoredMessage,
    append_messages,
    create_conversation,
    get_conversation,
)
from hallmark.assistant.tools import ToolContext
from hallmark.assistant.usage import check_minor_allowance, record_usage
from hallmark.content import Content
from hallmark.engines.llm import openai_format
from hallmark.engines.llm.base import (
    ChatDelta,
    ChatEngine,
    ChatMessage,
    ChatRequest,
    FinishReason,
    Tool,
    ToolCall,
    Usage,
    chat_engines,
)
from hallmark.errors import HallmarkError, NotFound, UserError
from hallmark.flows.common import (
    label_context,
    label_or_refuse,
    policy_for,
    record_content,
)
from hallmark.mark.base import plan_labels
from hallmark.mark.explicit_text import text_notice
from hallmark.mark.gb45438.integrity import IntegrityKey
from hallmark.mark.gb45438.marker import produce
from hallmark.policy import Policy
from hallmark.screen.base import Decision, screen_content
from hallmark.screen.normalize import has_cjk
from hallmark.screen.stream import StreamScreen
from hallmark.services import Services
from hallmark.store.media import digest_of
from hallmark.store.models import utcnow_iso

MAX_CHAT_CHARS = 200_000
MAX_MESSAGES = 500
MAX_TOOL_ROUNDS = 4


class UnknownModel(NotFound):
    code = "model_not_found"


@dataclass(slots=True, frozen=True)
class ChatTurn:
    """One request: the new messages, and how to answer them."""

    engine: str
    messages: tuple[ChatMessage, ...]
    user_id: str
    jurisdictions: tuple[str, ...] | None = None
    language: str | None = None
    minor: bool = False
    conversation_id: str | None = None
    """Continue a stored conversation: its messages come first, and the turn is stored."""
    store: bool = False
    """Store the turn in a new conversation when no ``conversation_id`` is given."""
    client_tools: tuple[Tool, ...] = ()
    hallmark_tools: tuple[str, ...] = ()
    tool_choice: str | dict[str, Any] = "auto"
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(slots=True, frozen=True)
class Started:
    """The engine has begun to answer (its first output came), or the turn needs no engine."""


@dataclass(slots=True, frozen=True)
class TextPiece:
    text: str


@dataclass(slots=True, frozen=True)
class ToolRun:
    """A hallmark tool the assistant ran during the turn, and what it returned."""

    call: ToolCall
    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.call.id,
            "name": self.call.name,
            "arguments": self.call.parsed_arguments(),
            "result": self.result,
        }


@dataclass(slots=True, frozen=True)
class TurnEnd:
    text: str
    """The whole reply as stored: labels, then the model's text (or the refusal)."""
    finish_reason: FinishReason
    usage: Usage
    tool_calls: tuple[ToolCall, ...]
    hallmark: dict[str, Any]


Event = Started | TextPiece | ToolRun | TurnEnd


@dataclass(slots=True)
class ChatRun:
    services: Services
    tenant_id: str
    turn: ChatTurn
    engine: ChatEngine
    policy: Policy
    language: str
    history: list[ChatMessage]
    input_decision: Decision
    conversation_id: str | None
    prefix: str
    disclosure: str | None
    notice: str | None
    model: str
    """The engine's model, read once: asking an upstream for it may fail."""
    steps: list[ChatMessage] = field(default_factory=list)
    """The tool calls made in this turn and their results, in order, as the model saw them."""
    started: float = field(default_factory=time.monotonic)

    @property
    def blocked_input(self) -> bool:
        return self.input_decision.action == "block"

    def events(self) -> Generator[Event, None, None]:
        """The turn as it happens. Closing the iterator early (a client that left) stops
        the engine and writes a ``chat.interrupted`` entry for what was already sent."""
        sent: list[str] = []
        finished = False
        try:
            if self.prefix:
                sent.append(self.prefix)
                yield TextPiece(self.prefix)
            if self.blocked_input:
                yield Started()
                yield TextPiece(self._refusal(self.input_decision))
                end = self._finish_blocked("input", self.input_decision, generated="")
            else:
                end = yield from self._generate(sent)
            finished = True
            yield end
        except HallmarkError as exc:
            finished = True
            self._failed("".join(sent), exc)
            raise
        finally:
            if not finished:
                self._interrupted("".join(sent))

    def _generate(self, sent: list[str]) -> Generator[Event, None, TurnEnd]:
        turn = self.turn
        screen = StreamScreen(
            self.services.components.screens,
            self.policy,
            minor=turn.minor,
            language=self.language,
            holdback=self.services.settings.stream_holdback,
        )
        tools = self._tool_specs()
        server_tools = {name for name in turn.hallmark_tools}
        messages = list(self.history)
        generated: list[str] = []
        tool_runs: list[ToolRun] = []
        client_calls: tuple[ToolCall, ...] = ()
        finish: FinishReason = "stop"
        prompt_tokens = completion_tokens = 0
        decision: Decision | None = None
        started = False
        for round_index in range(MAX_TOOL_ROUNDS + 1):
            offer_tools = tools if round_index < MAX_TOOL_ROUNDS else ()
            request = ChatRequest(
                messages=tuple(messages),
                max_tokens=turn.max_tokens,
                temperature=turn.temperature,
                top_p=turn.top_p,
                stop=turn.stop,
                seed=turn.seed,
                tools=offer_tools,
                tool_choice=turn.tool_choice if offer_tools else "none",
            )
            round_text: list[str] = []
            calls: list[ToolCall] = []
            deltas = self.engine.stream(request)
            try:
                for delta in deltas:
                    if not started:
                        started = True
                        yield Started()
                    if delta.text:
                        round_text.append(delta.text)
                        step = screen.feed(delta.text)
                        if step.release:
                            sent.append(step.release)
                            yield TextPiece(step.release)
                        if step.decision.action == "block":
                            decision = step.decision
                            break
                    calls.extend(delta.tool_calls)
                    finish = _finish_of(delta, finish)
                    if delta.usage is not None:
                        prompt_tokens += delta.usage.prompt_tokens
                        completion_tokens += delta.usage.completion_tokens
            finally:
                _close(deltas)
            generated.extend(round_text)
            if decision is not None:
                break
            ours = [call for call in calls if call.name in server_tools]
            theirs = tuple(call for call in calls if call.name not in server_tools)
            if theirs or not ours:
                client_calls = theirs
                break
            asked = ChatMessage("assistant", "".join(round_text), tuple(ours))
            messages.append(asked)
            self.steps.append(asked)
            for call in ours:
                run = ToolRun(call, self._run_tool(call))
                tool_runs.append(run)
                yield run
                result = ChatMessage(
                    "tool",
                    json.dumps(run.result, ensure_ascii=False, default=str),
                    tool_call_id=call.id,
                    name=call.name,
                )
                messages.append(result)
                self.steps.append(result)
        usage = Usage(prompt_tokens, completion_tokens)
        if decision is None:
            step = screen.finish()
            if step.release:
                sent.append(step.release)
                yield TextPiece(step.release)
            if step.decision.action == "block":
                decision = step.decision
            else:
                text = self.prefix + "".join(sent[1:] if self.prefix else sent)
                return self._finish_reply(
                    text, step.decision, usage, client_calls, finish, tool_runs
                )
        shown_model_text = len(sent) > (1 if self.prefix else 0)
        yield TextPiece(("\n\n" if shown_model_text else "") + self._refusal(decision))
        return self._finish_blocked(
            "output", decision, generated="".join(generated), usage=usage, tool_runs=tool_runs
        )

    def _tool_specs(self) -> tuple[Tool, ...]:
        if self.turn.tool_choice == "none":
            return ()
        registry = self.services.components.tools
        ours = tuple(registry.get(name).spec() for name in self.turn.hallmark_tools)
        return ours + self.turn.client_tools

    def _run_tool(self, call: ToolCall) -> dict[str, Any]:
        tool = self.services.components.tools.get(call.name)
        try:
            return tool.run(ToolContext(self.services, self.tenant_id), call.parsed_arguments())
        except HallmarkError as exc:
            return {"error": exc.message}

    def _refusal(self, decision: Decision) -> str:
        return decision.refusal or self.policy.refusal_text(self.language)

    def _base_payload(self) -> dict[str, Any]:
        return {
            "engine": self.engine.name,
            "model": self.model,
            "jurisdictions": list(self.policy.jurisdictions),
            "conversation_id": self.conversation_id,
            "minor": self.turn.minor,
            "prompt_digest": digest_of(_last_user_text(self.turn.messages).encode("utf-8")),
        }

    def _finish_reply(
        self,
        text: str,
        output_decision: Decision,
        usage: Usage,
        client_calls: tuple[ToolCall, ...],
        finish: FinishReason,
        tool_runs: list[ToolRun],
    ) -> TurnEnd:
        services = self.services
        content_id = new_id()
        created_at = utcnow_iso()
        context = label_context(
            services,
            self.policy,
            self.language,
            self.policy.label_text(self.language),
            content_id=content_id,
            created_at=created_at,
            system=f"{self.engine.name}-{self.model}",
        )
        plan = plan_labels(self.policy, "text", services.components.markers)
        base = self._base_payload()
        content, labels = label_or_refuse(
            services, self.tenant_id, "chat.refused", base, Content.from_text(text), plan, context
        )
        implicit = produce(
            context.provenance,
            digest_of(content.data),
            IntegrityKey.load_or_create(services.settings.keys_dir),
        ).to_dict()
        screening = {"input": self.input_decision.to_dict(), "output": output_decision.to_dict()}
        payload = {
            **base,
            "screening": screening,
            "usage": usage.to_dict(),
            "tools": [run.call.name for run in tool_runs],
            "disclosure": self.disclosure is not None,
        }
        _, seq = record_content(
            services,
            self.tenant_id,
            flow="chat",
            content_id=content_id,
            created_at=created_at,
            content=content,
            labels=labels,
            classification="confirmed",
            decision=output_decision.action,
            jurisdictions=self.policy.jurisdictions,
            payload=payload,
            digest_key="output_digest",
        )
        record = {
            "content_id": content_id,
            "ledger_seq": seq,
            "blocked": False,
            "jurisdictions": list(self.policy.jurisdictions),
            "labels": list(labels),
            "explicit_label": self.notice,
            "disclosure": self.disclosure,
            "implicit": {"AIGC": implicit},
            "screening": screening,
            "tool_runs": [run.to_dict() for run in tool_runs],
        }
        reply = NewMessage(
            "assistant",
            content.text,
            tool_calls=[openai_format.tool_call(call) for call in client_calls],
            hallmark=_stored_record(record),
        )
        record["conversation_id"] = self._store(reply)
        finish = "tool_calls" if client_calls else finish
        return TurnEnd(content.text, finish, usage, client_calls, record)

    def _finish_blocked(
        self,
        stage: str,
        decision: Decision,
        *,
        generated: str,
        usage: Usage | None = None,
        tool_runs: Sequence[ToolRun] = (),
    ) -> TurnEnd:
        screening = {"input": self.input_decision.to_dict()}
        if stage == "output":
            screening["output"] = decision.to_dict()
        payload = {**self._base_payload(), "stage": stage, "screening": screening}
        if stage == "output":
            payload["output_digest"] = digest_of(generated.encode("utf-8"))
        with self.services.db.session() as session:
            entry = self.services.ledger.append(
                session, "chat.blocked", payload, tenant_id=self.tenant_id
            )
        text = self.prefix + self._refusal(decision)
        record = {
            "content_id": None,
            "ledger_seq": entry.seq,
            "blocked": True,
            "stage": stage,
            "text": text,  # what replaces whatever part of the reply was already shown
            "jurisdictions": list(self.policy.jurisdictions),
            "labels": [],
            "explicit_label": self.notice,
            "disclosure": self.disclosure,
            "implicit": None,
            "screening": screening,
            "tool_runs": [run.to_dict() for run in tool_runs],
        }
        reply = NewMessage("assistant", text, hallmark=_stored_record(record))
        record["conversation_id"] = self._store(reply)
        return TurnEnd(text, "content_filter", usage or Usage(), (), record)

    def _store(self, reply: NewMessage | None, session: Session | None = None) -> str | None:
        """Append the turn to its conversation: the new messages, the tool calls made and
        their results, then ``reply``; and count minors' time. The conversation id."""
        if session is None:
            with self.services.db.session() as own:
                return self._store(reply, own)
        turn = self.turn
        if turn.minor:
            record_usage(session, self.tenant_id, turn.user_id, time.monotonic() - self.started)
        if self.conversation_id is None:
            return None
        calls = {call.id: call for step in self.steps for call in step.tool_calls}
        new = [_new_message(message) for message in turn.messages]
        for step in self.steps:
            call = calls.get(step.tool_call_id or "")
            record = None
            if step.role == "tool" and call is not None:
                record = {"tool": call.name, "arguments": call.parsed_arguments()}
            new.append(replace(_new_message(step), hallmark=record))
        if reply is not None:
            new.append(reply)
        append_messages(session, self.tenant_id, turn.user_id, self.conversation_id, new)
        return self.conversation_id

    def _failed(self, sent: str, error: HallmarkError) -> None:
        error_record = {"code": error.code, "message": error.message}
        self._interrupted(sent, kind="chat.failed", error=error_record)

    def _interrupted(self, sent: str, kind: str = "chat.interrupted", **extra: Any) -> None:
        """Log what was sent, and keep the turn as far as the user saw it: their message and
        the part of the reply that reached them, marked as cut short."""
        payload = {**self._base_payload(), "sent_digest": digest_of(sent.encode("utf-8"))}
        payload.update(sent_chars=len(sent), **extra)
        with self.services.db.session() as session:
            entry = self.services.ledger.append(session, kind, payload, tenant_id=self.tenant_id)
            partial = None
            if sent.removeprefix(self.prefix):
                record = {"interrupted": True, "kind": kind, "ledger_seq": entry.seq}
                partial = NewMessage("assistant", sent, hallmark=record)
            self._store(partial, session)


def start_turn(services: Services, tenant_id: str, turn: ChatTurn) -> ChatRun:
    """Check the request and screen the prompt; raises before anything is generated."""
    _check_messages(turn.messages)
    engines = chat_engines(services.components)
    engine = engines.get(turn.engine)
    if engine is None:
        known = ", ".join(sorted(engines)) or "none"
        raise UnknownModel(f"unknown model {turn.engine!r}; available: {known}")
    for name in turn.hallmark_tools:
        services.components.tools.get(name)
    clashing = {tool.name for tool in turn.client_tools} & set(turn.hallmark_tools)
    if clashing:
        raise UserError(f"tools named like hallmark's own: {', '.join(sorted(clashing))}")
    with services.db.session() as session:
        policy = policy_for(services, session, tenant_id, turn.jurisdictions)
        if turn.minor and policy.minors.daily_minutes is not None:
            check_minor_allowance(session, tenant_id, turn.user_id, policy.minors)
        stored: list[StoredMessage] = []
        conversation_id = turn.conversation_id
        if conversation_id is not None:
            stored = list(
                get_conversation(session, tenant_id, turn.user_id, conversation_id).messages
            )
        elif turn.store:
            conversation_id = create_conversation(
                session,
                tenant_id,
                turn.user_id,
                model=turn.engine,
                minor=turn.minor,
                jurisdictions=tuple(policy.jurisdictions),
            ).id
    language = turn.language or detect_language(_last_user_text(turn.messages), policy.language)
    history = [_from_stored(message) for message in stored] + list(turn.messages)
    if len(history) > MAX_MESSAGES:
        raise UserError(f"the conversation has more than {MAX_MESSAGES} messages")
    prompt = "\n".join(m.content for m in turn.messages if m.role == "user" and m.content)
    input_decision = screen_content(
        services.components.screens,
        Content.from_text(prompt),
        policy,
        minor=turn.minor,
        language=language,
    )
    first_reply = not any(message.role == "assistant" for message in history)
    disclosure = (
        policy.disclosure_text(language)
        if policy.chatbot_disclosure.required and first_reply
        else None
    )
    label_rule = policy.labels.get("text")
    notice = (
        text_notice(policy.label_text(language), language)
        if label_rule is not None and label_rule.explicit
        else None
    )
    # The notice comes first: the explicit text marker leaves a text that starts with it as is.
    prefix = (notice or "") + (f"{disclosure}\n\n" if disclosure else "")
    engine_history = [_without_labels(message, policy) for message in history]
    return ChatRun(
        services=services,
        tenant_id=tenant_id,
        turn=turn,
        engine=engine,
        policy=policy,
        language=language,
        history=engine_history,
        input_decision=input_decision,
        conversation_id=conversation_id,
        prefix=prefix,
        disclosure=disclosure,
        notice=notice,
        model=engine.model,
    )


def run_turn(services: Services, tenant_id: str, turn: ChatTurn) -> tuple[TurnEnd, list[ToolRun]]:
    """The whole turn at once (no streaming)."""
    run = start_turn(services, tenant_id, turn)
    tool_runs: list[ToolRun] = []
    for event in run.events():
        if isinstance(event, ToolRun):
            tool_runs.append(event)
        elif isinstance(event, TurnEnd):
            return event, tool_runs
    raise AssertionError("a chat turn always ends with TurnEnd")


def detect_language(text: str, default: str) -> str:
    """``zh`` when the text has Chinese characters, ``en`` when it has Latin letters only."""
    if has_cjk(text):
        return "zh"
    if any(char.isascii() and char.isalpha() for char in text):
        return "en"
    return default if default in ("zh", "en") else "en"


def _check_messages(messages: Sequence[ChatMessage]) -> None:
    if not messages:
        raise UserError("messages is empty")
    if len(messages) > MAX_MESSAGES:
        raise UserError(f"more than {MAX_MESSAGES} messages")
    total = sum(len(message.content) for message in messages)
    if total > MAX_CHAT_CHARS:
        raise UserError(f"the messages hold {total} characters; the limit is {MAX_CHAT_CHARS}")
    if messages[-1].role not in ("user", "tool"):
        raise UserError("the last message must come from the user (or be a tool result)")
    answered = {call.id for message in messages for call in message.tool_calls}
    for message in messages:
        if message.role == "tool" and message.tool_call_id not in answered:
            raise UserError(f"tool message answers an unknown call {message.tool_call_id!r}")


def _last_user_text(messages: Sequence[ChatMessage]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user"), "")


def _without_labels(message: ChatMessage, policy: Policy) -> ChatMessage:
    """An earlier reply without the labels hallmark put in front of it: the model should see
    what it said, not our notices, or it starts to imitate them."""
    if message.role != "assistant":
        return message
    text = message.content
    for language in ("zh", "en"):
        notice = text_notice(policy.label_text(language), language)
        if text.startswith(notice):
            text = text[len(notice) :]
        disclosure = policy.disclosure_text(language)
        if disclosure and text.startswith(disclosure):
            text = text[len(disclosure) :].lstrip("\n")
    return replace(message, content=text) if text != message.content else message


def _finish_of(delta: ChatDelta, current: FinishReason) -> FinishReason:
    return delta.finish_reason if delta.finish_reason is not None else current


def _close(deltas: Iterator[ChatDelta]) -> None:
    close = getattr(deltas, "close", None)
    if close is not None:
        close()


def _stored_record(record: dict[str, Any]) -> dict[str, Any]:
    """What the conversation keeps of a turn's record: no tool results (the tool messages
    hold them) and only the decisions of the screening."""
    kept = {key: value for key, value in record.items() if key != "tool_runs"}
    screening = record.get("screening") or {}
    kept["screening"] = {stage: d.get("action") for stage, d in screening.items()}
    return kept


def _new_message(message: ChatMessage) -> NewMessage:
    return NewMessage(
        message.role,
        message.content,
        tool_calls=[openai_format.tool_call(call) for call in message.tool_calls],
        tool_call_id=message.tool_call_id,
    )


def _from_stored(message: StoredMessage) -> ChatMessage:
    calls = tuple(
        ToolCall(
            str(call.get("id", "")),
            str(call.get("function", {}).get("name", "")),
            str(call.get("function", {}).get("arguments", "{}")),
        )
        for call in message.tool_calls
    )
    role = message.role if message.role in ("system", "user", "assistant", "tool") else "user"
    return ChatMessage(role, message.content, calls, message.tool_call_id)  # type: ignore[arg-type]
