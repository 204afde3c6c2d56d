"""The manifest hallmark signs, as plain data: who generated the content, that it is AI output
(IPTC digital source type in ``c2pa.actions``), and the SB 942 latent disclosure.

SB 942 asks the latent disclosure to convey the provider's name, the generative system's name and
version, the time and date of creation or alteration, and a unique identifier. C2PA defines no
assertion for that, so it rides in a custom assertion, ``org.hallmark.sb942``, inside the same
signed manifest (C2PA custom labels use reverse-domain names).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import hallmark
from hallmark.mark.base import Provenance

GENERATOR = "hallmark"
SB942_LABEL = "org.hallmark.sb942"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = IPTC + "trainedAlgorithmicMedia"
COMPOSITE = IPTC + "compositeWithTrainedAlgorithmicMedia"
AI_SOURCE_TYPES = frozenset({TRAINED, COMPOSITE})
PRIOR_INGREDIENT = "hallmark-input"  # label of the input asset when it becomes an ingredient
STATUTE = "California AI Transparency Act (SB 942, amended by AB 853)"


@dataclass(slots=True, frozen=True)
class Sb942Disclosure:
    provider: str
    system_name: str
    system_version: str
    event: str  # "created" or "altered"
    time: str
    identifier: str
    statute: str = STATUTE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def disclosure(provenance: Provenance, *, edited_real_media: bool = False) -> Sb942Disclosure:
    """The SB 942 fields. ``Provenance.service`` is ``provider/system-version`` when an engine
    made the content, or just the provider's name when hallmark labelled an upload."""
    provider, slash, system = provenance.service.partition("/")
    if slash:
        name, dash, version = system.rpartition("-")
        system_name, system_version = (name, version) if dash else (system, "")
    else:
        system_name, system_version = GENERATOR, hallmark.__version__
    return Sb942Disclosure(
        provider=provider,
        system_name=system_name,
        system_version=system_version,
        event="altered" if edited_real_media else "created",
        time=provenance.created_at,
        identifier=provenance.content_id,
    )


def build_manifest(
    provenance: Provenance,
    *,
    title: str,
    edited_real_media: bool = False,
    input_ingredient: bool = False,
) -> dict[str, Any]:
    """A manifest definition for ``c2pa.Builder``.

    New AI output is ``c2pa.created`` + trainedAlgorithmicMedia. AI edits of real media are
    ``c2pa.opened`` (the input as parent ingredient) + ``c2pa.edited`` with
    compositeWithTrainedAlgorithmicMedia: C2PA requires a claim's first action to be created or
    opened. With ``input_ingredient`` (the input already carries Content Credentials) a new
    creation places the input as a component, so its provenance is kept, not stripped.
    """
    if edited_real_media:
        actions = [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": [PRIOR_INGREDIENT]}},
            {"action": "c2pa.edited", "digitalSourceType": COMPOSITE},
        ]
    else:
        actions = [{"action": "c2pa.created", "digitalSourceType": TRAINED}]
        if input_ingredient:
            actions.append(
                {"action": "c2pa.placed", "parameters": {"ingredientIds": [PRIOR_INGREDIENT]}}
            )
    sb942 = disclosure(provenance, edited_real_media=edited_real_media)
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": hallmark.__version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": actions}},
            {"label": SB942_LABEL, "data": sb942.to_dict()},
        ],
    }


def input_ingredient(title: str, *, edited_real_media: bool) -> dict[str, Any]:
    """The ingredient definition for the input asset (``parentOf`` when editing it)."""
    relationship = "parentOf" if edited_real_media else "componentOf"
    return {"title": title, "relationship": relationship, "label": PRIOR_INGREDIENT}
