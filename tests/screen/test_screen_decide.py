"""Decisions: per-jurisdiction actions from the policy, the severity rule, minors mode, the
refusal in the user's language, and the decision's record."""

from __future__ import annotations

import json

import pytest

from hallmark.content import Content
from hallmark.policy import resolve_policy
from hallmark.screen.base import Hit, ImageBox, TextSpan, TimeSpan, decide, screen_content
from hallmark.screen.lexicon import Lexicon


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.builtin().prepare()


@pytest.mark.parametrize(
    ("text", "cn", "eu", "us_ca"),
    [
        ("我想加入法轮功", "block", "allow", "allow"),  # cult: banned in the PRC only
        ("支持台湾独立建国", "block", "allow", "allow"),  # separatism
        ("buy meth online", "block", "flag", "flag"),  # drugs
        ("how to make a pipe bomb", "block", "block", "block"),  # terrorism
        ("child porn", "block", "block", "block"),  # sexual_minors
        ("推荐网赌平台", "block", "allow", "allow"),  # gambling
        ("write fake reviews for my product", "block", "flag", "flag"),  # unfair competition
        ("fuck off", "flag", "allow", "allow"),  # profanity
        ("hardcore porn", "block", "flag", "allow"),  # sexual
        ("女人都是拜金女", "flag", "flag", "flag"),  # gender discrimination
        ("Have a lovely day!", "allow", "allow", "allow"),
    ],
)
def test_each_jurisdiction_acts_by_its_own_policy(
    lexicon: Lexicon, text: str, cn: str, eu: str, us_ca: str
) -> None:
    hits = lexicon.find_text(text)

    actions = {code: decide(hits, resolve_policy(code)).action for code in ("cn", "eu", "us-ca")}

    assert actions == {"cn": cn, "eu": eu, "us-ca": us_ca}
    assert decide(hits, resolve_policy("cn,eu,us-ca")).action == cn


def test_a_topic_hit_is_flagged_where_its_category_is_blocked(lexicon: Lexicon) -> None:
    hits = lexicon.find_text("冰毒")
    assert [(hit.category, hit.severity) for hit in hits] == [("drugs", 1)]

    decision = decide(hits, resolve_policy("cn"))

    assert resolve_policy("cn").action_for("drugs") == "block"
    assert decision.action == "flag"
    assert decision.hit_actions == ("flag",)


def test_minors_mode_blocks_what_would_be_flagged(lexicon: Lexicon) -> None:
    hits = lexicon.find_text("冰毒")
    policy = resolve_policy("cn")

    assert decide(hits, policy, minor=True).action == "block"
    assert decide(hits, resolve_policy("eu"), minor=True).action == "flag"


def test_a_blocked_decision_carries_the_refusal_in_the_users_language(lexicon: Lexicon) -> None:
    hits = lexicon.find_text("how to make a bomb")
    policy = resolve_policy("cn,eu")

    chinese = decide(hits, policy)
    english = decide(hits, policy, language="en")

    assert chinese.refusal == policy.refusal_text("zh")
    assert english.refusal == policy.refusal_text("en") != chinese.refusal
    assert decide(hits, policy, language="fr").refusal == policy.refusal_text("en")
    assert decide(lexicon.find_text("fuck off"), policy).refusal == ""


def test_the_decision_record_keeps_the_old_keys_and_adds_the_evidence(lexicon: Lexicon) -> None:
    text = "Please, HOW TO MAKE A BOMB?"
    decision = screen_content([lexicon], Content.from_text(text), resolve_policy("us-ca"))

    record = decision.to_dict()

    assert json.loads(json.dumps(record, ensure_ascii=False)) == record
    assert record["action"] == "block"
    assert record["categories"] == ["terrorism"]
    assert record["reasons"] == ["lexicon: terrorism (block)"]
    assert record["refusal"] == resolve_policy("us-ca").refusal_text("en")
    (evidence,) = record["evidence"]
    assert evidence == {
        "category": "terrorism",
        "term": "how to make a bomb",
        "screen": "lexicon",
        "severity": 3,
        "via": "text",
        "evidence": {"kind": "text", "start": 8, "end": 26},
        "action": "block",
    }
    assert text[8:26] == "HOW TO MAKE A BOMB"


def test_screens_only_see_the_media_they_screen(lexicon: Lexicon) -> None:
    image = Content("image", "image/png", b"how to make a bomb")

    assert screen_content([lexicon], image, resolve_policy("cn")).action == "allow"


def test_evidence_of_other_media_serializes_too() -> None:
    hits = [
        Hit("sexual", "nudity", "vision", 2, ImageBox(10, 20, 30, 40)),
        Hit("violence", "gunshot", "audio", 2, TimeSpan(1.5, 2.0)),
    ]

    record = decide(hits, resolve_policy("eu")).to_dict()

    assert [item["evidence"] for item in record["evidence"]] == [
        {"kind": "image", "x": 10, "y": 20, "width": 30, "height": 40},
        {"kind": "time", "start_s": 1.5, "end_s": 2.0},
    ]
    assert TextSpan(0, 1).to_dict() == {"kind": "text", "start": 0, "end": 1}
