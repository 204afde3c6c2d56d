"""The rhythm cue in a video's sound: a clip whose first audio stream is a cue-labelled recording
(MP4 or MOV, AAC or PCM) reports the cue at its start and its end with the recording's own time
spans, on the video's timeline; unlabelled clips, clips without sound and junk report none. Only
the ends of the track are decoded, sample for sample."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_explicit_audio import RATE, music, wav_bytes

from hallmark.content import Content
from hallmark.mark import inspect_audio_cue
from hallmark.mark.explicit_audio import with_cue
from hallmark.mark.inspect_audio_cue import SEARCH, AudioCueInspector, VideoAudioCueInspector
from hallmark.mark.report import inspect_bytes
from hallmark.mark.video_audio import audio_track, decode_track
from hallmark.registry import Components
from hallmark.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

MEDIA_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime"}


def video_with_sound(
    path: Path, sound: np.ndarray | None, codec: str = "aac", delay: float = 0.0
) -> Content:
    """A 320x240 testsrc2 clip as long as ``sound`` (mono samples at ``RATE``; 4 s without
    sound), the sound in ``codec``, starting ``delay`` seconds after the first frame."""
    args = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10"]
    if sound is None:
        args += ["-t", "4"]
    else:
        wav = path.with_suffix(".wav")
        wav.write_bytes(wav_bytes(sound))
        args += ["-itsoffset", str(delay), "-i", str(wav), "-map", "0:v", "-map", "1:a"]
        args += ["-shortest", "-c:a", codec]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *args, "-c:v", "libx264", "-preset",
         "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return Content("video", MEDIA_TYPES[path.suffix[1:]], path.read_bytes())


def labelled(seed: int, seconds: float) -> np.ndarray:
    """Music with the cue before and after it, as ``explicit_audio`` writes it."""
    return np.asarray(with_cue(music(seed, seconds)[:, None], RATE)[:, 0])


def spans(content: Content) -> dict[str, list[float]]:
    return {
        f.detail["cue"]: f.detail["time_span"] for f in VideoAudioCueInspector().inspect(content)
    }


@pytest.mark.parametrize(
    ("name", "seconds", "codec"),
    [("clip.mp4", 4.0, "aac"), ("clip.mov", 2.0, "aac"), ("clip.mov", 6.0, "pcm_s16le")],
    ids=["mp4-aac-ends", "mov-aac-whole", "mov-pcm-ends"],
)
def test_the_cue_of_a_labelled_recording_is_found_in_its_video(
    tmp_path: Path, name: str, seconds: float, codec: str
) -> None:
    sound = labelled(3, seconds)
    total = len(sound) / RATE  # 4.2 s is read whole; 6.2 and 8.2 s only at their ends
    wav = Content("audio", "audio/wav", wav_bytes(sound))
    expected = {f.detail["cue"]: f.detail["time_span"] for f in AudioCueInspector().inspect(wav)}
    assert expected == {
        "start": pytest.approx([0.0, 0.9], abs=0.02),
        "end": pytest.approx([total - 0.9, total], abs=0.02),
    }
    content = video_with_sound(tmp_path / name, sound, codec)
    found = VideoAudioCueInspector().inspect(content)
    assert [(f.scheme, f.kind, f.detail["cue"]) for f in found] == [
        ("explicit", "explicit", "start"),
        ("explicit", "explicit", "end"),
    ]
    assert found[0].detail["pattern"] == "short-long-short-short"
    for where, span in spans(content).items():
        assert span == pytest.approx(expected[where], abs=0.02)


def test_times_are_on_the_videos_timeline(tmp_path: Path) -> None:
    sound = labelled(4, 3.0)
    total = 1.0 + len(sound) / RATE
    late = video_with_sound(tmp_path / "late.mov", sound, "pcm_s16le", delay=1.0)
    assert spans(late) == {
        "start": pytest.approx([1.0, 1.9], abs=0.02),
        "end": pytest.approx([total - 0.9, total], abs=0.02),
    }


def test_no_cue_in_unlabelled_or_silent_clips(tmp_path: Path) -> None:
    assert spans(video_with_sound(tmp_path / "music.mp4", music(5, 8.0))) == {}
    t = np.arange(7 * RATE) / RATE
    tone = 0.25 * np.sin(2 * np.pi * 1000.0 * t)  # the cue's frequency, held
    assert spans(video_with_sound(tmp_path / "tone.mp4", tone)) == {}
    assert spans(video_with_sound(tmp_path / "silent.mp4", None)) == {}
    assert spans(Content("video", "video/mp4", b"\x00\x00\x00\x18ftypisom junk")) == {}
    assert spans(Content("video", "video/webm", b"\x1aE\xdf\xa3")) == {}


def test_only_the_ends_are_decoded_sample_for_sample(tmp_path: Path) -> None:
    samples = music(6, 9.0)
    path = tmp_path / "pcm.mov"
    video_with_sound(path, samples, "pcm_s16le")
    track = audio_track(path)
    assert track is not None and (track.codec, track.rate, track.channels) == ("pcm_s16le", RATE, 1)
    assert track.duration == pytest.approx(9.0) and track.lead == 0.0
    stored = np.round(samples * 32767) / 32768
    head = decode_track(path, track, seconds=SEARCH, mono=True)[:, 0]
    tail = decode_track(path, track, start=track.end - SEARCH, mono=True)[:, 0]
    assert len(head) == len(tail) == round(SEARCH * RATE)
    assert np.abs(head - stored[: len(head)]).max() < 1e-4
    assert np.abs(tail - stored[-len(tail) :]).max() < 1e-4
    video_with_sound(tmp_path / "silent.mp4", None)
    assert audio_track(tmp_path / "silent.mp4") is None


def test_a_quick_report_shows_both_cues(tmp_path: Path) -> None:
    components = Components(Settings(home=tmp_path / "home", worker_threads=0))
    inspect_audio_cue.register(components)
    assert {"audio-cue", "audio-cue.video"} <= set(components.inspectors.names())
    content = video_with_sound(tmp_path / "clip.mp4", labelled(7, 4.0))
    report = inspect_bytes(components, content.data, filename="clip.mp4", quick=True)
    assert [entry["cue"] for entry in report["explicit"]] == ["start", "end"]
    assert report["verdict"] == "suspected"
    plain = video_with_sound(tmp_path / "plain.mp4", music(8, 4.0))
    assert inspect_bytes(components, plain.data, filename="plain.mp4", quick=True)["explicit"] == []
