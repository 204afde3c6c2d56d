"""Planning labels: every required scheme needs a marker, and markers run in a safe order."""

from __future__ import annotations

from typing import ClassVar

import pytest

from hallmark.content import Content, Medium
from hallmark.errors import MissingMarker
from hallmark.mark.base import LabelContext, Marker, plan_labels
from hallmark.policy import resolve_policy


def fake(scheme_name: str) -> Marker:
    class Fake(Marker):
        scheme: ClassVar[str] = scheme_name
        media: ClassVar[frozenset[Medium]] = frozenset({"image"})

        def mark(self, content: Content, context: LabelContext) -> Content:
            return content

    return Fake()


def test_signature_runs_last_and_pixels_first_whatever_the_policy_order() -> None:
    policy = resolve_policy("us-ca,cn,eu")
    markers = [fake(s) for s in ("c2pa", "sb942", "gb45438", "watermark", "explicit")]
    plan = [m.scheme for m in plan_labels(policy, "image", markers)]
    assert plan == ["explicit", "watermark", "gb45438", "sb942", "c2pa"]


def test_missing_scheme_is_named_with_its_sources() -> None:
    policy = resolve_policy("cn")
    with pytest.raises(MissingMarker, match="watermark") as caught:
        plan_labels(policy, "image", [fake("explicit"), fake("gb45438")])
    assert caught.value.details["missing"] == ["watermark"]


def test_waived_explicit_label_needs_no_marker() -> None:
    policy = resolve_policy("us-ca")
    plan = plan_labels(
        policy, "image", [fake("sb942"), fake("c2pa")], waived=frozenset({"explicit"})
    )
    assert [m.scheme for m in plan] == ["sb942", "c2pa"]
