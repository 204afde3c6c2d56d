"""The reports pages in process: the reviewer queue, one report, the forms, permissions."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi.testclient import TestClient
from reports_support import key_id, make_post, tenant_id

from hallmark.accounts.roles import allows
from hallmark.platform import reports
from hallmark.policy import resolve_policy
from hallmark.services import Services
from hallmark.store.models import Post
from hallmark.web import report_pages
from hallmark.web.routes import templates
from helpers import MakeKey

SAME_ORIGIN = {"origin": "http://testserver"}


def sign_in(client: TestClient, token: str) -> None:
    response = client.post("/ui/login", data={"api_key": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def file_late(services: Services, post_id: str) -> str:
    with services.db.session() as session:
        return reports.file_report(
            session,
            services.ledger,
            tenant_id(services, "acme"),
            post_id,
            "reporter-key-id",
            "sexual_minors",
            "a child in this picture",
            policy=resolve_policy("cn"),
            clock=lambda: "2020-01-01T00:00:00.000000Z",
        ).id


def test_the_queue_shows_a_reviewer_overdue_reports_actions_and_timeline(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    post_id = make_post(services, "acme")
    late = file_late(services, post_id)
    sign_in(client, make_key("reviewer", "acme"))

    page = client.get("/ui/reports")

    assert page.status_code == 200, page.text
    assert '<a href="/ui/reports" aria-current="page">Reports</a>' in page.text
    assert f'id="report-{late}"' in page.text
    assert 'class="complaint card overdue"' in page.text
    assert 'id="overdue-count"' in page.text and "1 report past due" in page.text
    assert "Sexual content involving a minor" in page.text
    assert f'action="/ui/reports/{late}/actions"' in page.text
    for action in ("remove", "restore", "label", "warn", "dismiss"):
        assert f'name="action" value="{action}"' in page.text
    assert 'data-action="filed"' in page.text  # the timeline
    assert f'href="/ui/feed/{post_id}"' in page.text
    assert "a child in this picture" in page.text
    overdue = client.get("/ui/reports?overdue=true")
    assert f'id="report-{late}"' in overdue.text


def test_a_creator_gets_no_queue_and_no_nav_link(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    sign_in(client, make_key("creator", "acme"))

    page = client.get("/ui/reports")

    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "needs reports:review" in page.text
    assert 'href="/ui/reports"' not in client.get("/ui").text


def test_signed_out_the_queue_redirects_to_sign_in(client: TestClient) -> None:
    response = client.get("/ui/reports", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"


def test_file_decide_and_appeal_through_the_forms(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    uploader = make_key("creator", "acme")
    post_id = make_post(services, "acme", user_id=key_id(services, uploader))
    reporter, reviewer = make_key("creator", "acme"), make_key("reviewer", "acme")

    sign_in(client, reporter)
    filed = client.post(
        "/ui/reports",
        data={"post_id": post_id, "category": "ncii", "details": "that is me"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    path = filed.headers["location"]
    report_id = path.rsplit("/", 1)[-1]
    mine = client.get(path)
    assert mine.status_code == 200 and 'id="report-state">open<' in mine.text
    assert "/actions" not in mine.text  # no decision buttons for the reporter

    sign_in(client, reviewer)
    decided = client.post(
        f"{path}/actions",
        data={"action": "remove", "note": "confirmed by ID"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert decided.status_code == 303 and decided.headers["location"] == path
    page = client.get(path)
    assert 'id="report-state">resolved<' in page.text and "confirmed by ID" in page.text
    with services.db.session() as session:
        post = session.get(Post, post_id)
        assert post is not None and post.state == "removed"
    again = client.post(f"{path}/actions", data={"action": "restore"}, headers=SAME_ORIGIN)
    assert again.status_code == 409 and "already resolved" in again.text

    sign_in(client, reporter)
    seen = client.get(path)
    assert 'id="report-notice"' in seen.text and "confirmed by ID" not in seen.text

    sign_in(client, uploader)
    theirs = client.get(path)
    assert 'id="appeal-form"' in theirs.text and "that is me" not in theirs.text
    appealed = client.post(
        f"{path}/appeal",
        data={"reason": "this is not an intimate image"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert appealed.status_code == 303
    assert 'id="report-state">appealed<' in client.get(path).text

    stranger = make_key("creator", "acme")
    sign_in(client, stranger)
    assert client.get(f"/ui/reports/{report_id}").status_code == 403


def test_a_form_from_another_site_is_refused(
    client: TestClient, services: Services, make_key: MakeKey
) -> None:
    post_id = make_post(services, "acme")
    sign_in(client, make_key("creator", "acme"))

    response = client.post(
        "/ui/reports",
        data={"post_id": post_id, "category": "general"},
        headers={"origin": "https://evil.example"},
    )

    assert response.status_code == 403
    with services.db.session() as session:
        assert reports.review_queue(session, tenant_id(services, "acme")) == []


def test_the_report_form_partial_posts_the_post_and_the_categories() -> None:
    assert report_pages.router  # importing the pages registers the categories
    partial = templates.env.get_template("report_form.html")
    creator = SimpleNamespace(role="creator")

    def url_for(_name: str, path: str) -> SimpleNamespace:
        return SimpleNamespace(path=f"/static/{path}")

    html = partial.render(
        principal=creator, allows=allows, post=SimpleNamespace(id="p1"), url_for=url_for
    )

    assert 'action="/ui/reports"' in html
    assert '<input type="hidden" name="post_id" value="p1">' in html
    for category in reports.PLATFORM_CATEGORIES:
        assert f'<option value="{category}">' in html
    signed_out = partial.render(principal=None, allows=allows, post=None, url_for=url_for)
    assert "form" not in signed_out
