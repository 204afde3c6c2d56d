"""The GB 45438 implicit-label marker: writes the ``AIGC`` label into the file's metadata.

A producer (the create flow) writes Label, ContentProducer (``settings.producer_code``),
ProduceID (the content id) and ReservedCode1. When the content already carries a label, the
marker acts as a propagation platform (the receive flow, Labeling Measures Art. 6): it keeps the
producer's fields and adds ContentPropagator, PropagateID and ReservedCode2 (``add_propagator``).
Content a platform receives without a label gets Label "1" / "2" / "3" for the classification
the platform gave it (confirmed / possible / suspected) and only the propagator's fields: the
platform is not its producer.
"""

from __future__ import annotations

from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import LabelContext, Marker, Provenance
from hallmark.mark.gb45438.fields import AIGCFields
from hallmark.mark.gb45438.formats import (
    SUPPORTED,
    Container,
    base_type,
    format_for,
)
from hallmark.mark.gb45438.integrity import IntegrityKey, KeyStore

SCHEME = "gb45438"
LABEL_BY_CLASSIFICATION: dict[str, str] = {
    "confirmed": "1",
    "possible": "2",
    "suspected": "3",
}


def produce(provenance: Provenance, content_digest: str, key: IntegrityKey) -> AIGCFields:
    """A producer's label for newly generated content."""
    fields = AIGCFields(
        Label="1", ContentProducer=provenance.producer_code, ProduceID=provenance.content_id
    )
    return fields.with_values(ReservedCode1=key.seal("ReservedCode1", fields, content_digest))


def add_propagator(
    fields: AIGCFields,
    *,
    propagator_code: str,
    propagate_id: str,
    content_digest: str,
    key: IntegrityKey,
) -> AIGCFields:
    """The label with a platform's propagation fields set (replacing an earlier platform's)."""
    updated = fields.with_values(
        ContentPropagator=propagator_code, PropagateID=propagate_id, ReservedCode2=""
    )
    return updated.with_values(ReservedCode2=key.seal("ReservedCode2", updated, content_digest))


def existing_fields(container: Container) -> AIGCFields | None:
    """The first readable label in the file, in the order of preferred serializations."""
    return next((r.fields for r in container.read() if r.fields is not None), None)


class GB45438Marker(Marker):
    scheme: ClassVar[str] = SCHEME
    media: ClassVar[frozenset[Medium]] = frozenset({"document", "image", "audio", "video"})

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def mark(self, content: Content, context: LabelContext) -> Content:
        found = format_for(content.media_type, content.data)
        if found is None:
            raise UserError(
                f"the GB 45438 label cannot be written into {base_type(content.media_type)!r} "
                f"files; supported: {', '.join(SUPPORTED)}"
            )
        container = found.open(content.data)
        digest = container.content_digest()
        key = self.keys.for_writing()
        provenance = context.provenance
        fields = existing_fields(container)
        if fields is None and context.role == "propagator":
            label = LABEL_BY_CLASSIFICATION.get(context.classification, "3")
            fields = AIGCFields(Label=label)
        if fields is None:
            fields = produce(provenance, digest, key)
        else:
            fields = add_propagator(
                fields,
                propagator_code=provenance.producer_code,
                propagate_id=provenance.content_id,
                content_digest=digest,
                key=key,
            )
        return content.with_data(container.write(fields), gb45438=fields.to_dict())
