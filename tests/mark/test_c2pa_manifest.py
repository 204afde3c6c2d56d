"""The manifest definition is plain data: AI declaration, claim generator, SB 942 fields."""

from __future__ import annotations

from typing import Any

from test_c2pa_support import CONTENT_ID, provenance

import hallmark
from hallmark.mark.c2pa.manifest import (
    COMPOSITE,
    PRIOR_INGREDIENT,
    SB942_LABEL,
    TRAINED,
    build_manifest,
    disclosure,
    input_ingredient,
)


def _assertion(definition: dict[str, Any], label: str) -> dict[str, Any]:
    (found,) = [a["data"] for a in definition["assertions"] if a["label"] == label]
    return found  # type: ignore[no-any-return]


def test_new_ai_output_is_created_with_trained_algorithmic_media() -> None:
    definition = build_manifest(provenance(), title="x.jpg")
    assert definition["claim_generator_info"] == [
        {"name": "hallmark", "version": hallmark.__version__}
    ]
    assert definition["title"] == "x.jpg"
    assert _assertion(definition, "c2pa.actions")["actions"] == [
        {
            "action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/"
            "trainedAlgorithmicMedia",
        }
    ]
    assert "ingredients" not in definition


def test_sb942_disclosure_carries_provider_system_version_time_and_identifier() -> None:
    sb942 = _assertion(build_manifest(provenance(), title="x.jpg"), SB942_LABEL)
    assert sb942["provider"] == "hallmark"
    assert (sb942["system_name"], sb942["system_version"]) == ("echo", "1")
    assert sb942["time"] == "2026-08-02T10:00:00Z"
    assert sb942["identifier"] == CONTENT_ID
    assert sb942["event"] == "created"
    assert "SB 942" in sb942["statute"]


def test_system_names_with_dashes_and_uploads_labelled_by_the_platform() -> None:
    engine = disclosure(provenance(service="acme/stable-diffusion-3.5"))
    assert (engine.provider, engine.system_name, engine.system_version) == (
        "acme",
        "stable-diffusion",
        "3.5",
    )
    upload = disclosure(provenance(service="acme"))
    assert (upload.provider, upload.system_name) == ("acme", "hallmark")
    assert upload.system_version == hallmark.__version__


def test_edits_of_real_media_open_a_parent_then_edit_with_composite() -> None:
    definition = build_manifest(provenance(), title="x.jpg", edited_real_media=True)
    actions = _assertion(definition, "c2pa.actions")["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited"]
    assert actions[0]["parameters"] == {"ingredientIds": [PRIOR_INGREDIENT]}
    assert actions[1]["digitalSourceType"] == COMPOSITE
    assert _assertion(definition, SB942_LABEL)["event"] == "altered"
    assert input_ingredient("x.jpg", edited_real_media=True)["relationship"] == "parentOf"


def test_an_input_with_credentials_is_placed_as_a_component() -> None:
    definition = build_manifest(provenance(), title="x.jpg", input_ingredient=True)
    actions = _assertion(definition, "c2pa.actions")["actions"]
    assert actions[0] == {"action": "c2pa.created", "digitalSourceType": TRAINED}
    assert actions[1] == {
        "action": "c2pa.placed",
        "parameters": {"ingredientIds": [PRIOR_INGREDIENT]},
    }
    assert input_ingredient("x.jpg", edited_real_media=False)["relationship"] == "componentOf"
