"""Auto-captions: speech to timed words, words to short readable cues, cues to SRT, VTT and a
caption track.

Whisper's words come with times but no sense of how a subtitle reads, so the line breaking here
is its own small, pure step (``cues_from_words``). A cue never spans a sentence end or a pause
of ``pause_split`` seconds (a caption left on screen over silence reads as a mistake); a run of
words too long for one cue is cut where it reads best: at a comma, else at the longest pause,
never inside a word, into as few cues as fit and, among those, the most even. Lines inside a
cue are cut the same way. Chinese and Japanese are measured and joined without spaces, as
they are written; their line length defaults to 16 characters, Latin text's to 42.

A cue ends at its last word's end plus a short tail, is stretched to a readable minimum where
the silence around it allows, and never overlaps the next: these are what a viewer notices.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hallmark.errors import UserError
from hallmark.speech.base import STT_RATE, Speech, SpeechToText, Word
from hallmark.studio.ffmpeg import decode_mono
from hallmark.studio.timeline import TextClip, TextStyle, Track

LATIN_LINE_CHARS = 42
CJK_LINE_CHARS = 16
TAIL = 0.2  # seconds a cue stays after its last word
MIN_CUE = 0.7  # seconds: shorter cues cannot be read
TOOL_TIMEOUT_S = 600.0

CAPTION_STYLE = TextStyle(size=0.045, bold=True, stroke=0.1)

# Han, kana, CJK punctuation and full-width forms: written without spaces between words.
_CJK = re.compile(
    r"[\u2e80-\u2fdf\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)
_CJK_OR_NOT = re.compile(rf"{_CJK.pattern}|(?:(?!{_CJK.pattern}).)+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_CLOSERS = re.escape("\"'”’)）」』]】")
_SENTENCE_END = re.compile(rf"[.!?。！？…]+[{_CLOSERS}]*$")
_CLAUSE_END = re.compile(rf"[,;:，；：、—–-]+[{_CLOSERS}]*$")
_ATTACHES_LEFT = re.compile(r"^[.,!?;:%)\]}…]")


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str  # lines joined by "\n"


# --- decoding and transcribing ----------------------------------------------------------------


def extract_speech(path: Path, purpose: str = "caption") -> Speech:
    """The first audio stream of an audio or video file, mono float32 at ``STT_RATE``; a
    UserError naming the file when it is missing, unreadable or has no audio to ``purpose``."""
    if not path.is_file():
        raise UserError(f"no such file: {path.name}")
    samples = decode_mono(path, STT_RATE, timeout=TOOL_TIMEOUT_S)
    if len(samples) == 0:
        raise UserError(f"{path.name} has no audio to {purpose}")
    return samples


def transcribe_words(
    samples: Speech, transcriber: SpeechToText, language: str | None = None
) -> tuple[list[Word], str | None]:
    """The words said, with their times, and the language: ``language`` when given, else one
    read off the script of the words (zh, ja, ko), else None. Segments without word times
    (some transcribers give none) have their time spread over their words by length; then
    each word's edges are moved onto the sound (``snap_to_sound``)."""
    words: list[Word] = []
    for segment in transcriber.transcribe(samples, language):
        if not any(char.isalnum() for char in segment.text):
            continue  # a segment of bare punctuation: what Whisper writes over noise
        if segment.words:
            words.extend(segment.words)
        else:
            words.extend(_spread(segment.text, segment.start, segment.end))
    words = snap_to_sound(words, samples)
    return words, language or detect_language("".join(word.text for word in words))


FRAME = STT_RATE // 100  # 10 ms
SILENT_DB = -35.0  # below the loud frames by this much: silence
MIN_SILENCE = 0.1  # seconds: shorter quiet stretches are stops inside speech (the p in "park")


def snap_to_sound(words: Sequence[Word], samples: Speech) -> list[Word]:
    """Words with the silence at their edges cut off. Whisper, and its voice activity filter's
    padding, often start the first word of a phrase a few tenths of a second before it is
    said, which puts the caption up early; a silent lead or tail of at least ``MIN_SILENCE``
    is taken off (a word keeps at least 50 ms)."""
    frames = len(samples) // FRAME
    if frames == 0 or not words:
        return list(words)
    rms = np.sqrt(np.mean(samples[: frames * FRAME].reshape(frames, FRAME) ** 2, axis=1))
    loud = float(np.percentile(rms, 95))
    if loud <= 1e-6:
        return list(words)
    sounding = rms > loud * 10 ** (SILENT_DB / 20)
    snapped = []
    for word in words:
        first, last = int(word.start * 100), min(math.ceil(word.end * 100), frames)
        voiced = np.flatnonzero(sounding[first:last])
        start, end = word.start, word.end
        if len(voiced):
            onset, offset = (first + voiced[0]) / 100, (first + voiced[-1] + 1) / 100
            if onset - start >= MIN_SILENCE:
                start = min(onset, end - 0.05)
            if end - offset >= MIN_SILENCE:
                end = max(offset, start + 0.05)
        snapped.append(Word(start, end, word.text))
    return snapped


def _spread(text: str, start: float, end: float) -> list[Word]:
    tokens = split_tokens(text)
    total = sum(len(token) for token in tokens) or 1
    words, at = [], start
    for token in tokens:
        length = (end - start) * len(token) / total
        words.append(Word(at, at + length, token))
        at += length
    return words


def detect_language(text: str) -> str | None:
    """zh, ja or ko when the text is mostly written in that script; None otherwise (the
    Latin-script languages cannot be told apart this way)."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return None
    if sum(bool(_KANA.match(c)) for c in letters) > 0.1 * len(letters):
        return "ja"
    if sum(bool(_HAN.match(c)) for c in letters) > 0.5 * len(letters):
        return "zh"
    if sum(bool(_HANGUL.match(c)) for c in letters) > 0.5 * len(letters):
        return "ko"
    return None


def is_cjk(text: str) -> bool:
    """Whether the text is mostly written without spaces between words (Chinese, Japanese)."""
    return detect_language(text) in {"zh", "ja"}


def split_tokens(text: str) -> list[str]:
    """Words for Latin text; for Chinese and Japanese, single characters, with punctuation
    kept on the character before it."""
    tokens: list[str] = []
    for part in text.split():
        pieces = _CJK_OR_NOT.findall(part)
        for piece in pieces:
            if tokens and not piece.isalnum() and _CJK.match(piece) and _CJK.search(tokens[-1]):
                tokens[-1] += piece  # 。，！ stay with the character they follow
            else:
                tokens.append(piece)
    return tokens


def ends_sentence(token: str) -> bool:
    return _SENTENCE_END.search(token) is not None


def ends_clause(token: str) -> bool:
    return _CLAUSE_END.search(token) is not None


def join_words(words: Sequence[str]) -> str:
    """Words joined as written: no space where either side is CJK or before , . ! ? etc."""
    text = ""
    for word in words:
        if not text or _CJK.match(text[-1]) or _CJK.match(word[0]) or _ATTACHES_LEFT.match(word):
            text += word
        else:
            text += " " + word
    return text


# --- line breaking -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    start: float
    end: float
    text: str


def cues_from_words(
    words: Sequence[Word],
    *,
    max_chars: int | None = None,
    max_lines: int = 2,
    max_duration: float = 6.0,
    pause_split: float = 0.6,
) -> list[Cue]:
    """Timed words cut into cues of at most ``max_lines`` lines of ``max_chars`` characters
    (42 for Latin text, 16 for Chinese and Japanese when None) and ``max_duration`` seconds,
    except where one word alone is longer."""
    if max_lines < 1 or max_duration <= 0 or (max_chars is not None and max_chars < 1):
        raise UserError("max_chars, max_lines and max_duration must be positive")
    cjk = is_cjk("".join(word.text for word in words))
    limit = max_chars or (CJK_LINE_CHARS if cjk else LATIN_LINE_CHARS)
    tokens = _tokens(words, limit)
    cues: list[tuple[float, float, str]] = []
    for run in _runs(tokens, pause_split):
        for a, b in _partition(run, _cue_fits(run, limit, max_lines, max_duration), pause_split):
            piece = run[a:b]
            lines = _partition(piece, _line_fits(piece, limit), pause_split)
            text = "\n".join(_text(piece[c:d]) for c, d in lines)
            cues.append((piece[0].start, piece[-1].end, text))
    return _timed(cues)


def _tokens(words: Sequence[Word], limit: int) -> list[_Token]:
    """Whisper's words stripped, bare punctuation joined to the word before, and CJK words
    longer than a line cut into line-long pieces (those may break anywhere)."""
    tokens: list[_Token] = []
    for word in words:
        text = word.text.strip()
        if not text:
            continue
        if tokens and not any(char.isalnum() for char in text):
            last = tokens[-1]
            tokens[-1] = _Token(last.start, max(last.end, word.end), last.text + text)
            continue
        if len(text) > limit and _CJK.search(text):
            step = (word.end - word.start) / len(text)
            for at in range(0, len(text), limit):
                piece = text[at : at + limit]
                start = word.start + at * step
                tokens.append(_Token(start, start + len(piece) * step, piece))
            continue
        tokens.append(_Token(word.start, max(word.end, word.start), text))
    return tokens


def _text(tokens: Sequence[_Token]) -> str:
    return join_words([token.text for token in tokens])


Fits = Callable[[int, int], float | None]
"""``fits(a, b)``: how full the piece ``tokens[a:b]`` is (0 to 1), or None when it does not fit."""


def _cue_fits(run: list[_Token], limit: int, max_lines: int, max_duration: float) -> Fits:
    def fits(a: int, b: int) -> float | None:
        words = [token.text for token in run[a:b]]
        if _line_count(words, limit) > max_lines or run[b - 1].end - run[a].start > max_duration:
            return None
        return len(join_words(words)) / (limit * max_lines)

    return fits


def _line_fits(piece: list[_Token], limit: int) -> Fits:
    def fits(a: int, b: int) -> float | None:
        length = len(_text(piece[a:b]))
        return None if length > limit else length / limit

    return fits


def break_text(tokens: Sequence[str], limit: int) -> list[str]:
    """Tokens (``split_tokens``) cut into the fewest texts of at most ``limit`` characters, as
    even as can be and at clause ends where possible (a token longer than ``limit`` alone)."""
    timeless = [_Token(0.0, 0.0, token) for token in tokens]
    spans = _partition(timeless, _line_fits(timeless, limit), pause_split=1.0)
    return [_text(timeless[a:b]) for a, b in spans]


def _runs(tokens: list[_Token], pause_split: float) -> list[list[_Token]]:
    """The tokens cut after every sentence end and at every pause of ``pause_split``."""
    runs: list[list[_Token]] = []
    current: list[_Token] = []
    for index, token in enumerate(tokens):
        current.append(token)
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (
            following is None
            or _SENTENCE_END.search(token.text)
            or following.start - token.end >= pause_split
        ):
            runs.append(current)
            current = []
    return runs


def _line_count(words: list[str], limit: int) -> int:
    """Lines needed for ``words`` filled greedily (the fewest possible)."""
    lines, line = 0, ""
    for word in words:
        wider = join_words([line, word]) if line else word
        if line and len(wider) > limit:
            lines, line = lines + 1, word
        else:
            line = wider
    return lines + (1 if line else 0)


def _partition(tokens: Sequence[_Token], fits: Fits, pause_split: float) -> list[tuple[int, int]]:
    """``tokens`` cut into the fewest pieces that fit, and among those the cheapest: even
    (the sum of the squares of how full each piece is) with breaks where they read well. A
    lone token always fits. Once a piece does not fit, no longer piece ending at the same
    token does: the search stops there."""
    count = len(tokens)
    best: list[tuple[float, float]] = [(0, 0.0)] + [(math.inf, math.inf)] * count
    back = [0] * (count + 1)
    for end in range(1, count + 1):
        cut = 0.0 if end == count else _break_cost(tokens, end - 1, pause_split)
        for start in range(end - 1, -1, -1):
            fullness = fits(start, end)
            if fullness is None:
                if start < end - 1:
                    break
                fullness = 1.0
            pieces, cost = best[start]
            candidate = (pieces + 1, cost + fullness * fullness + cut)
            if candidate < best[end]:
                best[end], back[end] = candidate, start
    spans, end = [], count
    while end > 0:
        spans.append((back[end], end))
        end = back[end]
    return spans[::-1]


def _break_cost(tokens: Sequence[_Token], index: int, pause_split: float) -> float:
    """What a break after ``tokens[index]`` costs: nothing after a sentence or a clause,
    less the longer the pause that follows, most inside a phrase."""
    text = tokens[index].text
    if _SENTENCE_END.search(text) or _CLAUSE_END.search(text):
        return 0.0
    gap = tokens[index + 1].start - tokens[index].end
    return 0.4 - 0.3 * min(max(gap, 0.0) / pause_split, 1.0) if pause_split > 0 else 0.1


def _timed(spans: list[tuple[float, float, str]]) -> list[Cue]:
    """Cues with a tail after the last word and a readable minimum length, where the
    neighbours leave room; never overlapping."""
    cues: list[Cue] = []
    for index, (start, end, text) in enumerate(spans):
        following = spans[index + 1][0] if index + 1 < len(spans) else math.inf
        before = cues[-1].end if cues else 0.0
        start = max(start, before)
        end = max(min(end + TAIL, following), start)
        if end - start < MIN_CUE:
            end = min(start + MIN_CUE, max(following, end))
        if end - start < MIN_CUE:
            start = max(end - MIN_CUE, before)
        if end - start < 0.001:
            end = start + 0.001  # words said at one instant still get a cue
        cues.append(Cue(round(float(start), 3), round(float(end), 3), text))
    return cues


# --- SRT and WebVTT ----------------------------------------------------------------------------


def _stamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{index}\n{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}\n{cue.text}\n"
        for index, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = [f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}\n{cue.text}\n" for cue in cues]
    return "\n".join(["WEBVTT\n", *blocks])


_TIMING = re.compile(
    r"^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
)
_MARKUP = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # <i>, <font ...>, {\an8}: not drawn as text


def _seconds(hours: str, minutes: str, secs: str, millis: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(secs) + int(millis.ljust(3, "0")) / 1000


def parse_srt(text: str) -> list[Cue]:
    """The cues of an SRT file (as a user may have edited it); a UserError naming the line
    of the first block that is not ``index``, ``start --> end``, text."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues: list[Cue] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        if lines[index].strip().isdigit() and index + 1 < len(lines):
            index += 1
        timing = _TIMING.match(lines[index])
        if timing is None:
            raise UserError(
                f"SRT line {index + 1}: expected a time range like "
                f"00:00:01,000 --> 00:00:02,500, found {lines[index].strip()[:60]!r}"
            )
        start, end = _seconds(*timing.groups()[:4]), _seconds(*timing.groups()[4:])
        if end <= start:
            raise UserError(f"SRT line {index + 1}: the cue ends before it starts")
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip():
            body.append(_MARKUP.sub("", lines[index]).strip())
            index += 1
        caption = "\n".join(line for line in body if line)
        if caption:
            cues.append(Cue(start, end, caption))
    return cues


# --- onto the timeline -------------------------------------------------------------------------


def caption_track(cues: Sequence[Cue], style: TextStyle | None = None, y: float = 0.8) -> Track:
    """A ``text`` track (role ``caption``) with one clip per cue, in time order. A cue that
    overlaps the next (an edited SRT) is cut where the next begins."""
    ordered = sorted(cues, key=lambda cue: cue.start)
    clips: list[TextClip] = []
    for index, cue in enumerate(ordered):
        end = cue.end
        if index + 1 < len(ordered):
            end = min(end, ordered[index + 1].start)
        if end - cue.start < 0.001 or not cue.text.strip():
            continue
        clips.append(
            TextClip(
                text=cue.text,
                duration=round(end - cue.start, 3),
                start=cue.start,
                y=y,
                style=style or CAPTION_STYLE,
            )
        )
    return Track(kind="text", clips=tuple(clips), name="captions", role="caption")


def caption_chars(width: int, height: int, style: TextStyle, language: str) -> int:
    """How many characters fit on a caption line of the canvas: a Latin letter of a bold
    sans-serif is about 0.55 of the text height wide, a Chinese character a whole one."""
    usable = style.max_width * width
    em = style.size * height
    if language in {"zh", "ja"}:
        return max(6, min(16, math.floor(usable / em)))
    return max(12, min(42, math.floor(usable / (0.55 * em))))


def captions_for(
    path: Path,
    transcriber: SpeechToText,
    language: str | None = None,
    *,
    max_chars: int | None = None,
    max_lines: int = 2,
    max_duration: float = 6.0,
    pause_split: float = 0.6,
) -> list[Cue]:
    """The cues of what is said in an audio or video file (the line options as for
    ``cues_from_words``)."""
    words, _ = transcribe_words(extract_speech(path), transcriber, language)
    return cues_from_words(
        words,
        max_chars=max_chars,
        max_lines=max_lines,
        max_duration=max_duration,
        pause_split=pause_split,
    )


# --- scoring -----------------------------------------------------------------------------------


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edits (substitutions, insertions, deletions) per reference word, ignoring case and
    punctuation; Chinese and Japanese are compared character by character."""
    ref, hyp = _scored_words(reference), _scored_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1] / len(ref)


def _scored_words(text: str) -> list[str]:
    tokens = split_tokens(text.lower())
    cleaned = (re.sub(r"[^\w']|_", "", token).strip("'") for token in tokens)
    return [token for token in cleaned if token]
