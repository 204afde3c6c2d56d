"""`hallmark trace` and `hallmark inspect` lead from a watermark to its ledger entry."""

from __future__ import annotations

import io
import json
from pathlib import Path

from hallmark.mark.watermark.attacks import synthetic_scene
from helpers import run_cli


def marked_image(cli_env: dict[str, str], tmp_path: Path) -> tuple[Path, dict[str, object]]:
    source, target = tmp_path / "scene.png", tmp_path / "marked.png"
    buffer = io.BytesIO()
    synthetic_scene(8, 320, 256).save(buffer, "PNG")
    source.write_bytes(buffer.getvalue())
    result = run_cli(["mark", str(source), str(target), "-j", "cn", "--no-explicit"], cli_env)
    assert result.returncode == 0, result.stderr
    made: dict[str, object] = json.loads(result.stdout)
    return target, made


def test_trace_by_id_and_by_file_and_inspect_name_the_entry(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    target, made = marked_image(cli_env, tmp_path)

    inspected = run_cli(["inspect", str(target), "--json", "--quick"], cli_env)
    assert inspected.returncode == 0, inspected.stderr
    report = json.loads(inspected.stdout)
    provenance = report["provenance"]
    ident = report["watermark"]["watermark_id"]
    assert provenance["content_id"] == made["id"] and provenance["ledger_seq"] == made["ledger_seq"]

    by_id = run_cli(["trace", ident, "--json"], cli_env)
    assert by_id.returncode == 0, by_id.stderr
    traced = json.loads(by_id.stdout)
    (found,) = traced["records"]
    assert traced["watermark_id"] == ident and found["content"]["id"] == made["id"]
    assert found["ledger"]["seq"] == made["ledger_seq"]
    assert found["ledger"]["hash"] == provenance["entry_hash"]
    assert found["check"] == {"hash_matches": True, "linked": True}

    # the same entry, with the same hash, in the auditor's export
    export = tmp_path / "audit.jsonl"
    assert run_cli(["ledger", "export", "-o", str(export)], cli_env).returncode == 0
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    (entry,) = [e for e in lines if e["type"] == "entry" and e["seq"] == made["ledger_seq"]]
    assert entry["hash"] == found["ledger"]["hash"]

    by_file = run_cli(["trace", str(target)], cli_env)
    assert by_file.returncode == 0, by_file.stderr
    assert f"watermark {ident}: 1 record(s)" in by_file.stdout
    assert f"content {made['id']}" in by_file.stdout and "check    ok" in by_file.stdout


def test_a_file_without_a_watermark_is_one_error_line(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("nothing to see")
    result = run_cli(["trace", str(plain)], cli_env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {plain} carries no watermark this hallmark can read"
    ]


def test_inspect_without_a_database_still_reports(cli_env: dict[str, str], tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("nothing to see")
    env = {**cli_env, "HALLMARK_HOME": str(tmp_path / "empty-home")}
    env.pop("HALLMARK_DATABASE_URL", None)
    result = run_cli(["inspect", str(plain), "--json"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["provenance"] is None
    assert not (tmp_path / "empty-home" / "hallmark.db").exists()
