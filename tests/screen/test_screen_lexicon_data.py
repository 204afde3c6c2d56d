"""The built-in lexicon: at least 10,000 entries, every category covered in both languages,
and PROVENANCE.md in step with the files."""

from __future__ import annotations

import re
from collections import Counter
from importlib import resources

import pytest

from hallmark.screen.lexicon import BUILTIN_FILES, Entry, builtin_entries, parse_lexicon
from hallmark.screen.taxonomy import APPENDIX_A, CATEGORIES, CATEGORY_IDS

FOLDER = resources.files("hallmark.screen").joinpath("lexicons")


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return builtin_entries()


def distinct(entries: list[Entry]) -> dict[tuple[str, str], Entry]:
    return {(e.term, e.category): e for e in entries if not e.allows}


def test_the_builtin_lexicon_has_at_least_10000_distinct_entries(entries: list[Entry]) -> None:
    assert len(distinct(entries)) >= 10_000


def test_every_category_has_entries_in_both_languages(entries: list[Entry]) -> None:
    languages = Counter((e.category, e.language) for e in distinct(entries).values())

    for category in CATEGORY_IDS:
        assert languages[(category, "zh")] > 0, f"{category} has no Chinese entry"
        assert languages[(category, "en")] > 0, f"{category} has no English entry"


def test_every_appendix_a_risk_type_has_entries_of_its_own(entries: list[Entry]) -> None:
    categories = {e.category for e in entries}

    assert {c.id for c in APPENDIX_A} <= categories


@pytest.mark.parametrize("name", BUILTIN_FILES)
def test_no_file_lists_an_entry_twice(name: str) -> None:
    file_entries = parse_lexicon(FOLDER.joinpath(name).read_text("utf-8"), name)
    counts = Counter((e.term, e.category) for e in file_entries)

    assert [key for key, count in counts.items() if count > 1] == []


def test_ldnoobw_files_carry_their_attribution() -> None:
    for name in ("ldnoobw-en.txt", "ldnoobw-zh.txt"):
        header = FOLDER.joinpath(name).read_text("utf-8")[:1200]
        assert "CC BY 4.0" in header and "5faf2ba42d7b1c0977169ec3611df25a3c08eb13" in header
        assert "Changes:" in header


def test_provenance_counts_match_the_files(entries: list[Entry]) -> None:
    text = FOLDER.joinpath("PROVENANCE.md").read_text("utf-8")
    per = Counter((e.category, e.language) for e in distinct(entries).values())

    for category in CATEGORIES:
        zh, en = per[(category.id, "zh")], per[(category.id, "en")]
        row = f"| `{category.id}` | {zh:,} | {en:,} | {zh + en:,} |"
        assert row in text, f"PROVENANCE.md should have: {row}"
    total = len(distinct(entries))
    assert re.search(rf"\| \*\*all\*\* \| [\d,]+ \| [\d,]+ \| {total:,} \|", text)
