"""Pinyin spellings of Chinese lexicon terms, so that "falungong" and "flg" find 法轮功.

Pinyin without tones is ambiguous (死妈 and 司马 are both "sima"), so only short terms get it:
full pinyin for terms of 2 to 5 characters. Initials are far more ambiguous: generated for
every term they collide with abbreviations ("dll", "spl", "cnn"), so a term gets them only
when its lexicon line asks (``initials`` in the fourth column). The lexicon matches both
against whole Latin words only and counts such a match one severity level lower than the term.
"""

from __future__ import annotations

import re
import threading
from typing import Any

PINYIN_CHARACTERS = range(2, 6)
_ALL_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
_LETTERS = re.compile("[a-z]+")

_lazy_pinyin: Any = None
_lock = threading.Lock()


def _syllables(term: str) -> list[str]:
    # pypinyin takes most of a second to import its dictionaries: only when a lexicon has
    # Chinese terms to spell.
    global _lazy_pinyin
    if _lazy_pinyin is None:
        with _lock:
            if _lazy_pinyin is None:
                from pypinyin import lazy_pinyin

                _lazy_pinyin = lazy_pinyin
    syllables: list[str] = _lazy_pinyin(term, errors="ignore")
    return syllables


def pinyin_keys(term: str, *, initials: bool = False) -> tuple[str | None, str | None]:
    """``(full pinyin, initials)`` of a normalized Chinese term; ``None`` where it gets none
    (initials only when asked for)."""
    if not _ALL_CJK.fullmatch(term) or len(term) not in PINYIN_CHARACTERS:
        return None, None
    syllables = _syllables(term)
    if len(syllables) != len(term) or not all(_LETTERS.fullmatch(s) for s in syllables):
        return None, None
    full = "".join(syllables)
    return full, "".join(s[0] for s in syllables) if initials else None
