"""XMP: TC260:AIGC written as an escaped attribute, read in every form, merged into existing
packets, and never an entity expanded."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from hallmark.mark.gb45438 import AIGCFields, read_xmp, write_xmp
from hallmark.mark.gb45438.xmp import NS_RDF, NS_TC260, XMPError, parse_packet

FIELDS = AIGCFields(ContentProducer="001191110102MACQD9K64010000", ProduceID='a"b<c>&d')
JSON = FIELDS.to_json()


def test_written_packet_is_well_formed_and_reads_back() -> None:
    packet = write_xmp(JSON)
    text = packet.decode("utf-8")
    assert text.startswith("<?xpacket begin=") and text.endswith('<?xpacket end="w"?>')
    assert f'xmlns:TC260="{NS_TC260}"' in text and 'TC260:AIGC="{&quot;Label&quot;' in text
    root = parse_packet(packet)
    assert root.find(f".//*[@{{{NS_TC260}}}AIGC]") is not None
    [found] = read_xmp(packet)
    assert found.fields == FIELDS and found.serialization == "xmp"


def test_element_struct_and_alt_forms_are_read() -> None:
    rdf = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    tc = f'xmlns:TC260="{NS_TC260}"'
    escaped = JSON.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    element = f"<rdf:RDF {rdf}><rdf:Description {tc}><TC260:AIGC>{escaped}</TC260:AIGC>"
    element += "</rdf:Description></rdf:RDF>"
    struct = (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF {rdf}><rdf:Description {tc}>'
        '<TC260:AIGC rdf:parseType="Resource"><TC260:Label>2</TC260:Label>'
        "<TC260:ContentProducer>0011</TC260:ContentProducer></TC260:AIGC>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    alt = element.replace(f"<TC260:AIGC>{escaped}", f"<TC260:AIGC><rdf:Alt><rdf:li>{escaped}")
    alt = alt.replace("</TC260:AIGC>", "</rdf:li></rdf:Alt></TC260:AIGC>")
    assert read_xmp(element)[0].fields == FIELDS
    assert read_xmp(alt)[0].fields == FIELDS
    struct_fields = read_xmp(struct)[0].fields
    assert struct_fields is not None and (struct_fields.Label, struct_fields.ContentProducer) == (
        "2",
        "0011",
    )


def test_existing_properties_are_kept_and_an_old_label_replaced() -> None:
    existing = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:T="{NS_TC260}" T:AIGC="{{&quot;Label&quot;:&quot;3&quot;}}">'
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Sunset</rdf:li></rdf:Alt></dc:title>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    packet = write_xmp(JSON, existing)
    assert [r.fields for r in read_xmp(packet)] == [FIELDS]
    root = parse_packet(packet)
    title = root.find(".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li")
    assert title is not None and title.text == "Sunset"
    assert title.get("{http://www.w3.org/XML/1998/namespace}lang") == "x-default"


def test_an_unreadable_existing_packet_is_replaced() -> None:
    assert read_xmp(write_xmp(JSON, b"<x:xmpmeta><broken"))[0].fields == FIELDS


@pytest.mark.parametrize(
    "packet",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        '"&lol;&lol;&lol;">]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        "<rdf:Description>&lol2;</rdf:Description></rdf:RDF>",
        '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>',
    ],
)
def test_dtds_and_entities_are_refused_unparsed(packet: str) -> None:
    with pytest.raises(XMPError, match="DTD"):
        parse_packet(packet)
    assert read_xmp(packet) == []


def test_a_value_that_is_not_a_label_is_reported_with_its_error() -> None:
    packet = write_xmp("not json")
    [found] = read_xmp(packet)
    assert found.fields is None and found.raw == "not json" and found.error
    ET.fromstring(packet.decode().split("?>", 1)[1].rsplit("<?", 1)[0])  # still valid XML


def test_a_new_packet_is_what_adding_the_label_to_an_empty_packet_gives() -> None:
    empty = (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{NS_RDF}">'
        '<rdf:Description rdf:about=""/></rdf:RDF></x:xmpmeta>'
    )
    for value in (JSON, 'tab\tquote"<&>\n中文', ""):
        assert write_xmp(value) == write_xmp(value, empty)
