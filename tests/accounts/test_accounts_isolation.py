"""Tenants never see each other's contents, jobs, ledger entries or keys."""

from __future__ import annotations

from fastapi.testclient import TestClient

from helpers import MakeKey, auth


def test_tenants_never_see_each_others_data(client: TestClient, make_key: MakeKey) -> None:
    acme, globex = make_key("admin", "acme"), make_key("admin", "globex")

    made = client.post(
        "/v1/create", json={"prompt": "acme secret", "engine": "echo"}, headers=auth(acme)
    )
    assert made.status_code == 200
    content_id = made.json()["id"]
    job = client.post(
        "/v1/jobs",
        json={"kind": "create.batch", "params": {"prompts": ["x"], "engine": "echo"}},
        headers=auth(acme),
    ).json()

    # globex sees none of it, by listing or by id
    assert client.get("/v1/contents", headers=auth(globex)).json()["contents"] == []
    for path in (
        f"/v1/contents/{content_id}",
        f"/v1/contents/{content_id}/raw",
        f"/v1/jobs/{job['id']}",
    ):
        response = client.get(path, headers=auth(globex))
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.get("/v1/jobs", headers=auth(globex)).json()["jobs"] == []
    globex_ledger = client.get("/v1/ledger", headers=auth(globex)).json()["entries"]
    assert all("acme" not in str(entry) for entry in globex_ledger)
    assert content_id not in str(globex_ledger)
    globex_keys = client.get("/v1/keys", headers=auth(globex)).json()["keys"]
    assert len(globex_keys) == 1
    acme_key_id = client.get("/v1/keys", headers=auth(acme)).json()["keys"][0]["id"]
    assert client.delete(f"/v1/keys/{acme_key_id}", headers=auth(globex)).status_code == 404

    # acme sees its own
    assert client.get(f"/v1/contents/{content_id}", headers=auth(acme)).status_code == 200
    raw = client.get(f"/v1/contents/{content_id}/raw", headers=auth(acme))
    assert raw.text.endswith("acme secret")
    assert any(
        e["payload"].get("content_id") == content_id
        for e in client.get("/v1/ledger", headers=auth(acme)).json()["entries"]
    )
