"""The reports API: who may file, read, decide and appeal; tenant isolation; JSON errors."""

from __future__ import annotations

from fastapi.testclient import TestClient
from reports_support import key_id, make_post, tenant_id

from hallmark.platform import reports
from hallmark.policy import resolve_policy
from hallmark.services import Services
from hallmark.store.models import Post
from helpers import MakeKey, auth

NOBODY = "0" * 32


def post_state(services: Services, post_id: str) -> str:
    with services.db.session() as session:
        post = session.get(Post, post_id)
        assert post is not None
        return post.state


def test_a_creator_files_a_report_due_by_the_tenants_policy(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    creator = make_key("creator", "acme")
    post_id = make_post(services, "acme")

    response = client.post(
        "/v1/reports",
        json={"post_id": post_id, "category": "ncii", "details": "that is me, no consent"},
        headers=auth(creator),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "open" and body["category"] == "ncii"
    assert body["reporter"] == key_id(services, creator)
    # the deployment default cn,eu,us-ca: 48 h for NCII (TAKE IT DOWN Act)
    created, due = (reports.parse_time(body[key]) for key in ("created_at", "due_at"))
    assert (due - created).total_seconds() == 48 * 3600
    assert body["overdue"] is False
    assert [event["action"] for event in body["events"]] == ["filed"]


def test_bad_reports_are_json_errors(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    creator = make_key("creator", "acme")
    theirs = make_post(services, "globex")
    post_id = make_post(services, "acme")

    missing = client.post(
        "/v1/reports", json={"post_id": NOBODY, "category": "ncii"}, headers=auth(creator)
    )
    foreign = client.post(
        "/v1/reports", json={"post_id": theirs, "category": "ncii"}, headers=auth(creator)
    )
    unknown = client.post(
        "/v1/reports", json={"post_id": post_id, "category": "meh"}, headers=auth(creator)
    )

    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    assert unknown.status_code == 400
    assert "ncii" in unknown.json()["error"]["message"]


def test_reviewers_see_the_queue_and_overdue_items_creators_do_not(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    creator, reviewer = make_key("creator", "acme"), make_key("reviewer", "acme")
    post_id = make_post(services, "acme")
    with services.db.session() as session:
        late = reports.file_report(
            session,
            services.ledger,
            tenant_id(services, "acme"),
            post_id,
            "someone",
            "sexual_minors",
            policy=resolve_policy("cn"),
            clock=lambda: "2020-01-01T00:00:00.000000Z",
        )
    fresh = client.post(
        "/v1/reports", json={"post_id": post_id, "category": "general"}, headers=auth(creator)
    ).json()
    make_key("reviewer", "globex")
    make_post(services, "globex")

    assert client.get("/v1/reports", headers=auth(creator)).status_code == 403
    queue = client.get("/v1/reports", headers=auth(reviewer)).json()["reports"]
    overdue = client.get("/v1/reports?overdue=true", headers=auth(reviewer)).json()["reports"]

    assert [item["id"] for item in queue] == [late.id, fresh["id"]]
    assert [item["id"] for item in overdue] == [late.id]
    assert overdue[0]["overdue"] is True and overdue[0]["late_seconds"] > 0
    other = make_key("reviewer", "globex")
    assert client.get("/v1/reports", headers=auth(other)).json()["reports"] == []


def test_a_reviewer_decides_once_and_the_reporter_reads_the_notice(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    reporter, reviewer = make_key("creator", "acme"), make_key("reviewer", "acme")
    bystander = make_key("creator", "acme")
    post_id = make_post(services, "acme")
    filed = client.post(
        "/v1/reports", json={"post_id": post_id, "category": "ncii"}, headers=auth(reporter)
    ).json()
    path = f"/v1/reports/{filed['id']}"

    forbidden = client.post(f"{path}/actions", json={"action": "remove"}, headers=auth(reporter))
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"

    decided = client.post(
        f"{path}/actions",
        json={"action": "remove", "note": "matches the complainant's ID"},
        headers=auth(reviewer),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "resolved" and decided.json()["resolution"] == "removed"
    assert post_state(services, post_id) == "removed"

    again = client.post(f"{path}/actions", json={"action": "restore"}, headers=auth(reviewer))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    mine = client.get(path, headers=auth(reporter)).json()
    assert mine["notice"].startswith(f"举报 {filed['id'][:8]}")  # cn,eu,us-ca speaks zh
    assert "complainant" not in str(mine["events"])  # the reviewer's note stays internal
    full = client.get(path, headers=auth(reviewer)).json()
    assert "matches the complainant's ID" in str(full["events"])
    assert client.get(path, headers=auth(bystander)).status_code == 403


def test_the_uploader_appeals_and_the_second_decision_is_final(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    reporter, reviewer = make_key("creator", "acme"), make_key("reviewer", "acme")
    uploader = make_key("creator", "acme")
    post_id = make_post(services, "acme", user_id=key_id(services, uploader))
    filed = client.post(
        "/v1/reports",
        json={"post_id": post_id, "category": "general", "details": "fake"},
        headers=auth(reporter),
    ).json()
    path = f"/v1/reports/{filed['id']}"
    client.post(f"{path}/actions", json={"action": "label"}, headers=auth(reviewer))

    seen = client.get(path, headers=auth(uploader)).json()
    assert seen["reporter"] == "" and seen["details"] == ""  # the reporter stays anonymous
    appealed = client.post(
        f"{path}/appeal", json={"reason": "it is a real photo"}, headers=auth(uploader)
    )
    assert appealed.status_code == 200, appealed.text
    assert appealed.json()["state"] == "appealed"

    final = client.post(f"{path}/actions", json={"action": "dismiss"}, headers=auth(reviewer))
    assert final.json()["state"] == "closed"
    late = client.post(f"{path}/appeal", json={"reason": "again"}, headers=auth(reporter))
    assert late.status_code == 409


def test_another_tenant_cannot_see_or_touch_a_report(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    reporter = make_key("creator", "acme")
    post_id = make_post(services, "acme")
    filed = client.post(
        "/v1/reports", json={"post_id": post_id, "category": "general"}, headers=auth(reporter)
    ).json()
    path = f"/v1/reports/{filed['id']}"
    outsider = make_key("admin", "globex")

    for method, url, body in [
        ("GET", path, None),
        ("POST", f"{path}/actions", {"action": "remove"}),
        ("POST", f"{path}/appeal", {"reason": "x"}),
    ]:
        response = client.request(method, url, json=body, headers=auth(outsider))
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert post_state(services, post_id) == "visible"
