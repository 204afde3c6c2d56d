"""Markdown / plain text: ``AIGC: {json}`` in YAML front matter, added or replaced with the rest
kept, read in every form seen; and the explicit document label after the front matter."""

from __future__ import annotations

import json

import pytest
from test_gb45438_support import FOREIGN, PROVENANCE, label

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.base import LabelContext
from hallmark.mark.explicit_document import ExplicitDocumentLabel
from hallmark.mark.gb45438 import GB45438Inspector, KeyStore
from hallmark.mark.gb45438.text import content_digest, read, strip_label
from hallmark.policy import resolve_policy

MD = "text/markdown"
FOREIGN_JSON = json.dumps({"Label": "1", "ContentProducer": FOREIGN, "ProduceID": "f1"})


def inspect(text: str, keys: KeyStore, media_type: str = MD) -> list[dict[str, object]]:
    content = Content("document", media_type, text.encode())
    return [f.detail for f in GB45438Inspector(keys).inspect(content)]


@pytest.mark.parametrize(
    "document",
    [
        "# Title\n\nBody.\n",
        "---\ntitle: Note\ntags: [a, b]\n---\n# Title\n",
        f"---\ntitle: Note\nAIGC: {FOREIGN_JSON}\n---\nBody\n",
        "---\r\ntitle: Note\r\n---\r\nBody\r\n",
        "\ufeff---\ntitle: x\n---\nBody",
        "---\n---\nBody",
        "---\ntitle: only the opening\n",
        "",
    ],
)
def test_write_then_read_round_trips_and_keeps_the_rest(document: str, keys: KeyStore) -> None:
    labelled, fields = label(document.encode(), MD, keys)
    text = labelled.decode()
    assert text.count("AIGC:") == 1 and f"AIGC: {fields.to_json()}" in text
    for line in document.splitlines():
        if not line.startswith("AIGC") and line.strip("-\ufeff"):
            assert line in text
    assert strip_label(text).endswith(strip_label(document).lstrip("\ufeff"))
    assert content_digest(labelled) == content_digest(document.encode())
    [detail] = inspect(text, keys)
    assert detail["integrity"] == "valid" and detail["serialization"] == "front-matter"


def test_the_entry_is_replaced_in_place(keys: KeyStore) -> None:
    document = f"---\ntitle: a\nAIGC: {FOREIGN_JSON}\nauthor: b\n---\nBody\n"
    labelled, _ = label(document.encode(), MD, keys)
    lines = labelled.decode().splitlines()
    assert lines[:2] == ["---", "title: a"] and lines[2].startswith("AIGC: {")
    assert lines[3:] == ["author: b", "---", "Body"]


@pytest.mark.parametrize(
    "entry",
    [
        f"AIGC: {FOREIGN_JSON}",
        f"AIGC: '{FOREIGN_JSON}'",
        f"AIGC: {json.dumps(FOREIGN_JSON)}",
        f"AIGC:\n  Label: \"1\"\n  ContentProducer: {FOREIGN}\n  ProduceID: 'f1'\n",
        f'AIGC: {{\n  "Label": "1",\n  "ContentProducer": "{FOREIGN}",\n  "ProduceID": "f1"\n}}',
        f"aigc: {{Label: 1, ContentProducer: {FOREIGN}, ProduceID: f1}}",
    ],
)
def test_every_front_matter_form_is_read(entry: str, keys: KeyStore) -> None:
    [found] = read(f"---\ntitle: t\n{entry}\nlang: zh\n---\nBody\n".encode())
    assert found.fields is not None
    assert (found.fields.ContentProducer, found.fields.ProduceID) == (FOREIGN, "f1")
    [detail] = inspect(f"---\n{entry}\n---\nBody\n", keys)
    assert detail["integrity"] == "unverifiable"


def test_front_matter_that_is_not_a_label_is_a_trace(keys: KeyStore) -> None:
    content = Content("document", MD, b"---\nAIGC: yes please\n---\nBody\n")
    [finding] = GB45438Inspector(keys).inspect(content)
    assert finding.kind == "trace" and finding.detail["raw"] == "yes please"


def test_editing_the_body_makes_the_label_invalid(keys: KeyStore) -> None:
    labelled, _ = label(b"---\ntitle: a\n---\nThe body.\n", MD, keys)
    edited = labelled.decode().replace("The body.", "The b0dy.")
    assert inspect(edited, keys)[0]["integrity"] == "invalid"


def test_non_utf8_documents_cannot_be_labelled(keys: KeyStore) -> None:
    with pytest.raises(UserError, match="not UTF-8"):
        label("caf\xe9".encode("latin-1"), "text/plain", keys)


def context(language: str = "zh") -> LabelContext:
    policy = resolve_policy(["cn"])
    return LabelContext(policy, language, policy.label_text(language), PROVENANCE)


@pytest.mark.parametrize(
    ("media_type", "document", "expected"),
    [
        (MD, "---\ntitle: a\n---\n# Hi\n", "---\ntitle: a\n---\n> 【AI生成】\n\n# Hi\n"),
        (MD, "# Hi\n", "> 【AI生成】\n\n# Hi\n"),
        ("text/plain; charset=utf-8", "Hello", "【AI生成】\nHello"),
        ("text/plain", "---\nx: 1\n---", "---\nx: 1\n---\n【AI生成】\n"),
    ],
)
def test_explicit_document_label_goes_first_in_the_body(
    media_type: str, document: str, expected: str
) -> None:
    marker = ExplicitDocumentLabel()
    labelled = marker.mark(Content("document", media_type, document.encode()), context())
    assert labelled.text == expected
    assert marker.mark(labelled, context()).text == expected  # idempotent


def test_explicit_document_label_in_english_and_unsupported_types() -> None:
    content = Content("document", MD, b"# Hi\n")
    assert ExplicitDocumentLabel().mark(content, context("en")).text.startswith("> [AI-generated]")
    with pytest.raises(UserError, match="application/pdf"):
        ExplicitDocumentLabel().mark(Content("document", "application/pdf", b"%PDF-"), context())


def test_a_brace_inside_a_value_does_not_swallow_the_next_lines() -> None:
    entry = json.dumps({"Label": "1", "ContentProducer": FOREIGN, "ProduceID": "a{b"})
    [found] = read(f"---\nAIGC: {entry}\ntitle: t\n---\nBody\n".encode())
    assert found.fields is not None and found.fields.ProduceID == "a{b"
    assert strip_label(f"---\nAIGC: {entry}\ntitle: t\n---\nB\n") == "---\ntitle: t\n---\nB\n"
