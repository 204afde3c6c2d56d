"""The policy as JSON data and as a table of rules with their sources."""

from __future__ import annotations

import json

from hallmark.policy import policy_as_dict, render_rules, resolve_policy


def test_policy_as_dict_is_json_ready_with_jurisdictions_first() -> None:
    data = policy_as_dict(resolve_policy("cn,eu"))

    assert list(data)[:2] == ["jurisdictions", "language"]
    assert data["jurisdictions"] == ["cn", "eu"]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["labels"]["image"]["sources"][0] == {
        "jurisdiction": "cn",
        "ref": data["labels"]["image"]["sources"][0]["ref"],
    }


def test_render_rules_gives_one_row_per_rule_with_sources_by_jurisdiction() -> None:
    policy = resolve_policy("cn,us-ca")

    rows = {rule: (value, sources) for rule, value, sources in render_rules(policy)}

    assert rows["screening.ncii"][0] == "block"
    assert rows["screening.ncii"][1].startswith("cn: Interim Measures Art. 4")
    assert "; us-ca: TAKE IT DOWN Act" in rows["screening.ncii"][1]
    assert rows["complaints.ncii"] == (
        "within 48 hours",
        "us-ca: TAKE IT DOWN Act (2025) (remove non-consensual intimate images within 48 hours"
        " of a valid request)",
    )
    assert rows["retention"][0] == "at least 184 days"
    assert rows["minors"][0] == "required; 60 min/day; stricter screening"
    assert rows["labels.image"][0] == "explicit; implicit: gb45438, watermark, sb942, c2pa"
    assert rows["wording"][0] == "zh: AI生成; en: AI-generated"
    assert "platform_labels.suspected" in rows


def test_every_rule_row_has_sources() -> None:
    for rule, value, sources in render_rules(resolve_policy("cn,eu,us-ca")):
        assert value, rule
        assert sources, rule
