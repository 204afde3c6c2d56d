"""The screening interface: a ``Screen`` looks at content and returns hits; ``decide`` turns the
hits into a ``Decision`` by the policy.

A hit names a category of :mod:`hallmark.screen.taxonomy`, the term or signal that fired, how
severe it is and where it is (its evidence: a span of text, a box in an image, a stretch of
time). The policy maps each category to ``allow``, ``flag`` or ``block``; a blocked decision
carries the policy's refusal message in the user's language.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from hallmark.content import Content, Medium
from hallmark.policy import Policy

Action = Literal["allow", "flag", "block"]
STRICTNESS: dict[str, int] = {"allow": 0, "flag": 1, "block": 2}
SEVERITIES = (1, 2, 3)
"""1: the topic is named (at most flagged); 2: likely harmful; 3: plainly harmful."""
FLAG_ONLY_SEVERITY = 1


@dataclass(slots=True, frozen=True)
class TextSpan:
    """Characters ``start:end`` of the original text (not of any normalized form)."""

    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "text", "start": self.start, "end": self.end}


@dataclass(slots=True, frozen=True)
class ImageBox:
    """A rectangle of an image, in pixels from the top left corner."""

    x: int
    y: int
    width: int
    height: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "image",
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
        }


@dataclass(slots=True, frozen=True)
class TimeSpan:
    """A stretch of audio or video, in seconds from the start."""

    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "time", "start_s": self.start_s, "end_s": self.end_s}


@dataclass(slots=True, frozen=True)
class FrameBox:
    """A rectangle of one video frame: the frame's time in seconds from the first frame, and
    the box in the video's own pixels."""

    time_s: float
    box: ImageBox

    def to_dict(self) -> dict[str, Any]:
        return {**self.box.to_dict(), "kind": "frame", "time_s": self.time_s}


Evidence = TextSpan | ImageBox | TimeSpan | FrameBox


@dataclass(slots=True, frozen=True)
class Hit:
    category: str
    term: str
    screen: str
    severity: int = 2
    evidence: Evidence | None = None
    via: str = ""
    """How the term matched, for a lexicon hit: ``text``, ``pinyin`` or ``initials``."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "category": self.category,
            "term": self.term,
            "screen": self.screen,
            "severity": self.severity,
        }
        if self.via:
            data["via"] = self.via
        if self.evidence is not None:
            data["evidence"] = self.evidence.to_dict()
        return data


@dataclass(slots=True, frozen=True)
class Decision:
    action: Action
    hits: tuple[Hit, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)
    refusal: str = ""
    """What to tell the user when the action is ``block``, in their language."""
    hit_actions: tuple[Action, ...] = ()
    """The action the policy gave each hit, in the order of ``hits``."""

    @property
    def categories(self) -> list[str]:
        return sorted({hit.category for hit in self.hits})

    def to_dict(self) -> dict[str, Any]:
        evidence = []
        for index, hit in enumerate(self.hits):
            item = hit.to_dict()
            if index < len(self.hit_actions):
                item["action"] = self.hit_actions[index]
            evidence.append(item)
        return {
            "action": self.action,
            "categories": self.categories,
            "reasons": list(self.reasons),
            "evidence": evidence,
            "refusal": self.refusal or None,
        }


class Screen(ABC):
    """One moderation method. Returns what it found; the policy decides the action."""

    name: ClassVar[str]
    media: ClassVar[frozenset[Medium]]

    @abstractmethod
    def find(self, content: Content) -> list[Hit]:
        """The categories this screen finds in the content."""

    def prepare(self) -> Screen:
        """Load what the screen needs now rather than on its first use; a server calls it at
        startup so that no request pays for it. Nothing to do by default."""
        return self


def action_for_hit(hit: Hit, policy: Policy, *, minor: bool = False) -> Action:
    """The policy's action for the hit's category, with two adjustments.

    A hit of the lowest severity names a topic rather than asks for harm, so it is flagged at
    most. In minors mode, where the policy asks for stricter screening, what would be flagged
    is blocked.
    """
    action: Action = policy.action_for(hit.category)
    if action == "block" and hit.severity <= FLAG_ONLY_SEVERITY:
        action = "flag"
    if minor and policy.minors.stricter_screening and action == "flag":
        action = "block"
    return action


def decide(
    hits: Iterable[Hit], policy: Policy, *, minor: bool = False, language: str | None = None
) -> Decision:
    """Turn hits into one decision: the strictest action the policy gives any hit.

    A blocked decision carries the policy's refusal in ``language`` (default: the policy's).
    """
    hits = tuple(hits)
    action: Action = "allow"
    actions: list[Action] = []
    reasons = []
    for hit in hits:
        rule = action_for_hit(hit, policy, minor=minor)
        actions.append(rule)
        if STRICTNESS[rule] > STRICTNESS[action]:
            action = rule
        if rule != "allow":
            reasons.append(f"{hit.screen}: {hit.category} ({rule})")
    refusal = policy.refusal_text(language) if action == "block" else ""
    return Decision(action, hits, tuple(dict.fromkeys(reasons)), refusal, tuple(actions))


def screen_content(
    screens: Iterable[Screen],
    content: Content,
    policy: Policy,
    *,
    minor: bool = False,
    language: str | None = None,
) -> Decision:
    hits: list[Hit] = []
    for screen in screens:
        if content.medium in screen.media:
            hits.extend(screen.find(content))
    return decide(hits, policy, minor=minor, language=language)
