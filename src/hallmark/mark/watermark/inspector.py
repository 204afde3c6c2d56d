"""The watermark inspector: finds this service's invisible watermark and reads its payload.

A detection needs both the pilot peak above ``SYNC_THRESHOLD`` and a payload whose CRC
matches: on unwatermarked images the peak stays near 4-6 standard deviations and a random
payload passes the CRC once in 65,536. Only the key that wrote the mark can read it.

The finding's kind is "trace": a watermark alone makes content *suspected* (Labeling Measures
Art. 6), since only our key ties its payload to a ledger entry, and only that entry says what
the content is. Images the inspector cannot decode or that are too small to carry a mark give
no finding; decompression bombs are refused (``UserError``).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import WATERMARK, Finding, Inspector
from hallmark.mark.watermark import image, raster
from hallmark.mark.watermark.payload import KeyStore, Payload, WatermarkKey, decode, encode

SCHEME = WATERMARK
SYNC_THRESHOLD = 8.0  # unwatermarked images stay under 6; attacked marks measured 13-25
STRONG_SYNC = 12.0  # from here on, confidence 1.0
NOTE = (
    "an invisible watermark alone makes content 'suspected': only this service's key ties "
    "its payload to a ledger entry"
)


@dataclass(slots=True, frozen=True)
class Detection:
    """A found watermark (image, video or audio: each gives its own thresholds)."""

    payload: Payload
    sync: float
    bit_accuracy_estimate: float  # of the raw code bits, against the re-encoded payload
    key_id: str
    threshold: float = SYNC_THRESHOLD
    strong: float = STRONG_SYNC
    algorithm: str | None = None

    @property
    def confidence(self) -> float:
        """0.5 at the detection threshold, rising to 1.0 at ``strong`` and above."""
        scaled = 0.5 + 0.5 * (self.sync - self.threshold) / (self.strong - self.threshold)
        return round(min(1.0, max(0.5, scaled)), 3)

    def to_dict(self) -> dict[str, Any]:
        found = {
            "found": True,
            "payload": self.payload.hex,
            "watermark_id": self.payload.id_hex,
            "confidence": self.confidence,
            "bit_accuracy_estimate": round(self.bit_accuracy_estimate, 3),
            "sync": round(self.sync, 2),
            "key_id": self.key_id,
        }
        if self.algorithm is not None:
            found["algorithm"] = self.algorithm
        return found | {"note": NOTE}


def detect_luma(luma: image.Array, key: WatermarkKey) -> Detection | None:
    """The watermark in a luminance array, or None."""
    reading = image.read(luma, key.pattern_seed())
    if reading is None or reading.sync < SYNC_THRESHOLD:
        return None
    bits = decode(reading.soft)
    payload = Payload.from_bits(bits)
    if payload is None:
        return None
    agreement = float(np.mean((reading.soft > 0) == encode(bits).astype(bool)))
    return Detection(payload, reading.sync, agreement, key.key_id)


def detect(data: bytes, media_type: str, key: WatermarkKey) -> Detection | None:
    """The watermark in an image file, or None; a UserError for a decompression bomb."""
    try:
        luma = raster.decode_luma(data, media_type)
    except raster.ImageTooLarge:
        raise
    except UserError:
        return None  # corrupt, or not a kind of image the watermark is written into
    return detect_luma(luma, key)


class KeyedInspector(Inspector):
    """What every watermark inspector does around its own detection: it reads with the key
    store's reading key (without one nothing was ever watermarked here, so there is nothing to
    find) and gives one ``trace`` finding for a mark it finds."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def reads(self, content: Content) -> bool:
        """Whether the content is of a kind this inspector reads at all."""
        return True

    @abstractmethod
    def detect(self, content: Content, key: WatermarkKey) -> dict[str, Any] | None:
        """The finding's detail of the mark in the content, or None."""

    def inspect(self, content: Content) -> list[Finding]:
        if not self.reads(content):
            return []
        key = self.keys.for_reading()
        if key is None:
            return []
        detail = self.detect(content, key)
        return [] if detail is None else [Finding(SCHEME, "trace", detail)]


class WatermarkInspector(KeyedInspector):
    name: ClassVar[str] = SCHEME
    media: ClassVar[frozenset[Medium]] = frozenset({"image"})

    def reads(self, content: Content) -> bool:
        return raster.format_of(content.media_type) is not None

    def detect(self, content: Content, key: WatermarkKey) -> dict[str, Any] | None:
        found = detect(content.data, content.media_type, key)
        return None if found is None else found.to_dict()
