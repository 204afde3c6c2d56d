"""Bad input to every route gets a 4xx with {"error": {"code", "message"}}; never a traceback.

The case table must cover every API route: adding a route without a bad-input case fails here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hallmark.api.app import create_app
from hallmark.settings import Settings
from helpers import MakeKey, auth

NOBODY = "00000000000000000000000000000000"
BINARY = b"\x00\x01\x02garbage\xff\xfe"
PUBLIC = {("POST", "/v1/inspect")}
OFFSET_STREAM = "application/offset+octet-stream"

# (method, path, keyword arguments for the request, expected status, expected error code)
BAD_INPUT: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/v1/policy", {"params": {"jurisdictions": "cn,mars"}}, 400, "unknown_jurisdiction"),
    ("GET", "/v1/policy", {"params": {"jurisdictions": " , "}}, 400, "bad_request"),
    ("PUT", "/v1/policy", {"json": {"jurisdictions": ["atlantis"]}}, 400, "unknown_jurisdiction"),
    ("PUT", "/v1/policy", {"json": {"jurisdictions": "cn"}}, 422, "validation_error"),
    ("POST", "/v1/keys", {"json": {"role": "god"}}, 422, "validation_error"),
    (
        "POST",
        "/v1/keys",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        422,
        "validation_error",
    ),
    ("GET", "/v1/keys", {"params": {}}, 200, ""),
    ("DELETE", f"/v1/keys/{NOBODY}", {}, 404, "not_found"),
    ("POST", "/v1/create", {"json": {"prompt": "", "engine": "echo"}}, 422, "validation_error"),
    ("POST", "/v1/create", {"json": {"prompt": "hi", "engine": "gpt-9"}}, 400, "unknown_component"),
    (
        "POST",
        "/v1/create",
        {"json": {"prompt": "hi", "engine": "echo", "medium": "smell"}},
        422,
        "validation_error",
    ),
    (
        "POST",
        "/v1/create",
        {"json": {"prompt": "hi", "engine": "echo", "language": "tlh"}},
        400,
        "bad_request",
    ),
    (
        "POST",
        "/v1/create",
        {"json": {"prompt": "hi", "engine": "echo", "medium": "image"}},
        400,
        "bad_request",
    ),
    ("POST", "/v1/receive", {"json": {"text": 12}}, 422, "validation_error"),
    (
        "POST",
        "/v1/receive",
        {"json": {"text": "x", "jurisdictions": ["mars"]}},
        400,
        "unknown_jurisdiction",
    ),
    ("POST", "/v1/receive/upload", {"data": {"declared_ai": "true"}}, 422, "validation_error"),
    (
        "POST",
        "/v1/receive/upload",
        {"files": {"file": ("a.exe", b"MZ\x90\x00\x03\x00", "application/x-msdownload")}},
        400,
        "bad_request",
    ),
    (
        "POST",
        "/v1/receive/upload",
        {"files": {"file": ("a.txt", b"", "text/plain")}},
        400,
        "bad_request",
    ),
    ("POST", "/v1/mark", {"files": {"file": ("a.png", b"", "image/png")}}, 400, "bad_request"),
    (
        "POST",
        "/v1/mark",
        {"files": {"file": ("a.txt", b"hi", "text/plain")}, "data": {"jurisdictions": "mars"}},
        400,
        "unknown_jurisdiction",
    ),
    ("POST", "/v1/mark", {"files": {"file": ("a.bin", BINARY, "image/png")}}, 400, "bad_request"),
    ("POST", "/v1/screen", {"json": {"text": ""}}, 422, "validation_error"),
    ("POST", "/v1/screen", {"json": {"text": " "}}, 400, "bad_request"),
    (
        "POST",
        "/v1/screen",
        {"json": {"text": "hi", "jurisdictions": "cn,mars"}},
        400,
        "unknown_jurisdiction",
    ),
    (
        "POST",
        "/v1/screen",
        {"content": b'{"text": ', "headers": {"content-type": "application/json"}},
        422,
        "validation_error",
    ),
    ("POST", "/v1/screen/file", {"data": {"jurisdictions": "cn"}}, 422, "validation_error"),
    (
        "POST",
        "/v1/screen/file",
        {"files": {"file": ("a.bin", BINARY, "application/octet-stream")}},
        400,
        "bad_request",
    ),
    (
        "POST",
        "/v1/screen/file",
        {"files": {"file": ("a.txt", b"hi", "text/plain")}, "data": {"language": "tlh"}},
        400,
        "bad_request",
    ),
    ("POST", "/v1/inspect", {"data": {}}, 422, "validation_error"),
    (
        "POST",
        "/v1/inspect",
        {"files": {"file": ("a.bin", BINARY, "image/png")}},
        400,
        "bad_request",
    ),
    ("GET", "/v1/contents", {"params": {"limit": "-1"}}, 422, "validation_error"),
    ("GET", f"/v1/contents/{NOBODY}", {}, 404, "not_found"),
    ("GET", f"/v1/contents/{NOBODY}/raw", {}, 404, "not_found"),
    ("GET", "/v1/ledger", {"params": {"after": "minus one"}}, 422, "validation_error"),
    ("GET", "/v1/ledger/verify", {}, 200, ""),
    (
        "POST",
        "/v1/jobs",
        {"json": {"kind": "mine.bitcoin", "params": {}}},
        400,
        "unknown_component",
    ),
    (
        "POST",
        "/v1/jobs",
        {"json": {"kind": "create.batch", "params": {"prompts": []}}},
        400,
        "bad_request",
    ),
    ("GET", "/v1/jobs", {"params": {"state": "exploded"}}, 400, "bad_request"),
    ("GET", f"/v1/jobs/{NOBODY}", {}, 404, "not_found"),
    ("GET", f"/v1/jobs/{NOBODY}/events", {}, 404, "not_found"),
    ("GET", f"/v1/watermarks/{NOBODY}", {}, 422, "validation_error"),  # 32 digits, not 12
    ("GET", "/v1/conversations", {"params": {"limit": 0}}, 422, "validation_error"),
    (
        "POST",
        "/v1/conversations",
        {"json": {"jurisdictions": ["mars"]}},
        400,
        "unknown_jurisdiction",
    ),
    ("GET", f"/v1/conversations/{NOBODY}", {}, 404, "not_found"),
    ("DELETE", f"/v1/conversations/{NOBODY}", {}, 404, "not_found"),
    (
        "POST",
        "/v1/chat/completions",
        {
            "json": {
                "model": "echo-chat",
                "messages": [{"role": "user", "content": "hi"}],
                "conversation_id": NOBODY,
            }
        },
        404,
        "not_found",
    ),
    ("POST", "/v1/chat/attachments", {"files": {"file": ("empty.txt", b"")}}, 400, "bad_request"),
    ("GET", "/v1/models", {"headers": {"Authorization": "Bearer nope"}}, 401, "not_authenticated"),
    ("GET", f"/v1/models/{NOBODY}", {}, 404, "model_not_found"),
    ("POST", "/v1/reports", {"json": {"post_id": NOBODY, "category": "ncii"}}, 404, "not_found"),
    ("GET", "/v1/reports", {"params": {"overdue": "maybe"}}, 422, "validation_error"),
    ("GET", f"/v1/reports/{NOBODY}", {}, 404, "not_found"),
    ("POST", f"/v1/reports/{NOBODY}/actions", {"json": {"action": "ban"}}, 422, "validation_error"),
    ("POST", f"/v1/reports/{NOBODY}/appeal", {"json": {"reason": ""}}, 422, "validation_error"),
    (
        "POST",
        "/v1/studio/media",
        {"files": {"file": ("notes.txt", b"just text", "text/plain")}},
        400,
        "bad_request",
    ),
    ("POST", "/v1/studio/media", {}, 422, "validation_error"),
    ("GET", "/v1/studio/media", {}, 200, ""),
    ("GET", f"/v1/studio/media/{NOBODY}/raw", {}, 404, "not_found"),
    ("GET", "/v1/studio/presets", {}, 200, ""),
    ("GET", "/v1/studio/templates", {}, 200, ""),
    ("POST", "/v1/studio/render", {"json": {"project": {"tracks": 5}}}, 400, "invalid_project"),
    (
        "POST",
        "/v1/studio/render",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        422,
        "validation_error",
    ),
    ("POST", "/v1/studio/script2video", {"json": {"script": " "}}, 400, "bad_request"),
    ("POST", "/v1/studio/smartcut", {"json": {"media": "../x"}}, 400, "bad_request"),
    ("POST", "/v1/studio/reframe", {"json": {}}, 400, "bad_request"),
    (
        "POST",
        "/v1/studio/captions",
        {"json": {"media": "0" * 24, "max_chars": 2}},
        400,
        "bad_request",
    ),
    ("POST", "/v1/studio/voiceover", {"json": {"text": ""}}, 422, "validation_error"),
    ("POST", "/v1/perceive", {}, 422, "validation_error"),
    (
        "POST",
        "/v1/perceive",
        {"files": {"file": ("notes.txt", b"just text", "text/plain")}},
        400,
        "bad_request",
    ),
    ("POST", "/v1/publish/tiktok", {"json": {}}, 422, "validation_error"),
    (
        "POST",
        "/v1/publish/tiktok",
        {"json": {"content_id": NOBODY, "privacy_level": "EVERYONE"}},
        422,
        "validation_error",
    ),
    ("POST", "/v1/publish/tiktok", {"json": {"content_id": NOBODY}}, 404, "not_found"),
    ("POST", "/v1/uploads", {"json": {"filename": "a.png", "size": 0}}, 422, "validation_error"),
    (
        "POST",
        "/v1/uploads",
        {"json": {"filename": "a.png", "size": 10, "sha256": "not hex"}},
        400,
        "bad_request",
    ),
    (
        "POST",
        "/v1/uploads",
        {"json": {"filename": "a.png", "size": 10, "jurisdictions": ["mars"]}},
        400,
        "unknown_jurisdiction",
    ),
    ("POST", "/v1/uploads", {"json": {"filename": "a", "size": 10**15}}, 413, "payload_too_large"),
    (
        "PUT",
        f"/v1/uploads/{NOBODY}",
        {"params": {"offset": 0}, "content": b"x", "headers": {"content-type": OFFSET_STREAM}},
        404,
        "not_found",
    ),
    (
        "PUT",
        f"/v1/uploads/{NOBODY}",
        {"params": {"offset": -1}, "content": b"x", "headers": {"content-type": OFFSET_STREAM}},
        422,
        "validation_error",
    ),
    ("PUT", f"/v1/uploads/{NOBODY}", {"params": {"offset": 0}}, 415, "unsupported_media_type"),
    ("GET", f"/v1/uploads/{NOBODY}", {}, 404, "not_found"),
    ("DELETE", f"/v1/uploads/{NOBODY}", {}, 404, "not_found"),
    ("POST", f"/v1/uploads/{NOBODY}/complete", {}, 404, "not_found"),
    (
        "POST",
        "/v1/uploads/file",
        {"files": {"file": ("a.png", b"", "image/png")}},
        400,
        "bad_request",
    ),
    (
        "POST",
        "/v1/uploads/file",
        {"files": {"file": ("a.bin", BINARY, "image/png")}},
        400,
        "bad_request",
    ),
    ("GET", "/v1/feed", {"params": {"cursor": "!!"}}, 400, "bad_request"),
    ("GET", "/v1/feed", {"params": {"limit": 0}}, 422, "validation_error"),
    ("GET", f"/v1/feed/{NOBODY}", {}, 404, "not_found"),
    ("GET", f"/v1/feed/{NOBODY}/media", {}, 404, "not_found"),
]


def _template(path: str) -> str:
    return path.replace(NOBODY, "{id}")


def api_routes(settings: Settings) -> set[tuple[str, str]]:
    """(METHOD, path template) of every /v1 route, from the app's own OpenAPI document."""
    paths = create_app(settings).openapi()["paths"]
    found = set()
    for path, operations in paths.items():
        if path.startswith("/v1/"):
            template = re.sub(r"\{[a-z_]+\}", "{id}", path)
            found |= {(method.upper(), template) for method in operations}
    return found


def test_every_api_route_has_a_bad_input_case(settings: Settings) -> None:
    routes = api_routes(settings)
    assert len(routes) >= 15  # the route table really was read
    covered = {(method, _template(path)) for method, path, *_ in BAD_INPUT}
    assert routes - covered == set(), "routes without a bad-input case"


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code"), BAD_INPUT)
def test_bad_input_gets_a_json_error(
    client: TestClient,
    make_key: MakeKey,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    headers = {**auth(make_key("admin")), **kwargs.pop("headers", {})}
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    if status >= 400:
        body = response.json()
        assert body["error"]["code"] == code
        assert body["error"]["message"]
        assert "Traceback" not in response.text


@pytest.mark.parametrize(("method", "path"), sorted({(m, p) for m, p, *_ in BAD_INPUT} - PUBLIC))
def test_every_route_needs_a_key(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    ["Bearer nope", "Basic dXNlcjpwYXNz", "Bearer hm_000000000000_" + "A" * 43, "Bearer"],
)
def test_bad_keys_are_refused_cleanly(client: TestClient, header: str) -> None:
    response = client.get("/v1/contents", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_health_and_openapi_need_no_key(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_unknown_route_and_method_are_json_errors(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.patch("/health")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
