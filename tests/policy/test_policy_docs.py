"""docs/compliance.md lists every rule of every built-in jurisdiction with its sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallmark.policy import available_jurisdictions, combine, load_jurisdiction, render_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"


def section(code: str) -> str:
    """The text under ``### <code>:`` up to the next heading."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n### {code}: ")
    end = text.find("\n#", start + 1)
    return text[start : end if end != -1 else None]


@pytest.mark.parametrize("code", available_jurisdictions())
def test_compliance_doc_lists_every_rule_with_its_value(code: str) -> None:
    jurisdiction = load_jurisdiction(code)
    body = section(code)

    for rule, value, _sources in render_rules(combine([jurisdiction])):
        assert f"| `{rule}` | {value} |" in body, f"{code}: {rule} = {value} missing from the doc"


@pytest.mark.parametrize("code", available_jurisdictions())
def test_compliance_doc_quotes_every_citation(code: str) -> None:
    jurisdiction = load_jurisdiction(code)
    body = section(code)
    refs = [jurisdiction.wording_source.ref]
    if jurisdiction.platform_labels_source is not None:
        refs.append(jurisdiction.platform_labels_source.ref)
    refs.extend(citation.ref for _name, rule in jurisdiction.rules() for citation in rule.sources)

    for ref in refs:
        assert ref in body, f"{code}: citation {ref!r} missing from the doc"
