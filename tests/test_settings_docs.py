"""Every setting is declared once, with help, and documented in docs/settings.md."""

from __future__ import annotations

import re
from pathlib import Path

from hallmark.settings import Settings

DOCS = Path(__file__).parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text("utf-8")
    documented = set(re.findall(r"`(HALLMARK_[A-Z0-9_]+)`", text))
    declared = {f"HALLMARK_{name.upper()}" for name in Settings.model_fields}
    assert declared - documented == set(), "settings missing from docs/settings.md"
    assert documented - declared == set(), "docs/settings.md names settings that do not exist"


def test_every_setting_has_help() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
