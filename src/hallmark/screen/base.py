"""The screening interface: a ``Screen`` looks at content and returns a ``Decision``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from hallmark.content import Content, Medium
from hallmark.policy import Policy

Action = Literal["allow", "flag", "block"]
STRICTNESS: dict[str, int] = {"allow": 0, "flag": 1, "block": 2}


@dataclass(slots=True, frozen=True)
class Hit:
    category: str
    term: str
    screen: str


@dataclass(slots=True, frozen=True)
class Decision:
    action: Action
    hits: tuple[Hit, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def categories(self) -> list[str]:
        return sorted({hit.category for hit in self.hits})

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "categories": self.categories, "reasons": list(self.reasons)}


class Screen(ABC):
    """One moderation method. Returns what it found; the policy decides the action."""

    name: ClassVar[str]
    media: ClassVar[frozenset[Medium]]

    @abstractmethod
    def find(self, content: Content) -> list[Hit]:
        """The categories this screen finds in the content."""


def decide(hits: Iterable[Hit], policy: Policy, *, minor: bool = False) -> Decision:
    """Turn hits into one decision: the strictest action the policy gives any hit's category.

    In minors mode, where the policy asks for stricter screening, what would be flagged is blocked.
    """
    hits = tuple(hits)
    stricter = minor and policy.minors.stricter_screening
    action: Action = "allow"
    reasons = []
    for hit in hits:
        rule: Action = policy.action_for(hit.category)
        if stricter and rule == "flag":
            rule = "block"
        if STRICTNESS[rule] > STRICTNESS[action]:
            action = rule
        if rule != "allow":
            reasons.append(f"{hit.screen}: {hit.category} ({rule})")
    return Decision(action, hits, tuple(dict.fromkeys(reasons)))


def screen_content(
    screens: Iterable[Screen], content: Content, policy: Policy, *, minor: bool = False
) -> Decision:
    hits: list[Hit] = []
    for screen in screens:
        if content.medium in screen.media:
            hits.extend(screen.find(content))
    return decide(hits, policy, minor=minor)
