"""The GB 45438-2025 implicit label: the ``AIGC`` JSON object and its seven fields.

Writers emit one canonical form (keys in the standard's order, compact, UTF-8); readers are
lenient: any key case, numbers for strings, the object wrapped as ``{"AIGC": {...}}`` or given
as a JSON string, and a loose YAML flow mapping (``{Label: 1, ...}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIELD_NAMES: tuple[str, ...] = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
_BY_LOWER = {name.lower(): name for name in FIELD_NAMES}
PRODUCER_FIELDS = FIELD_NAMES[:3]  # what ReservedCode1 protects
PROPAGATOR_FIELDS = FIELD_NAMES[:6]  # what ReservedCode2 protects
MAX_LABEL_CHARS = 1 << 20  # a label is a few hundred bytes; refuse to parse megabytes
_LOOSE_PAIR = re.compile(r"\s*([^:,{}]+?)\s*:\s*(\"[^\"]*\"|'[^']*'|[^,{}]*?)\s*(?:,|$)")


class FieldsError(ValueError):
    """The text is not an AIGC label."""


@dataclass(slots=True, frozen=True)
class AIGCFields:
    """One AIGC label. Empty strings are fields not set; ``extra`` keeps keys we don't know
    (e.g. the TC260 guide's ``SecurityData``) so a propagator does not drop them."""

    Label: str = "1"
    ContentProducer: str = ""
    ProduceID: str = ""
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The seven fields in the standard's order, then any extra keys."""
        ordered: dict[str, Any] = {name: getattr(self, name) for name in FIELD_NAMES}
        ordered.update({k: v for k, v in self.extra.items() if k not in ordered})
        return ordered

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    def subset(self, names: tuple[str, ...]) -> dict[str, str]:
        return {name: getattr(self, name) for name in names}

    def with_values(self, **values: str) -> AIGCFields:
        unknown = set(values) - set(FIELD_NAMES)
        if unknown:
            raise TypeError(f"not AIGC fields: {', '.join(sorted(unknown))}")
        return AIGCFields(**{**self.subset(FIELD_NAMES), **values}, extra=self.extra)

    @property
    def has_propagator(self) -> bool:
        return bool(self.ContentPropagator or self.PropagateID or self.ReservedCode2)


_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def canonical_json(value: Mapping[str, Any]) -> str:
    return _CANONICAL.encode(value)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return canonical_json(value) if isinstance(value, Mapping) else json.dumps(value)


def fields_from_mapping(mapping: Mapping[str, Any]) -> AIGCFields:
    """Fields from a decoded object, unwrapping ``{"AIGC": {...}}``; raises FieldsError."""
    keys = {str(k).strip().lower(): k for k in mapping}
    if "aigc" in keys and not keys.keys() & _BY_LOWER.keys():
        return parse_fields(mapping[keys["aigc"]])  # {"AIGC": {...}}, as in EXIF UserComment
    values: dict[str, str] = {}
    extra: dict[str, Any] = {}
    for key, value in mapping.items():
        name = _BY_LOWER.get(str(key).strip().lower())
        if name is None:
            extra[str(key)] = value
        else:
            values[name] = _as_text(value)
    if not values:
        raise FieldsError("no AIGC field (Label, ContentProducer, ...) in the object")
    values.setdefault("Label", "")
    return AIGCFields(**values, extra=extra)


def _loose_mapping(text: str) -> dict[str, str] | None:
    """``{Label: 1, ContentProducer: '001...'}``: a YAML flow mapping that is not JSON."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return None
    pairs = _LOOSE_PAIR.findall(body[1:-1])
    if not pairs:
        return None
    return {key.strip("'\" "): value.strip().strip("'\"") for key, value in pairs}


def parse_fields(raw: str | bytes | Mapping[str, Any]) -> AIGCFields:
    """An AIGC label from any serialization's value; raises FieldsError when it is not one."""
    if isinstance(raw, Mapping):
        return fields_from_mapping(raw)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        raise FieldsError(f"an AIGC label is a JSON object, not {type(raw).__name__}")
    text = raw.strip().strip("\x00").strip()
    if len(text) > MAX_LABEL_CHARS:
        raise FieldsError(f"the AIGC value is longer than {MAX_LABEL_CHARS} characters")
    try:
        value = json.loads(text)
    except ValueError:
        loose = _loose_mapping(text)
        if loose is None:
            raise FieldsError("the AIGC value is not a JSON object") from None
        return fields_from_mapping(loose)
    if isinstance(value, str) and value.strip().startswith("{"):
        return parse_fields(value)  # a JSON string holding the JSON object
    if not isinstance(value, Mapping):
        raise FieldsError("the AIGC value is not a JSON object")
    return fields_from_mapping(value)


@dataclass(slots=True, frozen=True)
class Reading:
    """One AIGC label found in a file: where it was, the raw value, and its fields when the
    value parses (``None`` with ``error`` when it does not)."""

    serialization: str
    raw: str
    fields: AIGCFields | None
    error: str = ""


def reading(serialization: str, raw: str | bytes | Mapping[str, Any]) -> Reading:
    """A Reading of ``raw``, parsed when it is a label; the raw text kept short for reports."""
    if isinstance(raw, bytes):
        shown = raw.decode("utf-8", errors="replace")
    else:
        shown = raw if isinstance(raw, str) else canonical_json(raw)
    try:
        return Reading(serialization, shown[:4096], parse_fields(raw))
    except FieldsError as exc:
        return Reading(serialization, shown[:4096], None, str(exc))
