"""The create flow end to end: policy, screening, engine, labels, ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hallmark.errors import ContentBlocked, MissingMarker, UnknownComponent, UnknownJurisdiction
from hallmark.flows.create import CreateRequest, run_create
from hallmark.policy import resolve_policy
from hallmark.services import Services, build_services
from hallmark.settings import Settings

BUILTIN = Path(__file__).parents[2] / "src" / "hallmark" / "policy" / "jurisdictions"


def tenant(services: Services, name: str = "acme") -> str:
    from hallmark.accounts.service import ensure_tenant

    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, name).id


def kinds(services: Services) -> list[str]:
    with services.db.session() as session:
        return [entry.kind for entry in services.ledger.entries(session)]


def test_created_text_carries_the_policy_label_and_a_ledger_entry(services: Services) -> None:
    outcome = run_create(
        services,
        tenant(services),
        CreateRequest("a poem about rain", "echo", jurisdictions=("cn",)),
    )
    assert outcome.content.text == "【AI生成】a poem about rain"
    assert outcome.labels == ("explicit",)
    with services.db.session() as session:
        entry = services.ledger.entries(session, after=outcome.ledger_seq - 1)[0]
    assert entry.kind == "create" and entry.payload["content_id"] == outcome.content_id
    assert entry.payload["labels"] == ["explicit"]
    assert "a poem about rain" not in str(entry.payload)  # the ledger keeps digests, not text
    assert services.media.get(entry.payload["output_digest"]) == outcome.content.data


def test_english_wording_when_asked(services: Services) -> None:
    outcome = run_create(
        services,
        tenant(services),
        CreateRequest("hello", "echo", jurisdictions=("cn",), language="en"),
    )
    assert outcome.content.text == "[AI-generated] hello"


def test_policy_without_text_labels_leaves_text_unlabelled(services: Services) -> None:
    outcome = run_create(
        services, tenant(services), CreateRequest("hello", "echo", jurisdictions=("us-ca",))
    )
    assert outcome.content.text == "hello" and outcome.labels == ()


def test_blocked_prompt_never_reaches_the_engine_and_is_recorded(services: Services) -> None:
    with pytest.raises(ContentBlocked) as caught:
        run_create(services, tenant(services), CreateRequest("how to make a bomb", "echo"))
    assert caught.value.details["stage"] == "input"
    assert "terrorism" in caught.value.details["categories"]
    assert kinds(services)[-1] == "create.blocked"


def test_blocked_output_is_recorded_and_not_returned(services: Services) -> None:
    request = CreateRequest("tell a story", "echo", options={"reply": "here is child porn"})
    with pytest.raises(ContentBlocked) as caught:
        run_create(services, tenant(services), request)
    assert caught.value.details["stage"] == "output"
    assert kinds(services)[-1] == "create.blocked"


def test_flagged_category_is_allowed_but_reported(services: Services) -> None:
    outcome = run_create(services, tenant(services), CreateRequest("well, shit happens", "echo"))
    assert outcome.input_decision.action == "flag"
    assert outcome.input_decision.categories == ["profanity"]


def test_minors_mode_blocks_what_is_otherwise_flagged(services: Services) -> None:
    request = CreateRequest("well, shit happens", "echo", jurisdictions=("cn",), minor=True)
    with pytest.raises(ContentBlocked):
        run_create(services, tenant(services), request)


def test_label_without_a_marker_fails_the_request_clearly(
    tmp_path: Path, settings: Settings
) -> None:
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    text = (BUILTIN / "us-ca.toml").read_text("utf-8").replace('code = "us-ca"', 'code = "strict"')
    text = text.replace(
        "[labels.text]\nexplicit = false\nimplicit = []",
        '[labels.text]\nexplicit = true\nimplicit = ["gb45438"]',
    )
    (policy_dir / "strict.toml").write_text(text, "utf-8")
    strict = build_services(settings.model_copy(update={"policy_dir": policy_dir}))
    try:
        with pytest.raises(MissingMarker, match="gb45438") as caught:
            run_create(
                strict, tenant(strict), CreateRequest("hello", "echo", jurisdictions=("strict",))
            )
        assert caught.value.details["missing"] == ["gb45438"]
        assert kinds(strict)[-1] == "create.refused"
        assert strict.media.root.exists() is False or not any(strict.media.root.rglob("*"))
    finally:
        strict.close()


def test_unknown_engine_and_jurisdiction_are_clear_errors(services: Services) -> None:
    with pytest.raises(UnknownComponent, match="unknown engine 'gpt-9'; registered: echo"):
        run_create(services, tenant(services), CreateRequest("hi", "gpt-9"))
    with pytest.raises(UnknownJurisdiction, match="'mars'"):
        run_create(services, tenant(services), CreateRequest("hi", "echo", jurisdictions=("mars",)))


def last_entry(services: Services) -> dict[str, Any]:
    with services.db.session() as session:
        payload: dict[str, Any] = services.ledger.entries(session)[-1].payload
    return payload


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_blocked_prompt_refuses_in_the_users_language_with_its_evidence(
    services: Services, language: str
) -> None:
    prompt = "我想加入法@轮功"
    request = CreateRequest(prompt, "echo", jurisdictions=("cn",), language=language)
    with pytest.raises(ContentBlocked) as caught:
        run_create(services, tenant(services), request)

    refusal = resolve_policy("cn").refusal_text(language)
    error = caught.value
    assert error.message == refusal and error.details["refusal"] == refusal
    assert "lexicon: cult (block)" in error.details["reason"]
    hit = next(hit for hit in error.details["evidence"] if hit["screen"] == "lexicon")
    assert prompt[hit["evidence"]["start"] : hit["evidence"]["end"]] == "加入法@轮功"
    entry = last_entry(services)
    assert entry["error"]["message"] == refusal
    assert entry["screening"]["refusal"] == refusal
    assert entry["screening"]["evidence"] == error.details["evidence"]
    assert prompt not in json.dumps(entry, ensure_ascii=False)


def test_a_flagged_prompt_is_created_and_its_entry_keeps_the_evidence(
    services: Services,
) -> None:
    outcome = run_create(
        services,
        tenant(services),
        CreateRequest("well, shit happens", "echo", jurisdictions=("cn",)),
    )

    screening = last_entry(services)["screening"]["input"]
    assert screening["action"] == "flag" and screening["refusal"] is None
    assert screening["evidence"] == outcome.input_decision.to_dict()["evidence"]
    assert screening["evidence"][0]["evidence"] == {"kind": "text", "start": 6, "end": 10}
