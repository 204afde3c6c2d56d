"""The receive flow with the gb45438 and explicit document markers registered: a Markdown
upload carrying another service's AIGC front matter is confirmed, labelled and propagated."""

from __future__ import annotations

import json

import pytest
from test_gb45438_support import FOREIGN

from hallmark.accounts.service import ensure_tenant
from hallmark.flows.receive import ReceiveOutcome, ReceiveRequest, run_receive
from hallmark.mark.gb45438 import KeyStore
from hallmark.mark.gb45438.text import read
from hallmark.services import Services
from hallmark.settings import Settings

UPLOAD = (
    "---\ntitle: note\nAIGC: "
    + json.dumps({"Label": "1", "ContentProducer": FOREIGN, "ProduceID": "abc"})
    + "\n---\nThe body.\n"
)


@pytest.fixture(autouse=True)
def home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The registered marker finds its key through HALLMARK_HOME, as a deployment does."""
    monkeypatch.setenv("HALLMARK_HOME", str(settings.home))


def receive(services: Services, data: bytes, media_type: str) -> ReceiveOutcome:
    with services.db.session() as session:
        tenant = ensure_tenant(session, services.ledger, "acme").id
    request = ReceiveRequest(data, media_type, filename="a.md", jurisdictions=("cn",))
    return run_receive(services, tenant, request)


def test_markdown_with_aigc_front_matter_is_confirmed_labelled_and_propagated(
    services: Services, settings: Settings
) -> None:
    outcome = receive(services, UPLOAD.encode(), "text/markdown")
    assert outcome.classification == "confirmed"
    assert outcome.labels == ("gb45438",)  # the notice goes around it: the feed's tag
    assert outcome.platform_label == "AI生成"
    text = outcome.content.text
    front, body = text.split("\n---\n", 1)
    assert body == "The body.\n"  # the body as it came
    assert "title: note" in front
    [found] = read(outcome.content.data)
    assert found.fields is not None
    assert (found.fields.ContentProducer, found.fields.ProduceID) == (FOREIGN, "abc")
    assert found.fields.ContentPropagator == settings.producer_code
    assert found.fields.PropagateID == outcome.content_id
    assert (settings.keys_dir / "gb45438-hmac.key").exists()
    [finding] = [f for f in outcome.findings if f.scheme == "gb45438"]
    assert finding.detail["integrity"] == "unverifiable"  # another service's code, on arrival


def test_the_propagated_upload_reads_back_valid(services: Services) -> None:
    first = receive(services, UPLOAD.encode(), "text/markdown")
    again = receive(services, first.content.data, "text/markdown")
    [finding] = [f for f in again.findings if f.scheme == "gb45438"]
    assert finding.detail["integrity"] == "valid"
    assert "【AI生成】" not in again.content.text


def test_a_plain_text_upload_without_a_label_is_left_alone(services: Services) -> None:
    outcome = receive(services, b"A holiday note.\n", "text/plain")
    assert outcome.classification == "none" and outcome.labels == ()
    assert KeyStore(services.settings.keys_dir).for_reading() is None
