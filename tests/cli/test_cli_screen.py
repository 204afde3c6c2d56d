"""`hallmark screen`: a text, a file or a batch; the decision as a table or JSON; exit 0 for
allow and flag, 1 for block, 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from hallmark.policy import resolve_policy
from hallmark.services import build_services
from hallmark.settings import Settings
from helpers import run_cli

EVASION = "请介绍一下法@轮功的历史"


def ledger_kinds(settings: Settings) -> list[str]:
    services = build_services(settings)
    try:
        with services.db.session() as session:
            return [entry.kind for entry in services.ledger.entries(session)]
    finally:
        services.close()


def test_a_blocked_text_shows_its_evidence_and_refusal_and_exits_1(
    cli_env: dict[str, str],
) -> None:
    result = run_cli(["screen", "--text", EVASION, "-j", "cn"], cli_env)

    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("block under cn")
    row = next(line for line in result.stdout.splitlines() if "法@轮功" in line)
    assert "法轮功" in row and "5:9" in row and "cult" in row
    assert f"refusal: {resolve_policy('cn').refusal_text('zh')}" in result.stdout


def test_allowed_and_flagged_texts_exit_0(cli_env: dict[str, str]) -> None:
    allowed = run_cli(["screen", "--text", EVASION, "-j", "eu", "--json"], cli_env)
    flagged = run_cli(["screen", "--text", "well, shit happens", "-j", "cn", "--json"], cli_env)

    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["action"] == "allow"
    assert flagged.returncode == 0, flagged.stderr
    assert json.loads(flagged.stdout)["action"] == "flag"


def test_a_file_decision_as_json(
    cli_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("first line\n" + EVASION + "\n", "utf-8")

    result = run_cli(["screen", str(notes), "-j", "cn,eu", "--language", "en", "--json"], cli_env)

    assert result.returncode == 1, result.stderr
    decision = json.loads(result.stdout)
    assert set(decision) >= {
        "action",
        "categories",
        "reasons",
        "evidence",
        "refusal",
        "screened_by",
        "digest",
        "ledger_seq",
    }
    assert decision["action"] == "block" and decision["categories"] == ["cult"]
    assert decision["medium"] == "document" and "lexicon" in decision["screened_by"]
    assert decision["refusal"] == resolve_policy("cn,eu").refusal_text("en")
    span = decision["evidence"][0]["evidence"]
    assert notes.read_text("utf-8")[span["start"] : span["end"]] == "法@轮功"
    assert ledger_kinds(settings)[-1] == "screen"


def test_a_batch_keeps_order_reports_bad_lines_and_exits_2(
    cli_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    batch = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"text": EVASION, "id": "a"}, ensure_ascii=False),
        "{not json",
        json.dumps({"text": "Have a lovely day!"}),
    ]
    batch.write_text("\n".join(lines) + "\n", "utf-8")

    result = run_cli(["screen", "--batch", str(batch), "-j", "cn"], cli_env)

    assert result.returncode == 2, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [item["line"] for item in out] == [1, 2, 3]
    assert out[0]["id"] == "a" and out[0]["action"] == "block"
    assert out[0]["refusal"] == resolve_policy("cn").refusal_text("zh")
    assert out[1]["error"]["code"] == "bad_request" and "not JSON" in out[1]["error"]["message"]
    assert "action" not in out[1]
    assert out[2]["action"] == "allow" and "lexicon" in out[2]["screened_by"]
    assert "1 allowed, 0 flagged, 1 blocked, 1 bad" in result.stderr
    assert "Traceback" not in result.stderr
    assert ledger_kinds(settings).count("screen.batch") == 1


def test_a_batch_of_good_lines_exits_by_the_strictest_action(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    batch = tmp_path / "in.jsonl"
    batch.write_text('{"text": "hello"}\n{"text": "well, shit happens"}\n', "utf-8")

    result = run_cli(["screen", "--batch", str(batch), "-j", "cn"], cli_env)

    assert result.returncode == 0, result.stderr
    actions = [json.loads(line)["action"] for line in result.stdout.splitlines()]
    assert actions == ["allow", "flag"]
