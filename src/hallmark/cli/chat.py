"""``hallmark chat``: the assistant in a terminal, streamed as it is written.

Interactive when stdin is a terminal: a ``you>`` prompt with line editing and a history file
(``HOME/chat_history``), the reply streamed as it comes, Ctrl-C to stop a reply, Ctrl-D or
``/exit`` to leave. Otherwise each line of stdin (or each ``--message``) is one message,
answered in order, as text or, with ``--json``, as one JSON object a turn; such lines are sent
as they are, slash commands included.

Each session is a stored conversation unless ``--no-store``: the first turn creates it and
the next ones continue it, so the history lives in the database and the model sees it from
there. With ``--no-store`` the history stays in this process (sent whole every turn) and
nothing is written: no conversation, no prompt history.

The reply is written as it arrives. Its labels are part of its text; a blocked reply's
refusal shows in red, a tool run as a dim line, and a dim footer ends each reply. Interactive,
that chrome goes to stdout; otherwise to stderr, so stdout holds only the replies.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from hallmark.engines.llm.base import ChatEngine, ChatMessage, chat_engines
from hallmark.errors import HallmarkError, UserError

if TYPE_CHECKING:
    from hallmark.flows.chat import ChatRun, ChatTurn, TurnEnd
    from hallmark.services import Services

DEFAULT_MODEL = "llama.cpp"
DEFAULT_USER = "cli"
LANGUAGES = ("zh", "en")
HISTORY_FILE = "chat_history"
HISTORY_LENGTH = 1000
RESUMED_SHOWN = 6
PROMPT = "you> "
HELP = (
    "/new      start a new conversation\n"
    "/history  the conversation so far\n"
    "/id       the conversation's id\n"
    "/help     this list\n"
    "/exit     quit (or Ctrl-D); Ctrl-C stops a reply"
)


@dataclass(slots=True, frozen=True)
class ChatOptions:
    """How every turn of the session is asked."""

    model: str
    jurisdictions: tuple[str, ...] | None = None
    language: str | None = None
    minor: bool = False
    system: str | None = None
    store: bool = True
    tools: tuple[str, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None


@dataclass(slots=True)
class ChatSession:
    """One conversation as the CLI holds it: its id once stored, or (``--no-store``) its
    messages so far."""

    services: Services
    tenant_id: str
    user_id: str
    options: ChatOptions
    conversation_id: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    system_pending: bool = True
    """The ``--system`` message is still to be sent (stored conversations keep it after)."""

    def __post_init__(self) -> None:
        if self.conversation_id is None:
            self.reset()

    def reset(self) -> None:
        system = self.options.system
        self.conversation_id = None
        self.system_pending = True
        self.messages = [ChatMessage("system", system)] if system and not self.options.store else []

    def turn(self, text: str) -> ChatTurn:
        from hallmark.flows.chat import ChatTurn

        options = self.options
        user = ChatMessage("user", text)
        messages: tuple[ChatMessage, ...]
        if options.store:
            system = options.system if self.system_pending else None
            messages = (ChatMessage("system", system), user) if system else (user,)
        else:
            messages = (*self.messages, user)
        return ChatTurn(
            engine=options.model,
            messages=messages,
            user_id=self.user_id,
            jurisdictions=options.jurisdictions,
            language=options.language,
            minor=options.minor,
            conversation_id=self.conversation_id,
            store=options.store,
            hallmark_tools=options.tools,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            seed=options.seed,
        )

    def start(self, text: str) -> ChatRun:
        from hallmark.flows.chat import start_turn

        run = start_turn(self.services, self.tenant_id, self.turn(text))
        # Adopted at once: a first reply stopped midway leaves its (empty) conversation, and
        # the next turn continues that one rather than starting another.
        self.conversation_id = run.conversation_id
        return run

    def answered(self, text: str, end: TurnEnd) -> None:
        self.system_pending = False
        if not self.options.store:
            self.messages += [ChatMessage("user", text), ChatMessage("assistant", end.text)]

    def history(self) -> list[tuple[str, str]]:
        """(role, text) of every message so far."""
        if self.conversation_id is None:
            return [(message.role, message.content) for message in self.messages]
        from hallmark.assistant.conversations import get_conversation

        with self.services.db.session() as session:
            export = get_conversation(session, self.tenant_id, self.user_id, self.conversation_id)
        return [(message.role, message.content) for message in export.messages]


# --- showing a turn ----------------------------------------------------------------------


@dataclass(slots=True)
class Terminal:
    """Where a session writes: ``out`` gets the replies, ``ui`` the rest."""

    out: Console
    ui: Console
    at_line_start: bool = True

    def write(self, text: str, style: str | None = None) -> None:
        if not text:
            return
        if style is None:
            self.out.file.write(text)
            self.out.file.flush()
        else:
            self.out.print(Text(text, style=style), end="", soft_wrap=True)
        self.at_line_start = text.endswith("\n")

    def end_line(self) -> None:
        if not self.at_line_start:
            self.write("\n")

    def note(self, text: str, style: str = "dim") -> None:
        if self.ui is self.out:
            self.end_line()
        self.ui.print(Text(text, style=style), soft_wrap=True)


class StopRequest:
    """A SIGINT handler for the time a reply runs: the first Ctrl-C asks the reply to stop,
    which the loop over its events notices between two pieces, so the turn ends through its
    own cleanup (the engine stopped, a ``chat.interrupted`` entry written) rather than at
    whatever line the interrupt would hit; a second Ctrl-C raises ``KeyboardInterrupt``."""

    def __init__(self) -> None:
        self.asked = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True


@contextmanager
def stop_on_interrupt() -> Iterator[StopRequest]:
    stop = StopRequest()
    try:
        previous = signal.signal(signal.SIGINT, stop)
    except ValueError:  # not the main thread: Ctrl-C cannot reach us here anyway
        yield stop
        return
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def follow_turn(run: ChatRun, terminal: Terminal | None, stop: StopRequest) -> TurnEnd | None:
    """The turn's end, writing the reply as it comes when given a terminal; None when
    stopped. The labels show at once; after them, the last piece is held back until the end
    says whether it is a refusal (shown in red). Closing the events ends the turn, and stops
    the engine, whatever happens."""
    from hallmark.flows.chat import TextPiece, ToolRun, TurnEnd

    held = ""
    events = run.events()
    try:
        for event in events:
            if isinstance(event, TurnEnd):
                if terminal is not None:
                    terminal.write(held, "red" if event.hallmark.get("blocked") else None)
                    terminal.end_line()
                return event
            if stop.asked:
                return None
            if terminal is None:
                continue
            if isinstance(event, TextPiece):
                terminal.write(held)
                held = event.text
                if held == run.prefix:  # the labels come first, before the model is asked
                    terminal.write(held)
                    held = ""
            elif isinstance(event, ToolRun):
                terminal.write(held)
                held = ""
                arguments = json.dumps(event.call.parsed_arguments(), ensure_ascii=False)
                terminal.note(f"[ran {event.call.name} {arguments}]")
    except HallmarkError:
        if terminal is not None:
            terminal.end_line()
        raise
    finally:
        events.close()
    raise AssertionError("a chat turn always ends with TurnEnd")


def footer(end: TurnEnd, seconds: float) -> str:
    usage = end.usage
    seq = end.hallmark.get("ledger_seq")
    if end.hallmark.get("blocked"):
        return f"[blocked ({end.hallmark.get('stage', '')}); ledger entry {seq}]"
    rate = usage.completion_tokens / max(seconds, 1e-6)
    return (
        f"[{usage.prompt_tokens} prompt + {usage.completion_tokens} reply tokens, "
        f"{rate:.1f} tok/s, {end.finish_reason}; ledger entry {seq}]"
    )


def turn_record(end: TurnEnd) -> dict[str, Any]:
    usage = end.usage
    return {
        "text": end.text,
        "finish_reason": end.finish_reason,
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        "hallmark": end.hallmark,
    }


def answer(session: ChatSession, text: str, terminal: Terminal, as_json: bool) -> bool:
    """One turn: ask, show, remember; False when Ctrl-C stopped it."""
    with stop_on_interrupt() as stop:
        started = time.monotonic()
        run = session.start(text)
        end = follow_turn(run, None if as_json else terminal, stop)
    if end is None:
        return False
    session.answered(text, end)
    if as_json:
        terminal.out.file.write(json.dumps(turn_record(end), ensure_ascii=False) + "\n")
        terminal.out.file.flush()
    else:
        terminal.note(footer(end, time.monotonic() - started))
    return True


def show_messages(terminal: Terminal, messages: Iterable[tuple[str, str]]) -> None:
    shown = False
    for role, text in messages:
        terminal.ui.print(Text(f"{role}: ", style="bold"), Text(text), sep="", soft_wrap=True)
        shown = True
    if not shown:
        terminal.note("(no messages yet)")


# --- the two modes -----------------------------------------------------------------------


def run_script(
    session: ChatSession, lines: Iterable[str], terminal: Terminal, as_json: bool
) -> None:
    """Answer each non-empty line in order; stops at the first error (raised)."""
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if not answer(session, text, terminal, as_json):
            terminal.end_line()
            raise typer.Exit(130)


def run_interactive(session: ChatSession, terminal: Terminal, as_json: bool) -> None:
    commands: dict[str, Callable[[], None]] = {
        "/new": lambda: _new(session, terminal),
        "/history": lambda: show_messages(terminal, session.history()),
        "/id": lambda: terminal.note(_id_line(session), style=""),
        "/help": lambda: terminal.note(HELP, style=""),
    }
    while True:
        try:
            line = input(PROMPT)
        except EOFError:
            terminal.write("\n")
            return
        except KeyboardInterrupt:
            terminal.write("\n")
            terminal.note("(Ctrl-D or /exit to quit)")
            continue
        text = line.strip()
        if not text:
            continue
        word = text.split()[0]
        if word in ("/exit", "/quit"):
            return
        if word in commands:
            commands[word]()
            continue
        if word.startswith("/") and word[1:].isalpha():
            terminal.note(f"unknown command {word}; /help lists them", style="yellow")
            continue
        try:
            answered = answer(session, text, terminal, as_json)
        except KeyboardInterrupt:  # a second Ctrl-C
            answered = False
        except HallmarkError as exc:
            answered = True
            terminal.note(f"error: {exc.message}", style="red")
        if not answered:
            terminal.note("[stopped]")
        terminal.write("\n")


def _new(session: ChatSession, terminal: Terminal) -> None:
    session.reset()
    terminal.note("new conversation")


def _id_line(session: ChatSession) -> str:
    if not session.options.store:
        return "not stored (--no-store)"
    return session.conversation_id or "none yet: the first reply stores it"


@contextmanager
def line_history(path: Path, keep: bool) -> Iterator[None]:
    """Line editing, with earlier prompts from ``path``; new ones written back when ``keep``."""
    try:
        import readline
    except ImportError:  # no readline on this platform: plain input()
        yield
        return
    with suppress(OSError):  # none yet
        readline.read_history_file(path)
    readline.set_history_length(HISTORY_LENGTH)
    try:
        yield
    finally:
        if keep:
            with suppress(OSError):  # a read-only HOME: the session still worked
                readline.write_history_file(path)
                path.chmod(0o600)


# --- the command -------------------------------------------------------------------------


def pick_model(engines: dict[str, ChatEngine], wanted: str | None) -> str:
    from hallmark.flows.chat import UnknownModel

    if not engines:
        raise UserError(
            "no chat engine is registered: install llama-cpp-python or set HALLMARK_OPENAI_BASE_URL"
        )
    if wanted is None:
        return DEFAULT_MODEL if DEFAULT_MODEL in engines else next(iter(engines))
    if wanted not in engines:
        raise UnknownModel(f"unknown model {wanted!r}; available: {', '.join(sorted(engines))}")
    return wanted


def chat(
    model: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Chat engine (default: llama.cpp when registered, else the first).",
        ),
    ] = None,
    conversation: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Continue this stored conversation (shows its end)."),
    ] = None,
    store: Annotated[
        bool,
        typer.Option(
            "--store/--no-store",
            help="Store the session as a conversation, or keep it in memory only.",
        ),
    ] = True,
    jurisdiction: Annotated[
        str | None,
        typer.Option(
            "--jurisdiction",
            "-j",
            metavar="CODES",
            help="e.g. cn,eu,us-ca (default: the tenant's).",
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(metavar="zh|en", help="The labels' language (default: the message's)."),
    ] = None,
    minor: Annotated[bool, typer.Option("--minor", help="Minors mode.")] = False,
    system: Annotated[
        str | None, typer.Option(metavar="TEXT", help="A system message to start with.")
    ] = None,
    tool: Annotated[
        list[str] | None,
        typer.Option(
            "--tool", metavar="NAME", help="Let the assistant run this hallmark tool (repeatable)."
        ),
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Longest reply in tokens.")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(min=0.0, max=2.0, metavar="T", help="Sampling temperature.")
    ] = None,
    seed: Annotated[int | None, typer.Option(metavar="S", help="Sampling seed.")] = None,
    user: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Whose conversation it is (default: cli)."),
    ] = None,
    tenant: Annotated[str, typer.Option(metavar="NAME", help="Tenant to act as.")] = "default",
    message: Annotated[
        list[str] | None,
        typer.Option(
            "--message",
            "-m",
            metavar="TEXT",
            help="Send this message instead of reading stdin (repeatable).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object a turn instead of streamed text.")
    ] = False,
) -> None:
    """Talk to the assistant: every reply screened, labeled and recorded, streamed as written.

    Interactive on a terminal (/help lists the commands); otherwise one message a line on
    stdin, answered in order.
    """
    from hallmark.accounts.service import ensure_tenant
    from hallmark.policy import parse_codes
    from hallmark.services import build_services
    from hallmark.settings import load_settings

    if language is not None and language not in LANGUAGES:
        raise UserError(f"--language must be one of: {', '.join(LANGUAGES)}")
    if conversation is not None and not store:
        raise UserError("--conversation continues a stored conversation: leave out --no-store")
    codes = tuple(parse_codes(jurisdiction)) if jurisdiction else None
    settings = load_settings()
    services = build_services(settings)
    try:
        engines = chat_engines(services.components)
        for name in tool or ():
            services.components.tools.get(name)
        with services.db.session() as db:
            tenant_id = ensure_tenant(db, services.ledger, tenant).id
        options = ChatOptions(
            model=pick_model(engines, model),
            jurisdictions=codes,
            language=language,
            minor=minor,
            system=system,
            store=store,
            tools=tuple(tool or ()),
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
        )
        interactive = message is None and sys.stdin.isatty()
        out = Console(soft_wrap=True, highlight=False)
        terminal = Terminal(out, out if interactive else Console(stderr=True, highlight=False))
        if conversation is not None:
            session = _resume(services, tenant_id, user, conversation, options, model, engines)
            if not as_json:
                shown = session.history()[-RESUMED_SHOWN:]
                terminal.note(f"conversation {conversation}, last {len(shown)} messages:")
                show_messages(terminal, shown)
        else:
            session = ChatSession(services, tenant_id, user or DEFAULT_USER, options)
        if not interactive:
            try:
                run_script(session, message or sys.stdin, terminal, as_json)
            except BrokenPipeError:  # the reader left (`| head`): stop quietly
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(1) from None
            return
        engine = engines[session.options.model]
        kept = "stored" if store else "not stored"
        terminal.note(
            f"hallmark chat: {engine.name} ({engine.model}), {kept}; "
            "/help for commands, Ctrl-D to quit"
        )
        with line_history(settings.home / HISTORY_FILE, keep=store):
            run_interactive(session, terminal, as_json)
    finally:
        services.close()


def _resume(
    services: Services,
    tenant_id: str,
    user: str | None,
    conversation_id: str,
    options: ChatOptions,
    model: str | None,
    engines: dict[str, ChatEngine],
) -> ChatSession:
    """A session continuing a stored conversation, with its model, jurisdictions and minors
    mode unless the options name others."""
    from hallmark.assistant.conversations import find_owner, get_conversation

    with services.db.session() as db:
        owner = user or find_owner(db, tenant_id, conversation_id)
        summary = get_conversation(db, tenant_id, owner, conversation_id).summary
    if model is None and summary.model in engines:
        options = replace(options, model=summary.model)
    options = replace(
        options,
        jurisdictions=options.jurisdictions or summary.jurisdictions or None,
        minor=options.minor or summary.minor,
    )
    return ChatSession(services, tenant_id, owner, options, conversation_id=conversation_id)
