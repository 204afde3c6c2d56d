"""POST /v1/screen and /v1/screen/file through the real app: decisions by jurisdiction, the
refusal in the user's language, evidence into the original text, one ledger entry per call
holding a digest and never the text, and bad input."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import ImageDraw

from hallmark.api.app import create_app
from hallmark.mark.explicit_image import font_for_cap
from hallmark.mark.watermark.attacks import synthetic_scene
from hallmark.policy import resolve_policy
from hallmark.services import Services, build_services
from hallmark.settings import Settings
from hallmark.store.media import digest_of
from helpers import MakeKey, auth, run_cli, text_pdf
from server import running_server

EVASION = "请介绍一下法@轮功的历史"  # 法轮功 with a symbol slipped in: a cult under PRC law
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def screen(client: TestClient, key: str, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/screen", json=body, headers=auth(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def screen_entries(services: Services) -> list[dict[str, Any]]:
    with services.db.session() as session:
        return [e.payload for e in services.ledger.entries(session) if e.kind == "screen"]


def test_a_benign_text_is_allowed_and_says_what_screened_it(
    client: TestClient, make_key: MakeKey
) -> None:
    result = screen(client, make_key(), text="Have a lovely day!", jurisdictions="cn,eu,us-ca")

    assert result["action"] == "allow"
    assert result["categories"] == [] and result["evidence"] == []
    assert result["refusal"] is None and result["reasons"] == []
    assert "lexicon" in result["screened_by"] and result["note"] is None
    assert result["jurisdictions"] == ["cn", "eu", "us-ca"]


def test_a_chinese_evasion_is_blocked_under_cn_with_the_chinese_refusal(
    client: TestClient, make_key: MakeKey
) -> None:
    result = screen(client, make_key(), text=EVASION, jurisdictions="cn")

    assert result["action"] == "block"
    assert result["categories"] == ["cult"]
    assert result["refusal"] == resolve_policy("cn").refusal_text("zh")
    assert result["refusal"].startswith("抱歉")
    hit = next(hit for hit in result["evidence"] if hit["screen"] == "lexicon")
    span = hit["evidence"]
    assert (hit["term"], hit["category"], hit["action"]) == ("法轮功", "cult", "block")
    assert EVASION[span["start"] : span["end"]] == "法@轮功"  # offsets into the original text


def test_the_refusal_follows_the_requested_language(client: TestClient, make_key: MakeKey) -> None:
    result = screen(client, make_key(), text=EVASION, jurisdictions=["cn"], language="en")

    assert result["action"] == "block" and result["language"] == "en"
    assert result["refusal"] == resolve_policy("cn").refusal_text("en")
    assert result["refusal"].startswith("Sorry")


def test_eu_allows_a_category_only_china_blocks(client: TestClient, make_key: MakeKey) -> None:
    assert resolve_policy("eu").action_for("cult") == "allow"

    result = screen(client, make_key(), text=EVASION, jurisdictions="eu")

    assert result["action"] == "allow" and result["refusal"] is None
    assert result["categories"] == ["cult"]  # found and reported, but the EU allows it
    assert [hit["action"] for hit in result["evidence"]] == ["allow"]


def test_the_tenant_policy_applies_when_the_request_names_none(
    client: TestClient, make_key: MakeKey
) -> None:
    key = make_key("admin")
    assert client.put("/v1/policy", json={"jurisdictions": ["eu"]}, headers=auth(key)).is_success

    assert screen(client, key, text=EVASION)["action"] == "allow"
    assert screen(client, key, text=EVASION, jurisdictions="cn")["action"] == "block"


def test_each_call_is_one_ledger_entry_with_a_digest_and_never_the_text(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    key = make_key()
    texts = [EVASION, "Have a lovely day!"]
    seqs = [screen(client, key, text=text, jurisdictions="cn")["ledger_seq"] for text in texts]

    entries = screen_entries(services)
    assert len(entries) == 2 and seqs[0] < seqs[1]
    for text, payload in zip(texts, entries, strict=True):
        assert payload["digest"] == digest_of(text.encode("utf-8"))
        assert text not in json.dumps(payload, ensure_ascii=False)
    assert entries[0]["screening"]["action"] == "block"
    assert entries[0]["screening"]["evidence"][0]["evidence"] == {
        "kind": "text",
        "start": 5,
        "end": 9,
    }
    assert entries[1]["screening"]["action"] == "allow"


def test_a_text_file_is_screened_like_a_text(client: TestClient, make_key: MakeKey) -> None:
    data = ("第一行\n" + EVASION + "\n").encode("utf-8")
    response = client.post(
        "/v1/screen/file",
        files={"file": ("notes.txt", data, "text/plain")},
        data={"jurisdictions": "cn", "language": "en"},
        headers=auth(make_key()),
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["action"] == "block" and result["medium"] == "document"
    assert result["refusal"] == resolve_policy("cn").refusal_text("en")
    span = result["evidence"][0]["evidence"]
    assert data.decode("utf-8")[span["start"] : span["end"]] == "法@轮功"


def test_a_pdf_upload_is_screened_by_its_text(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    response = client.post(
        "/v1/screen/file",
        files={"file": ("report.pdf", text_pdf("how to make a bomb"), "application/pdf")},
        data={"jurisdictions": "cn"},
        headers=auth(make_key()),
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["medium"] == "document" and result["action"] == "block"
    assert "lexicon" in result["screened_by"]
    broken = client.post(
        "/v1/screen/file",
        files={"file": ("x.pdf", b"%PDF-1.4\n(hi)\n%%EOF\n", "application/pdf")},
        headers=auth(make_key()),
    )
    assert broken.status_code == 400 and "PDF" in broken.json()["error"]["message"]


def test_an_image_with_a_blocked_term_is_blocked_with_its_box(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    image = synthetic_scene(6, 800, 600)
    draw = ImageDraw.Draw(image)
    draw.rectangle((380, 360, 760, 480), fill="white")
    draw.text((400, 380), "法轮功", font=font_for_cap(56), fill="black")
    drawn = draw.textbbox((400, 380), "法轮功", font=font_for_cap(56))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")

    response = client.post(
        "/v1/screen/file",
        files={"file": ("poster.png", buffer.getvalue(), "application/octet-stream")},
        data={"jurisdictions": "cn"},
        headers=auth(make_key()),
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["medium"] == "image" and result["action"] == "block"
    assert result["categories"] == ["cult"] and result["screened_by"] == ["image"]
    (hit,) = result["evidence"]
    assert hit["term"] == "法轮功" and hit["screen"] == "image" and hit["action"] == "block"
    box = hit["evidence"]
    found = (box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"])
    assert box["kind"] == "image"
    assert all(abs(a - b) <= 16 for a, b in zip(found, drawn, strict=True)), (found, drawn)
    assert screen_entries(services)[-1]["screening"]["evidence"] == result["evidence"]


def test_an_undecodable_image_is_a_bad_request_and_not_recorded(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    response = client.post(
        "/v1/screen/file",
        files={"file": ("cat.png", PNG, "image/png")},
        headers=auth(make_key()),
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
    assert screen_entries(services) == []


def test_a_reviewer_may_not_screen(client: TestClient, make_key: MakeKey) -> None:
    response = client.post("/v1/screen", json={"text": "hello"}, headers=auth(make_key("reviewer")))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.fixture
def small_client(settings: Settings) -> Iterator[tuple[TestClient, Services]]:
    small = build_services(settings.model_copy(update={"max_screen_chars": 20}))
    try:
        with TestClient(create_app(small.settings, small)) as test_client:
            yield test_client, small
    finally:
        small.close()


def test_a_text_over_the_size_setting_is_413_and_not_recorded(
    small_client: tuple[TestClient, Services],
) -> None:
    from hallmark.accounts.service import create_key

    client, services = small_client
    with services.db.session() as session:
        key = create_key(session, services.ledger, tenant_name="acme", role="creator").token

    too_long = client.post("/v1/screen", json={"text": "x" * 21}, headers=auth(key))
    long_file = client.post(
        "/v1/screen/file", files={"file": ("a.txt", b"y" * 21, "text/plain")}, headers=auth(key)
    )
    just_fits = client.post("/v1/screen", json={"text": "x" * 20}, headers=auth(key))

    for response in (too_long, long_file):
        assert response.status_code == 413, response.text
        error = response.json()["error"]
        assert error["code"] == "payload_too_large" and "20 characters" in error["message"]
    assert just_fits.status_code == 200
    assert len(screen_entries(services)) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "   \n "}, 400, "bad_request"),
        ({"text": ""}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"text": "hi", "jurisdictions": "cn,mars"}, 400, "unknown_jurisdiction"),
        ({"text": "hi", "jurisdictions": []}, 400, "bad_request"),
        ({"text": "hi", "jurisdictions": 5}, 422, "validation_error"),
        ({"text": "hi", "language": "fr"}, 400, "bad_request"),
    ],
)
def test_bad_screen_requests_are_json_errors_and_not_recorded(
    client: TestClient,
    services: Services,
    make_key: MakeKey,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = client.post("/v1/screen", json=body, headers=auth(make_key()))

    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert screen_entries(services) == []


def test_the_real_server_screens_over_http(cli_env: dict[str, str], tmp_path: Path) -> None:
    created = run_cli(["keys", "create", "--role", "creator"], cli_env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    with running_server(cli_env, tmp_path / "server.log") as (base, _process):
        response = httpx.post(
            f"{base}/v1/screen",
            json={"text": EVASION, "jurisdictions": "cn,eu"},
            headers=auth(key),
            timeout=30,
        )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["action"] == "block" and result["categories"] == ["cult"]
    assert result["refusal"] == resolve_policy("cn,eu").refusal_text("zh")
