"""Combine jurisdictions into one policy by taking the strictest rule of each kind.

Pure functions of :class:`Jurisdiction` values. For each rule the winning value is kept with
the citations of every jurisdiction that holds that value; for the rules that are unions
("any", "ordered union") the citations of the jurisdictions that contributed something. When no
jurisdiction contributes (every one says "not required"), all their citations are kept, so that
"not required" is sourced too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from hallmark.errors import UserError
from hallmark.policy.model import (
    CLASSIFICATIONS,
    COMPLAINT_CATEGORIES,
    MEDIA,
    SCREEN_CATEGORIES,
    Citation,
    Classification,
    DeadlineRule,
    DisclosureRule,
    Jurisdiction,
    LabelRule,
    MinorsRule,
    Policy,
    RetentionRule,
    Rule,
    ScreenRule,
    strictness,
)

K = TypeVar("K", bound=str)
R = TypeVar("R", bound=Rule)


def combine(jurisdictions: Sequence[Jurisdiction]) -> Policy:
    """The strictest policy satisfying every jurisdiction given (duplicates count once)."""
    unique = _first_of_each_code(jurisdictions)
    if not unique:
        raise UserError("no jurisdiction given; name at least one, e.g. 'cn' or 'cn,eu'")
    wording, wording_from = _merge_wording([(j.code, j.wording) for j in unique])
    refusal, refusal_from = _merge_wording([(j.code, j.refusal) for j in unique])
    platform_labels: dict[Classification, dict[str, str]] = {}
    platform_from: set[str] = set()
    for classification in CLASSIFICATIONS:
        words, contributors = _merge_wording(
            [
                (j.code, j.platform_labels[classification])
                for j in unique
                if classification in j.platform_labels
            ]
        )
        if words:
            platform_labels[classification] = words
            platform_from |= contributors
    return Policy(
        jurisdictions=tuple(j.code for j in unique),
        language="zh" if any(j.language == "zh" for j in unique) else "en",
        wording=wording,
        wording_sources=tuple(j.wording_source for j in unique if j.code in wording_from),
        labels=_per_key(MEDIA, [j.labels for j in unique], _strictest_labels),
        screening=_per_key(SCREEN_CATEGORIES, [j.screening for j in unique], _strictest_screen),
        retention=_strictest_retention([j.retention for j in unique]),
        complaints=_per_key(
            COMPLAINT_CATEGORIES, [j.complaints for j in unique], _shortest_deadline
        ),
        minors=_strictest_minors([j.minors for j in unique]),
        chatbot_disclosure=_strictest_disclosure([j.chatbot_disclosure for j in unique]),
        disclosure_wording=_merge_wording([(j.code, j.disclosure_wording) for j in unique])[0],
        platform_labels=platform_labels,
        platform_labels_sources=tuple(
            j.platform_labels_source
            for j in unique
            if j.code in platform_from and j.platform_labels_source is not None
        ),
        refusal=refusal,
        refusal_sources=tuple(
            j.refusal_source
            for j in unique
            if j.code in refusal_from and j.refusal_source is not None
        ),
    )


def _per_key(
    order: Sequence[K], tables: Sequence[Mapping[K, R]], strictest: Callable[[list[R]], R]
) -> dict[K, R]:
    """Combine the rules listed under each key, keys in the canonical ``order``."""
    combined: dict[K, R] = {}
    for key in order:
        rules = [table[key] for table in tables if key in table]
        if rules:
            combined[key] = strictest(rules)
    return combined


def _cites(rules: Iterable[Rule]) -> tuple[Citation, ...]:
    return tuple(dict.fromkeys(c for rule in rules for c in rule.sources))


def _cites_contributors(rules: Sequence[Rule], contributed: Sequence[bool]) -> tuple[Citation, ...]:
    """Citations of the rules that contributed, or of all when none did."""
    if not any(contributed):
        return _cites(rules)
    return _cites(rule for rule, did in zip(rules, contributed, strict=True) if did)


def _strictest_labels(rules: list[LabelRule]) -> LabelRule:
    return LabelRule(
        explicit=any(rule.explicit for rule in rules),
        implicit=tuple(dict.fromkeys(scheme for rule in rules for scheme in rule.implicit)),
        sources=_cites_contributors(
            rules, [rule.explicit or bool(rule.implicit) for rule in rules]
        ),
    )


def _strictest_screen(rules: list[ScreenRule]) -> ScreenRule:
    action = max((rule.action for rule in rules), key=strictness)
    return ScreenRule(
        action=action, sources=_cites(rule for rule in rules if rule.action == action)
    )


def _strictest_retention(rules: list[RetentionRule]) -> RetentionRule:
    days = max(rule.min_days for rule in rules)
    return RetentionRule(
        min_days=days, sources=_cites(rule for rule in rules if rule.min_days == days)
    )


def _shortest_deadline(rules: list[DeadlineRule]) -> DeadlineRule:
    hours = min(rule.hours for rule in rules)
    return DeadlineRule(hours=hours, sources=_cites(rule for rule in rules if rule.hours == hours))


def _strictest_minors(rules: list[MinorsRule]) -> MinorsRule:
    limits = [rule.daily_minutes for rule in rules if rule.daily_minutes is not None]
    minutes = min(limits) if limits else None
    return MinorsRule(
        required=any(rule.required for rule in rules),
        daily_minutes=minutes,
        stricter_screening=any(rule.stricter_screening for rule in rules),
        sources=_cites_contributors(
            rules,
            [
                rule.required
                or rule.stricter_screening
                or (minutes is not None and rule.daily_minutes == minutes)
                for rule in rules
            ],
        ),
    )


def _strictest_disclosure(rules: list[DisclosureRule]) -> DisclosureRule:
    return DisclosureRule(
        required=any(rule.required for rule in rules),
        sources=_cites_contributors(rules, [rule.required for rule in rules]),
    )


def _merge_wording(
    tables: Sequence[tuple[str, Mapping[str, str]]],
) -> tuple[dict[str, str], set[str]]:
    """Merge per-language wording, the first jurisdiction listed winning each language.

    Returns the merged wording and the codes of the jurisdictions that supplied an entry.
    """
    merged: dict[str, str] = {}
    contributors: set[str] = set()
    for code, words in tables:
        for language, text in words.items():
            if language not in merged:
                merged[language] = text
                contributors.add(code)
    return merged, contributors


def _first_of_each_code(jurisdictions: Sequence[Jurisdiction]) -> list[Jurisdiction]:
    unique: dict[str, Jurisdiction] = {}
    for jurisdiction in jurisdictions:
        unique.setdefault(jurisdiction.code, jurisdiction)
    return list(unique.values())
