"""A policy as JSON-ready data, and as rows of a (rule, value, sources) table for the CLI."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hallmark.policy.model import (
    Citation,
    DeadlineRule,
    DisclosureRule,
    LabelRule,
    MinorsRule,
    Policy,
    RetentionRule,
    Rule,
    ScreenRule,
)


def policy_as_dict(policy: Policy) -> dict[str, Any]:
    """The policy as plain JSON types, the jurisdictions and language first."""
    data = policy.model_dump(mode="json")
    return {"jurisdictions": data.pop("jurisdictions"), "language": data.pop("language"), **data}


def render_rules(policy: Policy) -> list[tuple[str, str, str]]:
    """One ``(rule, value, sources)`` row per rule; sources read ``"cn: ref; eu: ref"``."""
    rows = [("wording", _words(policy.wording), format_sources(policy.wording_sources))]
    rows.extend(
        (name, describe(rule), format_sources(rule.sources)) for name, rule in policy.rules()
    )
    rows.append(
        (
            "disclosure_wording",
            _words(policy.disclosure_wording),
            format_sources(policy.chatbot_disclosure.sources),
        )
    )
    rows.extend(
        (
            f"platform_labels.{classification}",
            _words(words),
            format_sources(policy.platform_labels_sources),
        )
        for classification, words in policy.platform_labels.items()
    )
    if policy.refusal:
        rows.append(("refusal", _words(policy.refusal), format_sources(policy.refusal_sources)))
    return rows


def format_sources(sources: Iterable[Citation]) -> str:
    return "; ".join(str(citation) for citation in sources)


def describe(rule: Rule) -> str:
    """A short human reading of one rule's value."""
    if isinstance(rule, LabelRule):
        parts = ["explicit" if rule.explicit else "no explicit label"]
        parts.append("implicit: " + ", ".join(rule.implicit) if rule.implicit else "no implicit")
        return "; ".join(parts)
    if isinstance(rule, ScreenRule):
        return rule.action
    if isinstance(rule, RetentionRule):
        return f"at least {rule.min_days} days"
    if isinstance(rule, DeadlineRule):
        return f"within {rule.hours} hours"
    if isinstance(rule, MinorsRule):
        if not (rule.required or rule.stricter_screening or rule.daily_minutes):
            return "not required"
        parts = ["required" if rule.required else "optional"]
        if rule.daily_minutes is not None:
            parts.append(f"{rule.daily_minutes} min/day")
        if rule.stricter_screening:
            parts.append("stricter screening")
        return "; ".join(parts)
    if isinstance(rule, DisclosureRule):
        return "required" if rule.required else "not required"
    raise TypeError(f"no description for {type(rule).__name__}")


def _words(words: dict[str, str]) -> str:
    return "; ".join(f"{language}: {text}" for language, text in words.items())
