"""The receive flow: inspect, classify (Labeling Measures Art. 6), screen, label, record."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallmark.accounts.service import ensure_tenant
from hallmark.errors import ContentBlocked, UserError
from hallmark.flows.receive import ReceiveRequest, run_receive
from hallmark.services import Services, build_services
from hallmark.settings import Settings

BUILTIN = Path(__file__).parents[2] / "src" / "hallmark" / "policy" / "jurisdictions"

FRONT_MATTER = (
    '---\ntitle: note\nAIGC: {"Label": "1", "ContentProducer": "001191110102MACQD9K64010000", '
    '"ProduceID": "abc"}\n---\nThe body.\n'
)


def tenant(services: Services) -> str:
    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, "acme").id


def receive_text(services: Services, text: str, **kw: object) -> object:
    return run_receive(
        services,
        tenant(services),
        ReceiveRequest(text.encode(), "text/plain; charset=utf-8", inline_text=True, **kw),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "declared", "expected", "label"),
    [
        (FRONT_MATTER, False, "confirmed", "AI生成"),
        ("a holiday photo caption", True, "possible", "可能为AI生成"),
        ("本文由AI生成。", False, "suspected", "疑似AI生成"),
        ("a holiday photo caption", False, "none", None),
    ],
)
def test_classification_and_platform_label(
    services: Services, text: str, declared: bool, expected: str, label: str | None | None
) -> None:
    outcome = receive_text(services, text, declared_ai=declared, jurisdictions=("cn",))
    assert outcome.classification == expected  # type: ignore[attr-defined]
    # The notice is shown around the text, not written into it (Labeling Measures Art. 6).
    assert outcome.content.text == text  # type: ignore[attr-defined]
    assert outcome.platform_label == label  # type: ignore[attr-defined]
    with services.db.session() as session:
        entry = services.ledger.entries(session)[-1]
    assert entry.kind == "receive" and entry.payload["classification"] == expected


def test_original_upload_is_kept_even_when_blocked(services: Services) -> None:
    data = b"selling child porn here"
    with pytest.raises(ContentBlocked):
        run_receive(services, tenant(services), ReceiveRequest(data, "text/plain"))
    from hallmark.store.media import digest_of

    assert services.media.get(digest_of(data)) == data
    with services.db.session() as session:
        assert services.ledger.entries(session)[-1].kind == "receive.blocked"


def test_unsupported_media_type_and_empty_upload_are_user_errors(services: Services) -> None:
    with pytest.raises(UserError, match="unsupported media type"):
        run_receive(services, tenant(services), ReceiveRequest(b"x", "application/x-msdownload"))
    with pytest.raises(UserError, match="empty"):
        run_receive(services, tenant(services), ReceiveRequest(b"", "text/plain"))


def test_a_blocked_upload_refuses_in_the_users_language(services: Services) -> None:
    from hallmark.policy import resolve_policy

    request = ReceiveRequest("法@轮功".encode(), "text/plain", jurisdictions=("cn",), language="en")
    with pytest.raises(ContentBlocked) as caught:
        run_receive(services, tenant(services), request)

    assert caught.value.message == resolve_policy("cn").refusal_text("en")
    assert caught.value.details["categories"] == ["cult"]
    with services.db.session() as session:
        entry = services.ledger.entries(session)[-1]
    assert entry.payload["screening"]["evidence"] == caught.value.details["evidence"]


def test_a_label_receive_never_writes_needs_no_marker(tmp_path: Path, settings: Settings) -> None:
    """Receive only carries an existing GB 45438 label on; a policy that also asks for a
    watermark on documents, which no marker writes, does not stop an upload."""
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    text = (BUILTIN / "cn.toml").read_text("utf-8").replace('code = "cn"', 'code = "strict"')
    old = '[labels.document]\nexplicit = true\nimplicit = ["gb45438"]'
    assert old in text
    text = text.replace(old, old.replace('"gb45438"]', '"gb45438", "watermark"]'))
    (policy_dir / "strict.toml").write_text(text, "utf-8")
    strict = build_services(settings.model_copy(update={"policy_dir": policy_dir}))
    try:
        request = ReceiveRequest(
            FRONT_MATTER.encode(), "text/markdown", filename="note.md", jurisdictions=("strict",)
        )
        outcome = run_receive(strict, tenant(strict), request)
        assert outcome.classification == "confirmed"
        assert outcome.labels == ("gb45438",)
        with strict.db.session() as session:
            assert strict.ledger.entries(session)[-1].kind == "receive"
    finally:
        strict.close()
