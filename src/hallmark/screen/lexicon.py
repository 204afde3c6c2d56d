"""The lexicon screen: terms with a category and a severity, matched over normalized text.

A lexicon file is UTF-8 text, one entry a line, columns separated by tabs::

    # comment
    term<TAB>category<TAB>severity
    法轮功<TAB>cult<TAB>3<TAB>initials
    benign phrase<TAB>allow

``category`` is an id of :mod:`hallmark.screen.taxonomy`; ``severity`` is 1 (the topic is
named: flagged at most), 2 (likely harmful) or 3 (plainly harmful). An ``allow`` line names a
benign phrase that contains a term ("大麻哈鱼" contains 大麻, "bath bomb recipe" contains "bomb
recipe"): a hit that overlaps it does not count. An operator's allow line may also switch off a
built-in term. ``initials`` asks for a Chinese term to be matched by its pinyin initials too.

Matching runs over :func:`hallmark.screen.normalize.normalize`, so one entry catches its full
width, traditional, upper case, homoglyph, leetspeak and spaced-out forms. Terms with Chinese
characters match anywhere; Latin terms match whole words (a plural ``s``/``es`` allowed), so
"ass" is not found in "class". Chinese terms are also matched by their pinyin
(:mod:`hallmark.screen.pinyin`). All keys of a lexicon go into Aho-Corasick automatons, so the
cost of a scan grows with the text, not with the number of terms.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import accumulate
from pathlib import Path
from typing import Any, ClassVar

import ahocorasick  # type: ignore[import-not-found]

from hallmark.content import Content, Medium
from hallmark.errors import PolicyFileError
from hallmark.registry import Components
from hallmark.screen.base import SEVERITIES, Hit, Screen, TextSpan
from hallmark.screen.document import text_of
from hallmark.screen.normalize import Normalized, is_cjk, is_word_char, normalize
from hallmark.screen.pinyin import pinyin_keys
from hallmark.screen.taxonomy import CATEGORY_IDS

ALLOW = "allow"
BUILTIN_FILES = ("zh.txt", "en.txt", "ldnoobw-zh.txt", "ldnoobw-en.txt", "allow.txt")
"""The files of ``hallmark/screen/lexicons`` that make the built-in lexicon."""

_KNOWN = frozenset(CATEGORY_IDS)
_LATIN_TOKEN = re.compile("[a-z]+")
_PLURALS = ("s", "es")


class LexiconFileError(PolicyFileError):
    """A lexicon file cannot be read or has a malformed line; the message names both."""

    code = "lexicon_file_error"


@dataclass(slots=True, frozen=True)
class Entry:
    term: str
    category: str
    """A taxonomy id, or ``"allow"`` for a benign phrase."""
    severity: int
    """1 to 3; 0 for an allow phrase."""
    file: str = ""
    line: int = 0
    initials: bool = False
    """Also match the pinyin initials of a Chinese term ("flg" for 法轮功)."""

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def language(self) -> str:
        return "zh" if any(is_cjk(char) for char in self.term) else "en"

    @property
    def allows(self) -> bool:
        return self.category == ALLOW


def parse_lexicon(text: str, source: str = "lexicon") -> list[Entry]:
    """The entries of a lexicon file's text; a malformed line is a ``LexiconFileError`` that
    names ``source`` and the line."""
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            entries.append(_parse_line(line, source, number))
    return entries


def _parse_line(line: str, file: str, number: int) -> Entry:
    def error(problem: str) -> LexiconFileError:
        return LexiconFileError(f"{file}:{number}: {problem}", file=file, line=number)

    columns = [column.strip() for column in line.split("\t")]
    if len(columns) not in (2, 3, 4):
        raise error(
            "expected 'term<TAB>category<TAB>severity[<TAB>initials]' or 'phrase<TAB>allow', "
            f"found {len(columns)} column(s)"
        )
    term, category = columns[0], columns[1]
    if not term:
        raise error("the term is empty")
    if category == ALLOW:
        if len(columns) > 2:
            raise error("an allow line has no other columns")
        return Entry(term, ALLOW, 0, file, number)
    if category not in _KNOWN:
        raise error(
            f"unknown category {category!r}; use an id of hallmark.screen.taxonomy "
            "(see docs/compliance.md) or 'allow'"
        )
    if len(columns) < 3 or columns[2] not in {str(s) for s in SEVERITIES}:
        found = repr(columns[2]) if len(columns) >= 3 else "none"
        raise error(f"severity must be 1, 2 or 3, found {found}")
    if len(columns) == 4 and columns[3] != "initials":
        raise error(f"the fourth column may only be 'initials', found {columns[3]!r}")
    return Entry(term, category, int(columns[2]), file, number, initials=len(columns) == 4)


def read_lexicon(path: Path) -> list[Entry]:
    """The entries of one lexicon file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconFileError(f"{path}: cannot read the lexicon: {exc}", file=str(path)) from exc
    return parse_lexicon(text, str(path))


def builtin_entries() -> list[Entry]:
    """The entries of the built-in lexicon files, in file order."""
    folder = resources.files("hallmark.screen").joinpath("lexicons")
    entries: list[Entry] = []
    for name in BUILTIN_FILES:
        entries.extend(parse_lexicon(folder.joinpath(name).read_text("utf-8"), name))
    return entries


@dataclass(slots=True, frozen=True)
class _Key:
    """What one automaton key stands for."""

    entry: int
    via: str
    left: bool
    """Needs a word boundary before the match."""
    right: bool
    """Needs a word boundary after it (a plural ending allowed)."""


@dataclass(slots=True, frozen=True)
class _Match:
    entry: Entry
    start: int
    end: int
    via: str


class LexiconIndex:
    """Entries compiled into two Aho-Corasick automatons: one over the normalized text, one over
    its Latin words run together, for pinyin spellings."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(dict.fromkeys(entries))
        text: dict[str, list[_Key]] = {}
        spelled: dict[str, list[_Key]] = {}
        for index, entry in enumerate(self.entries):
            key = " ".join(normalize(entry.term).text.split())
            if not any(unicodedata.category(char)[0] in "LNS" for char in key):
                raise LexiconFileError(
                    f"{entry.source}: the term {entry.term!r} has no letters to match",
                    file=entry.file,
                    line=entry.line,
                )
            for variant in _text_variants(key):
                left = is_word_char(variant[0]) and not entry.allows
                right = is_word_char(variant[-1]) and not entry.allows
                text.setdefault(variant, []).append(_Key(index, "text", left, right))
            if entry.allows or entry.severity > 1:
                full, initials = pinyin_keys(key, initials=entry.initials)
                if full is not None:
                    spelled.setdefault(full, []).append(_Key(index, "pinyin", True, True))
                if initials is not None:
                    spelled.setdefault(initials, []).append(_Key(index, "initials", True, True))
        self._text = _automaton(text)
        self._spelled = _automaton(spelled)
        self.longest_term = max((len(entry.term) for entry in self.entries), default=0)
        """Characters in the longest term or allow phrase, as written."""

    def __len__(self) -> int:
        return len(self.entries)

    def scan(self, normalized: Normalized) -> list[_Match]:
        """Every match in the normalized text, allow phrases included, in text coordinates."""
        text = normalized.text
        matches = []
        for start, end, key in _iter_keys(self._text, text):
            stop = _bounded(text, start, end, key)
            if stop:
                matches.append(_Match(self.entries[key.entry], start, stop, key.via))
        if self._spelled is not None:
            matches.extend(self._scan_spelled(text))
        return matches

    def _scan_spelled(self, text: str) -> list[_Match]:
        words = _LATIN_TOKEN.findall(text)
        if not words:
            return []
        joined = "".join(words)
        candidates = list(_iter_keys(self._spelled, joined))
        if not candidates:
            return []
        ends = list(accumulate(len(word) for word in words))
        starts = [0, *ends[:-1]]
        positions = [match.start() for match in _LATIN_TOKEN.finditer(text)]
        found = []
        for start, end, key in candidates:
            first, last = bisect_right(starts, start) - 1, bisect_right(starts, end - 1) - 1
            if starts[first] != start or ends[last] != end:
                continue
            text_start = positions[first]
            text_end = positions[last] + len(words[last])
            found.append(_Match(self.entries[key.entry], text_start, text_end, key.via))
        return found


def _text_variants(key: str) -> list[str]:
    """A Latin phrase also matches with its spaces removed ("self harm", "self-harm")."""
    if " " in key and not any(is_cjk(char) for char in key):
        return [key, key.replace(" ", "")]
    return [key]


def _automaton(keys: dict[str, list[_Key]]) -> Any:
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, values in keys.items():
        automaton.add_word(key, (len(key), tuple(values)))
    automaton.make_automaton()
    return automaton


def _iter_keys(automaton: Any, text: str) -> Iterable[tuple[int, int, _Key]]:
    if automaton is None or not text:
        return
    for last, (length, keys) in automaton.iter(text):
        for key in keys:
            yield last - length + 1, last + 1, key


def _bounded(text: str, start: int, end: int, key: _Key) -> int:
    """The match's end if its word boundaries hold (past a plural ending), else 0."""
    if key.left and start > 0 and is_word_char(text[start - 1]):
        return 0
    if not key.right or end == len(text) or not is_word_char(text[end]):
        return end
    for ending in _PLURALS:
        stop = end + len(ending)
        if text.startswith(ending, end) and (stop == len(text) or not is_word_char(text[stop])):
            return stop
    return 0


IndexSource = LexiconIndex | Callable[[], LexiconIndex]


class Lexicon(Screen):
    """The lexicon screen over one or more indexes (the built-in one, an operator's).

    An index may be given as a function that builds it: it is called on the first scan (or by
    ``prepare``), so a command that never screens does not pay for compiling the built-in
    lexicon.
    """

    name: ClassVar[str] = "lexicon"
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "document"})

    def __init__(self, indexes: Sequence[IndexSource]) -> None:
        self._sources = tuple(indexes)
        self._indexes: tuple[LexiconIndex, ...] | None = None
        self._lock = threading.Lock()

    @classmethod
    def builtin(cls) -> Lexicon:
        return cls([builtin_index])

    @classmethod
    def with_files(cls, paths: Iterable[Path]) -> Lexicon:
        """The built-in lexicon plus the entries and allow phrases of an operator's files,
        which are read and checked now."""
        extra = [entry for path in paths for entry in read_lexicon(path)]
        if not extra:
            return cls.builtin()
        return cls([builtin_index, LexiconIndex(extra)])

    @property
    def indexes(self) -> tuple[LexiconIndex, ...]:
        if self._indexes is None:
            with self._lock:
                if self._indexes is None:
                    self._indexes = tuple(
                        source if isinstance(source, LexiconIndex) else source()
                        for source in self._sources
                    )
        return self._indexes

    @property
    def longest_term(self) -> int:
        """Characters in the longest term or allow phrase of its indexes, as written: how far
        before the end of a text a term that ends there may start, and how far past a term the
        allow phrase that clears it may reach. A stream is screened with this much overlap
        (:mod:`hallmark.screen.stream`)."""
        return max((index.longest_term for index in self.indexes), default=0)

    def prepare(self) -> Lexicon:
        """Compile the indexes now rather than on the first scan."""
        _ = self.indexes
        return self

    def find(self, content: Content) -> list[Hit]:
        return self.find_text(text_of(content))

    def find_text(self, text: str) -> list[Hit]:
        """Hits with their spans in ``text``; hits that overlap an allowed phrase, or lie inside a
        longer hit of the same category, left out."""
        normalized = normalize(text)
        matches = [match for index in self.indexes for match in index.scan(normalized)]
        if not matches:
            return []
        allowed = _Spans(m for m in matches if m.entry.allows)
        allowed_in_text = _Spans(m for m in matches if m.entry.allows and m.via == "text")
        kept = [
            m
            for m in matches
            if not m.entry.allows
            and not (allowed if m.via != "text" else allowed_in_text).overlap(m.start, m.end)
        ]
        hits: dict[tuple[str, str, int, int], Hit] = {}
        for match in _outermost(kept):
            start, end = normalized.original_span(match.start, match.end)
            severity = match.entry.severity
            if match.via != "text":
                severity = max(severity - 1, 1)
            hit = Hit(
                match.entry.category,
                match.entry.term,
                self.name,
                severity,
                TextSpan(start, end),
                match.via,
            )
            hits.setdefault((hit.category, hit.term, start, end), hit)
        return sorted(hits.values(), key=_hit_order)


def _hit_order(hit: Hit) -> tuple[int, int, str]:
    span = hit.evidence
    assert isinstance(span, TextSpan)
    return span.start, span.end, hit.category


class _Spans:
    """Spans, queried for one that covers a given span."""

    def __init__(self, matches: Iterable[_Match]) -> None:
        spans = sorted((m.start, m.end) for m in matches)
        self._starts = [start for start, _ in spans]
        self._reach = list(accumulate((end for _, end in spans), max))

    def overlap(self, start: int, end: int) -> bool:
        index = bisect_left(self._starts, end) - 1
        return index >= 0 and self._reach[index] > start


def _outermost(matches: list[_Match]) -> list[_Match]:
    """Drop a match that lies inside a longer one of the same category (冰毒 in 冰毒制作)."""
    kept: list[_Match] = []
    by_category: dict[str, list[_Match]] = {}
    for match in matches:
        by_category.setdefault(match.entry.category, []).append(match)
    for group in by_category.values():
        group.sort(key=lambda m: (m.start, -m.end))
        reach_start, reach_end = -1, -1
        for match in group:
            inside = reach_end > match.end or (reach_end == match.end and reach_start < match.start)
            if not inside:
                kept.append(match)
            if match.end > reach_end:
                reach_start, reach_end = match.start, match.end
    return kept


_build_lock = threading.Lock()


@functools.cache
def _builtin_index() -> LexiconIndex:
    return LexiconIndex(builtin_entries())


def builtin_index() -> LexiconIndex:
    """The built-in lexicon, compiled once per process."""
    with _build_lock:
        return _builtin_index()


def register(components: Components) -> None:
    components.screens.register(
        Lexicon.name, Lexicon.with_files(components.settings.lexicon_paths())
    )
