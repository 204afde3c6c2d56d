"""The real `hallmark` command: its outputs, and one clean line with exit 2 for bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from hallmark.settings import Settings
from helpers import run_cli


def test_policy_show_json_combines_and_cites(cli_env: dict[str, str]) -> None:
    result = run_cli(["policy", "show", "cn,eu,us-ca", "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout)
    assert policy["jurisdictions"] == ["cn", "eu", "us-ca"]
    assert policy["retention"]["min_days"] >= 183
    assert policy["complaints"]["ncii"]["hours"] == 48
    assert policy["chatbot_disclosure"]["required"] is True


def test_policy_show_table_names_sources(cli_env: dict[str, str]) -> None:
    result = run_cli(["policy", "show", "cn"], cli_env)
    assert result.returncode == 0 and "Labeling Measures" in result.stdout


def test_keys_create_then_ledger_verify(cli_env: dict[str, str]) -> None:
    created = run_cli(["keys", "create", "--role", "admin", "--tenant", "acme"], cli_env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("hm_")
    verified = run_cli(["ledger", "verify"], cli_env)
    assert verified.returncode == 0 and "ledger ok" in verified.stdout
    listed = run_cli(["keys", "list"], cli_env)
    assert "acme" in listed.stdout and created.stdout.strip() not in listed.stdout


def _tamper(settings: Settings, statement: str) -> None:
    if settings.database_url:
        engine = create_engine(settings.database_url)
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
        engine.dispose()
    else:
        with sqlite3.connect(settings.home / "hallmark.db") as connection:
            connection.execute(statement)


@pytest.mark.parametrize(
    ("statement", "bad"),
    [
        ("UPDATE ledger_entries SET kind = 'admin.nothing' WHERE seq = 2", "entry 2"),
        ("DELETE FROM ledger_entries WHERE seq = 2", "entry 3"),
        ("DELETE FROM ledger_entries WHERE seq = 4", "entry 4"),
    ],
)
def test_ledger_verify_exits_1_naming_the_tampered_entry(
    cli_env: dict[str, str], settings: Settings, statement: str, bad: str
) -> None:
    run_cli(["keys", "create", "--role", "admin"], cli_env)  # tenant + key: entries 1, 2
    run_cli(["keys", "create", "--role", "creator", "--tenant", "b"], cli_env)  # entries 3, 4
    _tamper(settings, statement)
    result = run_cli(["ledger", "verify"], cli_env)
    assert result.returncode == 1
    assert bad in result.stderr and "Traceback" not in result.stderr


def test_ledger_export_verifies_offline(cli_env: dict[str, str], tmp_path: Path) -> None:
    run_cli(["keys", "create", "--role", "admin"], cli_env)
    export = tmp_path / "audit.jsonl"
    assert run_cli(["ledger", "export", "-o", str(export)], cli_env).returncode == 0
    assert len(export.read_text().splitlines()) == 4  # header, 2 entries, head
    result = run_cli(["ledger", "verify", "--file", str(export)], cli_env)
    assert result.returncode == 0, result.stderr


def test_create_from_the_cli_labels_and_records(cli_env: dict[str, str]) -> None:
    result = run_cli(["create", "hello", "--engine", "echo", "--jurisdictions", "cn"], cli_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"] == "【AI生成】hello"


def test_batch_create_from_a_file_shows_progress(cli_env: dict[str, str], tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("one\ntwo\n\nthree\n")
    result = run_cli(["create", "--file", str(prompts), "--engine", "echo"], cli_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["result"]["succeeded"] == 3
    assert "create.batch" in result.stderr  # the progress bar's line
    jobs = run_cli(["jobs"], cli_env)
    assert "succeeded" in jobs.stdout


BAD_CASES: list[tuple[list[str], str]] = [
    (["policy", "show", "cn,atlantis"], "unknown jurisdiction 'atlantis'"),
    (["policy", "show", ","], "no jurisdiction"),
    (["keys", "create", "--role", "god"], "unknown role 'god'"),
    (["keys", "create", "--role", "admin", "--tenant", "Not Valid"], "invalid tenant name"),
    (["keys", "revoke", "nope"], "no API key 'nope'"),
    (["keys", "list", "--tenant", "ghost"], "no tenant named 'ghost'"),
    (["ledger", "verify", "--file", "/nonexistent/x.jsonl"], "cannot read"),
    (["ledger", "prune", "--older-than", "3"], "below the policy minimum"),
    (["jobs", "show", "nope"], "no job 'nope'"),
    (["jobs", "--state", "exploded"], "unknown job state"),
    (["create", "hi", "--engine", "gpt-9"], "unknown engine 'gpt-9'"),
    (["create"], "give either a PROMPT or --file"),
    (["perceive", "/nonexistent/a.png"], "no such file"),
    (["studio", "render", "/nonexistent/p.json", "o.mp4"], "no such project file"),
    (["studio", "captions", "/nonexistent/v.mp4", "o.srt"], "no such file"),
    (["studio", "script2video", "/nonexistent/s.txt", "o.mp4"], "no such script"),
    (["studio", "smartcut", "/nonexistent/v.mp4"], "no such video"),
    (["studio", "reframe", "/nonexistent/v.mp4", "o.mp4"], "no such video"),
    (["studio", "otio", "import", "/nonexistent/t.otio", "o.json"], "no such timeline"),
    (["studio", "otio", "export", "/nonexistent/p.json", "o.otio"], "no such project file"),
    (["create", "hi", "--engine", "echo", "--language", "tlh"], "unsupported language"),
    (["create", "--file", "/nonexistent/prompts.txt", "--engine", "echo"], "cannot read"),
    (["ledger", "export", "-o", "/nonexistent/dir/audit.jsonl"], "cannot write"),
    (["jobs", "watch", "nope"], "no job 'nope'"),
    (["mark", "/nonexistent/in.png", "out.png"], "cannot read"),
    (["mark", "/etc", "out.png"], "is a folder"),
    (["mark", "/etc/hostname", "/etc/hostname"], "OUTPUT must differ"),
    (["mark", "/etc/hostname", "/nonexistent/dir/out.txt", "-j", "us-ca"], "cannot write"),
    (["mark", "/etc/hostname", "out.txt", "-j", "mars"], "unknown jurisdiction 'mars'"),
    (["screen"], "give exactly one of --text TEXT, FILE or --batch IN.jsonl"),
    (["screen", "--text", "hi", "--batch", "in.jsonl"], "give exactly one of"),
    (["screen", "--text", "  "], "the text is empty"),
    (["screen", "--text", "hi", "-j", "mars"], "unknown jurisdiction 'mars'"),
    (["screen", "--text", "hi", "--language", "tlh"], "unsupported language"),
    (["screen", "/nonexistent/in.txt"], "cannot read"),
    (["screen", "--batch", "/nonexistent/in.jsonl"], "cannot read"),
    (["screen", "--batch", "/etc"], "is a folder"),
    (["screen", "--batch", "/dev/null"], "is empty"),
    (["trace", "not-a-watermark"], "neither a watermark id (12 hex digits) nor an existing file"),
    (["trace", "0123456789AB"], "no content carries the watermark id 0123456789ab"),
    (["trace", "/etc"], "is a folder"),
    (["chat", "--model", "gpt-9", "-m", "hi"], "unknown model 'gpt-9'; available: echo-chat"),
    (["chat", "--language", "tlh", "-m", "hi"], "--language must be one of: zh, en"),
    (["conversations", "show", "nope"], "no tenant named 'default'"),
    (["conversations", "list", "--tenant", "ghost"], "no tenant named 'ghost'"),
    (["conversations", "export", "nope", "-o", "x.json"], "no tenant named 'default'"),
    (["conversations", "delete", "nope", "--tenant", "ghost"], "no tenant named 'ghost'"),
    (["conversations", "prune", "--older-than", "0"], "--older-than must be at least 1 day"),
    (["upload", "/nonexistent/x.png"], "cannot read /nonexistent/x.png"),
    (["upload", "/etc"], "cannot read /etc"),
    (["feed", "--tenant", "ghost"], "no tenant named 'ghost'"),
    (["reports", "act", "nope", "remove"], "no report 'nope'"),
    (["publish", "tiktok", "/etc/hostname"], "needs a user access token"),
]


@pytest.mark.parametrize(("args", "message"), BAD_CASES)
def test_bad_input_is_one_error_line_and_exit_2(
    cli_env: dict[str, str], args: list[str], message: str
) -> None:
    result = run_cli(args, cli_env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert "Traceback" not in result.stderr


USAGE_CASES: list[tuple[list[str], str]] = [
    (["keys", "create"], "--role"),
    (["serve", "--port", "0"], "--port"),
    (["serve", "--port", "eighty"], "--port"),
    (["ledger", "prune", "--older-than", "many"], "--older-than"),
    (["policy", "show"], "Missing argument"),
    (["frobnicate"], "No such command"),
    (["inspect"], "Missing argument"),
    (["inspect", "x", "--workers", "0"], "--workers"),
    (["studio", "templates", "--colour"], "No such option"),
]


@pytest.mark.parametrize(("args", "mentions"), USAGE_CASES)
def test_usage_errors_exit_2_without_traceback(
    cli_env: dict[str, str], args: list[str], mentions: str
) -> None:
    result = run_cli(args, cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert mentions in result.stderr


def test_every_command_has_a_bad_input_case() -> None:
    import typer.main

    from hallmark.cli.main import app

    def walk(group: object, prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
        found: set[tuple[str, ...]] = set()
        for name, command in getattr(group, "commands", {}).items():
            path = (*prefix, name)
            found.add(path)
            found |= walk(command, path)
        return found

    commands = walk(typer.main.get_command(app), ())
    leaves = {c for c in commands if not any(o[: len(c)] == c and o != c for o in commands)}
    leaves.add(("jobs",))  # the group lists jobs itself
    assert len(leaves) >= 12  # the command tree really was read
    cases = [tuple(args) for args, _ in BAD_CASES + USAGE_CASES]
    missing = {c for c in leaves if not any(case[: len(c)] == c for case in cases)}
    assert missing == set(), f"commands without a bad-input case: {missing}"


def test_inspect_reports_each_file_and_exits_2_if_one_is_unreadable(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    labelled = tmp_path / "note.md"
    labelled.write_text('---\nAIGC: {"Label": "1", "ContentProducer": "x"}\n---\nhi\n')
    plain = tmp_path / "plain.txt"
    plain.write_text("nothing to see")
    result = run_cli(["inspect", str(labelled), str(plain), "/nonexistent", "--json"], cli_env)
    assert result.returncode == 2
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("verdict") for r in reports] == ["confirmed", "none", None]
    assert reports[2]["error"]["code"] == "bad_request"


def test_mark_writes_a_new_file_and_leaves_the_input_alone(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    source, target = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_bytes(b"caption")
    result = run_cli(["mark", str(source), str(target), "-j", "us-ca"], cli_env)
    assert result.returncode == 0, result.stderr
    assert source.read_bytes() == b"caption" and target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.txt")]
