"""Combining jurisdictions takes the strictest rule of each kind and keeps its sources."""

from __future__ import annotations

from typing import Any

import pytest

from hallmark.errors import UserError
from hallmark.policy import (
    Citation,
    Jurisdiction,
    combine,
    load_jurisdiction,
    resolve_policy,
)


def jurisdiction(code: str, **fields: Any) -> Jurisdiction:
    """A small valid jurisdiction whose every rule cites ``"<code> ref"``."""
    cite = ({"jurisdiction": code, "ref": f"{code} ref"},)
    data: dict[str, Any] = {
        "code": code,
        "name": code.upper(),
        "language": "en",
        "wording": {"en": f"{code} label"},
        "wording_source": cite[0],
        "labels": {},
        "screening": {},
        "retention": {"min_days": 0, "sources": cite},
        "complaints": {},
        "minors": {"required": False, "sources": cite},
        "chatbot_disclosure": {"required": False, "sources": cite},
    }
    data.update(fields)
    return Jurisdiction.model_validate(data)


def cited(code: str, **rule: Any) -> dict[str, Any]:
    return {**rule, "sources": [{"jurisdiction": code, "ref": f"{code} ref"}]}


def test_block_beats_flag_and_flag_beats_allow() -> None:
    a = jurisdiction(
        "a", screening={"hate": cited("a", action="flag"), "sexual": cited("a", action="allow")}
    )
    b = jurisdiction(
        "b", screening={"hate": cited("b", action="block"), "sexual": cited("b", action="flag")}
    )

    policy = combine([a, b])

    assert policy.action_for("hate") == "block"
    assert policy.action_for("sexual") == "flag"
    assert policy.action_for("privacy") == "allow"


def test_screening_keeps_only_the_sources_of_the_winning_action() -> None:
    a = jurisdiction("a", screening={"hate": cited("a", action="block")})
    b = jurisdiction("b", screening={"hate": cited("b", action="flag")})
    c = jurisdiction("c", screening={"hate": cited("c", action="block")})

    sources = combine([a, b, c]).screening["hate"].sources

    assert sources == (
        Citation(jurisdiction="a", ref="a ref"),
        Citation(jurisdiction="c", ref="c ref"),
    )


def test_retention_takes_the_longest_minimum() -> None:
    a = jurisdiction("a", retention=cited("a", min_days=30))
    b = jurisdiction("b", retention=cited("b", min_days=184))

    retention = combine([a, b]).retention

    assert retention.min_days == 184
    assert [c.jurisdiction for c in retention.sources] == ["b"]


def test_complaint_deadline_takes_the_fewest_hours_per_category() -> None:
    a = jurisdiction(
        "a", complaints={"ncii": cited("a", hours=48), "general": cited("a", hours=72)}
    )
    b = jurisdiction("b", complaints={"ncii": cited("b", hours=24)})

    policy = combine([a, b])

    assert policy.complaints["ncii"].hours == 24
    assert policy.complaints["general"].hours == 72
    assert [c.jurisdiction for c in policy.complaints["ncii"].sources] == ["b"]


def test_complaint_deadline_for_a_category_falls_back_to_a_shorter_general_one() -> None:
    policy = resolve_policy("cn,us-ca")
    ncii, hate = policy.complaint_deadline("ncii"), policy.complaint_deadline("hate")

    assert ncii is not None and ncii.hours == 48
    assert hate is not None and hate.hours == 72
    assert resolve_policy("eu").complaint_deadline("hate") is None


def test_minors_mode_is_required_when_any_jurisdiction_requires_it() -> None:
    a = jurisdiction("a", minors=cited("a", required=False))
    b = jurisdiction("b", minors=cited("b", required=True, daily_minutes=90))
    c = jurisdiction(
        "c", minors=cited("c", required=True, daily_minutes=60, stricter_screening=True)
    )

    minors = combine([a, b, c]).minors

    assert minors.required
    assert minors.daily_minutes == 60
    assert minors.stricter_screening
    assert [s.jurisdiction for s in minors.sources] == ["b", "c"]


def test_rules_nobody_requires_keep_every_source() -> None:
    a = jurisdiction("a")
    b = jurisdiction("b")

    policy = combine([a, b])

    assert not policy.minors.required
    assert [s.jurisdiction for s in policy.minors.sources] == ["a", "b"]


def test_labels_take_any_explicit_and_the_ordered_union_of_implicit_schemes() -> None:
    a = jurisdiction(
        "a", labels={"image": cited("a", explicit=False, implicit=["c2pa", "watermark"])}
    )
    b = jurisdiction("b", labels={"image": cited("b", explicit=True, implicit=["gb45438", "c2pa"])})

    image = combine([a, b]).required_labels("image")

    assert image.explicit
    assert image.implicit == ("c2pa", "watermark", "gb45438")
    assert [s.jurisdiction for s in image.sources] == ["a", "b"]


def test_labels_cite_only_the_jurisdictions_that_ask_for_something() -> None:
    policy = resolve_policy("eu,us-ca")

    text = policy.required_labels("document")

    assert text.implicit == ("c2pa",)
    assert {s.jurisdiction for s in text.sources} == {"eu"}


def test_required_labels_for_an_unlisted_medium_is_no_label() -> None:
    policy = combine([jurisdiction("a")])

    rule = policy.required_labels("audio")

    assert rule.explicit is False
    assert rule.implicit == ()


def test_language_is_chinese_when_cn_is_among_the_jurisdictions() -> None:
    assert resolve_policy("eu,cn").language == "zh"
    assert resolve_policy("eu,us-ca").language == "en"


def test_label_text_defaults_to_the_policy_language_and_falls_back_to_english() -> None:
    policy = resolve_policy("eu,cn")

    assert policy.label_text() == "AI生成"
    assert policy.label_text("en") == "AI-generated"
    assert policy.label_text("fr") == "AI-generated"


def test_wording_comes_from_the_first_jurisdiction_listed_per_language() -> None:
    a = jurisdiction("a", wording={"en": "first", "zh": "甲"})
    b = jurisdiction("b", wording={"en": "second", "fr": "deuxième"})

    policy = combine([a, b])

    assert policy.wording == {"en": "first", "zh": "甲", "fr": "deuxième"}
    assert [s.jurisdiction for s in policy.wording_sources] == ["a", "b"]


def test_chatbot_disclosure_is_required_when_any_jurisdiction_requires_it() -> None:
    policy = resolve_policy("cn,eu")

    assert policy.chatbot_disclosure.required
    assert [s.jurisdiction for s in policy.chatbot_disclosure.sources] == ["eu"]
    assert policy.disclosure_text() == "您正在与人工智能对话"


def test_jurisdictions_keep_input_order_without_duplicates() -> None:
    cn, eu = load_jurisdiction("cn"), load_jurisdiction("eu")

    assert combine([eu, cn, eu]).jurisdictions == ("eu", "cn")


def test_combining_nothing_is_a_user_error() -> None:
    with pytest.raises(UserError):
        combine([])


def test_all_three_builtins_combine_to_the_strictest_rules() -> None:
    policy = resolve_policy(["cn", "eu", "us-ca"])

    assert policy.jurisdictions == ("cn", "eu", "us-ca")
    assert policy.action_for("hate") == "block"
    assert policy.action_for("self_harm") == "block"
    assert policy.action_for("profanity") == "flag"
    assert policy.action_for("gambling") == "block"
    assert policy.retention.min_days == 184
    assert policy.complaints["ncii"].hours == 48
    assert policy.minors.required
    assert policy.required_labels("video").implicit == ("gb45438", "watermark", "c2pa", "sb942")
    assert {s.jurisdiction for s in policy.required_labels("video").sources} == {
        "cn",
        "eu",
        "us-ca",
    }


def test_combine_does_not_change_its_inputs() -> None:
    cn = load_jurisdiction("cn")
    before = cn.model_dump()

    combine([cn, load_jurisdiction("eu")])

    assert cn.model_dump() == before


def test_refusal_comes_from_the_first_jurisdiction_listed_per_language() -> None:
    a = jurisdiction(
        "a", refusal={"en": "No.", "zh": "不行。"}, refusal_source={"jurisdiction": "a", "ref": "r"}
    )
    b = jurisdiction(
        "b", refusal={"en": "Nope.", "fr": "Non."}, refusal_source={"jurisdiction": "b", "ref": "r"}
    )

    policy = combine([a, b])

    assert policy.refusal == {"en": "No.", "zh": "不行。", "fr": "Non."}
    assert [c.jurisdiction for c in policy.refusal_sources] == ["a", "b"]
    assert policy.refusal_text("fr") == "Non."
    assert policy.refusal_text("de") == "No."


def test_without_a_worded_refusal_the_policy_refuses_in_hallmarks_words() -> None:
    policy = combine([jurisdiction("a")])

    assert policy.refusal == {}
    assert policy.refusal_text("en") == "Sorry, I can't help with this request."
    assert policy.refusal_text("zh") == "抱歉，无法协助处理此请求。"
