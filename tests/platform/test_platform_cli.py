"""`hallmark upload` and `hallmark feed`: the real CLI against the test's data."""

from __future__ import annotations

import json
from pathlib import Path

from upload_support import photo, sha256, split, tenant_id

from hallmark.platform.feed import Member
from hallmark.platform.uploads import UploadRequest, append_chunk, create_upload
from hallmark.services import Services
from helpers import run_cli


def test_upload_json_then_the_feed_lists_the_post(
    cli_env: dict[str, str], tmp_path: Path, services: Services
) -> None:
    picture = tmp_path / "beach.png"
    picture.write_bytes(photo(seed=41))
    result = run_cli(
        ["upload", str(picture), "--declare-ai", "--caption", "beach day", "-j", "cn", "--json"],
        cli_env,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    post = json.loads(result.stdout)
    assert post["verdict"] == "possible" and post["label"] == "可能为AI生成"
    assert post["caption"] == "beach day" and post["resumed_from"] is None

    listed = run_cli(["feed", "--json"], cli_env)
    assert listed.returncode == 0, listed.stderr
    assert [item["id"] for item in json.loads(listed.stdout)["posts"]] == [post["id"]]
    table = run_cli(["feed"], cli_env)
    assert post["id"] in table.stdout and "possible" in table.stdout and "beach day" in table.stdout


def test_upload_prints_the_post_verdict_and_label(cli_env: dict[str, str], tmp_path: Path) -> None:
    picture = tmp_path / "plain.png"
    picture.write_bytes(photo(seed=42))
    result = run_cli(["upload", str(picture)], cli_env, timeout=180)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["verdict"] == "none" and lines["label"].startswith("(none")
    assert len(lines["post"]) == 32


def test_an_interrupted_upload_resumes_where_it_stopped(
    cli_env: dict[str, str], tmp_path: Path, services: Services
) -> None:
    data = photo(seed=43)
    picture = tmp_path / "long.png"
    picture.write_bytes(data)
    # What an interrupted `hallmark upload` leaves behind: an open upload of these bytes,
    # by the CLI's user, one chunk in.
    member = Member(tenant_id(services, "default"), "cli")
    first = split(data, 3)[0]
    request = UploadRequest("long.png", len(data), sha256=sha256(data))
    started = create_upload(services, member, request)
    append_chunk(services, member, started.id, 0, first)

    result = run_cli(["upload", str(picture), "--json"], cli_env, timeout=180)
    assert result.returncode == 0, result.stderr
    post = json.loads(result.stdout)
    assert post["upload_id"] == started.id and post["resumed_from"] == len(first)
    assert services.media.get(post["original_digest"]) == data


def test_bad_input_is_one_line_and_no_traceback(cli_env: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for args in (
        ["upload", str(tmp_path / "missing.png")],
        ["upload", str(empty)],
        ["upload", str(empty.parent)],
        ["feed", "--cursor", "!!"],
    ):
        result = run_cli(args, cli_env)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
