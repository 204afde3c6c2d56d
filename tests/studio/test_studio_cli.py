"""``hallmark studio``: the commands a creator runs, through the real CLI process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from studio_media import make_video, probe, stream

from helpers import run_cli

SLOW = 300


def _write_project(folder: Path, **changes: object) -> Path:
    make_video(folder / "clip.mp4", seconds=1.5)
    project = {
        "width": 320,
        "height": 568,
        "fps": 15,
        "name": "cli demo",
        "tracks": [
            {"kind": "visual", "clips": [{"kind": "video", "source": "clip.mp4"}]},
            {"kind": "text", "clips": [{"kind": "text", "text": "From the CLI", "duration": 1}]},
        ],
        **changes,
    }
    path = folder / "project.json"
    path.write_text(json.dumps(project), "utf-8")
    return path


def _one_line_error(result: object, *needles: str) -> None:
    assert result.returncode == 2, result.stderr  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: ")
    for needle in needles:
        assert needle in last


def test_render_writes_a_labeled_mp4(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = _write_project(tmp_path)
    out = tmp_path / "out.mp4"
    result = run_cli(["studio", "render", str(project), str(out), "--json"], cli_env, SLOW)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert "explicit" in record["labels"]
    assert record["path"] == str(out)
    info = probe(out)
    assert stream(info, "video")["height"] == 568
    assert stream(info, "audio")["sample_rate"] == "44100"
    inspected = run_cli(["inspect", str(out), "--json"], cli_env, SLOW)
    assert inspected.returncode == 0, inspected.stderr
    report = json.loads(inspected.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["verdict"] == "confirmed"


def test_a_project_that_is_not_json_is_one_error_line(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "project.json"
    project.write_text('{"tracks": [', "utf-8")
    result = run_cli(["studio", "render", str(project), str(tmp_path / "o.mp4")], cli_env)
    _one_line_error(result, "not valid JSON", "line 1")
    assert not (tmp_path / "o.mp4").exists()


def test_an_unknown_field_is_named_with_its_place(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = _write_project(tmp_path)
    data = json.loads(project.read_text("utf-8"))
    data["tracks"][1]["clips"][0]["colour"] = "#ffffff"
    project.write_text(json.dumps(data), "utf-8")
    result = run_cli(["studio", "render", str(project), str(tmp_path / "o.mp4")], cli_env)
    _one_line_error(result, "tracks[1].clips[0].colour")


def test_a_missing_media_file_is_named(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = _write_project(tmp_path)
    (tmp_path / "clip.mp4").unlink()
    result = run_cli(["studio", "render", str(project), str(tmp_path / "o.mp4")], cli_env)
    _one_line_error(result, "clip.mp4")
    assert not (tmp_path / "o.mp4").exists()


def test_the_output_must_be_an_mp4(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = _write_project(tmp_path)
    result = run_cli(["studio", "render", str(project), str(tmp_path / "o.avi")], cli_env)
    _one_line_error(result, "o.avi")


def test_templates_are_listed(cli_env: dict[str, str]) -> None:
    result = run_cli(["studio", "templates", "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    names = [t["name"] for t in json.loads(result.stdout)]
    assert len(names) >= 3


def test_a_project_goes_to_otio_and_back(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = _write_project(tmp_path)
    timeline = tmp_path / "project.otio"
    back = tmp_path / "back.json"
    assert (
        run_cli(["studio", "otio", "export", str(project), str(timeline)], cli_env).returncode == 0
    )
    result = run_cli(["studio", "otio", "import", str(timeline), str(back)], cli_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(back.read_text("utf-8"))["tracks"][1]["clips"][0]["text"] == "From the CLI"


@pytest.mark.parametrize("args", [["--cuts-out"], []])
def test_smartcut_without_output_writes_only_the_cut_list_or_says_what_is_missing(
    cli_env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    video = make_video(tmp_path / "talk.mp4", seconds=2.0)
    cuts = tmp_path / "cuts.json"
    command = ["studio", "smartcut", str(video), *([*args, str(cuts)] if args else [])]
    result = run_cli(command, cli_env, SLOW)
    if args:
        # a tone is not speech: there is nothing to keep, and the CLI says so
        _one_line_error(result, "no speech")
        assert not cuts.exists()
    else:
        _one_line_error(result, "--cuts-out")


def test_script2video_makes_a_spoken_captioned_video(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "script.txt"
    script.write_text("Morning light fills the harbor.\n\nThe boats head out to sea.\n", "utf-8")
    out = tmp_path / "story.mp4"
    result = run_cli(
        ["studio", "script2video", str(script), str(out), "--preview", "--json"], cli_env, SLOW
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["studio"]["scenes"] == 2
    assert "explicit" in record["labels"]
    info = probe(out)
    assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}
    assert float(info["format"]["duration"]) > 2.0


def test_captions_are_written_as_srt_from_speech(cli_env: dict[str, str], tmp_path: Path) -> None:
    from studio_media import make_speech_with_pauses

    wav = tmp_path / "talk.wav"
    make_speech_with_pauses(wav, ["The studio writes captions.", "They follow the voice."])
    srt = tmp_path / "talk.srt"
    result = run_cli(["studio", "captions", str(wav), str(srt)], cli_env, SLOW)
    assert result.returncode == 0, result.stderr
    text = srt.read_text("utf-8").lower()
    assert "00:00:0" in text
    assert "captions" in text and "voice" in text


def test_captions_need_a_sidecar_name_ending_in_srt_or_vtt(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=1.0)
    result = run_cli(["studio", "captions", str(video), str(tmp_path / "v.txt")], cli_env)
    _one_line_error(result, ".srt or .vtt")


def test_reframe_makes_a_vertical_video(cli_env: dict[str, str], tmp_path: Path) -> None:
    video = make_video(tmp_path / "wide.mp4", seconds=1.5, size="640x360")
    out = tmp_path / "tall.mp4"
    result = run_cli(
        ["studio", "reframe", str(video), str(out), "--preview", "--json"], cli_env, SLOW
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["studio"]["frames_with_face"] == 0  # no face: the honest centred crop
    picture = stream(probe(out), "video")
    assert (picture["width"], picture["height"]) == (360, 640)


def test_smartcut_removes_the_pauses_and_keeps_the_speech(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    from studio_media import ffmpeg, make_speech_with_pauses

    wav = tmp_path / "talk.wav"
    spans = make_speech_with_pauses(wav, ["First we cut.", "Then we keep."], pause=2.0)
    seconds = spans[-1][1] + 2.0
    video = tmp_path / "talk.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=15:duration={seconds}", "-i",
           str(wav), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-shortest", str(video))  # fmt: skip
    out = tmp_path / "cut.mp4"
    cuts = tmp_path / "cuts.json"
    command = ["studio", "smartcut", str(video), str(out), "--cuts-out", str(cuts), "--json"]
    result = run_cli(command, cli_env, SLOW)
    assert result.returncode == 0, result.stderr
    kept = json.loads(cuts.read_text("utf-8"))["keep"]
    assert len(kept) == 2
    speech = sum(end - start for start, end in spans)
    duration = float(probe(out)["format"]["duration"])
    assert speech < duration < seconds - 2.5  # most of the 6 s of pauses are gone
