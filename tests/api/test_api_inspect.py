"""The public detector: no key, a report per file, and a rate limit per client."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hallmark.api.app import create_app
from hallmark.services import Services
from helpers import MakeKey, auth

FRONT_MATTER = (
    b'---\nAIGC: {"Label": "1", "ContentProducer": "001191110102MACQD9K64010000"}\n---\nhi\n'
)


def test_inspect_needs_no_key_and_reports_a_verdict(client: TestClient) -> None:
    response = client.post("/v1/inspect", files={"file": ("n.md", FRONT_MATTER, "text/markdown")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["verdict"] == "confirmed" and report["media_type"] == "text/markdown"
    assert report["gb45438"]["ContentProducer"] == "001191110102MACQD9K64010000"


def test_inspect_is_rate_limited_per_client(services: Services) -> None:
    settings = services.settings.model_copy(update={"inspect_rate_per_minute": 3})
    with TestClient(create_app(settings, services)) as client:
        codes = [
            client.post("/v1/inspect", files={"file": ("a.txt", b"x", "text/plain")}).status_code
            for _ in range(4)
        ]
        limited = client.post("/v1/inspect", files={"file": ("a.txt", b"x", "text/plain")})
    assert codes == [200, 200, 200, 429]
    assert limited.json()["error"]["code"] == "rate_limited"


def test_mark_over_http_returns_a_downloadable_result(
    client: TestClient, make_key: MakeKey
) -> None:
    key = make_key()
    response = client.post(
        "/v1/mark",
        files={"file": ("caption.txt", b"a caption", "text/plain")},
        data={"jurisdictions": "us-ca"},
        headers=auth(key),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    raw = client.get(f"/v1/contents/{body['id']}/raw", headers=auth(key))
    assert raw.status_code == 200 and raw.content.endswith(b"a caption")
