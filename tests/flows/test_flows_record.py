"""record_content: the ledger entry and content record, with the watermark id when there is one."""

from __future__ import annotations

from typing import Any

from hallmark.accounts.service import ensure_tenant
from hallmark.content import Content
from hallmark.flows.common import record_content
from hallmark.services import Services
from hallmark.store.models import ContentRecord, utcnow_iso

WATERMARK = {
    "id": "0A1B2C3D4E5F",
    "payload": "0a1b2c3d4e5f1234",
    "key_id": "00112233aabbccdd",
    "algorithm": "hallmark-tiles-v1",
    "existing": True,
}


def record(services: Services, content_id: str, content: Content) -> tuple[ContentRecord, Any]:
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, "acme").id
    _, seq = record_content(
        services,
        tenant_id,
        flow="receive",
        content_id=content_id,
        created_at=utcnow_iso(),
        content=content,
        labels=("watermark",),
        classification="suspected",
        decision="allow",
        jurisdictions=("cn",),
        payload={"medium": content.medium},
    )
    with services.db.session() as session:
        stored = session.get(ContentRecord, content_id)
        (entry,) = services.ledger.entries(session, after=seq - 1, limit=1)
    assert stored is not None and stored.ledger_seq == seq == entry.seq
    return stored, entry


def test_the_watermark_id_goes_on_the_record_and_in_the_entry(services: Services) -> None:
    content = Content("image", "image/png", b"pixels", {"watermark": dict(WATERMARK)})
    stored, entry = record(services, "1" * 32, content)
    assert stored.watermark_id == "0a1b2c3d4e5f"
    assert entry.payload["watermark"] == WATERMARK
    assert entry.payload["content_id"] == "1" * 32


def test_content_without_a_watermark_has_no_watermark_id(services: Services) -> None:
    stored, entry = record(services, "2" * 32, Content.from_text("a caption"))
    assert stored.watermark_id is None
    assert "watermark" not in entry.payload


def test_the_audio_notice_written_goes_in_the_entry(services: Services) -> None:
    notice = {"kind": "spoken", "at": [[0.0, 2.1], [12.3, 14.4]], "language": "en"}
    content = Content("audio", "audio/wav", b"RIFF", {"audio_notice": notice})
    _, entry = record(services, "3" * 32, content)
    assert entry.payload["audio_notice"] == notice
