"""The watermark marker: writes the content's watermark id into the pixels of an image.

It runs after the visible label (which the watermark then covers too) and before the metadata
labels and the C2PA signature (``SCHEME_ORDER``), and records what it wrote in
``content.metadata["watermark"]`` for the flow's ledger entry: the watermark id (what a later
look-up indexes), the 64-bit payload, the key id and the PSNR of the change.

A propagator (the receive flow) does not overwrite a watermark of ours already in the image:
that mark ties the content to the entry of its first generation, which is what a trace should
lead to. It records the existing payload instead.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import LabelContext, Marker
from hallmark.mark.watermark import image, raster
from hallmark.mark.watermark.inspector import SCHEME, Detection, detect_luma
from hallmark.mark.watermark.payload import KeyStore, Payload, WatermarkKey, encode

ALGORITHM = "hallmark-tiles-v1"


@dataclass(slots=True, frozen=True)
class Marked:
    data: bytes
    payload: Payload
    # dB, of the change to the pixels as written (before encoding): over the colour channels,
    # or over the Y plane of a colour JPEG, which is written as YCbCr (the same change).
    psnr: float


def embed(data: bytes, media_type: str, payload: Payload, key: WatermarkKey) -> Marked:
    """The image file with ``payload`` watermarked into it, in the same format."""
    picture = raster.decode(data, media_type)
    luma = picture.luma8()
    if min(luma.shape) < image.MIN_SIDE:
        height, width = luma.shape
        raise UserError(
            f"the image is {width}x{height} px; the watermark needs at least "
            f"{image.MIN_SIDE} px on the short side"
        )
    delta = image.embed_delta(luma, encode(payload.bits()), key.pattern_seed())
    marked, mse = picture.add_luma(delta)
    return Marked(raster.encode(picture, marked, data), payload, _psnr(mse))


def _psnr(mse: float) -> float:
    return 99.0 if mse == 0 else round(10 * np.log10(255.0**2 / mse), 2)


def watermark_record(
    watermark_id: str,
    payload_hex: str | None,
    key_id: str | None,
    algorithm: str | None,
    *,
    existing: bool = False,
) -> dict[str, Any]:
    """What the ledger entry and the content record keep of a watermark: one written now, or
    (``existing``) one of ours the content already carried and that was kept as it was."""
    record: dict[str, Any] = {"id": watermark_id, "payload": payload_hex, "key_id": key_id}
    if algorithm:
        record["algorithm"] = algorithm
    if existing:
        record["existing"] = True
    return record


class PayloadMarker(Marker):
    """What every watermark marker does around its own embedding: the payload for the content,
    a propagator keeping an existing mark of ours, and the record for the ledger entry."""

    scheme: ClassVar[str] = SCHEME
    algorithm: ClassVar[str]

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    @abstractmethod
    def detect(self, content: Content, key: WatermarkKey) -> Detection | None:
        """Our watermark already in the content, if any."""

    @abstractmethod
    def embed(
        self, content: Content, payload: Payload, key: WatermarkKey
    ) -> tuple[bytes, dict[str, Any]]:
        """The content with ``payload`` embedded, and what to add to the record."""

    def mark(self, content: Content, context: LabelContext) -> Content:
        key = self.keys.for_writing()
        if context.role == "propagator":
            existing = self.detect(content, key)
            if existing is not None:
                record = watermark_record(
                    existing.payload.id_hex, existing.payload.hex, key.key_id, self.algorithm,
                    existing=True,
                )  # fmt: skip
                return content.with_data(content.data, watermark=record)
        payload = Payload.for_content(context.provenance.content_id, key)
        data, extra = self.embed(content, payload, key)
        return content.with_data(data, watermark=self.record(payload, key) | extra)

    def record(self, payload: Payload, key: WatermarkKey) -> dict[str, Any]:
        return watermark_record(payload.id_hex, payload.hex, key.key_id, self.algorithm)


class WatermarkMarker(PayloadMarker):
    media: ClassVar[frozenset[Medium]] = frozenset({"image"})
    algorithm: ClassVar[str] = ALGORITHM

    def detect(self, content: Content, key: WatermarkKey) -> Detection | None:
        return detect_luma(raster.decode_luma(content.data, content.media_type), key)

    def embed(
        self, content: Content, payload: Payload, key: WatermarkKey
    ) -> tuple[bytes, dict[str, Any]]:
        marked = embed(content.data, content.media_type, payload, key)
        return marked.data, {"psnr": marked.psnr}
