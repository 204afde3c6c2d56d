"""The screen flow: a decision on a text or a file without generating anything, one ledger
entry per call (a whole batch included), digests and never the text."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
from PIL import ImageDraw

from hallmark.accounts.service import ensure_tenant
from hallmark.errors import PayloadTooLarge, UnknownJurisdiction, UserError
from hallmark.flows.screen import ScreenRequest, TextBatch, parse_batch_line, run_screen
from hallmark.mark.explicit_image import font_for_cap
from hallmark.mark.watermark.attacks import synthetic_scene
from hallmark.services import Services
from hallmark.store.media import digest_of
from helpers import text_pdf

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32


def tenant(services: Services) -> str:
    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, "acme").id


def entries(services: Services) -> list[tuple[str, dict[str, Any]]]:
    with services.db.session() as session:
        return [(entry.kind, entry.payload) for entry in services.ledger.entries(session)]


def test_a_blocked_text_is_a_decision_not_an_error(services: Services) -> None:
    text = "Please, HOW TO MAKE A BOMB?"
    outcome = run_screen(
        services, tenant(services), ScreenRequest(text=text, jurisdictions=("us-ca",))
    )

    assert outcome.decision.action == "block" and "lexicon" in outcome.screened_by
    assert outcome.digest == digest_of(text.encode("utf-8"))
    kind, payload = entries(services)[-1]
    assert kind == "screen" and payload["screening"] == outcome.decision.to_dict()
    assert text not in json.dumps(payload, ensure_ascii=False)


def test_a_pdfs_text_is_screened_page_by_page(services: Services) -> None:
    data = text_pdf("A quarterly report.", "how to make a bomb")
    outcome = run_screen(services, tenant(services), ScreenRequest(data=data, filename="r.pdf"))

    assert outcome.medium == "document" and outcome.decision.action == "block"
    assert "lexicon" in outcome.screened_by and "terrorism" in outcome.decision.categories
    clean = run_screen(
        services, tenant(services), ScreenRequest(data=text_pdf("A quarterly report."))
    )
    assert clean.decision.action == "allow" and "lexicon" in clean.screened_by


def test_a_broken_pdf_is_a_user_error(services: Services) -> None:
    with pytest.raises(UserError, match="PDF"):
        run_screen(services, tenant(services), ScreenRequest(data=b"%PDF-1.4\n(hi)\n%%EOF\n"))


def test_a_corrupt_audio_file_is_a_user_error_and_not_recorded(services: Services) -> None:
    tenant_id = tenant(services)
    before = len(entries(services))
    with pytest.raises(UserError, match="WAV"):
        run_screen(services, tenant_id, ScreenRequest(data=WAV, filename="x.wav"))
    assert len(entries(services)) == before


def png_with_text(text: str) -> bytes:
    image = synthetic_scene(5, 640, 480)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 400, 150), fill="white")
    draw.text((60, 60), text, font=font_for_cap(48), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("text", "action"), [("法轮功", "block"), ("", "allow")])
def test_an_image_is_screened_by_the_image_screen(
    services: Services, text: str, action: str
) -> None:
    data = png_with_text(text)
    request = ScreenRequest(data=data, filename="x.png", jurisdictions=("cn",))

    outcome = run_screen(services, tenant(services), request)

    assert outcome.medium == "image" and outcome.decision.action == action
    assert outcome.screened_by == ("image",) and outcome.note is None
    kind, payload = entries(services)[-1]
    assert kind == "screen" and payload["screened_by"] == ["image"]
    assert payload["screening"] == outcome.decision.to_dict()
    if text:
        (hit,) = payload["screening"]["evidence"]
        assert hit["term"] == text and hit["evidence"]["kind"] == "image"


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (ScreenRequest(), UserError),
        (ScreenRequest(text="hi", data=b"hi"), UserError),
        (ScreenRequest(text=" \t\n"), UserError),
        (ScreenRequest(data=b""), UserError),
        (ScreenRequest(text="x" * 1_000_001), PayloadTooLarge),
        (ScreenRequest(text="hi", jurisdictions=("mars",)), UnknownJurisdiction),
        (ScreenRequest(text="hi", language="tlh"), UserError),
        (ScreenRequest(data=PNG, filename="x.png"), UserError),
    ],
)
def test_bad_requests_raise_and_leave_no_entry(
    services: Services, request_: ScreenRequest, error: type[Exception]
) -> None:
    tenant_id = tenant(services)
    before = len(entries(services))
    with pytest.raises(error):
        run_screen(services, tenant_id, request_)
    assert len(entries(services)) == before


def test_a_batch_is_one_ledger_entry_an_auditor_can_check(services: Services) -> None:
    tenant_id = tenant(services)
    before = len(entries(services))
    texts = ["Have a lovely day!", "我想加入法@轮功", "well, shit happens"]
    batch = TextBatch(services, tenant_id, jurisdictions=("cn",), language="en", source="in")

    decisions = [batch.screen(texts[0]), batch.screen(texts[1])]
    batch.reject()
    decisions.append(batch.screen(texts[2]))
    seq = batch.record()

    assert [d.action for d in decisions] == ["allow", "block", "flag"]
    assert decisions[1].refusal.startswith("Sorry")
    assert len(entries(services)) == before + 1
    kind, payload = entries(services)[-1]
    assert kind == "screen.batch" and seq > 0
    assert payload["lines"] == 4 and payload["per_line"] == "ab-f"
    assert payload["actions"] == {"allow": 1, "flag": 1, "block": 1, "rejected": 1}
    assert payload["categories"] == {"cult": 1, "profanity": 1}
    expected = hashlib.sha256(
        "".join(digest_of(t.encode("utf-8")) + "\n" for t in texts).encode()
    ).hexdigest()
    assert payload["lines_digest"] == f"sha256:{expected}"
    assert not any(text in json.dumps(payload, ensure_ascii=False) for text in texts)


def test_a_bad_batch_text_raises_before_it_is_counted(services: Services) -> None:
    batch = TextBatch(services, tenant(services), jurisdictions=("eu",))
    with pytest.raises(UserError, match="empty"):
        batch.screen("  ")
    assert batch.lines == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "blank"),
        (b"{not json", "not JSON"),
        (b'"just a string"', '"text" string'),
        (b'{"txt": "hi"}', '"text" string'),
        (b'{"text": 5}', '"text" string'),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_batch_lines_say_what_is_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_batch_line(raw)


def test_a_batch_line_gives_its_text_and_id() -> None:
    assert parse_batch_line('\ufeff{"text": "你好", "id": 7}'.encode()) == ("你好", 7)
    assert parse_batch_line(b'{"text": "hi"}') == ("hi", None)
