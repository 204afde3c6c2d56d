"""Smart cut on piper speech with known pauses, turned into a video: Silero finds the
sentences, the pauses go but for the margins, and the cut list is JSON a person can edit."""

from __future__ import annotations

import copy
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from studio_media import ffmpeg, make_speech_with_pauses, make_video

from hallmark.errors import UserError
from hallmark.studio.smartcut import (
    CutList,
    CutOptions,
    cut_list,
    project_from_cuts,
    speech_probabilities,
    speech_spans,
)
from hallmark.studio.timeline import (
    AudioClip,
    VideoClip,
    parse_project,
    project_duration,
    project_to_dict,
)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello there, how are you today?",
    "This is the third sentence of the test.",
]
PAUSE = 1.5


Speech = tuple[Path, Path, list[tuple[float, float]]]


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """The speech as a WAV and as a 320x240 H.264/AAC video, and each sentence's span."""
    folder = tmp_path_factory.mktemp("smartcut")
    wav = folder / "speech.wav"
    spans = make_speech_with_pauses(wav, SENTENCES, pause=PAUSE)
    video = folder / "speech.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-i", str(wav), "-shortest",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           str(video))  # fmt: skip
    return wav, video, spans


@pytest.fixture(scope="module")
def cuts(speech: Speech) -> CutList:
    return cut_list(speech[1])


@pytest.fixture(scope="module")
def probabilities(speech: Speech) -> tuple[np.ndarray, float]:
    return speech_probabilities(speech[1])


def inside(span: tuple[float, float], keep: tuple[tuple[float, float], ...]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in keep)


def test_every_sentence_lies_inside_a_kept_interval(speech, cuts) -> None:
    for span in speech[2]:
        assert inside(span, cuts.keep), (span, cuts.keep)


def voiced(wav: Path, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Each sentence's span trimmed to where it is audible: piper pads its speech with a
    little silence of its own."""
    with wave.open(str(wav)) as source:
        rate = source.getframerate()
        samples = np.frombuffer(source.readframes(source.getnframes()), "<i2") / 32768
    trimmed = []
    for start, end in spans:
        loud = np.flatnonzero(np.abs(samples[int(start * rate) : int(end * rate)]) > 0.02)
        trimmed.append((start + loud[0] / rate, start + loud[-1] / rate))
    return trimmed


def test_the_pauses_are_removed_but_for_the_margins(speech, cuts) -> None:
    spans = speech[2]
    margin = cuts.options.margin
    audible = voiced(speech[0], spans)
    expected = sum(b - a + 2 * margin for a, b in audible)
    assert cuts.kept_seconds == pytest.approx(expected, abs=0.3)
    assert len(cuts.keep) == len(spans)
    for (a, b), (start, end) in zip(audible, cuts.keep, strict=True):
        assert start == pytest.approx(a - margin, abs=0.15)
        assert end == pytest.approx(b + margin, abs=0.2)
    # The middle of every pause, before, between and after the sentences, is cut.
    edges = [0.0, *(t for span in spans for t in span), cuts.duration]
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        middle = (start + end) / 2
        assert any(a <= middle <= b for a, b in cuts.removed), (middle, cuts.removed)


def test_a_pause_shorter_than_min_silence_is_kept(speech, probabilities) -> None:
    values, window = probabilities
    joined = speech_spans(values, window, CutOptions(min_silence=PAUSE + 0.5))
    assert len(joined) == 1
    assert joined[0][0] <= speech[2][0][0] and speech[2][-1][1] <= joined[0][1]


def test_a_wider_margin_widens_every_interval(probabilities) -> None:
    values, window = probabilities
    narrow = speech_spans(values, window, CutOptions(margin=0.1))
    wide = speech_spans(values, window, CutOptions(margin=0.4))
    assert len(narrow) == len(wide)
    for (a, b), (c, d) in zip(narrow, wide, strict=True):
        assert c == pytest.approx(max(0.0, a - 0.3), abs=1e-6)
        assert d == pytest.approx(b + 0.3, abs=1e-6)


def test_speech_starts_at_the_threshold_and_ends_below_it_by_the_hysteresis() -> None:
    window = 0.1
    # 0.4 does not start speech; once started, 0.4 keeps it going (above 0.5 - 0.15).
    values = [0.0] * 10 + [0.4] * 5 + [0.9] * 10 + [0.4] * 10 + [0.2] * 20
    options = CutOptions(margin=0.0, min_silence=0.0, min_speech=0.0)
    assert speech_spans(values, window, options) == [pytest.approx((1.5, 3.5))]


def test_short_blips_are_dropped_and_margins_stay_within_the_source() -> None:
    window = 0.1
    values = [0.9] * 5 + [0.0] * 20 + [0.9] * 1 + [0.0] * 20 + [0.9] * 5
    options = CutOptions(margin=0.3, min_silence=0.5, min_speech=0.25)
    kept = speech_spans(values, window, options)
    assert kept == [pytest.approx((0.0, 0.8)), pytest.approx((4.3, 5.1))]


def test_the_cut_list_round_trips_through_its_json(cuts) -> None:
    data = json.loads(cuts.to_json())
    assert data["version"] == 1 and data["source"] == cuts.source
    assert [list(entry) for entry in data["keep"]] == [["start", "end"]] * len(cuts.keep)
    assert CutList.from_json(cuts.to_json()).to_dict() == data


def test_a_hand_edited_cut_list_is_honoured_by_the_project(cuts) -> None:
    data = cuts.to_dict()
    del data["keep"][1]  # the reviewer drops the second sentence
    edited = CutList.from_dict(data)
    project = project_from_cuts(edited, 320, 240, 25.0, has_video=True)
    assert (project.width, project.height, project.fps) == (320, 240, 25.0)
    clips = project.tracks[0].clips
    assert all(isinstance(clip, VideoClip) and clip.fit == "contain" for clip in clips)
    assert [(clip.in_, clip.out) for clip in clips] == [  # type: ignore[union-attr]
        (entry["start"], entry["end"]) for entry in data["keep"]
    ]
    assert clips[1].start == pytest.approx(data["keep"][0]["end"] - data["keep"][0]["start"])
    assert project_duration(project) == pytest.approx(edited.kept_seconds)
    assert parse_project(project_to_dict(project)) == project


def test_an_odd_sized_video_gets_an_even_canvas(cuts) -> None:
    project = project_from_cuts(cuts, 321, 239, 30.0, has_video=True)
    assert (project.width, project.height) == (320, 238)


def test_an_audio_only_source_is_cut_into_audio_clips(speech) -> None:
    wav, _, spans = speech
    cuts = cut_list(wav)
    for span in spans:
        assert inside(span, cuts.keep)
    project = project_from_cuts(cuts, None, None, 30.0, has_video=False)
    (track,) = project.tracks
    assert track.kind == "audio" and track.role == "voice"
    assert all(isinstance(clip, AudioClip) for clip in track.clips)
    assert project_duration(project) == pytest.approx(cuts.kept_seconds)


def edited(cuts: CutList, change) -> dict:
    data = copy.deepcopy(cuts.to_dict())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["keep"].reverse(), "keep[1]"),
        (lambda d: d["keep"][1].update(start=d["keep"][0]["end"] - 0.5), "keep[1]"),
        (lambda d: d["keep"][-1].update(end=d["duration"] + 5), "keep[2].end"),
        (lambda d: d["keep"][0].update(end=d["keep"][0]["start"]), "keep[0].end"),
        (lambda d: d["keep"][0].update(start="soon"), "keep[0].start"),
        (lambda d: d["keep"].clear(), "keep"),
        (lambda d: d.pop("keep"), "keep"),
        (lambda d: d["options"].update(threshold=2), "threshold"),
        (lambda d: d["options"].update(speed=2), "options.speed"),
        (lambda d: d.update(version=2), "version"),
    ],
)
def test_an_invalid_cut_list_is_refused_naming_the_entry(cuts, change, named) -> None:
    with pytest.raises(UserError, match=named.replace("[", r"\[").replace("]", r"\]")):
        CutList.from_dict(edited(cuts, change))


def test_a_cut_list_that_is_not_json_is_refused() -> None:
    with pytest.raises(UserError, match="not valid JSON"):
        CutList.from_json("{keep: [")


@pytest.mark.parametrize(
    "options",
    [{"threshold": 1.5}, {"margin": -0.1}, {"min_silence": float("nan")}, {"min_speech": "a"}],
)
def test_options_out_of_range_are_refused(options) -> None:
    with pytest.raises(UserError, match=next(iter(options))):
        CutOptions(**options)


def test_a_silent_video_has_no_speech_to_keep(tmp_path: Path) -> None:
    video = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=2",
           "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "2", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(video))  # fmt: skip
    with pytest.raises(UserError, match="no speech found; nothing to keep"):
        cut_list(video)


def test_a_video_without_audio_is_refused_cleanly(tmp_path: Path) -> None:
    video = make_video(tmp_path / "mute.mp4", seconds=1.0, size="160x120", tone=None)
    with pytest.raises(UserError, match="no audio"):
        cut_list(video)


def test_a_corrupt_or_missing_file_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    with pytest.raises(UserError, match=r"broken\.mp4"):
        cut_list(broken)
    with pytest.raises(UserError, match="not found"):
        cut_list(tmp_path / "missing.mp4")
