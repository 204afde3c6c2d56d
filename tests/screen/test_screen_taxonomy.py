"""The taxonomy: TC260-003 Appendix A's 31 risk types, then the EU/US and finer categories."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from hallmark.policy import SCREEN_CATEGORIES, available_jurisdictions, load_jurisdiction
from hallmark.screen.taxonomy import (
    APPENDIX_A,
    CATEGORIES,
    CATEGORY_IDS,
    GROUPS,
    appendix_a_type,
    category,
)


def test_appendix_a_has_31_risk_types_in_five_groups() -> None:
    per_group = Counter(group.code for c in APPENDIX_A for group in GROUPS if group.id == c.group)

    assert len(APPENDIX_A) == 31
    assert per_group == {"A.1": 8, "A.2": 9, "A.3": 5, "A.4": 7, "A.5": 2}


def test_appendix_a_codes_run_in_order_within_each_group() -> None:
    for group in GROUPS:
        codes = [c.code for c in APPENDIX_A if c.group == group.id]
        letters = "abcdefghi"[: len(codes)]
        assert codes == [f"{group.code} {letter})" for letter in letters]


def test_ids_are_unique_snake_case_and_named_in_both_languages() -> None:
    assert len(set(CATEGORY_IDS)) == len(CATEGORY_IDS)
    for c in CATEGORIES:
        assert re.fullmatch(r"[a-z][a-z_]*[a-z]", c.id), c.id
        assert c.zh and c.en
        assert re.search("[\u4e00-\u9fff]", c.zh), c.id


def test_every_other_category_counts_as_an_appendix_a_type_or_none() -> None:
    appendix_ids = {c.id for c in APPENDIX_A}
    extra = [c for c in CATEGORIES if not c.in_appendix_a]

    assert {"sexual_minors", "ncii", "self_harm", "hate", "terrorism"} <= set(CATEGORY_IDS)
    for c in extra:
        assert c.tc260 is None or c.tc260 in appendix_ids, c.id
    assert appendix_a_type("ncii") == category("portrait_rights")
    assert appendix_a_type("privacy") == category("privacy")
    assert appendix_a_type("profanity") is None


def test_unknown_category_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: subversion"):
        category("rudeness")


def test_policy_screening_categories_are_the_taxonomy() -> None:
    assert SCREEN_CATEGORIES == CATEGORY_IDS


@pytest.mark.parametrize("code", available_jurisdictions())
def test_every_builtin_jurisdiction_maps_every_category(code: str) -> None:
    jurisdiction = load_jurisdiction(code)

    assert list(jurisdiction.screening) == list(CATEGORY_IDS)


@pytest.mark.parametrize("code", available_jurisdictions())
def test_choices_no_text_makes_say_so_in_their_source(code: str) -> None:
    jurisdiction = load_jurisdiction(code)

    for name, rule in jurisdiction.screening.items():
        refs = " ".join(citation.ref for citation in rule.sources)
        if code != "cn":
            # Outside China no text makes a generator screen most categories.
            statutory = ("sexual_minors", "ncii", "terrorism")
            assert name in statutory or "hallmark's choice" in refs, f"{code}: {name}"
        if code == "cn" and rule.action == "flag":
            assert "hallmark's choice" in refs, name


def test_cn_cites_appendix_a_for_every_appendix_a_type() -> None:
    cn = load_jurisdiction("cn")

    for c in APPENDIX_A:
        refs = " ".join(citation.ref for citation in cn.screening[c.id].sources)
        assert f"TC260-003 Appendix {c.code}" in refs, c.id
        assert "Interim Measures Art. 4" in refs, c.id


def test_compliance_doc_lists_every_category() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "compliance.md").read_text("utf-8")

    for c in CATEGORIES:
        second = c.code if c.in_appendix_a else (f"`{c.tc260}`" if c.tc260 else "none")
        row = f"| `{c.id}` | {second} | {c.zh} | {c.en} |"
        assert row in doc, f"docs/compliance.md should have: {row}"
