"""The jurisdiction files shipped in the package."""

from __future__ import annotations

import pytest

from hallmark.policy import (
    IMPLICIT_SCHEMES,
    MEDIA,
    Jurisdiction,
    available_jurisdictions,
    load_jurisdiction,
)

BUILTIN = ["cn", "eu", "us-ca"]


def test_builtin_jurisdictions_are_cn_eu_and_us_ca() -> None:
    assert available_jurisdictions() == BUILTIN


@pytest.mark.parametrize("code", BUILTIN)
def test_each_builtin_jurisdiction_loads_with_its_code(code: str) -> None:
    jurisdiction = load_jurisdiction(code)

    assert isinstance(jurisdiction, Jurisdiction)
    assert jurisdiction.code == code
    assert jurisdiction.name


@pytest.mark.parametrize("code", BUILTIN)
def test_every_rule_cites_a_source_of_its_own_jurisdiction(code: str) -> None:
    jurisdiction = load_jurisdiction(code)
    rules = list(jurisdiction.rules())

    assert rules
    for name, rule in rules:
        assert rule.sources, f"{code}: {name} has no citation"
        for citation in rule.sources:
            assert citation.jurisdiction == code
            assert citation.ref.strip(), f"{code}: {name} has an empty ref"
    assert jurisdiction.wording_source.ref.strip()


@pytest.mark.parametrize("code", BUILTIN)
def test_every_builtin_lists_every_medium(code: str) -> None:
    assert set(load_jurisdiction(code).labels) == set(MEDIA)


@pytest.mark.parametrize("code", BUILTIN)
def test_label_wording_exists_in_chinese_and_english(code: str) -> None:
    jurisdiction = load_jurisdiction(code)

    assert jurisdiction.label_text("zh") == "AI生成"
    assert jurisdiction.label_text("en") == "AI-generated"


def test_cn_labels_text_explicitly_and_files_with_gb45438() -> None:
    cn = load_jurisdiction("cn")

    assert cn.required_labels("text").explicit
    assert cn.required_labels("text").implicit == ()
    assert cn.required_labels("document").implicit == ("gb45438",)
    for medium in ("image", "audio", "video"):
        rule = cn.required_labels(medium)
        assert rule.explicit
        assert rule.implicit == ("gb45438", "watermark")


def test_cn_platform_labels_follow_labeling_measures_article_6() -> None:
    cn = load_jurisdiction("cn")

    assert cn.platform_label("confirmed") == "AI生成"
    assert cn.platform_label("possible") == "可能为AI生成"
    assert cn.platform_label("suspected") == "疑似AI生成"
    assert cn.platform_label("suspected", "en") == "Suspected AI-generated"
    assert cn.platform_labels_source is not None
    assert "Art. 6" in cn.platform_labels_source.ref


def test_eu_marks_media_with_c2pa_and_leaves_inline_text_unlabelled() -> None:
    eu = load_jurisdiction("eu")

    assert eu.required_labels("text").explicit is False
    assert eu.required_labels("document").implicit == ("c2pa",)
    assert eu.required_labels("video").implicit == ("c2pa", "watermark")
    assert eu.chatbot_disclosure.required
    assert eu.complaints == {}


def test_us_ca_requires_latent_sb942_disclosure_for_media_only() -> None:
    us_ca = load_jurisdiction("us-ca")

    assert us_ca.required_labels("image").implicit == ("sb942", "c2pa")
    assert us_ca.required_labels("text").implicit == ()
    assert us_ca.complaints["ncii"].hours == 48
    assert us_ca.retention.min_days == 0


@pytest.mark.parametrize("code", BUILTIN)
def test_implicit_schemes_are_known_to_hallmark(code: str) -> None:
    for rule in load_jurisdiction(code).labels.values():
        assert set(rule.implicit) <= set(IMPLICIT_SCHEMES)


def test_jurisdiction_action_for_unlisted_category_is_allow() -> None:
    assert load_jurisdiction("eu").action_for("profanity") == "allow"
    assert load_jurisdiction("eu").action_for("no-such-category") == "allow"
