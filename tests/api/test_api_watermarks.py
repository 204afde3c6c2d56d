"""GET /v1/watermarks/{id}: a watermark found in a file leads to its record and ledger entry;
the public detector names that entry too, and tenants never see each other's records."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient

from hallmark.mark.watermark.attacks import synthetic_scene
from helpers import MakeKey, auth


def png() -> bytes:
    buffer = io.BytesIO()
    synthetic_scene(7, 320, 256).save(buffer, "PNG")
    return buffer.getvalue()


def mark_and_download(client: TestClient, key: str) -> tuple[dict[str, Any], bytes]:
    marked = client.post(
        "/v1/mark",
        files={"file": ("scene.png", png(), "image/png")},
        data={"jurisdictions": "cn", "explicit": "false"},
        headers=auth(key),
    )
    assert marked.status_code == 200, marked.text
    body = marked.json()
    assert "watermark" in body["labels"]
    raw = client.get(f"/v1/contents/{body['id']}/raw", headers=auth(key))
    assert raw.status_code == 200
    return body, raw.content


def inspect(client: TestClient, data: bytes) -> dict[str, Any]:
    response = client.post("/v1/inspect", files={"file": ("scene.png", data, "image/png")})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def ledger_entry(client: TestClient, key: str, seq: int) -> dict[str, Any]:
    entries = client.get(
        "/v1/ledger", params={"after": seq - 1, "limit": 1}, headers=auth(key)
    ).json()["entries"]
    assert entries and entries[0]["seq"] == seq
    entry: dict[str, Any] = entries[0]
    return entry


def test_a_watermark_resolves_to_its_record_and_ledger_entry(
    client: TestClient, make_key: MakeKey
) -> None:
    creator, reviewer = make_key("creator", "acme"), make_key("reviewer", "acme")
    made, data = mark_and_download(client, creator)
    report = inspect(client, data)
    ident = report["watermark"]["watermark_id"]

    response = client.get(f"/v1/watermarks/{ident.upper()}", headers=auth(reviewer))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["watermark_id"] == ident
    (found,) = body["records"]
    assert found["content"]["id"] == made["id"] and found["ledger_seq"] == made["ledger_seq"]
    entry = ledger_entry(client, reviewer, made["ledger_seq"])
    assert found["ledger"]["hash"] == entry["hash"] and found["ledger"] == entry
    assert entry["payload"]["watermark"]["id"] == ident
    assert found["check"] == {"hash_matches": True, "linked": True}
    shown = client.get(f"/v1/contents/{made['id']}", headers=auth(creator)).json()
    assert shown["watermark_id"] == ident

    # the public detector names the same entry, and nothing private
    assert report["provenance"] == {
        "watermark_id": ident,
        "content_id": made["id"],
        "created_at": found["content"]["created_at"],
        "ledger_seq": made["ledger_seq"],
        "entry_hash": entry["hash"],
    }


def test_another_tenant_and_a_creator_cannot_trace_it(
    client: TestClient, make_key: MakeKey
) -> None:
    creator = make_key("creator", "acme")
    _, data = mark_and_download(client, creator)
    ident = inspect(client, data)["watermark"]["watermark_id"]

    other = client.get(f"/v1/watermarks/{ident}", headers=auth(make_key("admin", "globex")))
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found" and ident in other.text
    forbidden = client.get(f"/v1/watermarks/{ident}", headers=auth(creator))
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    own = client.get(f"/v1/watermarks/{ident}", headers=auth(make_key("admin", "acme")))
    assert own.status_code == 200


def test_unknown_and_malformed_ids_are_json_errors(client: TestClient, make_key: MakeKey) -> None:
    reviewer = make_key("reviewer", "acme")
    unknown = client.get("/v1/watermarks/0123456789ab", headers=auth(reviewer))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    for bad in ("0123456789a", "0123456789abc", "0123456789ag"):
        response = client.get(f"/v1/watermarks/{bad}", headers=auth(reviewer))
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"


def test_an_unmarked_file_has_no_provenance(client: TestClient) -> None:
    assert inspect(client, png())["provenance"] is None
