"""`hallmark conversations` as the local operator: every user's conversations of a tenant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hallmark.accounts.service import ensure_tenant
from hallmark.assistant.conversations import (
    NewMessage,
    append_messages,
    create_conversation,
    list_conversations,
)
from hallmark.services import Services
from helpers import run_cli

CALL = {"id": "call_1", "type": "function", "function": {"name": "inspect", "arguments": "{}"}}


@pytest.fixture
def stored(services: Services) -> dict[str, str]:
    """Two users' conversations in the default tenant, one in another, and one long untouched:
    name -> conversation id."""
    with services.db.session() as session:
        default = ensure_tenant(session, services.ledger, "default").id
        other = ensure_tenant(session, services.ledger, "other").id
        alice = create_conversation(session, default, "alice", model="echo")
        append_messages(
            session,
            default,
            "alice",
            alice.id,
            [
                NewMessage("user", "Label this poem"),
                NewMessage("assistant", "", tool_calls=[CALL]),
                NewMessage("tool", '{"verdict": "none"}', tool_call_id="call_1"),
                NewMessage("assistant", "【AI生成】Done."),
            ],
        )
        bob = create_conversation(session, default, "bob", title="bob's", minor=True)
        elsewhere = create_conversation(session, other, "carol", title="carol's")
        old = create_conversation(
            session, default, "dave", title="old", clock=lambda: "2000-01-01T00:00:00.000000Z"
        )
    return {"alice": alice.id, "bob": bob.id, "carol": elsewhere.id, "dave": old.id}


def test_list_shows_every_user_of_the_tenant_or_one(
    cli_env: dict[str, str], stored: dict[str, str]
) -> None:
    everyone = run_cli(["conversations", "list", "--json"], cli_env)
    assert everyone.returncode == 0, everyone.stderr
    listed = json.loads(everyone.stdout)["conversations"]
    assert [c["id"] for c in listed] == [stored["bob"], stored["alice"], stored["dave"]]
    assert listed[1]["message_count"] == 4 and listed[1]["title"] == "Label this poem"

    table = run_cli(["conversations", "list", "--user", "bob"], cli_env)
    assert table.returncode == 0, table.stderr
    assert stored["bob"] in table.stdout and stored["alice"] not in table.stdout

    other = run_cli(["conversations", "list", "--tenant", "other", "--json"], cli_env)
    assert [c["id"] for c in json.loads(other.stdout)["conversations"]] == [stored["carol"]]


def test_show_prints_the_messages_and_export_writes_them(
    cli_env: dict[str, str], stored: dict[str, str], tmp_path: Path
) -> None:
    shown = run_cli(["conversations", "show", stored["alice"]], cli_env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout
    assert "Label this poem" in lines and "calls inspect({})" in lines
    assert "[3] tool (answers call_1)" in lines and "【AI生成】Done." in lines
    assert lines.index("Label this poem") < lines.index("【AI生成】Done.")

    target = tmp_path / "alice.json"
    exported = run_cli(["conversations", "export", stored["alice"], "-o", str(target)], cli_env)
    assert exported.returncode == 0, exported.stderr
    assert f"to {target}" in exported.stderr
    written = json.loads(target.read_text("utf-8"))
    as_json = json.loads(
        run_cli(["conversations", "show", stored["alice"], "--json"], cli_env).stdout
    )
    assert written == as_json
    assert written["user"] == "alice" and [m["seq"] for m in written["messages"]] == [1, 2, 3, 4]
    assert written["messages"][1]["tool_calls"] == [CALL]


def test_delete_and_prune_remove_conversations(
    cli_env: dict[str, str], stored: dict[str, str], services: Services
) -> None:
    deleted = run_cli(["conversations", "delete", stored["bob"]], cli_env)
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted conversation {stored['bob']}" in deleted.stdout

    pruned = run_cli(["conversations", "prune"], cli_env)
    assert pruned.returncode == 0, pruned.stderr
    assert "pruned 1 conversation(s)" in pruned.stdout and "for 30 days" in pruned.stdout
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, "default").id
        left = [c.id for c in list_conversations(session, tenant_id, None)]
    assert left == [stored["alice"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "nope"], "error: no conversation 'nope'"),
        (["delete", "nope"], "error: no conversation 'nope'"),
        (["list", "--tenant", "nobody"], "error: no tenant named 'nobody'"),
        (["prune", "--older-than", "0"], "error: --older-than must be at least 1 day"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    cli_env: dict[str, str], stored: dict[str, str], args: list[str], message: str
) -> None:
    result = run_cli(["conversations", *args], cli_env)
    assert result.returncode == 2
    assert result.stderr.strip() == message and "Traceback" not in result.stderr


def test_another_tenants_conversation_is_not_shown(
    cli_env: dict[str, str], stored: dict[str, str]
) -> None:
    result = run_cli(["conversations", "show", stored["carol"]], cli_env)
    assert result.returncode == 2 and "no conversation" in result.stderr
