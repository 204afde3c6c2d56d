"""GB 45438-2025 implicit labels: the ``AIGC`` metadata, written and read.

One module per container: ``png``, ``jpeg``, ``webp`` (XMP, plus PNG's ``AIGC`` text chunk),
``text`` (Markdown / plain-text front matter), ``pdf`` (XMP and document info, appended as an
incremental update), ``mp3`` (ID3 ``TXXX``), ``wav`` (INFO entry and XMP), ``mp4`` (MP4/MOV
``udta/meta`` keyed item); ``xmp`` and ``exif`` are shared by the formats that carry them;
``fields`` is the label itself and ``integrity`` its ReservedCode1/2 values.

The integrity key lives in ``HALLMARK_HOME/keys`` (``KeyStore(settings.keys_dir)``).
"""

from __future__ import annotations

from hallmark.mark.gb45438.fields import AIGCFields, FieldsError, Reading, parse_fields
from hallmark.mark.gb45438.formats import SUPPORTED, format_for
from hallmark.mark.gb45438.inspector import GB45438Inspector
from hallmark.mark.gb45438.integrity import IntegrityKey, KeyStore, verify
from hallmark.mark.gb45438.marker import GB45438Marker, add_propagator, produce
from hallmark.mark.gb45438.xmp import read_xmp, write_xmp
from hallmark.registry import Components

__all__ = [
    "SUPPORTED",
    "AIGCFields",
    "FieldsError",
    "GB45438Inspector",
    "GB45438Marker",
    "IntegrityKey",
    "KeyStore",
    "Reading",
    "add_propagator",
    "format_for",
    "parse_fields",
    "produce",
    "read_xmp",
    "register",
    "verify",
    "write_xmp",
]


def register(components: Components) -> None:
    keys = KeyStore(components.settings.keys_dir)
    components.markers.register("gb45438", GB45438Marker(keys))
    components.inspectors.register("gb45438", GB45438Inspector(keys))
