"""Script to video: scenes by rules and by a chat engine, and the project built from them with
the bundled piper voice (the renderer is not involved: the project and its files are checked)."""

from __future__ import annotations

import itertools
import json
import re
import wave
from pathlib import Path

import pytest
from studio_media import make_image, make_tone, make_video

from fakes.scripted_chat import ScriptedChat
from hallmark.errors import UpstreamError, UserError
from hallmark.speech.espeak import EspeakSpeech
from hallmark.speech.piper import PiperSpeech
from hallmark.studio.script import Scene, build_script_project, split_scenes
from hallmark.studio.timeline import (
    AudioClip,
    CardClip,
    ImageClip,
    InvalidProject,
    Project,
    TextClip,
    Track,
    VideoClip,
    clip_end,
    media_clips,
    parse_project,
    project_duration,
    project_to_dict,
    text_of,
)

SCRIPT = """The harbour wakes up early.

Fishermen check their nets, and the gulls circle above the boats.

At night the lights come on, one by one."""


@pytest.fixture(scope="module")
def voices() -> list[PiperSpeech]:
    return [PiperSpeech(noise_scale=0.0, noise_w_scale=0.0)]


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the module: scenes said before are not said again."""
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def carded(voices: list[PiperSpeech], work_dir: Path) -> Project:
    return build_script_project(SCRIPT, voices=voices, work_dir=work_dir, width=360, height=640)


def _track(project: Project, role: str) -> Track:
    (track,) = [t for t in project.tracks if t.role == role]
    return track


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


# --- scenes ------------------------------------------------------------------------------------


def test_paragraphs_are_scenes() -> None:
    assert split_scenes(SCRIPT) == [
        Scene("The harbour wakes up early."),
        Scene("Fishermen check their nets, and the gulls circle above the boats."),
        Scene("At night the lights come on, one by one."),
    ]


def test_a_long_paragraph_is_split_at_sentence_ends() -> None:
    paragraph = (
        "The first boat leaves at dawn. It carries four people and a dog! "
        "Nobody knows where the dog came from? It simply appeared one morning and stayed "
        "with the crew for the whole season, sleeping on the nets between trips."
    )
    scenes = split_scenes(paragraph, max_chars=70)

    assert all(len(s.text) <= 70 for s in scenes)
    assert " ".join(s.text for s in scenes) == paragraph
    assert [s.text for s in scenes[:2]] == [
        "The first boat leaves at dawn. It carries four people and a dog!",
        "Nobody knows where the dog came from?",
    ]
    cut = [len(s.text) for s in scenes[2:]]  # one sentence too long for a scene, cut evenly
    assert len(cut) == 2 and abs(cut[0] - cut[1]) < 10


def test_a_chinese_script_splits_at_full_stops() -> None:
    script = "清晨的港口很安静。渔民们在检查渔网，海鸥在船上盘旋。\n\n夜晚，灯一盏一盏地亮了。"
    scenes = split_scenes(script, max_chars=20)

    assert [s.text for s in scenes] == [
        "清晨的港口很安静。",
        "渔民们在检查渔网，海鸥在船上盘旋。",
        "夜晚，灯一盏一盏地亮了。",
    ]


def test_an_empty_script_is_refused() -> None:
    with pytest.raises(UserError, match="script is empty"):
        split_scenes(" \n\n \t")


CHAT_SCENES = [
    {"text": "The harbour wakes up early. Fishermen check their nets,", "hint": "dawn harbour"},
    {"text": "and the gulls circle above the boats.", "hint": "gulls over boats"},
    {"text": "At night the lights come on, one by one.", "hint": "town lights at night"},
]


def test_the_chat_engine_scenes_and_hints_are_used() -> None:
    answer = "Here are the scenes:\n```json\n" + json.dumps(CHAT_SCENES) + "\n```"
    chat = ScriptedChat([answer])

    scenes = split_scenes(SCRIPT, chat=chat)

    assert scenes == [Scene(s["text"], s["hint"]) for s in CHAT_SCENES]
    (request,) = chat.requests
    assert "Fishermen check their nets" in request.messages[-1].content


@pytest.mark.parametrize(
    "answer",
    [
        "Sure! The video has three scenes about a harbour.",  # no JSON
        '[{"text": "The harbour wakes up.", "hint": "x"}]',  # words dropped
        json.dumps([{"text": s["text"].upper(), "hint": ""} for s in CHAT_SCENES]),  # rewritten
        '[{"scene": 1}]',  # the wrong shape
        "[" + json.dumps(CHAT_SCENES)[1:-2],  # cut off
    ],
)
def test_a_bad_chat_answer_falls_back_to_the_rules(answer: str) -> None:
    assert split_scenes(SCRIPT, chat=ScriptedChat([answer])) == split_scenes(SCRIPT)


def test_a_failing_chat_engine_falls_back_to_the_rules() -> None:
    chat = ScriptedChat([UpstreamError("the model is not loaded")])
    assert split_scenes(SCRIPT, chat=chat) == split_scenes(SCRIPT)


# --- the project -------------------------------------------------------------------------------


def test_a_script_becomes_a_project_with_pictures_captions_voice_and_music(
    carded: Project, work_dir: Path
) -> None:
    assert [(t.kind, t.role) for t in carded.tracks] == [
        ("visual", "main"),
        ("text", "caption"),
        ("audio", "voice"),
        ("audio", "music"),
    ]
    assert (carded.width, carded.height, carded.language) == (360, 640, "en")
    assert parse_project(project_to_dict(carded)) == carded
    for _, _, clip in media_clips(carded):
        assert Path(clip.source).is_absolute() and Path(clip.source).parent == work_dir
        assert Path(clip.source).is_file()


def test_each_scene_is_spoken_over_its_own_background(carded: Project) -> None:
    backgrounds = _track(carded, "main").clips
    voices = [c for c in _track(carded, "voice").clips if isinstance(c, AudioClip)]

    assert len(backgrounds) == len(voices) == 3
    for index, (background, voice) in enumerate(zip(backgrounds, voices, strict=True)):
        voice_end = clip_end(voice)
        background_end = clip_end(background)
        assert voice_end is not None and background_end is not None
        settled = background.start + background.transition  # the cross-fade is over
        assert settled <= voice.start and voice_end <= background_end
        assert background.transition == (0.4 if index else 0.0)
        with wave.open(voice.source) as wav:
            assert voice.out == pytest.approx(wav.getnframes() / wav.getframerate(), abs=0.001)
    for before, after in itertools.pairwise(backgrounds):
        assert clip_end(before) == pytest.approx(after.start + after.transition)
    assert project_duration(carded) == pytest.approx(clip_end(backgrounds[-1]))


def test_the_captions_say_the_script_within_each_voiceover(carded: Project) -> None:
    captions = [c for c in _track(carded, "caption").clips if isinstance(c, TextClip)]
    voices = [c for c in _track(carded, "voice").clips if isinstance(c, AudioClip)]

    assert _words(text_of(carded)) == _words(SCRIPT)
    for before, after in itertools.pairwise(captions):
        assert clip_end(before) <= after.start + 1e-6
    for caption in captions:
        end = clip_end(caption)
        assert end is not None
        assert any(v.start - 1e-6 <= caption.start and end <= (clip_end(v) or 0) + 1e-6
                   for v in voices)  # fmt: skip
        assert all(len(line) <= 42 for line in caption.text.split("\n"))


def test_without_media_the_backgrounds_are_gradient_cards(carded: Project) -> None:
    cards = _track(carded, "main").clips
    assert all(isinstance(c, CardClip) and c.gradient_to for c in cards)
    assert len({(c.color, c.gradient_to) for c in cards if isinstance(c, CardClip)}) == 3


def test_a_generated_music_bed_spans_the_project_and_ducks(carded: Project) -> None:
    (music,) = _track(carded, "music").clips
    assert isinstance(music, AudioClip)
    assert music.loop and music.duration == pytest.approx(project_duration(carded))
    assert music.duck < 1.0
    with wave.open(music.source) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(music.duration, abs=0.01)


def test_stills_get_ken_burns_and_videos_are_trimmed_to_the_scene(
    voices: list[PiperSpeech], work_dir: Path, tmp_path: Path
) -> None:
    still = make_image(tmp_path / "harbour.png")
    long_video = make_video(tmp_path / "boats.mp4", seconds=8.0)
    short_video = make_video(tmp_path / "blink.mp4", seconds=1.0)
    music = make_tone(tmp_path / "song.wav", seconds=2.0)

    project = build_script_project(
        SCRIPT,
        voices=voices,
        work_dir=work_dir,
        media=[still, short_video, long_video, still],
        music=music,
        width=360,
        height=640,
    )

    first, second, third = _track(project, "main").clips
    assert isinstance(first, ImageClip) and (first.zoom_from, first.zoom_to) == (1.0, 1.15)
    assert isinstance(second, VideoClip)  # the 1 s video is too short for a scene
    assert second.source == str(long_video.resolve()) and second.in_ == 0.0
    assert second.out == pytest.approx(clip_end(second) - second.start)
    assert second.volume == 0.0
    assert isinstance(third, ImageClip) and (third.zoom_from, third.zoom_to) == (1.15, 1.0)
    (bed,) = _track(project, "music").clips
    assert isinstance(bed, AudioClip) and bed.source == str(music.resolve()) and bed.loop


def test_progress_is_reported_from_start_to_end(voices: list[PiperSpeech], work_dir: Path) -> None:
    seen: list[tuple[float, str]] = []
    build_script_project(
        SCRIPT,
        voices=voices,
        work_dir=work_dir,
        width=360,
        height=640,
        progress=lambda f, m: seen.append((f, m)),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any("voice-over 3 of 3" in m for _, m in seen)


def test_the_chat_engine_hints_shape_the_scenes_of_the_project(
    voices: list[PiperSpeech], work_dir: Path
) -> None:
    project = build_script_project(
        SCRIPT,
        voices=voices,
        work_dir=work_dir,
        width=360,
        height=640,
        chat=ScriptedChat([json.dumps(CHAT_SCENES)]),
    )
    voice_texts = len(_track(project, "voice").clips)
    assert voice_texts == len(CHAT_SCENES)
    assert _words(text_of(project)) == _words(SCRIPT)


def test_chinese_without_a_chinese_voice_is_refused(
    voices: list[PiperSpeech], tmp_path: Path
) -> None:
    script = "清晨的港口很安静。渔民们在检查渔网。"
    for available in (voices, [*voices, EspeakSpeech()]):
        with pytest.raises(UserError, match=r"no voice speaks 'zh'"):
            build_script_project(script, voices=available, work_dir=tmp_path / "zh")
    assert not (tmp_path / "zh").exists()


def test_missing_media_bad_music_and_a_bad_canvas_are_refused(
    voices: list[PiperSpeech], tmp_path: Path
) -> None:
    def build(**options: object) -> Project:
        return build_script_project(
            "Hello there.",
            voices=voices,
            work_dir=tmp_path / "w",
            **options,  # type: ignore[arg-type]
        )

    with pytest.raises(UserError, match="media file not found"):
        build(media=[tmp_path / "missing.png"])
    with pytest.raises(UserError, match=r"mute\.mp4 has no audio"):
        build(music=make_video(tmp_path / "mute.mp4", seconds=1.0, tone=None))
    with pytest.raises(UserError, match=r"song\.wav has no picture"):
        build(media=[make_tone(tmp_path / "song.wav", seconds=1.0)])
    with pytest.raises(InvalidProject, match="width"):
        build(width=361)
