"""The XMP serialization: property ``TC260:AIGC`` (namespace
``http://www.tc260.org.cn/ns/AIGC/1.0/``) whose value is the label's JSON, escaped.

``write_xmp`` adds the property to an existing packet (keeping everything else in it) or makes a
new one; ``read_xmp`` finds the property as an attribute, as an element's text, or as a struct of
field elements. Packets that declare a DTD or entities are refused unparsed: nothing here ever
expands an entity.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any, cast
from xml.sax.saxutils import escape

from hallmark.mark.gb45438.fields import Reading, reading

NS_TC260 = "http://www.tc260.org.cn/ns/AIGC/1.0/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_X = "adobe:ns:meta/"
PROPERTY = f"{{{NS_TC260}}}AIGC"
MAX_PACKET_BYTES = 1 << 20
_PREFIXES = {
    NS_X: "x",
    NS_RDF: "rdf",
    NS_TC260: "TC260",
    "http://www.w3.org/XML/1998/namespace": "xml",
}
_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_HEADER = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_TRAILER = '\n<?xpacket end="w"?>'


class XMPError(ValueError):
    """The packet is not XMP we can read safely."""


def parse_packet(packet: bytes | str) -> ET.Element:
    """The packet's XML tree; raises XMPError for a bad, oversized or DTD-bearing packet."""
    return _parse(packet)[0]


def _parse(packet: bytes | str) -> tuple[ET.Element, dict[str, str]]:
    """The tree and the prefixes the packet declared (uri -> prefix), so they can be kept."""
    text = packet.decode("utf-8", errors="replace") if isinstance(packet, bytes) else packet
    if len(text) > MAX_PACKET_BYTES:
        raise XMPError(f"the XMP packet is larger than {MAX_PACKET_BYTES} bytes")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise XMPError("the XMP packet declares a DTD or entities; refused")
    start = text.find("<x:xmpmeta")
    if start < 0:
        start = text.find("<rdf:RDF")
    end_tag = "</x:xmpmeta>" if text.startswith("<x:xmpmeta", max(start, 0)) else "</rdf:RDF>"
    end = text.rfind(end_tag)
    body = text[start : end + len(end_tag)] if start >= 0 and end > start else text
    parser: ET.XMLPullParser[Any] = ET.XMLPullParser(events=("start-ns", "end"))
    prefixes: dict[str, str] = {}
    root: ET.Element | None = None
    try:
        parser.feed(body.strip().lstrip("\ufeff"))
        parser.close()
        for entry in parser.read_events():
            event, item = cast(tuple[str, Any], entry)
            if event == "start-ns":
                prefix, uri = item
                prefixes.setdefault(uri, prefix)
            else:
                root = item
    except ET.ParseError as exc:
        raise XMPError(f"the XMP packet is not well-formed XML: {exc}") from None
    if root is None:
        raise XMPError("the XMP packet is empty")
    return root, prefixes


def _descriptions(root: ET.Element) -> Iterator[ET.Element]:
    if root.tag == f"{{{NS_RDF}}}Description":
        yield root
    yield from root.iter(f"{{{NS_RDF}}}Description")


def _is_aigc(tag: str) -> bool:
    return tag == PROPERTY or tag.rpartition("}")[2] == "AIGC"


def read_xmp(packet: bytes | str, serialization: str = "xmp") -> list[Reading]:
    """Every AIGC property in the packet; [] when the packet cannot be read."""
    try:
        root = parse_packet(packet)
    except XMPError:
        return []
    found: list[Reading] = []
    for description in _descriptions(root):
        for name, value in description.attrib.items():
            if _is_aigc(name):
                found.append(reading(serialization, value))
        for child in description:
            if not _is_aigc(child.tag):
                continue
            leaves = {e.tag.rpartition("}")[2]: (e.text or "") for e in child.iter() if len(e) == 0}
            if len(child) and ("Label" in leaves or "ContentProducer" in leaves):
                found.append(reading(serialization, leaves))
            else:
                found.append(reading(serialization, "".join(child.itertext())))
    return found


def _new_root() -> ET.Element:
    root = ET.Element(f"{{{NS_X}}}xmpmeta")
    rdf = ET.SubElement(root, f"{{{NS_RDF}}}RDF")
    ET.SubElement(rdf, f"{{{NS_RDF}}}Description", {f"{{{NS_RDF}}}about": ""})
    return root


def write_xmp(json_text: str, existing: bytes | str | None = None) -> bytes:
    """A packet carrying ``TC260:AIGC`` = json_text, keeping the rest of ``existing``.

    An unreadable existing packet is replaced: it could not have been read by anyone."""
    if not existing:
        return _new_packet(json_text)
    prefixes: dict[str, str] = {}
    try:
        root, prefixes = _parse(existing)
    except XMPError:
        return _new_packet(json_text)
    descriptions = list(_descriptions(root))
    if not descriptions:
        rdf = root if root.tag == f"{{{NS_RDF}}}RDF" else root.find(f"{{{NS_RDF}}}RDF")
        if rdf is None:
            root = _new_root()
            rdf = root[0]
        descriptions = [ET.SubElement(rdf, f"{{{NS_RDF}}}Description", {f"{{{NS_RDF}}}about": ""})]
    for description in descriptions:
        for name in [n for n in description.attrib if _is_aigc(n)]:
            del description.attrib[name]
        for child in [c for c in description if _is_aigc(c.tag)]:
            description.remove(child)
    descriptions[0].set(PROPERTY, json_text)
    return (_HEADER + _serialize(root, prefixes) + _TRAILER).encode("utf-8")


# What ``_serialize`` makes of ``_new_root()`` with the property set: most files have no XMP
# yet, and filling this in costs a fraction of building and rendering the tree.
_NEW_PACKET = (
    f'<x:xmpmeta xmlns:x="{NS_X}" xmlns:rdf="{NS_RDF}" xmlns:TC260="{NS_TC260}">\n'
    ' <rdf:RDF>\n  <rdf:Description rdf:about="" TC260:AIGC={value}/>\n </rdf:RDF>\n'
    "</x:xmpmeta>"
)


def _new_packet(json_text: str) -> bytes:
    body = _NEW_PACKET.replace("{value}", _quote(json_text), 1)
    return (_HEADER + body + _TRAILER).encode("utf-8")


def _serialize(root: ET.Element, declared: dict[str, str]) -> str:
    """XML text for the tree, every namespace declared on the root with the packet's own
    prefixes where they are free (ElementTree's writer would need process-wide registration)."""
    prefixes = dict(_PREFIXES)
    taken = set(prefixes.values())
    for uri, prefix in declared.items():
        if uri not in prefixes and prefix and prefix not in taken:
            prefixes[uri] = prefix
            taken.add(prefix)

    def qname(tag: str) -> str:
        if not tag.startswith("{"):
            return tag
        uri, _, local = tag[1:].partition("}")
        prefix = prefixes.setdefault(uri, f"ns{len(prefixes)}")
        return f"{prefix}:{local}"

    def render(element: ET.Element, depth: int) -> str:
        name = qname(element.tag)
        attrs = "".join(f" {qname(k)}={_quote(v)}" for k, v in element.attrib.items())
        if depth == 0:
            attrs = "{ns}" + attrs
        pad = "\n" + " " * (depth + 1)
        inner = "".join(pad + render(child, depth + 1) for child in element)
        text = escape(element.text or "") if len(element) == 0 else ""
        if not inner and not text:
            return f"<{name}{attrs}/>"
        closing = "\n" + " " * depth if inner else ""
        return f"<{name}{attrs}>{text}{inner}{closing}</{name}>"

    body = render(root, 0)
    used = {uri: p for uri, p in prefixes.items() if p != "xml" and f"{p}:" in body}
    declarations = "".join(f" xmlns:{p}={_quote(uri)}" for uri, p in used.items())
    return body.replace("{ns}", declarations, 1)


def _quote(value: str) -> str:
    """A double-quoted attribute value: the JSON's quotes become ``&quot;``."""
    return '"' + escape(value, _ATTRIBUTE_ESCAPES) + '"'
