"""Which rules apply: jurisdictions as TOML data files, combined by taking the strictest rule.

>>> policy = resolve_policy("cn,eu")
>>> policy.action_for("terrorism"), policy.label_text("en")
('block', 'AI-generated')
"""

from __future__ import annotations

from hallmark.policy.combine import combine
from hallmark.policy.load import (
    available_jurisdictions,
    load_jurisdiction,
    parse_codes,
    resolve_policy,
)
from hallmark.policy.model import (
    ACTIONS,
    CLASSIFICATIONS,
    COMPLAINT_CATEGORIES,
    IMPLICIT_SCHEMES,
    MEDIA,
    SCREEN_CATEGORIES,
    Action,
    Citation,
    Classification,
    DeadlineRule,
    DisclosureRule,
    Jurisdiction,
    LabelRule,
    Medium,
    MinorsRule,
    Policy,
    RetentionRule,
    Rule,
    RuleSet,
    ScreenRule,
    strictness,
)
from hallmark.policy.render import policy_as_dict, render_rules

__all__ = [
    "ACTIONS",
    "CLASSIFICATIONS",
    "COMPLAINT_CATEGORIES",
    "IMPLICIT_SCHEMES",
    "MEDIA",
    "SCREEN_CATEGORIES",
    "Action",
    "Citation",
    "Classification",
    "DeadlineRule",
    "DisclosureRule",
    "Jurisdiction",
    "LabelRule",
    "Medium",
    "MinorsRule",
    "Policy",
    "RetentionRule",
    "Rule",
    "RuleSet",
    "ScreenRule",
    "available_jurisdictions",
    "combine",
    "load_jurisdiction",
    "parse_codes",
    "policy_as_dict",
    "render_rules",
    "resolve_policy",
    "strictness",
]
