"""Script to video: a text script cut into scenes, each scene spoken, captioned and set on a
background, under a music bed: a whole project, ready for the renderer.

Scenes come from the configured chat engine when it gives a usable answer, else from rules
(paragraphs, then sentences). A small model often rewrites, drops or invents words; its answer
is taken only when its scenes hold exactly the script's words, because the voice-over and the
captions must say what the user wrote. Its one addition the rules cannot make is a ``hint``:
a few words on what a scene could show.

Each scene lasts its voice-over plus a little air; backgrounds cross-fade into one another,
ending at the scene's start so the picture has settled when the voice begins. The captions are
not transcribed: the text is known, so it is cut by the same line rules as auto-captions and
timed across the voice-over in proportion to its characters, which is close enough for a
synthetic voice's even pace and costs nothing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hallmark.engines.llm.base import ChatEngine, ChatMessage, ChatRequest
from hallmark.errors import HallmarkError, UserError
from hallmark.speech.base import TextToSpeech, Word
from hallmark.studio.captions import (
    break_text,
    caption_chars,
    cues_from_words,
    detect_language,
    ends_sentence,
    join_words,
    split_tokens,
)
from hallmark.studio.media import probe
from hallmark.studio.timeline import (
    CardClip,
    ImageClip,
    Project,
    TextClip,
    TextStyle,
    Track,
    VideoClip,
    parse_project,
    project_to_dict,
)
from hallmark.studio.voiceover import (
    VoiceOver,
    add_music,
    add_voiceover,
    choose_voice,
    music_bed,
)
from hallmark.studio.voiceover import synthesize_voiceover as speak

PADDING_MS = 400  # air around each scene's voice-over, half before it and half after
TRANSITION_MS = 400  # the cross-fade between backgrounds
ZOOM = 1.15  # Ken Burns: stills zoom between 1 and this, in and out by turns
CAPTION_STYLE = TextStyle(size=0.035, bold=True, stroke=0.1)
CAPTION_Y = 0.78
MUSIC_VOLUME = 0.5
BED_VOLUME = 0.8  # the generated bed is already quiet (-18 dBFS)
DUCK = 0.3
PALETTE = (
    ("#1E3C72", "#2A5298"),
    ("#42275A", "#734B6D"),
    ("#134E5E", "#71B280"),
    ("#373B44", "#4286F4"),
    ("#614385", "#516395"),
    ("#C04848", "#480048"),
)
DIRECTIONS: tuple[Literal["vertical", "diagonal", "horizontal"], ...] = (
    "vertical",
    "diagonal",
    "horizontal",
)

Progress = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class Scene:
    text: str
    hint: str = ""  # a few words about what to show, from the chat engine when it gives one


# --- scenes ------------------------------------------------------------------------------------


def split_scenes(
    script: str, *, chat: ChatEngine | None = None, max_chars: int = 220
) -> list[Scene]:
    """The script's scenes: the chat engine's, when it answers with scenes that hold exactly
    the script's words; else paragraphs, with a paragraph longer than ``max_chars`` cut at
    sentence ends (then at clauses, then between words) into scenes of at most that."""
    if not script.strip():
        raise UserError("the script is empty")
    if max_chars < 20:
        raise UserError("max_chars must be at least 20")
    if chat is not None:
        scenes = _scenes_by_chat(script, chat)
        if scenes is not None:
            return scenes
    return [Scene(text) for text in _scenes_by_rules(script, max_chars)]


def _scenes_by_rules(script: str, max_chars: int) -> list[str]:
    texts: list[str] = []
    for paragraph in re.split(r"\n\s*\n", script.replace("\r\n", "\n")):
        tokens = split_tokens(paragraph)
        if not tokens:
            continue
        scene: list[str] = []  # whole sentences, while they fit
        for sentence in _cut(tokens, ends_sentence):
            if len(join_words([*scene, *sentence])) <= max_chars:
                scene.extend(sentence)
                continue
            if scene:
                texts.append(join_words(scene))
                scene = []
            if len(join_words(sentence)) <= max_chars:
                scene = sentence
            else:  # a sentence too long for one scene: cut at its clauses, evenly
                texts.extend(break_text(sentence, max_chars))
        if scene:
            texts.append(join_words(scene))
    return texts


def _cut(tokens: list[str], ends: Callable[[str], bool]) -> list[list[str]]:
    """``tokens`` in pieces, each ending where ``ends`` says (or at the last token)."""
    pieces: list[list[str]] = [[]]
    for token in tokens:
        pieces[-1].append(token)
        if ends(token):
            pieces.append([])
    return [piece for piece in pieces if piece]


_PROMPT = (
    "Split this video script into short scenes. Keep every word of the script unchanged and "
    "in order; each word goes in exactly one scene. For each scene give the words spoken "
    '("text") and a few words about what to show ("hint"). Answer only with a JSON array '
    'like [{{"text": "...", "hint": "..."}}].\n\nScript:\n{script}'
)


def _scenes_by_chat(script: str, chat: ChatEngine) -> list[Scene] | None:
    """The engine's scenes, or None when it fails or its answer is not the script's words."""
    request = ChatRequest(
        messages=(
            ChatMessage("system", "You plan short videos. You answer with JSON only."),
            ChatMessage("user", _PROMPT.format(script=script.strip())),
        ),
        max_tokens=min(4096, 256 + 2 * len(script)),
        temperature=0.0,
        seed=0,
    )
    try:
        answer = chat.chat(request).text
    except HallmarkError:
        return None  # a failed or busy engine: the rules still make a video
    scenes = parse_scenes(answer)
    if not scenes or _letters(" ".join(s.text for s in scenes)) != _letters(script):
        return None
    return scenes


def parse_scenes(answer: str) -> list[Scene] | None:
    """Scenes from a JSON array of ``{"text", "hint"}`` objects somewhere in ``answer``
    (models wrap it in prose or code fences); None when there is none."""
    start, end = answer.find("["), answer.rfind("]")
    if start < 0 or end <= start:
        return None
    try:
        data: Any = json.loads(answer[start : end + 1])
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    scenes = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            return None
        text = join_words(item["text"].split())
        hint = item.get("hint")
        if not text:
            return None
        scenes.append(Scene(text, " ".join(hint.split())[:80] if isinstance(hint, str) else ""))
    return scenes


def _letters(text: str) -> str:
    return "".join(text.split())


def script_language(script: str) -> str:
    """The language a script is written in, as far as its characters tell: zh (mostly Han),
    ja or ko; else en."""
    return detect_language(script) or "en"


# --- backgrounds -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Medium:
    path: Path  # absolute
    still: bool
    duration: float | None  # seconds of a video


def _medium(path: Path) -> _Medium:
    info = probe(path)
    if not info.has_video:
        raise UserError(f"{path.name} has no picture to use as a background")
    if info.is_image:
        return _Medium(path.resolve(), True, None)
    return _Medium(path.resolve(), False, info.duration)


def _has_audio(path: Path) -> None:
    if not probe(path).has_audio:
        raise UserError(f"{path.name} has no audio to use as music")


VisualClip = VideoClip | ImageClip | CardClip


class _Backgrounds:
    """The user's media in turn (a video too short for a scene is passed over), else cards."""

    def __init__(self, media: Sequence[_Medium]) -> None:
        self._media = list(media)
        self._next = 0
        self._stills = 0
        self._cards = 0

    def clip(self, start: float, seconds: float, transition: float) -> VisualClip:
        for attempt in range(len(self._media)):
            medium = self._media[(self._next + attempt) % len(self._media)]
            if medium.still:
                self._next += attempt + 1
                zoom_in = self._stills % 2 == 0
                self._stills += 1
                return ImageClip(
                    source=str(medium.path),
                    start=start,
                    duration=seconds,
                    transition=transition,
                    zoom_from=1.0 if zoom_in else ZOOM,
                    zoom_to=ZOOM if zoom_in else 1.0,
                )
            if medium.duration is not None and medium.duration + 1e-3 >= seconds:
                self._next += attempt + 1
                # muted: the scene's sound is its voice-over and the music
                return VideoClip(
                    source=str(medium.path),
                    start=start,
                    out=seconds,  # from the source's start
                    transition=transition,
                    volume=0.0,
                )
        colors = PALETTE[self._cards % len(PALETTE)]
        direction = DIRECTIONS[self._cards % len(DIRECTIONS)]
        self._cards += 1
        return CardClip(
            start=start,
            duration=seconds,
            color=colors[0],
            gradient_to=colors[1],
            direction=direction,
            transition=transition,
        )


# --- the project -------------------------------------------------------------------------------


def build_script_project(
    script: str,
    *,
    voices: Iterable[TextToSpeech],
    work_dir: Path,
    language: str | None = None,
    media: Sequence[Path] = (),
    music: Path | None = None,
    width: int = 1080,
    height: int = 1920,
    fps: float = 30.0,
    chat: ChatEngine | None = None,
    style: TextStyle | None = None,
    progress: Progress | None = None,
) -> Project:
    """A project that speaks ``script`` scene by scene over ``media`` (or colour cards), with
    captions and a music bed (``music``, or one generated). Its voice-overs and generated
    music are written to ``work_dir``; every source is an absolute path."""
    report: Progress = progress or (lambda fraction, message: None)
    canvas = parse_project({"width": width, "height": height, "fps": fps})
    language = language or script_language(script)
    voices = list(voices)
    choose_voice(voices, language)  # no voice: say so before any work
    report(0.0, "splitting the script into scenes")
    scenes = split_scenes(script, chat=chat)
    backgrounds = _Backgrounds([_medium(Path(path)) for path in media])
    if music is not None:
        _has_audio(music)
    work_dir.mkdir(parents=True, exist_ok=True)
    work_dir = work_dir.resolve()

    spoken: list[VoiceOver] = []
    for index, scene in enumerate(scenes):
        report(0.05 + 0.85 * index / len(scenes), f"voice-over {index + 1} of {len(scenes)}")
        spoken.append(speak(scene.text, language, voices, work_dir))

    caption_style = style or CAPTION_STYLE
    line_chars = caption_chars(width, height, caption_style, language)
    visuals: list[VisualClip] = []
    captions: list[TextClip] = []
    voice_starts: list[float] = []
    at_ms = 0
    for index, voice in enumerate(spoken):
        length_ms = round(voice.duration * 1000) + PADDING_MS
        overlap_ms = TRANSITION_MS if index > 0 else 0
        visuals.append(
            backgrounds.clip((at_ms - overlap_ms) / 1000, (length_ms + overlap_ms) / 1000,
                             overlap_ms / 1000)
        )  # fmt: skip
        voice_start = (at_ms + PADDING_MS // 2) / 1000
        voice_starts.append(voice_start)
        captions.extend(
            _captions(voice.text, voice_start, voice.duration, line_chars, caption_style)
        )
        at_ms += length_ms
    visuals[-1] = dataclasses.replace(visuals[-1], fade_out=min(0.5, _length(visuals[-1]) / 2))

    project = dataclasses.replace(
        canvas,
        tracks=(
            Track(kind="visual", clips=tuple(visuals), name="scenes", role="main"),
            Track(kind="text", clips=tuple(captions), name="captions", role="caption"),
        ),
        name=_title(scenes[0].text),
        language=language,
    )
    for voice, start in zip(spoken, voice_starts, strict=True):
        project = add_voiceover(project, voice, start=start, duck=DUCK)
    report(0.92, "music")
    if music is not None:
        project = add_music(project, str(music.resolve()), volume=MUSIC_VOLUME, duck=DUCK)
    else:
        bed = work_dir / f"music-bed-{at_ms}ms.wav"
        if not bed.is_file():
            music_bed(bed, at_ms / 1000)
        project = add_music(project, str(bed), volume=BED_VOLUME, duck=DUCK)
    report(1.0, "done")
    return parse_project(project_to_dict(project))


def _length(clip: VisualClip) -> float:
    if isinstance(clip, VideoClip):
        return (clip.out or 0.0) - clip.in_
    return clip.duration


def _title(text: str) -> str:
    words = text.split()
    return " ".join(words[:8]) if len(words) > 1 else text[:24]


def _captions(
    text: str, start: float, seconds: float, max_chars: int, style: TextStyle
) -> list[TextClip]:
    """The text cut into cues by the caption line rules, timed across the voice-over by
    characters, and kept within it."""
    tokens = split_tokens(text)
    weights = [len(token) + 1 for token in tokens]
    total = sum(weights)
    words, at = [], start
    for token, weight in zip(tokens, weights, strict=True):
        length = seconds * weight / total
        words.append(Word(at, at + length, token))
        at += length
    end = start + seconds
    clips = []
    for cue in cues_from_words(words, max_chars=max_chars):
        cue_start, cue_end = max(cue.start, start), min(cue.end, end)
        if cue_end - cue_start >= 0.001:
            clips.append(
                TextClip(
                    text=cue.text,
                    start=round(cue_start, 3),
                    duration=round(cue_end - cue_start, 3),
                    y=CAPTION_Y,
                    style=style,
                )
            )
    return clips
