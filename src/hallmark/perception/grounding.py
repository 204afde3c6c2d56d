"""Grounding: every thing an answer names, linked to the finding it names.

BuboGPT grounds its answers by entity matching: the entities of the answer are matched to the
tags of the regions found in the image, and each match links a phrase to a region. Here the
tags are the findings' labels, and the matching is lexical, so it is exact, fast and
explainable:

- Words are compared by a crude stem (case folded; ``faces`` -> ``face``, ``people`` and
  ``persons`` -> ``person``, ``barking`` -> ``bark``), so the answer may inflect what it names.
  Chinese (and other text without spaces) is matched as substrings.
- Each finding is named by its label and by a small table of everyday words for its kind: a
  ``face`` also by "head" and 人脸, a ``person`` by "man", "someone" and 人, the ``Speech`` sound
  by "talking" and "voice", ``Sine wave`` by "tone" and "beep"; a colour by its Chinese name.
  Only the findings present make terms, so "someone speaking" is speech in a recording and
  "someone" a person in a picture. Where terms overlap, the longest wins ("white noise" is the
  noise, not the colour white).
- A quoted phrase is matched to what was read or heard, forgiving an error in five characters
  (Levenshtein distance at most 0.2 of its length, against the best-matching stretch): to the
  OCR line it best matches, and to the run of spoken words it best matches (one entity spanning
  the first word's start to the last word's end; its ``finding`` is the first word).

When several findings share a name (three faces), the phrase's neighbourhood picks: a count
("two faces", "both", a plural) takes that many or all; else an ordinal ("the first face", in
left-to-right or time order), a time ("from 5 s to 7 s", for sounds), a position ("on the
left", 左边) or a quote right after the phrase ('the sign "SALE"') picks the one meant; without
any, the highest-scoring. A phrase never links twice to one finding, and what a quote grounded
is not grounded again by the words inside it.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hallmark.perception.base import Entity, Finding

QUOTE_TOLERANCE = 0.2  # edits per character of a quoted phrase
MIN_QUOTE_CHARS = 2  # letters and digits: shorter quotes ("a") are not matched
SHORT_QUOTE_CHARS = 4  # a shorter quote (not CJK) must match whole words exactly
MAX_QUOTE_CHARS = 400

COLOR_ZH: dict[str, str] = {
    "black": "黑色",
    "gray": "灰色",
    "grey": "灰色",
    "silver": "银色",
    "white": "白色",
    "red": "红色",
    "maroon": "栗色",
    "orange": "橙色",
    "yellow": "黄色",
    "olive": "橄榄色",
    "green": "绿色",
    "teal": "青绿色",
    "cyan": "青色",
    "light blue": "浅蓝色",
    "blue": "蓝色",
    "navy": "深蓝色",
    "purple": "紫色",
    "magenta": "品红色",
    "pink": "粉色",
    "brown": "棕色",
    "beige": "米色",
    "gold": "金色",
}
"""Colour names in Chinese: for answers in Chinese and for grounding them."""

SOUND_ZH: dict[str, str] = {
    "speech": "语音",
    "music": "音乐",
    "sine wave": "正弦波",
    "white noise": "白噪声",
    "pink noise": "粉红噪声",
    "noise": "噪声",
    "silence": "静音",
    "dog": "狗叫",
    "bark": "狗叫",
    "cat": "猫叫",
    "bird": "鸟叫",
    "laughter": "笑声",
    "applause": "掌声",
    "singing": "歌声",
    "siren": "警笛",
    "vehicle": "车辆声",
    "car": "汽车声",
    "engine": "引擎声",
    "rain": "雨声",
    "wind": "风声",
    "water": "水声",
    "telephone": "电话铃声",
    "alarm": "警报声",
    "bell": "铃声",
    "knock": "敲门声",
    "footsteps": "脚步声",
    "crying, sobbing": "哭声",
    "baby cry, infant cry": "婴儿哭声",
    "cough": "咳嗽声",
    "clapping": "拍手声",
    "whistling": "口哨声",
    "guitar": "吉他声",
    "piano": "钢琴声",
    "drum": "鼓声",
    "beep, bleep": "哔声",
    "explosion": "爆炸声",
    "gunshot, gunfire": "枪声",
    "typing": "打字声",
    "clock": "钟声",
    "tick-tock": "滴答声",
}
"""Common YAMNet classes (their display names, lower case) in Chinese."""

NSFW_ZH: dict[str, str] = {
    "exposed breast": "裸露的胸部",
    "exposed buttocks": "裸露的臀部",
    "exposed anus": "裸露的肛门",
    "exposed female genitalia": "裸露的女性生殖器",
    "exposed male genitalia": "裸露的男性生殖器",
    "exposed belly": "裸露的腹部",
    "exposed armpits": "裸露的腋下",
    "exposed feet": "裸露的脚",
}

_KIND_NAMES: dict[str, tuple[str, ...]] = {
    "face": ("face", "head", "脸", "人脸", "面孔", "脸部"),
    "person": (
        *("person", "people", "man", "woman", "boy", "girl", "someone", "somebody", "child"),
        *("kid", "human", "人", "人物", "人们", "男人", "女人", "男孩", "女孩", "孩子"),
    ),
    "text": (
        *("text", "sign", "caption", "writing", "words", "lettering", "title", "slogan"),
        *("文字", "字样", "标语", "标题", "招牌"),
    ),
    "nsfw": ("nudity", "nude", "naked", "裸露", "暴露"),
    "layout": (),
    "color": (),
    "object": (),
    "sound": (),
    "speech": (
        *("speech", "voice", "speaking", "talking", "spoken", "someone speaking"),
        *("someone talking", "语音", "说话", "讲话", "人声"),
    ),
    "word": (),
}
_LAYOUT_ZH = {"portrait": ("竖版", "竖向"), "landscape": ("横版", "横向"), "square": ("方形",)}
_SOUND_NAMES: dict[str, tuple[str, ...]] = {
    "speech": _KIND_NAMES["speech"],
    "music": ("music", "song", "melody", "tune", "musical", "音乐", "歌", "歌曲", "乐曲"),
    "dog": ("dog", "bark", "barking", "woof", "狗", "狗叫", "犬吠"),
    "bark": ("bark", "barking", "dog barking", "狗叫"),
    "sine wave": ("tone", "beep", "sine", "pure tone", "whistle", "正弦波", "音调", "蜂鸣"),
    "beep, bleep": ("beep", "bleep", "tone", "哔声", "蜂鸣"),
    "white noise": ("noise", "hiss", "static", "白噪声", "噪声", "噪音"),
    "pink noise": ("noise", "hiss", "噪声", "噪音"),
    "noise": ("noise", "噪声", "噪音"),
    "static": ("static", "noise", "hiss", "噪声"),
    "silence": ("silence", "quiet", "安静", "静音", "无声"),
    "cat": ("cat", "meow", "猫", "猫叫"),
    "bird": ("bird", "birdsong", "chirp", "tweet", "鸟", "鸟叫"),
    "laughter": ("laughter", "laugh", "laughing", "笑声"),
    "applause": ("applause", "clapping", "掌声"),
    "singing": ("singing", "sing", "singer", "vocals", "唱歌", "歌声"),
    "siren": ("siren", "警笛", "警报"),
    "alarm": ("alarm", "警报"),
    "telephone": ("phone", "telephone", "ring", "ringing", "电话"),
    "vehicle": ("vehicle", "car", "traffic", "汽车", "车辆"),
    "car": ("car", "vehicle", "汽车"),
    "engine": ("engine", "motor", "引擎", "发动机"),
    "rain": ("rain", "raining", "雨声", "下雨"),
    "wind": ("wind", "风声"),
    "water": ("water", "stream", "水声"),
    "crying, sobbing": ("cry", "crying", "sobbing", "哭声"),
    "baby cry, infant cry": ("baby", "crying", "cry", "婴儿", "哭声"),
    "knock": ("knock", "knocking", "敲门"),
    "footsteps": ("footstep", "steps", "walking", "脚步", "脚步声"),
    "explosion": ("explosion", "blast", "bang", "爆炸"),
    "gunshot, gunfire": ("gunshot", "gunfire", "shot", "shooting", "枪声"),
    "cough": ("cough", "coughing", "咳嗽"),
    "guitar": ("guitar", "吉他"),
    "piano": ("piano", "钢琴"),
    "drum": ("drum", "drums", "鼓声"),
    "bell": ("bell", "ringing", "铃声"),
}
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by de for from he her his i in is it its me my no not of on "
        "one or our s she so t that the their they this to two was we with you your",
    )
)
_IRREGULAR = {
    "people": "person",
    "persons": "person",
    "men": "man",
    "women": "woman",
    "children": "child",
    "feet": "foot",
    "teeth": "tooth",
    "mice": "mouse",
    "geese": "goose",
}
# Words containing 人 that name no one: not a person, unless they are terms themselves.
_CJK_BLOCKERS = ("人工", "机器人", "人声", "人脸", "人造")

_LATIN = re.compile(
    r"[0-9A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_QUOTED = re.compile(
    r'"([^"\n]+)"|“([^”\n]+)”|「([^」\n]+)」|『([^』\n]+)』|‘([^’\n]+)’|«([^»\n]+)»'
    r"|(?<![0-9A-Za-z])'([^'\n]+)'(?![0-9A-Za-z])"
)
_SENTENCE_END = re.compile(r"[!?。！？\n]|\.(?!\d)")
_CLAUSE_BREAK = re.compile(
    r"[,;:，；：、]|\b(?:and|but|while|whereas|or|then)\b|和|而|但|然后", re.IGNORECASE
)
_APPOSITION = re.compile(
    r"^[\s:：,，]*(?:(?:that\s+|which\s+)?(?:reads?|reading|says?|saying|said)|写着|是|说)?"
    r"[\s:：,，]*$",
    re.IGNORECASE,
)
_NUMBERS = {
    "no": 0, "zero": 0, "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "both": 2,
    "pair": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
# The last two words before a phrase ("2 smiling faces"); a number in "3.2" is no count.
_EN_COUNT = re.compile(r"(?:^|[^\w.])([a-z]+|\d+)\s+(?:([a-z]+)\s+)?$")
_ALL_WORDS = frozenset(("all", "several", "many", "multiple", "some", "these", "those", "various"))
_TIME_UNITS = frozenset(("s", "sec", "secs", "second", "seconds", "ms"))
_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}  # fmt: skip
_ZH_MEASURE = "个张位名只条处段句种片幅行"
_ZH_COUNT = re.compile(rf"(\d+|[一二两俩三四五六七八九十]+)\s*[{_ZH_MEASURE}]?\s*$")
_ZH_ALL = re.compile(rf"(?:一些|几|多|很多|许多|这些|那些|所有|各)\s*[{_ZH_MEASURE}]?\s*$")
_EN_ORDINAL = re.compile(
    r"(?:^|\bthe\s+)(first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)"
    r"(?:\s+[a-z]+)?\s*$",
    re.IGNORECASE,
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1,
             "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}  # fmt: skip
_ZH_ORDINAL = re.compile(rf"第\s*(\d+|[一二三四五六七八九十]+)\s*[{_ZH_MEASURE}]?\s*$")
_ZH_LAST = re.compile(rf"最后\s*一?\s*[{_ZH_MEASURE}]?\s*$")
_POSITION_EN = re.compile(
    r"\b(left|right|top|upper|bottom|lower|cent(?:er|re)|middle)\b", re.IGNORECASE
)
_POSITION_ZH = {"左": "left", "右": "right", "上": "top", "顶": "top", "下": "bottom",
                "底": "bottom", "中": "centre"}  # fmt: skip
_POSITION_WORDS = {"upper": "top", "lower": "bottom", "center": "centre", "middle": "centre"}
_SECONDS = r"(?:(\d+):)?(\d+(?:\.\d+)?)"
_UNIT = r"\s*(?:s\b|secs?\b|seconds?\b|秒)"
_TIME_SPAN = re.compile(
    _SECONDS + r"(?:" + _UNIT + r")?\s*(?:-|–|—|to|until|and|till|至|到)\s*" + _SECONDS + _UNIT,
    re.IGNORECASE,
)
_TIME_POINT = re.compile(_SECONDS + _UNIT, re.IGNORECASE)


# --- words: tokens and stems -------------------------------------------------------------------


def stem(word: str) -> tuple[str, bool]:
    """A crude, symmetric stem of one word, and whether the word was a plural.

    Not a real stemmer: it only has to map a word and its inflections to the same key
    (``face``/``faces``, ``bark``/``barking``/``barked``, ``wave``/``waving``), since both the
    answer's words and the findings' names go through it.
    """
    word = unicodedata.normalize("NFKC", word).casefold()
    plural = False
    if word in _IRREGULAR:
        word, plural = _IRREGULAR[word], True
    elif len(word) > 4 and word.endswith("ies"):
        word, plural = word[:-3] + "y", True
    elif len(word) > 3 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        word, plural = word[:-2], True
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word, plural = word[:-1], True
    if not plural and len(word) > 5 and word.endswith("ing"):
        word = _undouble(word[:-3])
    elif not plural and len(word) > 4 and word.endswith("ed"):
        word = _undouble(word[:-2])
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word, plural


def _undouble(word: str) -> str:
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    return word


def squash(text: str) -> str:
    """Only the letters and digits, case folded: what a quote and an OCR line are compared by."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in normal if ch.isalnum())


def is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


# --- what names each finding -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Terms:
    latin: dict[tuple[str, ...], frozenset[int]]  # stems -> findings they name
    cjk: dict[str, frozenset[int]]
    longest: int  # the most stems in one latin term


def names_of(finding: Finding) -> list[str]:
    """The phrases that name ``finding``: its label and the everyday words for its kind."""
    label = finding.label.strip()
    lowered = label.casefold()
    names: list[str] = list(_KIND_NAMES.get(finding.kind, ()))
    if finding.kind == "text":
        names.append(label)
        names.extend(_content_words(label))
    elif finding.kind == "word":
        return []  # spoken words are grounded by quotes only: single words collide too often
    elif finding.kind == "color":
        names.append(label)
        base = lowered.split()[-1] if lowered.split() else lowered
        names.append(base)  # "light blue" is blue too
        names.extend(COLOR_ZH[name] for name in (lowered, base) if name in COLOR_ZH)
        if base in ("gray", "grey"):
            names.extend(("gray", "grey"))
    elif finding.kind == "layout":
        names.append(label)
        names.extend(_LAYOUT_ZH.get(lowered, ()))
    elif finding.kind == "sound":
        names.extend(_sound_names(label))
    elif finding.kind == "nsfw":
        names.append(label)
        names.extend(_NSFW_HEADS.get(lowered, _heads(label)))
        if lowered in NSFW_ZH:
            names.append(NSFW_ZH[lowered])
    else:  # face, person, speech, object: the label, and a kind's words if the label names one
        names.append(label)
        names.extend(_heads(label))
        heads = {stem(word)[0] for word in _LATIN.findall(label)}
        for kind in ("face", "person"):
            if heads & {stem(name)[0] for name in _KIND_NAMES[kind]}:
                names.extend(_KIND_NAMES[kind])
    return [name for name in dict.fromkeys(names) if name.strip()]


_NSFW_HEADS = {
    "exposed female genitalia": ("genitalia", "genitals"),
    "exposed male genitalia": ("genitalia", "genitals", "penis"),
    "exposed breast": ("breast", "breasts", "chest"),
    "exposed buttocks": ("buttocks", "butt"),
    "exposed anus": ("anus",),
}


def _sound_names(label: str) -> list[str]:
    """A YAMNet class's names: each comma-separated alternative of its display name, their
    last words ("Sine wave" -> "wave"), and the table's everyday words and Chinese name."""
    lowered = label.casefold().strip()
    names = [part.strip() for part in lowered.split(",") if part.strip()]
    for part in list(names):
        names.extend(_heads(part))
    for key in (lowered, names[0] if names else lowered):
        names.extend(_SOUND_NAMES.get(key, ()))
        if key in SOUND_ZH:
            names.append(SOUND_ZH[key])
    return names


def _heads(phrase: str) -> list[str]:
    """The last word of a phrase of several words, unless it is a word of no meaning."""
    words = _LATIN.findall(phrase)
    if len(words) > 1 and words[-1].casefold() not in _STOPWORDS and len(words[-1]) > 2:
        return [words[-1]]
    return []


def _content_words(text: str) -> list[str]:
    """The words of an OCR line worth matching on their own: no stopwords, no bare numbers,
    and each run of CJK characters as a whole."""
    words = [
        word
        for word in _LATIN.findall(text)
        if len(word) > 1 and not word.isdigit() and word.casefold() not in _STOPWORDS
    ]
    runs = [run for run in _CJK.findall(text) if len(run) > 1]
    return [*words, *runs]


def _terms(findings: Sequence[Finding]) -> _Terms:
    latin: dict[tuple[str, ...], set[int]] = {}
    cjk: dict[str, set[int]] = {}
    for index, finding in enumerate(findings):
        for name in names_of(finding):
            if is_cjk(name):
                for run in _CJK.findall(name):
                    cjk.setdefault(run, set()).add(index)
            if words := _LATIN.findall(name):
                key = tuple(stem(word)[0] for word in words)
                latin.setdefault(key, set()).add(index)
    return _Terms(
        {key: frozenset(value) for key, value in latin.items()},
        {key: frozenset(value) for key, value in cjk.items()},
        max((len(key) for key in latin), default=0),
    )


# --- phrases of the answer ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Mention:
    """A phrase of the answer and the findings it could name."""

    start: int
    end: int
    candidates: frozenset[int]
    plural: bool = False
    quoted: bool = False  # a quote matched to what was read or heard: already decided
    run_end: float | None = None  # a quote matched to spoken words: when the last one ends


def _quoted_mentions(answer: str, findings: Sequence[Finding]) -> list[_Mention]:
    lines = [i for i, f in enumerate(findings) if f.kind == "text"]
    words = sorted(
        (i for i, f in enumerate(findings) if f.kind == "word" and f.start is not None),
        key=lambda i: (findings[i].start or 0.0, i),
    )
    spoken = [squash(findings[i].label) for i in words]
    found: list[_Mention] = []
    for match in _QUOTED.finditer(answer):
        group = next(g for g in range(1, (match.lastindex or 0) + 1) if match.group(g))
        content = match.group(group)
        query = squash(content)
        if not MIN_QUOTE_CHARS <= len(query) <= MAX_QUOTE_CHARS:
            continue
        linked: set[int] = set()
        best: tuple[int, int, float] | None = None
        best_line = -1
        for index in lines:
            line = [squash(word) for word in findings[index].label.split()]
            if (where := _find(query, line)) is not None:
                rank = (where[0], abs(len("".join(line)) - len(query)), -findings[index].score)
                if best is None or rank < best:
                    best, best_line = rank, index
        if best_line >= 0:
            linked.add(best_line)
        run_end: float | None = None
        if (run := _find(query, spoken)) is not None:
            linked.add(words[run[1]])  # the first word of the run stands for it
            run_end = findings[words[run[2]]].end
        if linked:
            start = match.start(group) + (len(content) - len(content.lstrip()))
            end = match.end(group) - (len(content) - len(content.rstrip()))
            found.append(_Mention(start, end, frozenset(linked), quoted=True, run_end=run_end))
    return found


def _find(query: str, pieces: Sequence[str]) -> tuple[int, int, int] | None:
    """Where ``query`` matches the pieces (words) joined, within the tolerance, as ``(edits,
    first piece, last piece)``. A short quote (not CJK) must be whole pieces exactly, so "is"
    is not found in "this"."""
    if len(query) < SHORT_QUOTE_CHARS and not is_cjk(query):
        for first in range(len(pieces)):
            joined = ""
            for last in range(first, len(pieces)):
                joined += pieces[last]
                if joined == query:
                    return 0, first, last
                if len(joined) >= len(query):
                    break
        return None
    text = "".join(pieces)
    owner = [k for k, piece in enumerate(pieces) for _ in piece]
    edits, start, end = align(query, text)
    if end <= start or edits > math.floor(QUOTE_TOLERANCE * len(query)):
        return None
    return edits, owner[start], owner[end - 1]


def align(query: str, text: str) -> tuple[int, int, int]:
    """The fewest edits that turn ``query`` into some stretch ``text[start:end]`` (Sellers'
    approximate substring matching), as ``(edits, start, end)``."""
    rows = len(query)
    if not text:
        return rows, 0, 0
    cost = list(range(rows + 1))
    origin = [0] * (rows + 1)
    best = (cost[rows], 0, 0)
    for j, char in enumerate(text, start=1):
        new = [0] * (rows + 1)
        new_origin = [j] * (rows + 1)
        for i in range(1, rows + 1):
            diagonal = cost[i - 1] + (query[i - 1] != char)
            skip_text = cost[i] + 1
            skip_query = new[i - 1] + 1
            if diagonal <= skip_text and diagonal <= skip_query:
                new[i], new_origin[i] = diagonal, origin[i - 1]
            elif skip_text <= skip_query:
                new[i], new_origin[i] = skip_text, origin[i]
            else:
                new[i], new_origin[i] = skip_query, new_origin[i - 1]
        cost, origin = new, new_origin
        if cost[rows] < best[0]:
            best = (cost[rows], origin[rows], j)
    return best


def _lexical_mentions(
    answer: str, terms: _Terms, taken: Sequence[tuple[int, int]]
) -> list[_Mention]:
    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    found: list[_Mention] = []
    tokens = [match for match in _LATIN.finditer(answer) if free(match.start(), match.end())]
    stems = [stem(token.group()) for token in tokens]
    i = 0
    while i < len(tokens):
        for size in range(min(terms.longest, len(tokens) - i), 0, -1):
            run = tokens[i : i + size]
            if any(answer[a.end() : b.start()].strip(" -") for a, b in itertools.pairwise(run)):
                continue  # not one phrase: something other than a space or hyphen between
            key = tuple(s for s, _ in stems[i : i + size])
            if key in terms.latin:
                plural = stems[i + size - 1][1]
                found.append(
                    _Mention(run[0].start(), run[-1].end(), terms.latin[key], plural=plural)
                )
                i += size
                break
        else:
            i += 1
    cjk: list[_Mention] = []
    blocked = [
        (m.start(), m.end())
        for blocker in _CJK_BLOCKERS
        if blocker not in terms.cjk
        for m in re.finditer(re.escape(blocker), answer)
    ]
    for term, indices in terms.cjk.items():
        for match in re.finditer(re.escape(term), answer):
            start, end = match.span()
            if any(s <= start and end <= e for s, e in blocked) or not free(start, end):
                continue
            plural = answer.startswith("们", end)
            cjk.append(_Mention(start, end + plural, indices, plural=plural))
    kept: list[_Mention] = []
    for mention in sorted(cjk, key=lambda m: (m.start - m.end, m.start)):  # longest first
        if all(mention.end <= k.start or mention.start >= k.end for k in kept):
            kept.append(mention)
    return found + kept


# --- which of the candidates -------------------------------------------------------------------


def _choose(
    findings: Sequence[Finding],
    mention: _Mention,
    before: str,
    after: str,
    apposed: frozenset[int],
) -> list[int]:
    """The findings a phrase names, given the words around it (``before`` and ``after`` run to
    the neighbouring phrases, within the sentence)."""
    candidates = sorted(mention.candidates)
    if bound := [i for i in candidates if i in apposed]:
        return bound
    near_before = _CLAUSE_BREAK.split(before)[-1]
    near_after = _CLAUSE_BREAK.split(after)[0]
    count, every = _count(near_before)
    if count is None:
        count = len(candidates) if (mention.plural or every) else 1
    if count >= len(candidates):
        return candidates
    ranked = _ranked(findings, candidates, near_before, near_after, before, after)
    return sorted(ranked[:count])


def _ranked(
    findings: Sequence[Finding],
    candidates: list[int],
    near_before: str,
    near_after: str,
    before: str,
    after: str,
) -> list[int]:
    natural = sorted(candidates, key=lambda i: _natural_key(findings[i], i))
    if (nth := _ordinal(near_before)) is not None:
        pick = natural[nth - 1] if 0 < nth <= len(natural) else natural[-1]
        return [pick, *(i for i in natural if i != pick)]
    timed = [i for i in candidates if findings[i].start is not None and findings[i].end is not None]
    when = _time_cue(after) or _time_cue(before)
    if when is not None and timed:
        return sorted(candidates, key=lambda i: _time_misfit(findings[i], when))
    cues = _position_cues(near_after) or _position_cues(near_before)
    boxed = [i for i in candidates if findings[i].box is not None]
    if cues and boxed:
        return sorted(candidates, key=lambda i: _position_cost(findings, boxed, i, cues))
    return sorted(candidates, key=lambda i: (-findings[i].score, i))


def _natural_key(finding: Finding, index: int) -> tuple[float, float, float, int]:
    """Reading order: by time, then left to right, then top to bottom."""
    x = y = 0.0
    if finding.box is not None:
        x = finding.box[0] + finding.box[2] / 2
        y = finding.box[1] + finding.box[3] / 2
    return (finding.start or 0.0, x, y, index)


def _count(before: str) -> tuple[int | None, bool]:
    """A number, or a word for "all of them", right before a phrase."""
    if match := _ZH_COUNT.search(before):
        return _zh_number(match.group(1)), False
    if _ZH_ALL.search(before):
        return None, True
    if tail := _EN_COUNT.search(before.casefold()):
        for token in (tail.group(2), tail.group(1)):  # the nearest word first
            if token is None:
                continue
            if token in _TIME_UNITS:
                break
            if token.isdigit():
                return int(token), False
            if token in _NUMBERS:
                return _NUMBERS[token], False
            if token in _ALL_WORDS:
                return None, True
    return None, False


def _zh_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _ZH_DIGITS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _ZH_DIGITS.get(tens, 1) * 10 + _ZH_DIGITS.get(ones, 0)
    return _ZH_DIGITS.get(text[-1], 1)


def _ordinal(before: str) -> int | None:
    if match := _EN_ORDINAL.search(before):
        return _ORDINALS[match.group(1).casefold()]
    if match := _ZH_ORDINAL.search(before):
        return _zh_number(match.group(1))
    if _ZH_LAST.search(before):
        return -1
    return None


def _time_cue(text: str) -> tuple[float, float] | None:
    """The first time span ("from 1.0 s to 3.2 s", "1–3 秒") or time ("at 5 s") in ``text``."""
    span = _TIME_SPAN.search(text)
    point = _TIME_POINT.search(text)
    if span and (point is None or span.start() <= point.start()):
        first = _seconds(span.group(1), span.group(2))
        second = _seconds(span.group(3), span.group(4))
        return (min(first, second), max(first, second))
    if point:
        at = _seconds(point.group(1), point.group(2))
        return (at, at)
    return None


def _seconds(minutes: str | None, seconds: str) -> float:
    return float(seconds) + 60 * int(minutes or 0)


def _time_misfit(finding: Finding, when: tuple[float, float]) -> tuple[float, float]:
    if finding.start is None or finding.end is None:
        return (math.inf, math.inf)
    overlap = min(finding.end, when[1]) - max(finding.start, when[0])
    centre = abs((finding.start + finding.end) / 2 - (when[0] + when[1]) / 2)
    return (-overlap, centre)


def _position_cues(text: str) -> list[str]:
    cues = [
        _POSITION_WORDS.get(word.casefold(), word.casefold()) for word in _POSITION_EN.findall(text)
    ]
    cues.extend(cue for char, cue in _POSITION_ZH.items() if char in text)
    return cues


def _position_cost(
    findings: Sequence[Finding], boxed: Sequence[int], index: int, cues: Sequence[str]
) -> float:
    """How far a box is from where the cue words put it, among the candidates' boxes."""
    box = findings[index].box
    if box is None:
        return math.inf
    centres = [_centre(findings[i].box) for i in boxed]
    xs, ys = [c[0] for c in centres], [c[1] for c in centres]
    cx, cy = _centre(box)
    x = (cx - min(xs)) / (max(xs) - min(xs)) if max(xs) > min(xs) else 0.5
    y = (cy - min(ys)) / (max(ys) - min(ys)) if max(ys) > min(ys) else 0.5
    cost = 0.0
    for cue in cues:
        cost += {
            "left": x,
            "right": 1 - x,
            "top": y,
            "bottom": 1 - y,
            "centre": abs(x - 0.5) + abs(y - 0.5),
        }.get(cue, 0.0)
    return cost


def _centre(box: tuple[int, int, int, int] | None) -> tuple[float, float]:
    if box is None:
        return (0.0, 0.0)
    return (box[0] + box[2] / 2, box[1] + box[3] / 2)


def _sentence_bounds(answer: str, start: int, end: int) -> tuple[int, int]:
    head = 0
    for match in _SENTENCE_END.finditer(answer, 0, start):
        head = match.end()
    tail = _SENTENCE_END.search(answer, end)
    return head, tail.start() if tail else len(answer)


# --- the whole ---------------------------------------------------------------------------------


def ground(answer: str, findings: Sequence[Finding]) -> list[Entity]:
    """Every phrase of ``answer`` that names one of ``findings``, linked to it, in answer order.

    A phrase naming several findings at once ("two faces", "the people") gives one entity per
    finding, with the same text and offset.
    """
    if not answer.strip() or not findings:
        return []
    quoted = _quoted_mentions(answer, findings)
    lexical = _lexical_mentions(answer, _terms(findings), [(m.start, m.end) for m in quoted])
    mentions = sorted([*quoted, *lexical], key=lambda m: (m.start, m.end))
    links: dict[_Mention, list[int]] = {}
    for k, mention in enumerate(mentions):
        if mention.quoted:
            links[mention] = sorted(mention.candidates)
            continue
        head, tail = _sentence_bounds(answer, mention.start, mention.end)
        previous = mentions[k - 1].end if k else 0
        following = mentions[k + 1].start if k + 1 < len(mentions) else len(answer)
        before = answer[max(head, previous) : mention.start]
        after = answer[mention.end : min(tail, max(following, mention.end))]
        apposed: frozenset[int] = frozenset()
        if k + 1 < len(mentions) and mentions[k + 1].quoted:
            gap = answer[mention.end : mentions[k + 1].start].rstrip("\"“「『‘«'")
            if _APPOSITION.match(gap):
                apposed = mentions[k + 1].candidates
        links[mention] = _choose(findings, mention, before, after, apposed)
    return list(_entities(answer, findings, links))


def _entities(
    answer: str, findings: Sequence[Finding], links: dict[_Mention, list[int]]
) -> Iterable[Entity]:
    for mention, indices in sorted(links.items(), key=lambda item: (item[0].start, item[0].end)):
        for index in dict.fromkeys(indices):
            finding = findings[index]
            end = finding.end
            if finding.kind == "word" and mention.run_end is not None:
                end = mention.run_end  # a quoted run of words: first word's start to last's end
            yield Entity(
                text=answer[mention.start : mention.end],
                kind=finding.kind,
                finding=index,
                offset=mention.start,
                box=finding.box,
                start=finding.start,
                end=end,
            )


def mentioned(text: str, findings: Sequence[Finding]) -> set[int]:
    """Every finding some phrase of ``text`` could name (all candidates, none picked): what a
    question asks about."""
    if not text.strip() or not findings:
        return set()
    quoted = _quoted_mentions(text, findings)
    lexical = _lexical_mentions(text, _terms(findings), [(m.start, m.end) for m in quoted])
    return {index for mention in (*quoted, *lexical) for index in mention.candidates}
