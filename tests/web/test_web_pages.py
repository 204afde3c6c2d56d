"""The web UI in process: sign-in, the pages, permissions, errors as HTML, the verify banner."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from hallmark.services import Services
from helpers import MakeKey

TENANT = "acme"


def sign_in(client: TestClient, token: str) -> None:
    response = client.post("/ui/login", data={"api_key": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ui"


def test_root_redirects_to_the_ui(client: TestClient) -> None:
    for path in ("/", "/ui/"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/ui"


def test_login_with_a_good_key_sets_the_cookie_and_shows_the_tenant(
    client: TestClient, make_key: MakeKey
) -> None:
    token = make_key("admin", TENANT)
    response = client.post("/ui/login", data={"api_key": token}, follow_redirects=False)
    assert response.status_code == 303
    assert "hallmark_session=" in response.headers["set-cookie"]
    assert "samesite=strict" in response.headers["set-cookie"].lower()

    page = client.get("/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'id="tenant-name">{TENANT}<' in page.text
    assert "admin" in page.text
    assert "labelled as AI-generated" in page.text  # the persistent notice
    assert 'id="ledger-head">#' in page.text


def test_the_dashboard_counts_contents_and_shows_jobs_with_progress(
    client: TestClient, make_key: MakeKey
) -> None:
    sign_in(client, make_key("admin", TENANT))
    created = client.post("/v1/create", json={"prompt": "a haiku on rain", "engine": "echo"})
    assert created.status_code == 200, created.text
    job = client.post(
        "/v1/jobs", json={"kind": "create.batch", "params": {"prompts": ["x"], "engine": "echo"}}
    )
    assert job.status_code == 202, job.text

    page = client.get("/ui")
    assert 'id="contents-total">1<' in page.text
    assert "create 1" in page.text
    assert '<dd class="state-queued">1</dd>' in page.text
    job_id = job.json()["id"]
    assert f'data-job-id="{job_id}" data-live' in page.text  # polled while it runs
    assert '<progress max="1" value="0.0"' in page.text
    assert "cn" in page.text and "deployment default" in page.text


def test_the_session_cookie_authenticates_the_json_api(
    client: TestClient, make_key: MakeKey
) -> None:
    sign_in(client, make_key("creator", TENANT))
    assert client.get("/v1/jobs").status_code == 200


def test_a_bad_key_gives_401_with_a_message(client: TestClient, make_key: MakeKey) -> None:
    make_key("admin", TENANT)
    wrong = "hm_000000000000_" + "A" * 43
    response = client.post("/ui/login", data={"api_key": wrong})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "Sign-in failed: unknown API key" in response.text
    assert "hallmark_session=" not in response.headers.get("set-cookie", "")

    malformed = client.post("/ui/login", data={"api_key": "not a key"})
    assert malformed.status_code == 401
    assert "malformed API key" in malformed.text
    assert "Traceback" not in malformed.text


def test_the_ui_without_login_redirects_to_the_form(client: TestClient) -> None:
    for path in ("/ui", "/ui/ledger", "/ui/policy"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/ui/login"
    form = client.get("/ui/login")
    assert form.status_code == 200
    assert 'name="api_key"' in form.text


def test_logout_clears_the_session(client: TestClient, make_key: MakeKey) -> None:
    sign_in(client, make_key("admin", TENANT))
    response = client.post("/ui/logout", follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/ui", follow_redirects=False).status_code == 303


def test_a_cross_site_post_is_refused(client: TestClient, make_key: MakeKey) -> None:
    token = make_key("admin", TENANT)
    response = client.post(
        "/ui/login", data={"api_key": token}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "posted from another site" in response.text
    assert "hallmark_session=" not in response.headers.get("set-cookie", "")

    same = client.post(
        "/ui/login",
        data={"api_key": token},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same.status_code == 303


def test_a_creator_may_not_read_the_ledger(client: TestClient, make_key: MakeKey) -> None:
    sign_in(client, make_key("creator", TENANT))
    response = client.get("/ui/ledger")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "needs ledger:read" in response.text
    assert client.post("/ui/ledger/verify").status_code == 403
    assert 'href="/ui/ledger"' not in client.get("/ui").text  # not offered in the nav


def test_unknown_ui_pages_and_bad_input_render_html(client: TestClient, make_key: MakeKey) -> None:
    missing = client.get("/ui/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "there is no page at /ui/nowhere" in missing.text

    sign_in(client, make_key("admin", TENANT))
    bad = client.get("/ui/ledger?after=-3")
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("text/html")


def test_the_policy_page_shows_rules_and_their_sources(
    client: TestClient, make_key: MakeKey
) -> None:
    sign_in(client, make_key("creator", TENANT))
    page = client.get("/ui/policy")
    assert page.status_code == 200
    assert "labels.image" in page.text
    # One line per citation; a reference that itself holds "; " stays whole.
    assert (
        '<li><span class="code">cn</span> Labeling Measures Art. 4 (images: label in a suitable'
        " position); GB 45438-2025 (text height at least 5% of the shorter side)</li>"
    ) in page.text

    other = client.get("/ui/policy", params={"jurisdictions": "eu"})
    assert other.status_code == 200
    assert '<span class="code">eu</span>' in other.text
    assert '<span class="code">cn</span>' not in other.text


def test_an_unknown_jurisdiction_gives_a_400_page(client: TestClient, make_key: MakeKey) -> None:
    sign_in(client, make_key("creator", TENANT))
    page = client.get("/ui/policy", params={"jurisdictions": "cn,atlantis"})
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="policy-error"' in page.text
    assert "unknown jurisdiction &#39;atlantis&#39;" in page.text


def test_the_ledger_page_lists_the_tenants_entries(client: TestClient, make_key: MakeKey) -> None:
    make_key("admin", "other")
    sign_in(client, make_key("admin", TENANT))
    page = client.get("/ui/ledger")
    assert page.status_code == 200
    assert "admin.key_created" in page.text
    assert "tenant=acme" in page.text
    assert "tenant=other" not in page.text  # another tenant's entries stay hidden


def test_verify_says_intact_then_broken_after_tampering(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    sign_in(client, make_key("admin", TENANT))
    intact = client.post("/ui/ledger/verify")
    assert intact.status_code == 200
    assert 'id="verify-result"' in intact.text
    assert "Ledger intact: 2 entries verified" in intact.text

    with services.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE ledger_entries SET payload = :payload WHERE seq = 1"),
            {"payload": '{"tenant":"mallory"}'},
        )
    broken = client.post("/ui/ledger/verify")
    assert broken.status_code == 200
    assert "Ledger broken: entry 1:" in broken.text
    assert "Ledger intact" not in broken.text


def test_pages_escape_what_they_show(client: TestClient, make_key: MakeKey) -> None:
    sign_in(client, make_key("creator", TENANT))
    page = client.get("/ui/policy", params={"jurisdictions": "<script>x</script>"})
    assert page.status_code == 400
    assert "<script>x</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_the_cookie_never_holds_the_secret_and_revocation_ends_the_session(
    client: TestClient, make_key: MakeKey
) -> None:
    import base64

    admin = make_key("admin", TENANT)
    sign_in(client, admin)
    cookie = client.cookies["hallmark_session"]
    payload = base64.urlsafe_b64decode(cookie.split(".")[0] + "==")
    assert admin.rsplit("_", 1)[1].encode() not in payload
    key_id = client.get("/v1/keys", headers={"Authorization": f"Bearer {admin}"}).json()["keys"][0][
        "id"
    ]
    assert client.get("/ui", follow_redirects=False).status_code == 200
    client.delete(f"/v1/keys/{key_id}", headers={"Authorization": f"Bearer {admin}"})
    after = client.get("/ui", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"] == "/ui/login"
