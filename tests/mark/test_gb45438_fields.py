"""The AIGC label: canonical output in the standard's order, lenient input."""

from __future__ import annotations

import json

import pytest

from hallmark.mark.gb45438 import AIGCFields, FieldsError, parse_fields
from hallmark.mark.gb45438.fields import FIELD_NAMES

DOUBAO = (
    '{"Label":"1","ContentProducer":"001191110102MACQD9K64010000","ProduceID":"abc",'
    '"ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}'
)


def test_canonical_json_has_the_seven_keys_in_the_standards_order() -> None:
    fields = AIGCFields(ContentProducer="001191110102MACQD9K64010000", ProduceID="abc")
    assert fields.to_json() == DOUBAO
    assert list(json.loads(fields.to_json())) == list(FIELD_NAMES)


def test_extra_keys_survive_after_the_standard_ones() -> None:
    raw = json.dumps({"SecurityData": {"Type": "x"}, "ProduceID": "p", "Label": "1"})
    fields = parse_fields(raw)
    assert list(json.loads(fields.to_json()))[-1] == "SecurityData"
    assert fields.with_values(PropagateID="q").extra == {"SecurityData": {"Type": "x"}}


@pytest.mark.parametrize(
    "raw",
    [
        DOUBAO,
        json.dumps({"AIGC": json.loads(DOUBAO)}),  # EXIF UserComment style
        json.dumps({"AIGC": DOUBAO}),  # the object as a JSON string inside
        json.dumps(DOUBAO),  # a JSON string holding the JSON
        '{"label": 1, "contentproducer": "001191110102MACQD9K64010000", "produceid": "abc"}',
        "{Label: 1, ContentProducer: '001191110102MACQD9K64010000', ProduceID: abc}",
        "  \x00" + DOUBAO + "\x00 ",
        DOUBAO.encode(),
    ],
)
def test_lenient_parsing_reads_every_variant(raw: str | bytes) -> None:
    fields = parse_fields(raw)
    assert (fields.Label, fields.ContentProducer, fields.ProduceID) == (
        "1",
        "001191110102MACQD9K64010000",
        "abc",
    )


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '{"title": "x"}', "{", "42"])
def test_values_that_are_not_labels_are_refused(raw: str) -> None:
    with pytest.raises(FieldsError):
        parse_fields(raw)


def test_oversized_values_are_refused_unparsed() -> None:
    with pytest.raises(FieldsError, match="longer"):
        parse_fields('{"Label": "' + "1" * (1 << 20) + '"}')


def test_a_label_without_label_field_reads_as_empty_not_as_generated() -> None:
    assert parse_fields('{"ContentProducer": "x"}').Label == ""


def test_with_values_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError):
        AIGCFields().with_values(Lable="1")
