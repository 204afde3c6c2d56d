"""Labels layered on one file all stay valid: GB 45438 metadata, then the C2PA signature.

Each scheme written by the real registered markers, in the order plan_labels gives, and read
back by the real inspectors: the metadata label's integrity survives the C2PA manifest being
added after it, and the manifest's hash binding covers the metadata label.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_c2pa_support import FORMATS, label_context, sample

from hallmark.content import Content, Medium
from hallmark.mark.base import apply_labels, inspect_all, plan_labels
from hallmark.policy import resolve_policy
from hallmark.registry import load_components
from hallmark.settings import Settings

MEDIA: dict[str, Medium] = {
    "jpeg": "image",
    "png": "image",
    "webp": "image",
    "mp4": "video",
    "mp3": "audio",
    "wav": "audio",
    "pdf": "document",
}


@pytest.mark.parametrize("kind", list(MEDIA))
def test_gb45438_stays_valid_under_the_c2pa_manifest(kind: str, tmp_path: Path) -> None:
    components = load_components(Settings(home=tmp_path / "home"))
    markers = [components.markers.get("c2pa"), components.markers.get("gb45438")]
    content = Content(MEDIA[kind], FORMATS[kind], sample(kind))
    context = label_context()
    # cn and eu ask for explicit, watermark, gb45438 and c2pa on every medium (no watermark on
    # documents); the first two are waived here because their markers belong to other work.
    planned = plan_labels(
        resolve_policy("cn,eu"), MEDIA[kind], markers, waived=frozenset({"explicit", "watermark"})
    )
    labelled, schemes = apply_labels(content, planned, context)
    assert schemes == ("gb45438", "c2pa")

    findings = {f.scheme: f.detail for f in inspect_all(components.inspectors, labelled)}
    assert findings["gb45438"]["integrity"] == "valid"
    assert findings["c2pa"]["state"] == "Trusted"
