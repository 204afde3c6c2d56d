"""The typed shape of a jurisdiction and of a combined policy.

A :class:`Jurisdiction` is one TOML file; a :class:`Policy` is what several jurisdictions
become once combined (see :mod:`hallmark.policy.combine`). Both carry the same rule fields,
declared once on :class:`RuleSet`. Every rule keeps the citations it rests on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hallmark.screen.taxonomy import CATEGORY_IDS

Medium = Literal["text", "document", "image", "audio", "video"]
"""``text`` is inline text such as a chat reply; ``document`` a text file (PDF, Markdown)."""
Action = Literal["allow", "flag", "block"]
Classification = Literal["confirmed", "possible", "suspected"]
Language = Literal["zh", "en"]

MEDIA: tuple[Medium, ...] = get_args(Medium)
ACTIONS: tuple[Action, ...] = get_args(Action)
"""Ordered from the least to the most strict."""
CLASSIFICATIONS: tuple[Classification, ...] = get_args(Classification)

IMPLICIT_SCHEMES = ("gb45438", "c2pa", "sb942", "watermark")
"""Machine-readable label schemes a rule may require, one ``hallmark.mark`` module each."""

SCREEN_CATEGORIES: tuple[str, ...] = CATEGORY_IDS
"""Screening categories: the ids of :mod:`hallmark.screen.taxonomy` (TC260-003 Appendix A's
31 risk types, then the categories of EU and US instruments and finer ones)."""
COMPLAINT_CATEGORIES = ("general", *SCREEN_CATEGORIES)
"""Complaint deadlines apply to reports about one screening category, or to all (``general``)."""

FALLBACK_LANGUAGE = "en"

DEFAULT_REFUSAL = {
    "en": "Sorry, I can't help with this request.",
    "zh": "抱歉，无法协助处理此请求。",
}
"""The refusal when no jurisdiction words one."""


def strictness(action: Action) -> int:
    """Rank of an action: ``block`` > ``flag`` > ``allow``."""
    return ACTIONS.index(action)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Citation(_Frozen):
    """Where a rule comes from: ``("cn", "Labeling Measures Art. 4 (text)")``."""

    jurisdiction: str = Field(min_length=1)
    ref: str = Field(min_length=1)

    @field_validator("ref")
    @classmethod
    def _ref_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a citation needs a non-empty ref")
        return value.strip()

    def __str__(self) -> str:
        return f"{self.jurisdiction}: {self.ref}"


class Rule(_Frozen):
    """Base of every rule: the citations it rests on."""

    sources: tuple[Citation, ...] = ()


class LabelRule(Rule):
    """Labels one medium needs: a perceivable (explicit) label and machine-readable schemes."""

    explicit: bool = False
    implicit: tuple[str, ...] = ()

    @field_validator("implicit")
    @classmethod
    def _known_schemes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [scheme for scheme in value if scheme not in IMPLICIT_SCHEMES]
        if unknown:
            known = ", ".join(IMPLICIT_SCHEMES)
            raise ValueError(f"unknown implicit scheme {', '.join(unknown)}; known: {known}")
        if len(set(value)) != len(value):
            raise ValueError("implicit schemes are listed twice")
        return value


class ScreenRule(Rule):
    action: Action


class RetentionRule(Rule):
    min_days: int = Field(ge=0)


class DeadlineRule(Rule):
    hours: int = Field(ge=1)


class MinorsRule(Rule):
    required: bool = False
    daily_minutes: int | None = Field(default=None, ge=1)
    stricter_screening: bool = False


class DisclosureRule(Rule):
    required: bool = False


class RuleSet(_Frozen):
    """The rule fields shared by a jurisdiction and a combined policy."""

    language: str
    wording: dict[str, str]
    labels: dict[Medium, LabelRule]
    screening: dict[str, ScreenRule]
    retention: RetentionRule
    complaints: dict[str, DeadlineRule]
    minors: MinorsRule
    chatbot_disclosure: DisclosureRule
    disclosure_wording: dict[str, str] = Field(default_factory=dict)
    platform_labels: dict[Classification, dict[str, str]] = Field(default_factory=dict)
    refusal: dict[str, str] = Field(default_factory=dict)
    """What a blocked request or output tells the user, per language."""

    @field_validator("screening")
    @classmethod
    def _known_screen_categories(cls, value: dict[str, ScreenRule]) -> dict[str, ScreenRule]:
        _check_names("screening category", value, SCREEN_CATEGORIES)
        return value

    @field_validator("complaints")
    @classmethod
    def _known_complaint_categories(cls, value: dict[str, DeadlineRule]) -> dict[str, DeadlineRule]:
        _check_names("complaint category", value, COMPLAINT_CATEGORIES)
        return value

    @model_validator(mode="after")
    def _fallback_wording_present(self) -> RuleSet:
        wordings = {"wording": self.wording}
        if self.disclosure_wording:
            wordings["disclosure_wording"] = self.disclosure_wording
        if self.refusal:
            wordings["refusal"] = self.refusal
        for classification, words in self.platform_labels.items():
            wordings[f"platform_labels.{classification}"] = words
        for name, words in wordings.items():
            if FALLBACK_LANGUAGE not in words:
                raise ValueError(f"{name} needs an '{FALLBACK_LANGUAGE}' entry (the fallback)")
        return self

    def rules(self) -> Iterator[tuple[str, Rule]]:
        """Every rule with a dotted name, in a stable order: ``("labels.image", LabelRule)``."""
        for medium, label in self.labels.items():
            yield f"labels.{medium}", label
        for category, screen in self.screening.items():
            yield f"screening.{category}", screen
        yield "retention", self.retention
        for category, deadline in self.complaints.items():
            yield f"complaints.{category}", deadline
        yield "minors", self.minors
        yield "chatbot_disclosure", self.chatbot_disclosure

    def label_text(self, language: str | None = None) -> str:
        """The explicit label wording in ``language`` (default: ``self.language``).

        A language without wording falls back to English.
        """
        return _pick_language(self.wording, language or self.language)

    def disclosure_text(self, language: str | None = None) -> str:
        """The chatbot disclosure wording in ``language``, with the same fallback."""
        return _pick_language(self.disclosure_wording, language or self.language)

    def platform_label(self, classification: Classification, language: str | None = None) -> str:
        """What a distribution platform shows for content of that classification."""
        return _pick_language(
            self.platform_labels.get(classification, {}), language or self.language
        )

    def refusal_text(self, language: str | None = None) -> str:
        """The refusal message in ``language``, with the same fallback; hallmark's own
        (``DEFAULT_REFUSAL``) when no jurisdiction words one."""
        return _pick_language(self.refusal or DEFAULT_REFUSAL, language or self.language)

    def action_for(self, category: str) -> Action:
        """The screening action for a category; ``allow`` when the category is not listed."""
        rule = self.screening.get(category)
        return rule.action if rule is not None else "allow"

    def complaint_deadline(self, category: str = "general") -> DeadlineRule | None:
        """The deadline for a report about ``category``: its own or the general one, whichever
        is shorter; ``None`` when neither is set."""
        deadlines = [
            rule for key in (category, "general") if (rule := self.complaints.get(key)) is not None
        ]
        return min(deadlines, key=lambda rule: rule.hours, default=None)

    def required_labels(self, medium: Medium) -> LabelRule:
        """Labels required for a medium; no label at all when the medium is not listed."""
        return self.labels.get(medium) or LabelRule(explicit=False, implicit=())


class Jurisdiction(RuleSet):
    """One jurisdiction, as read from its TOML file."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str = Field(min_length=1)
    language: Language  # narrows RuleSet.language
    wording_source: Citation
    platform_labels_source: Citation | None = None
    refusal_source: Citation | None = None

    @model_validator(mode="after")
    def _every_rule_cited(self) -> Jurisdiction:
        if self.language not in self.wording:
            raise ValueError(
                f"wording needs an entry for the jurisdiction's language {self.language!r}"
            )
        cited: list[tuple[str, tuple[Citation, ...]]] = [("wording", (self.wording_source,))]
        if self.platform_labels_source is not None:
            cited.append(("platform_labels", (self.platform_labels_source,)))
        if self.refusal_source is not None:
            cited.append(("refusal", (self.refusal_source,)))
        cited.extend((name, rule.sources) for name, rule in self.rules())
        for name, sources in cited:
            if not sources:
                raise ValueError(f"{name} cites no source")
            foreign = [c.jurisdiction for c in sources if c.jurisdiction != self.code]
            if foreign:
                raise ValueError(f"{name} cites {foreign[0]!r} inside jurisdiction {self.code!r}")
        if self.platform_labels and self.platform_labels_source is None:
            raise ValueError("platform_labels need a platform_labels_source")
        if self.refusal and self.refusal_source is None:
            raise ValueError("refusal needs a refusal_source")
        return self


class Policy(RuleSet):
    """The strictest combination of one or more jurisdictions."""

    jurisdictions: tuple[str, ...] = Field(min_length=1)
    wording_sources: tuple[Citation, ...] = ()
    platform_labels_sources: tuple[Citation, ...] = ()
    refusal_sources: tuple[Citation, ...] = ()


def _pick_language(words: dict[str, str], language: str) -> str:
    if language in words:
        return words[language]
    return words.get(FALLBACK_LANGUAGE, "")


def _check_names(what: str, value: Iterable[str], known: tuple[str, ...]) -> None:
    unknown = [name for name in value if name not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
