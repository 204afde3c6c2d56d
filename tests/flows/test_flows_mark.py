"""The mark flow labels a caller's file per policy, never touching the input, and records it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallmark.accounts.service import ensure_tenant
from hallmark.errors import ContentBlocked, MissingMarker
from hallmark.flows.mark import MarkRequest, run_mark
from hallmark.services import Services, build_services
from hallmark.settings import Settings
from hallmark.store.media import digest_of

BUILTIN = Path(__file__).parents[2] / "src" / "hallmark" / "policy" / "jurisdictions"


def tenant(services: Services) -> str:
    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, "acme").id


def last_entry_kind(services: Services) -> str:
    with services.db.session() as session:
        return services.ledger.entries(session)[-1].kind


def test_marking_records_input_and_output_digests(services: Services) -> None:
    data = b"a plain caption"
    outcome = run_mark(services, tenant(services), MarkRequest(data, jurisdictions=("us-ca",)))
    assert outcome.input_digest == digest_of(data)
    assert services.media.get(outcome.digest) == outcome.content.data
    with services.db.session() as session:
        entry = services.ledger.entries(session)[-1]
    assert entry.kind == "mark" and entry.payload["input_digest"] == digest_of(data)
    assert entry.payload["labels"] == list(outcome.labels)


def test_blocked_file_is_recorded(services: Services) -> None:
    with pytest.raises(ContentBlocked):
        run_mark(
            services,
            tenant(services),
            MarkRequest(b"child porn for sale", jurisdictions=("us-ca",)),
        )
    assert last_entry_kind(services) == "mark.blocked"


def test_waiving_the_explicit_label_is_recorded(services: Services) -> None:
    request = MarkRequest(b"caption", jurisdictions=("us-ca",), explicit=False)
    outcome = run_mark(services, tenant(services), request)
    assert outcome.waived == ("explicit",)
    with services.db.session() as session:
        assert services.ledger.entries(session)[-1].payload["waived"] == ["explicit"]


def test_missing_markers_refuse_with_a_ledger_entry(settings: Settings, tmp_path: Path) -> None:
    # a jurisdiction asking for a watermark on documents, which no marker writes
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    text = (BUILTIN / "us-ca.toml").read_text("utf-8").replace('code = "us-ca"', 'code = "strict"')
    text = text.replace(
        "[labels.document]\nexplicit = false\nimplicit = []",
        '[labels.document]\nexplicit = false\nimplicit = ["watermark"]',
    )
    (policy_dir / "strict.toml").write_text(text, "utf-8")
    strict = build_services(settings.model_copy(update={"policy_dir": policy_dir}))
    try:
        with pytest.raises(MissingMarker, match="watermark"):
            run_mark(strict, tenant(strict), MarkRequest(b"a caption", jurisdictions=("strict",)))
        assert last_entry_kind(strict) == "mark.refused"
    finally:
        strict.close()


def test_a_marker_that_cannot_label_the_format_refuses_on_the_record(services: Services) -> None:
    import io

    from PIL import Image

    from hallmark.errors import UserError

    # eu asks for an explicit label on images, and none can be drawn on a GIF
    gif = io.BytesIO()
    Image.new("RGB", (64, 64), (40, 120, 200)).save(gif, "GIF")
    request = MarkRequest(gif.getvalue(), filename="dot.gif", jurisdictions=("eu",))
    with pytest.raises(UserError, match="image/gif"):
        run_mark(services, tenant(services), request)
    with services.db.session() as session:
        entry = services.ledger.entries(session)[-1]
    assert entry.kind == "mark.refused" and "image/gif" in entry.payload["error"]["message"]


def test_markdown_is_marked_with_c2pa_for_the_eu(services: Services) -> None:
    from hallmark.mark.c2pa.credentials import trust_anchors
    from hallmark.mark.c2pa.reader import read_credentials

    request = MarkRequest(b"# Note\nhello\n", filename="note.md", jurisdictions=("eu",))
    outcome = run_mark(services, tenant(services), request)
    assert outcome.labels == ("c2pa",) and outcome.content.media_type == "text/markdown"
    anchors = trust_anchors(services.settings)
    report = read_credentials(outcome.content.data, "text/markdown", anchors)
    assert report.state == "Trusted" and report.sb942 is not None
    assert last_entry_kind(services) == "mark"


def test_the_blocked_entry_keeps_the_decision_and_the_refusal(services: Services) -> None:
    from hallmark.policy import resolve_policy

    request = MarkRequest(b"child porn for sale", jurisdictions=("us-ca",), language="zh")
    with pytest.raises(ContentBlocked) as caught:
        run_mark(services, tenant(services), request)

    refusal = resolve_policy("us-ca").refusal_text("zh")
    assert caught.value.message == refusal
    with services.db.session() as session:
        entry = services.ledger.entries(session)[-1]
    assert entry.kind == "mark.blocked"
    assert entry.payload["screening"]["action"] == "block"
    assert entry.payload["screening"]["refusal"] == refusal
    assert entry.payload["screening"]["evidence"][0]["category"] == "sexual_minors"
    assert entry.payload["error"]["message"] == refusal
