"""Text normalization for matching, with a map from the normalized text back to the original.

``normalize(text)`` folds away the tricks people use to slip a word past a filter, so that one
lexicon entry catches its variants, and keeps enough bookkeeping that a match in the normalized
text can be reported as a span of the original (``Normalized.original_span``). Lexicon terms go
through the same function, so a term and the text it should match always agree.

The steps, in order:

1. per character: NFKC (full and half width, ligatures, circled and mathematical letters),
   casefold, accents stripped from Latin, Greek and Cyrillic letters, traditional to simplified
   Chinese (OpenCC's character table), small-capital lookalikes to Latin, zero-width and other
   invisible characters removed;
2. Cyrillic and Greek lookalikes to Latin, inside words that mix them with Latin letters or
   consist of lookalikes only (a word of real Russian or Greek stays as it is);
3. runs of three or more single characters with separators between them joined ("s h i t",
   "f.u.c.k");
4. punctuation and symbols inside a Latin word removed ("sh.it", "self-harm" -> "selfharm");
5. leetspeak inside words that also have letters ("sh1t", "a$$"; "2024" stays a number);
6. separators between Chinese characters removed ("法@轮", "法 轮"), except the punctuation that
   ends a sentence or a clause;
7. runs of whitespace to one space.

Only steps that change the length of the text keep a record (an edit list); mapping a span back
walks the records from the last step to the first, so the cost is paid only for matches.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from importlib import resources

CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_CHAR = re.compile(f"[{CJK_RANGES}]")

# Invisible characters dropped by the fold: format characters (zero-width space and joiners,
# soft hyphen, BOM, bidi marks) are caught by their category; these others are not.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0")

# Lookalikes that are never real text in a Latin word: fold them unconditionally.
_SMALL_CAPITALS = dict(
    zip(
        "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢıɑɡ",
        "abcdefghijklmnoprstuvwyziag",
        strict=True,
    )
)

# Cyrillic and Greek letters (after casefold) that look like Latin ones.
_CONFUSABLES = dict(
    zip(
        "аеорсухѕіјԁһԛԝӏαειοργυχν",
        "aeopcyxsijdhqwlaeiopyuxv",
        strict=True,
    )
)

_CONFUSABLE = re.compile("[" + "".join(_CONFUSABLES) + "]")
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)

_LEET = str.maketrans("013457@$!|", "oieastasil")

# Separators people put between the characters of a word: ASCII punctuation and spaces,
# general punctuation, arrows, mathematical and other symbols, CJK symbols, emoji. The classes
# are spelled out rather than negated (``[^\w]``) because a positive class lets the regular
# expression engine skip ahead quickly over ordinary text.
_SYMBOLS = "\xa0-\xbf\u2000-\u2bff\u3000\u3003-\u303f\ufe30-\ufe4f\U0001f000-\U0001faff"
_SEPARATOR = r"\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e\t" + _SYMBOLS
_CJK_SEPARATOR_CLASS = r"\x20\x22-\x2b\x2d-\x2f\x40\x5b-\x60\x7b-\x7e\x3c-\x3e\t" + _SYMBOLS

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_GREEK_CYRILLIC = re.compile("[\u0370-\u03ff\u0400-\u052f]")
# Words that may hold lookalikes; ``_unconfuse`` decides. (A pattern that required a lookalike
# inside the word would backtrack quadratically over a long word without one.)
_LATIN_GREEK_CYRILLIC_WORD = re.compile("[a-z0-9\u0370-\u03ff\u0400-\u052f]+")
# A separator, then three or more single characters each followed by separators: the first
# separator belongs to the text before and is kept.
_SINGLE_RUN = re.compile(
    f"[{_SEPARATOR}](?:[a-z0-9][{_SEPARATOR}]{{1,3}}){{2,}}[a-z0-9](?![^\\W_])"
)
_RUN_SEPARATOR = re.compile(f"[{_SEPARATOR}]+")
_IN_WORD_PUNCT = re.compile(r"""['"#%&()*+,\-./:;<=>?\[\\\]^_`{}~]{1,3}(?=[a-z0-9])""")
_LEET_HINT = re.compile(r"[013457@$!|](?:(?=[a-z])|(?<=[a-z][013457@$!|]))")
_LEET_CHAR = r"(?:[013457@$]|[!|](?=[a-z0-9@$]))"
_WORD_CHAR = r"(?:[a-z0-9@$]|[!|](?=[a-z0-9@$]))"
_LEET_WORD = re.compile(
    rf"(?<![a-z0-9@$!|])(?=(?:{_WORD_CHAR})*?[a-z])(?=(?:{_WORD_CHAR})*?{_LEET_CHAR})(?:{_WORD_CHAR})+"
)
# Between Chinese characters; the clause and sentence punctuation (。、,;:?!) is not in the class.
_CJK_SEPARATOR = re.compile(f"[{_CJK_SEPARATOR_CLASS}]{{1,4}}(?=[{CJK_RANGES}])")
_SPACES = re.compile(r"\s{2,}|[\t\n\r\f\v]")
_SPACE_HINTS = ("  ", "\n", "\t", "\r", "\f", "\v")

Edit = tuple[int, int, int]
"""``(start, end, replacement_length)`` in the coordinates of the step's input."""


def is_cjk(char: str) -> bool:
    return _CJK_CHAR.match(char) is not None


def has_cjk(text: str) -> bool:
    """Whether the text has a Chinese character anywhere."""
    return _CJK_CHAR.search(text) is not None


def is_word_char(char: str) -> bool:
    """A letter or digit of a space-separated script: what a word boundary looks at."""
    return char.isalnum() and not is_cjk(char)


class _FoldTable(dict[int, str]):
    """The per-character fold, computed once for each character met and kept.

    ``str.translate`` looks every character up here; ``__missing__`` fills the table. The
    characters whose fold is not exactly one character long are the ones that move offsets.
    """

    def __init__(self, simplified: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._simplified = simplified
        self.resized: set[str] = set()
        self._resized_pattern: tuple[int, re.Pattern[str] | None] = (0, None)
        self._lock = threading.Lock()

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = _fold_char(char, self._simplified())
        if len(folded) != 1:
            with self._lock:
                self.resized.add(char)
        self[code] = folded
        return folded

    def resized_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            count, pattern = self._resized_pattern
            if count != len(self.resized):
                chars = "".join(re.escape(char) for char in sorted(self.resized))
                pattern = re.compile(f"[{chars}]") if chars else None
                self._resized_pattern = (len(self.resized), pattern)
            return pattern


def _fold_char(char: str, simplified: dict[str, str]) -> str:
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf") or char in _INVISIBLE:
        return ""
    if category in ("Zl", "Zp"):
        return "\n"
    text = unicodedata.normalize("NFKC", char).casefold()
    out = []
    for piece in text:
        if piece <= "\u052f" or "\u1e00" <= piece <= "\u1fff":
            # Strip accents from Latin, Greek and Cyrillic; Hangul and others keep their form.
            piece = "".join(
                c for c in unicodedata.normalize("NFD", piece) if not unicodedata.combining(c)
            )
            piece = unicodedata.normalize("NFC", piece)
        piece = simplified.get(piece, piece)
        out.append(_SMALL_CAPITALS.get(piece, piece))
    return "".join(out)


_simplified_table: dict[str, str] | None = None
_simplified_lock = threading.Lock()


def _simplified() -> dict[str, str]:
    """OpenCC's traditional-to-simplified character table (first candidate of each)."""
    global _simplified_table
    if _simplified_table is None:
        with _simplified_lock:
            if _simplified_table is None:
                source = resources.files("opencc_purepy").joinpath("dicts/TSCharacters.txt")
                table: dict[str, str] = {}
                for line in source.read_text("utf-8").splitlines():
                    traditional, _, candidates = line.partition("\t")
                    first = candidates.split(" ", 1)[0]
                    if len(traditional) == 1 and len(first) == 1 and traditional != first:
                        table[traditional] = first
                _simplified_table = table
    return _simplified_table


_FOLD = _FoldTable(_simplified)


class Normalized:
    """A normalized text and the edits that lead back to the original."""

    __slots__ = ("_index", "_steps", "original", "text")

    def __init__(self, original: str, text: str, steps: list[list[Edit]]) -> None:
        self.original = original
        self.text = text
        self._steps = steps
        self._index: list[_EditIndex] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that normalized ``text[start:end]`` came from."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span {start}:{end} is not inside the normalized text")
        if self._index is None:
            fold = _fold_edits(self.original)
            self._index = [_EditIndex(edits) for edits in (fold, *self._steps) if edits]
        first, last = start, end - 1
        for edits in reversed(self._index):
            first = _map_char(edits, first)[0]
            last = _map_char(edits, last)[1] - 1
        return first, last + 1


class _EditIndex:
    __slots__ = ("in_ends", "in_starts", "out_ends", "out_starts")

    def __init__(self, edits: list[Edit]) -> None:
        self.in_starts: list[int] = []
        self.in_ends: list[int] = []
        self.out_starts: list[int] = []
        self.out_ends: list[int] = []
        shift = 0
        for start, end, length in edits:
            self.in_starts.append(start)
            self.in_ends.append(end)
            self.out_starts.append(start + shift)
            self.out_ends.append(start + shift + length)
            shift += length - (end - start)


def _map_char(edits: _EditIndex, position: int) -> tuple[int, int]:
    """The input span that output character ``position`` of one step came from."""
    index = bisect_right(edits.out_starts, position) - 1
    if index < 0:
        return position, position + 1
    if position < edits.out_ends[index]:
        return edits.in_starts[index], edits.in_ends[index]
    start = edits.in_ends[index] + position - edits.out_ends[index]
    return start, start + 1


def _fold_edits(original: str) -> list[Edit]:
    if _FOLD.resized.isdisjoint(original):
        return []
    pattern = _FOLD.resized_pattern()
    if pattern is None:
        return []
    return [
        (match.start(), match.end(), len(_FOLD[ord(match.group())]))
        for match in pattern.finditer(original)
    ]


def _substitute(
    pattern: re.Pattern[str],
    text: str,
    replace: Callable[[str, int, str], str],
    *,
    keep_first: bool = False,
) -> tuple[str, list[Edit]]:
    """``pattern.sub`` that records an edit for every replacement of another length.

    ``replace(found, start, text)`` gets the match, where it starts and the whole input. With
    ``keep_first`` the match's first character is context: it is kept and left out of the edit.
    """
    edits: list[Edit] = []
    skip = 1 if keep_first else 0

    def record(match: re.Match[str]) -> str:
        found = match.group()
        replacement = replace(found[skip:], match.start() + skip, text)
        if len(replacement) != len(found) - skip:
            edits.append((match.start() + skip, match.end(), len(replacement)))
        return found[:skip] + replacement

    return pattern.sub(record, text), edits


def _unconfuse(word: str) -> str:
    if _CONFUSABLE.search(word) is None:
        return word
    letters = [c for c in word if c.isalpha()]
    mixed = any("a" <= c <= "z" for c in letters)
    if mixed or all(c in _CONFUSABLES for c in letters):
        return word.translate(_CONFUSABLE_TABLE)
    return word


def _join_run(run: str, _start: int, _text: str) -> str:
    return _RUN_SEPARATOR.sub("", run)


def _inside_word(found: str, start: int, text: str) -> str:
    return "" if start and _is_latin_alnum(text[start - 1]) else found


def _between_cjk(found: str, start: int, text: str) -> str:
    return "" if start and is_cjk(text[start - 1]) else found


def _one_space(_found: str, _start: int, _text: str) -> str:
    return " "


def normalize(text: str) -> Normalized:
    """Fold ``text`` for matching; see the module docstring for the steps."""
    if not isinstance(text, str):
        raise TypeError(f"normalize() takes a str, not {type(text).__name__}")
    # bytes.lower() lower-cases ASCII letters only; the fold table does the rest. Lone
    # surrogates (which JSON allows) pass through untouched.
    folded = text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")
    ascii_only = text.isascii()
    if not ascii_only:
        folded = _NON_ASCII.sub(lambda m: m.group().translate(_FOLD), folded)
    steps: list[list[Edit]] = []
    if not ascii_only and _GREEK_CYRILLIC.search(folded):
        folded = _LATIN_GREEK_CYRILLIC_WORD.sub(lambda m: _unconfuse(m.group()), folded)

    # A leading space lets a run at the very start have the separator the pattern looks for.
    joined, edits = _substitute(_SINGLE_RUN, " " + folded, _join_run, keep_first=True)
    folded = joined[1:]
    steps.append([(start - 1, end - 1, length) for start, end, length in edits])
    folded, edits = _substitute(_IN_WORD_PUNCT, folded, _inside_word)
    steps.append(edits)
    if _LEET_HINT.search(folded):
        folded = _LEET_WORD.sub(lambda m: m.group().translate(_LEET), folded)
    if not ascii_only and _CJK_CHAR.search(folded):
        folded, edits = _substitute(_CJK_SEPARATOR, folded, _between_cjk)
        steps.append(edits)
    if any(hint in folded for hint in _SPACE_HINTS):
        folded, edits = _substitute(_SPACES, folded, _one_space)
        steps.append(edits)
    return Normalized(text, folded, [step for step in steps if step])


def _is_latin_alnum(char: str) -> bool:
    return "a" <= char <= "z" or "0" <= char <= "9"
