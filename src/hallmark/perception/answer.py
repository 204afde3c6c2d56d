"""The answer in words: composed by a chat engine from the findings, or written from them here.

``describe`` writes a plain, deterministic answer from the findings alone: what the image
looks like, what it shows and where, the text in it; or, for sound, what is heard when and
what is said. It is the fallback whenever a model's answer cannot be trusted, and the answer
where no chat engine is configured (the bundled 270M base model cannot do this task). It names
things with the words ``grounding.ground`` links, so its own answers are fully grounded. Speech
comes first, then the other sounds in time order; a sound YAMNet gives several names at once
(a tone is Telephone, Alarm and Dial tone) is told once, by its best-scored name with up to
two others in parentheses, so that the names of one sound do not crowd out the others. A
question moves the findings it asks about to the front ("what does the sign say?" puts the
text first) and an answer in Chinese is written when ``language`` is ``zh``.

``compose`` asks a chat engine: the findings go in as a compact JSON list (labels, positions or
times, scores, what was said) with the question, and the model is told to name only what is in
them. Its answer is kept only if it looks like one: not empty, not cut off at the token limit
(a short answer was asked for; a model that rambles that long has lost the task), not an echo
of the prompt, no sentence said twice (a small model's loops), and grounded: ``ground`` links
an entity in at least half of its sentences, so an answer mostly about things that are not in
the findings is not kept for the one phrase that is. Anything else, a reply slower than the
time limit, and any failure of the engine give ``describe``'s answer instead, so composing
never fails. The bundled 270M base model's replies are all of the rejected kinds.
With no findings the engine is not asked: there is nothing it could ground, and the honest
answer is that nothing was found.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hallmark.engines.llm.base import ChatDelta, ChatEngine, ChatMessage, ChatRequest
from hallmark.errors import HallmarkError
from hallmark.perception.base import Box, Finding, FindingKind, PerceivedMedium
from hallmark.perception.grounding import (
    COLOR_ZH,
    NSFW_ZH,
    SOUND_ZH,
    ground,
    is_cjk,
    mentioned,
    squash,
    stem,
)

logger = logging.getLogger(__name__)

ANSWER_TOKENS = 200
ANSWER_SECONDS = 60.0  # the engine's whole reply; a slower one is dropped for describe's
MAX_ANSWER_CHARS = 1200
MAX_PROMPT_FINDINGS = 60
MAX_TEXT_LINES = 6
MAX_EVENTS = 12
MAX_ALTERNATIVES = 2  # other names of one sound, in parentheses
SAME_SOUND_IOU = 0.5
CONTAINED_SHARE = 0.1
MAX_COLORS = 3
WORD_GAP = 1.0  # seconds between spoken words that start a new phrase (when no speech spans)

VISUAL: frozenset[FindingKind] = frozenset(
    ("text", "face", "person", "nsfw", "object", "color", "layout")
)
THINGS: tuple[FindingKind, ...] = ("face", "person", "object", "nsfw")
ORIENTATIONS = {"portrait": "竖版", "landscape": "横版", "square": "方形"}
_MASS_SOUNDS = frozenset(
    (
        *("speech", "music", "white noise", "pink noise", "noise", "silence", "static"),
        *("laughter", "applause", "rain", "wind", "water", "traffic", "hum", "speech synthesizer"),
        *("brown noise", "thunder", "rustle", "gunfire"),
    )
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")
_PARENTHESIS = re.compile(r"\s*\([^)]*\)")
_SPEECH_WORDS = ("speech", "speaking", "narration", "conversation", "babbl")
# Question words that ask about a kind of finding, beyond the findings' own names.
_QUESTION_CUES: dict[str, tuple[FindingKind, ...]] = {
    "colour": ("color",),
    "color": ("color",),
    "say": ("text", "speech", "word"),
    "said": ("text", "speech", "word"),
    "read": ("text",),
    "written": ("text",),
    "writ": ("text",),
    "word": ("text", "word"),
    "who": ("face", "person"),
    "sound": ("sound", "speech"),
    "hear": ("sound", "speech", "word"),
    "heard": ("sound", "speech", "word"),
    "noise": ("sound",),
    "颜色": ("color",),
    "写": ("text",),
    "字": ("text",),
    "说": ("speech", "word"),
    "谁": ("face", "person"),
    "声音": ("sound", "speech"),
    "听": ("sound", "speech", "word"),
}


# --- describe: the answer written from the findings --------------------------------------------


@dataclass(frozen=True, slots=True)
class _Part:
    """One sentence of the answer and the findings it tells of."""

    text: str
    about: frozenset[int]


def describe(
    findings: Sequence[Finding],
    medium: PerceivedMedium,
    question: str | None = None,
    language: str = "en",
    *,
    size: tuple[int, int] | None = None,
    duration: float | None = None,
) -> str:
    """A readable answer from the findings alone; ``size`` (width, height) places boxes (else
    the layout finding's size, else the boxes' extent) and ``duration`` is said for sound."""
    zh = language.casefold().startswith("zh")
    asked = asked_about(question, findings) if question else set()
    opening: list[str] = []
    parts: list[_Part] = []
    if medium in ("audio", "video") and duration is not None:
        opening.append(_duration_sentence(medium, duration, zh))
    if medium in ("image", "video"):
        parts.extend(_visual_parts(findings, medium, zh, size))
    if medium in ("audio", "video"):
        parts.extend(_sound_parts(findings, zh))
    if not parts:
        parts.append(_Part(_nothing(medium, zh, bool(opening)), frozenset()))
    parts.sort(key=lambda part: not (part.about & asked))  # stable: asked-about first
    sentences = [*opening, *(part.text for part in parts)]
    return ("" if zh else " ").join(sentences)


def asked_about(question: str, findings: Sequence[Finding]) -> set[int]:
    """The findings a question asks about: those it names, and those of the kinds its words
    ask for ("what does it say?" asks for text and speech)."""
    asked = mentioned(question, findings)
    words = re.findall(r"[A-Za-z]+", question)
    stems = {stem(word)[0] for word in words} | {word.casefold() for word in words}
    kinds: set[str] = set()
    for cue, cue_kinds in _QUESTION_CUES.items():
        if (is_cjk(cue) and cue in question) or stem(cue)[0] in stems or cue in stems:
            kinds.update(cue_kinds)
    asked |= {i for i, finding in enumerate(findings) if finding.kind in kinds}
    return asked


def _nothing(medium: PerceivedMedium, zh: bool, after_opening: bool) -> str:
    if zh:
        place = {"image": "图片", "audio": "录音", "video": "视频"}[medium]
        return "其中没有发现可识别的内容。" if after_opening else f"{place}中没有发现可识别的内容。"
    if after_opening:
        return "Nothing recognisable was found in it."
    place = {"image": "image", "audio": "recording", "video": "video"}[medium]
    return f"Nothing recognisable was found in the {place}."


def _duration_sentence(medium: PerceivedMedium, duration: float, zh: bool) -> str:
    if zh:
        return f"这段{'视频' if medium == 'video' else '录音'}时长{duration:.1f}秒。"
    return f"The {'video' if medium == 'video' else 'recording'} is {duration:.1f} s long."


# --- pictures ----------------------------------------------------------------------------------


def _visual_parts(
    findings: Sequence[Finding], medium: PerceivedMedium, zh: bool, size: tuple[int, int] | None
) -> list[_Part]:
    seen = [i for i, f in enumerate(findings) if f.kind in VISUAL]
    if not seen:
        return []
    frame = size or _image_size(findings)
    parts: list[_Part] = []
    if overview := _overview(findings, seen, medium, zh):
        parts.append(overview)
    if things := _things(findings, seen, medium, zh, frame):
        parts.append(things)
    parts.extend(_texts(findings, seen, zh, frame))
    if medium == "image" and not any(findings[i].kind in (*THINGS, "text") for i in seen):
        nothing = (
            "没有发现其他可识别的内容。" if zh else "Nothing else recognisable was found in it."
        )
        parts.append(_Part(nothing, frozenset()))
    return parts


def _overview(
    findings: Sequence[Finding], seen: Sequence[int], medium: PerceivedMedium, zh: bool
) -> _Part | None:
    layouts = [i for i in seen if findings[i].kind == "layout"]
    colors = _distinct(findings, [i for i in seen if findings[i].kind == "color"])
    colors.sort(key=lambda i: -_share(findings[i]))
    colors = colors[:MAX_COLORS]
    orientation = next(
        (findings[i].label for i in layouts if findings[i].label in ORIENTATIONS), None
    )
    empty = any(findings[i].label == "empty" for i in layouts)
    if medium == "video":
        orientation = None  # one frame's shape says little about the video
    names = [_color_name(findings[i].label, zh) for i in colors]
    about = frozenset(colors) | frozenset(layouts)
    if zh:
        subject = "画面" if medium == "video" else "这张图片"
        if empty:
            return _Part(f"{subject}是空的。", about)
        if orientation and names:
            return _Part(
                f"{subject}是{ORIENTATIONS[orientation]}的，主要是{_join(names, zh)}。", about
            )
        if orientation:
            return _Part(f"{subject}是{ORIENTATIONS[orientation]}的。", about)
        return _Part(f"{subject}主要是{_join(names, zh)}。", about) if names else None
    subject = "The frames are" if medium == "video" else "The image is"
    if empty:
        return _Part("The image is empty.", about)
    if orientation and names:
        return _Part(f"{subject} a {orientation} picture, mostly {_join(names, zh)}.", about)
    if orientation:
        return _Part(f"{subject} a {orientation} picture.", about)
    return _Part(f"{subject} mostly {_join(names, zh)}.", about) if names else None


def _share(finding: Finding) -> float:
    share = finding.detail.get("share")
    return float(share) if isinstance(share, int | float) else finding.score


def _color_name(label: str, zh: bool) -> str:
    return COLOR_ZH.get(label.casefold(), label) if zh else label.casefold()


def _things(
    findings: Sequence[Finding],
    seen: Sequence[int],
    medium: PerceivedMedium,
    zh: bool,
    frame: tuple[int, int] | None,
) -> _Part | None:
    groups: dict[tuple[str, str], list[int]] = {}
    for thing in THINGS:
        for i in seen:
            if findings[i].kind == thing:
                groups.setdefault((thing, findings[i].label.casefold()), []).append(i)
    if not groups:
        return None
    phrases = []
    for (kind, label), members in groups.items():
        count = _count(findings, members)
        place = None
        if count == 1 and (box := _best(findings, members).box) is not None and frame:
            place = position(box, frame)
        phrases.append(_thing_phrase(kind, label, count, place, zh))
    about = frozenset(i for members in groups.values() for i in members)
    if zh:
        return _Part(f"{'画面' if medium == 'video' else '图'}中有{_join(phrases, zh)}。", about)
    subject = "The video" if medium == "video" else "The image"
    return _Part(f"{subject} shows {_join(phrases, zh)}.", about)


def _thing_phrase(kind: str, label: str, count: int, place: str | None, zh: bool) -> str:
    if zh:
        name = {"face": "人脸", "person": "人"}.get(kind) or NSFW_ZH.get(label, label)
        measure = {"face": "张", "nsfw": "处"}.get(kind, "个")
        located = f"位于{_WHERE_ZH[place]}的" if place else ""
        return f"{count}{measure}{located}{name}"
    name = {"face": "face", "person": "person"}.get(kind, label)
    phrase = f"{count} {name if count == 1 else _plural(name)}"
    return f"{phrase} {_WHERE_EN[place]}" if place else phrase


def _count(findings: Sequence[Finding], members: Sequence[int]) -> int:
    """How many there are: in a video, the most seen in one frame (the same face in ten frames
    is one face)."""
    per_frame: dict[float | None, int] = {}
    for i in members:
        per_frame[findings[i].start] = per_frame.get(findings[i].start, 0) + 1
    return max(per_frame.values())


def _best(findings: Sequence[Finding], members: Sequence[int]) -> Finding:
    return max((findings[i] for i in members), key=lambda f: f.score)


def _texts(
    findings: Sequence[Finding], seen: Sequence[int], zh: bool, frame: tuple[int, int] | None
) -> list[_Part]:
    lines = _distinct(findings, [i for i in seen if findings[i].kind == "text"])
    lines.sort(key=lambda i: _reading_key(findings[i]))
    parts = []
    for i in lines[:MAX_TEXT_LINES]:
        finding = findings[i]
        place = position(finding.box, frame) if finding.box is not None and frame else None
        start, end = _span_of(findings, i)
        text = finding.label.replace('"', "'").replace("“", "'").replace("”", "'")
        if zh:
            when = f"{start:.1f}秒至{end:.1f}秒，" if start is not None and end is not None else ""
            located = _WHERE_ZH[place] if place else "图中"
            parts.append(_Part(f"{when}{located}写着文字“{text}”。", frozenset({i})))
            continue
        sentence = f'The text "{text}" is written'
        if place:
            sentence += f" {_WHERE_EN[place]}"
        if start is not None and end is not None:
            sentence += f" from {start:.1f} s to {end:.1f} s"
        parts.append(_Part(sentence + ".", frozenset({i})))
    if (more := len(lines) - MAX_TEXT_LINES) > 0:
        rest = frozenset(lines[MAX_TEXT_LINES:])
        parts.append(
            _Part(f"另有{more}行文字。" if zh else f"There are {more} more lines of text.", rest)
        )
    return parts


def _distinct(findings: Sequence[Finding], members: Sequence[int]) -> list[int]:
    """One of each label seen in video frames (a video repeats its text and colours in every
    frame); in a still image two signs saying the same are two."""
    first: dict[str, int] = {}
    for i in members:
        key = squash(findings[i].label) or findings[i].label
        first.setdefault(key if findings[i].start is not None else f"{i}:{key}", i)
    return list(first.values())


def _span_of(findings: Sequence[Finding], index: int) -> tuple[float | None, float | None]:
    """A repeated label's time: from its first frame's start to its last frame's end."""
    key = squash(findings[index].label)
    same = [f for f in findings if f.kind == findings[index].kind and squash(f.label) == key]
    starts = [f.start for f in same if f.start is not None]
    ends = [f.end for f in same if f.end is not None]
    return (min(starts), max(ends)) if starts and ends else (None, None)


def _reading_key(finding: Finding) -> tuple[float, int, int]:
    box = finding.box or (0, 0, 0, 0)
    return (finding.start or 0.0, box[1], box[0])


def _image_size(findings: Sequence[Finding]) -> tuple[int, int] | None:
    for finding in findings:
        if finding.kind != "layout":
            continue
        width, height = finding.detail.get("width"), finding.detail.get("height")
        if isinstance(width, int) and isinstance(height, int) and min(width, height) > 0:
            return (width, height)
    boxes = [f.box for f in findings if f.box is not None]
    if not boxes:
        return None
    return (max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes))


_WHERE_EN = {
    "top left": "at the top left",
    "top": "at the top",
    "top right": "at the top right",
    "left": "on the left",
    "centre": "in the centre",
    "right": "on the right",
    "bottom left": "at the bottom left",
    "bottom": "at the bottom",
    "bottom right": "at the bottom right",
}
_WHERE_ZH = {
    "top left": "左上角",
    "top": "顶部",
    "top right": "右上角",
    "left": "左侧",
    "centre": "中间",
    "right": "右侧",
    "bottom left": "左下角",
    "bottom": "底部",
    "bottom right": "右下角",
}


def position(box: Box, size: tuple[int, int]) -> str:
    """Where a box's centre is, in thirds of the image: "top left", "centre", "bottom"..."""
    width, height = max(size[0], 1), max(size[1], 1)
    x = (box[0] + box[2] / 2) / width
    y = (box[1] + box[3] / 2) / height
    row = "top" if y < 1 / 3 else "bottom" if y > 2 / 3 else ""
    column = "left" if x < 1 / 3 else "right" if x > 2 / 3 else ""
    return " ".join(part for part in (row, column) if part) or "centre"


# --- sound -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Event:
    start: float
    end: float
    name: str  # "Speech", or the best-scored label of a group of sounds
    said: str
    about: frozenset[int]
    others: tuple[str, ...] = ()  # the group's other labels, the longest heard first


def _sound_parts(findings: Sequence[Finding], zh: bool) -> list[_Part]:
    events = _events(findings)
    parts = [
        _Part(_event_sentence(event, findings, zh), event.about) for event in events[:MAX_EVENTS]
    ]
    if (more := len(events) - MAX_EVENTS) > 0:
        rest = frozenset(i for event in events[MAX_EVENTS:] for i in event.about)
        text = f"另有{more}个声音事件未列出。" if zh else f"{more} more sounds are not listed."
        parts.append(_Part(text, rest))
    return parts


def _events(findings: Sequence[Finding]) -> list[_Event]:
    """What is heard: the stretches of speech with what is said in each, then the sounds that
    are not that speech again, in time order, each sound told once whatever the number of
    names YAMNet gives it (see ``_sound_groups``). Silence only when nothing else is heard."""
    words = [i for i, f in enumerate(findings) if f.kind == "word" and _timed(f)]
    speech = [i for i, f in enumerate(findings) if f.kind == "speech" and _timed(f)]
    events: list[_Event] = []
    for i in speech:
        finding = findings[i]
        inside = [w for w in words if _midpoint_in(findings[w], finding)]
        said = finding.detail.get("text")
        if not isinstance(said, str) or not said.strip():
            said = _join_words([findings[w].label for w in inside])
        events.append(
            _Event(
                _t(finding.start), _t(finding.end), "Speech", said.strip(), frozenset([i, *inside])
            )
        )
    if not speech and words:  # words but no stretches: phrases from the gaps between words
        for phrase in _phrases(findings, words):
            said = _join_words([findings[w].label for w in phrase])
            start, end = _t(findings[phrase[0]].start), _t(findings[phrase[-1]].end)
            events.append(_Event(start, end, "Speech", said, frozenset(phrase)))
    spans = [(_t(findings[i].start), _t(findings[i].end)) for i in speech]
    sounds = []
    for i, finding in enumerate(findings):
        if finding.kind != "sound" or not _timed(finding):
            continue
        span = (_t(finding.start), _t(finding.end))
        if _is_speech(finding.label) and any(_overlap(span, other) > 0 for other in spans):
            continue  # already told as speech, with what was said
        sounds.append(i)
    quiet = [i for i in sounds if findings[i].label.casefold() == "silence"]
    loud = [i for i in sounds if i not in quiet]
    groups = _sound_groups(findings, loud)
    if not events and not groups:
        groups = _sound_groups(findings, quiet)
    events += [_group_event(findings, group) for group in groups]
    return sorted(events, key=lambda e: (e.name != "Speech", e.start, e.end, e.name))


def _sound_groups(findings: Sequence[Finding], indices: Sequence[int]) -> list[list[int]]:
    """The sound findings among ``indices`` that are one sound under several names, grouped:
    YAMNet calls one tone Telephone, Alarm, Dial tone and Busy signal, each over much the same
    time. Two findings are one sound when their spans' IoU is at least ``SAME_SOUND_IOU`` or
    one holds the other, and groups are closed under that (a long name holding two short
    ones joins them). A finding under ``CONTAINED_SHARE`` of the length of one that holds it
    is a sound of its own, not another name for it: a dog's bark in a minute of rain. Each
    group is best-scored first (then earlier, then in findings' order)."""
    owner = {i: i for i in indices}

    def root(i: int) -> int:
        while owner[i] != i:
            owner[i] = owner[owner[i]]
            i = owner[i]
        return i

    ordered = sorted(indices, key=lambda i: _t(findings[i].start))
    for k, a in enumerate(ordered):
        for b in (ordered[j] for j in range(k + 1, len(ordered))):
            if _t(findings[b].start) >= _t(findings[a].end):
                break  # this and every later one start after ``a`` ends
            if _same_sound(findings[a], findings[b]):
                owner[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for i in indices:
        groups.setdefault(root(i), []).append(i)
    ranked = [
        sorted(group, key=lambda i: (-findings[i].score, _t(findings[i].start), i))
        for group in groups.values()
    ]
    return sorted(ranked, key=lambda group: min(_t(findings[i].start) for i in group))


def _same_sound(a: Finding, b: Finding) -> bool:
    first, second = (_t(a.start), _t(a.end)), (_t(b.start), _t(b.end))
    overlap = _overlap(first, second)
    if overlap <= 0:
        return False
    union = max(first[1], second[1]) - min(first[0], second[0])
    if union > 0 and overlap / union >= SAME_SOUND_IOU:
        return True
    shorter, longer = sorted((first, second), key=lambda span: span[1] - span[0])
    holds = longer[0] <= shorter[0] and shorter[1] <= longer[1]
    return holds and (shorter[1] - shorter[0]) >= CONTAINED_SHARE * (longer[1] - longer[0])


def _group_event(findings: Sequence[Finding], group: Sequence[int]) -> _Event:
    """A group of sound findings as one event: its best-scored label, its other labels (each
    once), and the time from the first's start to the last's end. The other labels come by
    how long they are heard: YAMNet is often surest of a name in a sound's first moments
    (Pink noise for 0.2 s of two seconds of noise), and a name heard throughout the sound
    gives its phrase the sound's whole span."""
    heard: dict[str, float] = {}
    for i in group:
        length = _t(findings[i].end) - _t(findings[i].start)
        heard[findings[i].label] = heard.get(findings[i].label, 0.0) + length
    best = findings[group[0]].label  # the group is best-scored first
    others = sorted((label for label in heard if label != best), key=lambda k: -heard[k])
    start = min(_t(findings[i].start) for i in group)
    end = max(_t(findings[i].end) for i in group)
    return _Event(start, end, best, "", frozenset(group), tuple(others))


def _event_sentence(event: _Event, findings: Sequence[Finding], zh: bool) -> str:
    """The event's sentence. A sound heard under several names is named by the best-scored
    that ``ground`` links within the group, then up to ``MAX_ALTERNATIVES`` others it links
    within the group too, in parentheses. Grounding tells same-named sounds apart by the time
    beside a name, so the time follows the first name and the others follow the time: only
    the nearest alternative is sure to be beside it, and one further away is kept only where
    ``ground`` still links it to this sound (where its name is not heard elsewhere)."""
    labels = [event.name, *event.others]
    if len(labels) == 1:
        return _sound_sentence(event, event.name, [], zh)[0]
    head = next(
        (label for label in labels if _grounded_in(event, findings, label, [], zh)), event.name
    )
    kept: list[str] = []
    shown = {_sound_name(head, zh).casefold()}
    for label in labels:
        if len(kept) == MAX_ALTERNATIVES:
            break
        name = _sound_name(label, zh).casefold()
        if name in shown or not _grounded_in(event, findings, head, [*kept, label], zh):
            continue
        kept.append(label)
        shown.add(name)
    return _sound_sentence(event, head, kept, zh)[0]


def _grounded_in(
    event: _Event, findings: Sequence[Finding], head: str, others: Sequence[str], zh: bool
) -> bool:
    """Whether ``ground`` links each name of the event's sentence, and only to the event's
    findings."""
    sentence, spans = _sound_sentence(event, head, others, zh)
    entities = ground(sentence, findings)
    if any(entity.finding not in event.about for entity in entities):
        return False
    return all(any(a <= e.offset < b for e in entities) for a, b in spans)


def _sound_sentence(
    event: _Event, head: str, others: Sequence[str], zh: bool
) -> tuple[str, list[tuple[int, int]]]:
    """The sentence and where each name is in it (the head's first)."""
    spans: list[tuple[int, int]] = []
    if zh:
        text = f"{event.start:.1f}秒至{event.end:.1f}秒有"
        name = _sound_name(head, zh)
        spans.append((len(text), len(text) + len(name)))
        text += name
    else:
        name = _sound_name(head, zh)
        lowered = name.casefold()
        if lowered in _MASS_SOUNDS or lowered.endswith("ing"):
            text, name = "", name[:1].upper() + name[1:]
        else:
            text, name = ("An " if lowered[:1] in "aeiou" else "A "), lowered
        spans.append((len(text), len(text) + len(name)))
        text += f"{name} from {event.start:.1f} s to {event.end:.1f} s"
    if others:
        text += "（" if zh else " ("
        for k, label in enumerate(others):
            if k:
                text += "、" if zh else ", "
            name = _sound_name(label, zh)
            spans.append((len(text), len(text) + len(name)))
            text += name
        text += "）" if zh else ")"
    if zh:
        text += (f"：“{event.said}”" if event.said else "") + "。"
    else:
        text += (f': "{event.said}"' if event.said else "") + "."
    return text, spans


def _sound_name(label: str, zh: bool) -> str:
    """A label's name in a sentence: its Chinese name, or its first alternative ("Beep,
    bleep" is a beep) without a parenthesis ("Wind noise (microphone)")."""
    if zh:
        return _sound_zh(label)
    first = _PARENTHESIS.sub("", label.split(",")[0]).strip() or label.strip()
    return first.casefold()


def _sound_zh(label: str) -> str:
    lowered = label.casefold().strip()
    first = lowered.split(",")[0].strip()
    return SOUND_ZH.get(lowered) or SOUND_ZH.get(first) or label


def _is_speech(label: str) -> bool:
    lowered = label.casefold()
    return any(word in lowered for word in _SPEECH_WORDS)


def _timed(finding: Finding) -> bool:
    return finding.start is not None and finding.end is not None


def _t(value: float | None) -> float:
    return value if value is not None else 0.0


def _midpoint_in(word: Finding, span: Finding) -> bool:
    middle = (_t(word.start) + _t(word.end)) / 2
    return _t(span.start) <= middle <= _t(span.end)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def _phrases(findings: Sequence[Finding], words: Sequence[int]) -> list[list[int]]:
    ordered = sorted(words, key=lambda i: (_t(findings[i].start), i))
    phrases: list[list[int]] = []
    for i in ordered:
        if phrases and _t(findings[i].start) - _t(findings[phrases[-1][-1]].end) <= WORD_GAP:
            phrases[-1].append(i)
        else:
            phrases.append([i])
    return phrases


def _join_words(words: Sequence[str]) -> str:
    """Words as written: spaces between words, none between CJK characters."""
    text = ""
    for word in (w.strip() for w in words):
        if not word:
            continue
        if (
            text
            and not (is_cjk(text[-1]) and is_cjk(word[0]))
            and word[0] not in ",.!?;:，。！？；："
        ):
            text += " "
        text += word
    return text


# --- words -------------------------------------------------------------------------------------


def _join(items: Sequence[str], zh: bool) -> str:
    if len(items) <= 1:
        return "".join(items)
    if zh:
        return "、".join(items[:-1]) + "和" + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plural(noun: str) -> str:
    irregular = {"person": "people", "man": "men", "woman": "women", "child": "children"}
    head, _, last = noun.rpartition(" ")
    lowered = last.casefold()
    if lowered in irregular:
        plural = irregular[lowered]
    elif lowered.endswith(("s", "x", "z", "ch", "sh")):
        plural = last + "es"
    elif lowered.endswith("y") and lowered[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return f"{head} {plural}" if head else plural


# --- compose: the answer a chat engine writes --------------------------------------------------


def compose(
    findings: Sequence[Finding],
    medium: PerceivedMedium,
    question: str | None,
    chat: ChatEngine | None,
    language: str = "en",
    *,
    size: tuple[int, int] | None = None,
    duration: float | None = None,
    timeout: float = ANSWER_SECONDS,
) -> str:
    """The chat engine's answer from the findings, when it is a grounded one; else
    ``describe``'s."""
    if chat is None or not findings:
        return describe(findings, medium, question, language, size=size, duration=duration)
    messages = prompt(findings, medium, question, language, size=size, duration=duration)
    request = ChatRequest(messages, max_tokens=ANSWER_TOKENS, temperature=0.0)
    try:
        reply = _reply(chat.stream(request), timeout)
    except HallmarkError as exc:
        logger.warning("the chat engine %s failed to answer: %s", chat.name, exc)
        reply = None
    answer = _accepted(reply, messages, question, findings) if reply is not None else None
    if answer is None:
        return describe(findings, medium, question, language, size=size, duration=duration)
    return answer


@dataclass(frozen=True, slots=True)
class _Reply:
    text: str
    cut_short: bool  # the engine stopped at the token limit


def _reply(deltas: Iterator[ChatDelta], timeout: float) -> _Reply | None:
    """The streamed reply, or None when it takes longer than ``timeout`` seconds (the stream is
    closed, so the engine stops generating)."""
    deadline = time.monotonic() + timeout
    parts: list[str] = []
    cut_short = False
    try:
        for delta in deltas:
            parts.append(delta.text)
            cut_short = cut_short or delta.finish_reason == "length"
            if time.monotonic() > deadline:
                logger.warning("the chat engine took over %g s to answer", timeout)
                return None
    finally:
        close = getattr(deltas, "close", None)
        if close is not None:
            close()
    return _Reply("".join(parts), cut_short)


def _accepted(
    reply: _Reply,
    messages: Sequence[ChatMessage],
    question: str | None,
    findings: Sequence[Finding],
) -> str | None:
    """The reply as the answer, or None (and why, in the log) when it is not one to trust."""
    answer = reply.text.strip()
    for prefix in ("Answer:", "answer:", "A:", "答：", "回答："):
        answer = answer.removeprefix(prefix).strip()
    problem = _problem(answer, reply.cut_short, messages, question, findings)
    if problem:
        logger.warning("the chat engine's answer is %s: %.200r", problem, answer)
        return None
    return answer


def _problem(
    answer: str,
    cut_short: bool,
    messages: Sequence[ChatMessage],
    question: str | None,
    findings: Sequence[Finding],
) -> str | None:
    if not answer:
        return "empty"
    if cut_short or len(answer) > MAX_ANSWER_CHARS:
        return "too long (a short answer was asked for)"
    if _echoes(answer, messages, question):
        return "an echo of its prompt"
    sentences = _sentences(answer)
    if len({_plain(sentence) for sentence in sentences}) < len(sentences):
        return "repeating itself"
    grounded = sum(1 for sentence in sentences if ground(sentence, findings))
    if not grounded:
        return "about none of the findings"
    if grounded * 2 < len(sentences):
        return "mostly about things not in the findings"
    return None


def _sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE.split(text) if part.strip(" \n\"'“”")]


def _echoes(answer: str, messages: Sequence[ChatMessage], question: str | None) -> bool:
    """Whether the answer repeats the prompt rather than answering it."""
    said = _plain(answer)
    if '"kind"' in said or "findings:" in said or said.startswith(("[{", "{")):
        return True
    asked = _plain("\n".join(message.content for message in messages))
    if len(said) >= 20 and said in asked:
        return True
    instruction = _plain(messages[0].content)[:40]
    if instruction and instruction in said:
        return True
    return bool(question) and said.rstrip("?？ ") == _plain(question or "").rstrip("?？ ")


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


_SYSTEM_EN = (
    "You answer questions about {thing} using only what its detectors found, given as a JSON "
    "list. Reply in one to three short sentences in English. Name each thing you mention with "
    "the words of its label, say where it is (images) or when it happens (sounds, in seconds), "
    "and quote text and speech exactly. Do not mention anything that is not in the list."
)
_SYSTEM_ZH = (
    "你根据检测器的结果（一个 JSON 列表）回答关于{thing}的问题，只能使用其中的内容。"
    "用一到三句简短的中文回答。提到的事物请使用其标签中的词语，说明它的位置（图片）或时间"
    "（声音，以秒计），文字和语音请原样引用。不要提及列表中没有的任何内容。"
)
_THING_EN = {"image": "an image", "audio": "a recording", "video": "a video"}
_THING_ZH = {"image": "一张图片", "audio": "一段录音", "video": "一段视频"}


def prompt(
    findings: Sequence[Finding],
    medium: PerceivedMedium,
    question: str | None,
    language: str = "en",
    *,
    size: tuple[int, int] | None = None,
    duration: float | None = None,
) -> tuple[ChatMessage, ...]:
    """The messages that ask a chat engine for the answer."""
    zh = language.casefold().startswith("zh")
    system = (_SYSTEM_ZH if zh else _SYSTEM_EN).format(
        thing=(_THING_ZH if zh else _THING_EN)[medium]
    )
    asked = asked_about(question, findings) if question else set()
    listed = json.dumps(
        brief(findings, size=size, first=asked), ensure_ascii=False, separators=(",", ":")
    )
    lines = []
    if duration is not None:
        lines.append(f"{'时长' if zh else 'Duration'}: {duration:.1f} s")
    lines.append(f"{'检测结果' if zh else 'Findings'}: {listed}")
    default = "里面有什么？" if zh else "What is in it?"
    lines.append(f"{'问题' if zh else 'Question'}: {(question or '').strip() or default}")
    return (ChatMessage("system", system), ChatMessage("user", "\n".join(lines)))


def brief(
    findings: Sequence[Finding],
    *,
    size: tuple[int, int] | None = None,
    first: set[int] | None = None,
) -> list[dict[str, Any]]:
    """The findings as short records for a prompt: kind, label, score, and where (a third of
    the image) or when; spoken words are folded into the speech they belong to (``said``).
    At most ``MAX_PROMPT_FINDINGS``, those in ``first`` and the best-scored kept."""
    frame = size or _image_size(findings)
    records: list[tuple[int, float, dict[str, Any]]] = []
    folded: set[int] = set()
    for event in _events(findings):
        if event.name == "Speech" and event.said:
            folded |= event.about
            record: dict[str, Any] = {"kind": "speech", "label": "Speech", "said": event.said}
            record["from"], record["to"] = round(event.start, 1), round(event.end, 1)
            score = max(findings[i].score for i in event.about)
            records.append((min(event.about), score, record))
    for i, finding in enumerate(findings):
        if i in folded or finding.kind == "word":
            continue
        record = {"kind": finding.kind, "label": finding.label}  # a new record
        if finding.kind == "color":
            record["share"] = round(_share(finding), 2)
        elif finding.kind != "layout":
            record["score"] = round(finding.score, 2)
        if finding.box is not None and frame:
            record["where"] = position(finding.box, frame)
        if finding.start is not None and finding.end is not None:
            record["from"], record["to"] = round(finding.start, 1), round(finding.end, 1)
        records.append((i, finding.score, record))
    wanted = first or set()
    records.sort(key=lambda item: (item[0] not in wanted, -item[1], item[0]))
    kept = sorted(records[:MAX_PROMPT_FINDINGS], key=lambda item: item[0])
    return [record for _, _, record in kept]
