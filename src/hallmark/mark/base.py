"""The marking interfaces: a ``Marker`` writes one label scheme on one or more media; an
``Inspector`` reads labels back. ``plan_labels`` picks the markers a policy needs and refuses
a request when a required label has no marker, rather than letting content out unlabelled.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from hallmark.content import Content, Medium
from hallmark.errors import HallmarkError, MissingMarker
from hallmark.policy import Policy

Classification = Literal["confirmed", "possible", "suspected", "none"]
EXPLICIT = "explicit"
WATERMARK = "watermark"

PENDING_EXPLICIT = "explicit_label_pending"
"""Content metadata: the wording of an explicit label a marker left for a later marker of the
same plan to draw in its own re-encode (the video watermark draws the video label)."""

# The order markers run in, whatever order a policy lists them: first what changes the pixels
# or samples (the visible label, then the watermark over it), then metadata, and last the
# C2PA signature, whose hash binding must cover everything written before it.
SCHEME_ORDER: dict[str, int] = {EXPLICIT: 0, WATERMARK: 1, "gb45438": 2, "sb942": 3, "c2pa": 4}


@dataclass(slots=True, frozen=True)
class Provenance:
    """What implicit labels record about a piece of content."""

    content_id: str
    service: str
    producer_code: str
    created_at: str
    digital_source_type: str = "trainedAlgorithmicMedia"


@dataclass(slots=True, frozen=True)
class LabelContext:
    policy: Policy
    language: str
    wording: str  # the explicit label text to show (generated, or a platform classification)
    provenance: Provenance
    # A producer labels what it generated; a propagator (the receive flow: a platform) labels
    # what it distributes, with the classification it gave the content (Labeling Measures Art. 6).
    role: Literal["producer", "propagator"] = "producer"
    classification: Classification = "confirmed"
    later: frozenset[str] = frozenset()
    """The schemes the plan writes after the marker at hand (``apply_labels`` sets it), so that
    a marker may leave its drawing to a later one that re-encodes anyway (``PENDING_EXPLICIT``)."""


class Marker(ABC):
    scheme: ClassVar[str]
    media: ClassVar[frozenset[Medium]]

    @abstractmethod
    def mark(self, content: Content, context: LabelContext) -> Content:
        """Return the content with this scheme's label written."""


@dataclass(slots=True, frozen=True)
class Finding:
    scheme: str
    kind: Literal["implicit", "explicit", "trace"]
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "kind": self.kind, "detail": self.detail}


class Inspector(ABC):
    name: ClassVar[str]
    media: ClassVar[frozenset[Medium]]
    # Costly inspectors (OCR) are skipped by a quick inspection, which reads only what the
    # file declares about itself (metadata, manifests) and cheap signal checks.
    costly: ClassVar[bool] = False

    @abstractmethod
    def inspect(self, content: Content) -> list[Finding]:
        """Every AI label or trace found in the content."""


def required_schemes(policy: Policy, medium: Medium) -> list[str]:
    rule = policy.required_labels(medium)
    schemes = ([EXPLICIT] if rule.explicit else []) + list(rule.implicit)
    return sorted(schemes, key=lambda scheme: SCHEME_ORDER.get(scheme, len(SCHEME_ORDER)))


def plan_labels(
    policy: Policy,
    medium: Medium,
    markers: Iterable[Marker],
    *,
    waived: frozenset[str] = frozenset(),
    only: frozenset[str] | None = None,
) -> list[Marker]:
    """The markers that together write every label the policy requires on this medium.

    ``waived`` schemes are left out at the user's request (Labeling Measures Art. 9 lets a user
    ask for content without an explicit label; the flow records that in the ledger). With
    ``only``, the plan covers just those of the required schemes, and a missing marker for
    any other scheme is no refusal.
    """
    available = list(markers)
    plan, missing = [], []
    for scheme in required_schemes(policy, medium):
        if scheme in waived or (only is not None and scheme not in only):
            continue
        marker = next((m for m in available if m.scheme == scheme and medium in m.media), None)
        if marker is None:
            missing.append(scheme)
        else:
            plan.append(marker)
    if missing:
        rule = policy.required_labels(medium)
        sources = "; ".join(f"{c.jurisdiction}: {c.ref}" for c in rule.sources)
        raise MissingMarker(
            f"the policy ({','.join(policy.jurisdictions)}) requires {', '.join(missing)} "
            f"label(s) on {medium} content and no registered marker writes them ({sources})",
            missing=missing,
            medium=medium,
        )
    return plan


def apply_labels(
    content: Content, plan: Iterable[Marker], context: LabelContext
) -> tuple[Content, tuple[str, ...]]:
    """Run the planned markers in order; return the labelled content and the schemes written.

    Each marker is told which schemes come after it. An explicit label left to a later marker
    (``PENDING_EXPLICIT``) that no later marker drew is an error: nothing leaves unlabelled."""
    markers = list(plan)
    schemes = []
    for index, marker in enumerate(markers):
        later = frozenset(m.scheme for m in markers[index + 1 :])
        content = marker.mark(content, replace(context, later=later))
        schemes.append(marker.scheme)
    if content.metadata.get(PENDING_EXPLICIT):
        raise HallmarkError(
            f"the explicit label of this {content.medium} was left to a later marker that did "
            "not draw it"
        )
    return content, tuple(schemes)


def inspect_all(
    inspectors: Iterable[Inspector], content: Content, *, quick: bool = False
) -> list[Finding]:
    findings: list[Finding] = []
    for inspector in inspectors:
        if content.medium in inspector.media and not (quick and inspector.costly):
            findings.extend(inspector.inspect(content))
    return findings


def classify(findings: Iterable[Finding], *, declared_ai: bool) -> Classification:
    """Labeling Measures Art. 6: an implicit label confirms; a declaration makes it possible;
    other traces (an explicit notice, a detector) make it suspected."""
    findings = list(findings)
    if any(f.kind == "implicit" and str(f.detail.get("Label", "1")) == "1" for f in findings):
        return "confirmed"
    if declared_ai or any(f.kind == "implicit" for f in findings):
        return "possible"
    if findings:
        return "suspected"
    return "none"
