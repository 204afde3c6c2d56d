"""The lexicon screen: terms per category, in English and Chinese.

English terms match whole words case-insensitively; Chinese has no spaces between words, so
its terms match as substrings (segmentation comes with the full screening issue).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.errors import PolicyFileError
from hallmark.registry import Components
from hallmark.screen.base import Hit, Screen

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def parse_lexicon(text: str, source: str = "lexicon") -> list[tuple[str, str]]:
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        category, sep, term = line.partition("\t")
        if not sep or not category.strip() or not term.strip():
            raise PolicyFileError(f"{source}:{number}: expected 'category<TAB>term'")
        entries.append((category.strip(), term.strip()))
    return entries


class Lexicon(Screen):
    name: ClassVar[str] = "lexicon"
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "document"})

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self._substring: list[tuple[str, str]] = []
        word_patterns: list[str] = []
        self._word_categories: dict[str, tuple[str, str]] = {}
        for category, term in entries:
            if _CJK.search(term):
                self._substring.append((category, term))
            else:
                key = term.casefold()
                self._word_categories[key] = (category, term)
                word_patterns.append(r"\s+".join(re.escape(part) for part in key.split()))
        # One alternation, longest first, so the scan is a single pass over the text.
        word_patterns.sort(key=len, reverse=True)
        self._words = (
            re.compile(r"(?<!\w)(?:" + "|".join(word_patterns) + r")(?!\w)", re.IGNORECASE)
            if word_patterns
            else None
        )

    @classmethod
    def builtin(cls) -> Lexicon:
        text = (
            resources.files("hallmark.screen").joinpath("lexicons/builtin.txt").read_text("utf-8")
        )
        return cls(parse_lexicon(text, "builtin.txt"))

    @classmethod
    def from_file(cls, path: Path) -> Lexicon:
        return cls(parse_lexicon(path.read_text("utf-8"), str(path)))

    def find(self, content: Content) -> list[Hit]:
        text = content.text
        hits: dict[tuple[str, str], Hit] = {}
        if self._words is not None:
            for match in self._words.finditer(text):
                key = " ".join(match.group(0).casefold().split())
                category, term = self._word_categories[key]
                hits.setdefault((category, term), Hit(category, term, self.name))
        for category, term in self._substring:
            if term in text:
                hits.setdefault((category, term), Hit(category, term, self.name))
        return list(hits.values())


def register(components: Components) -> None:
    components.screens.register(Lexicon.name, Lexicon.builtin())
