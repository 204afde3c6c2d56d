"""A fake TikTok Content Posting API: a real HTTP server on a free loopback port that enforces
the published contract strictly, so the connector under test is the code users run.

Every rule comes from TikTok for Developers (developers.tiktok.com):

- API v2 Error Handling (``tiktok-api-v2-error-handling``): every answer carries
  ``error: {code, message, log_id}`` (``ok`` on success); ``access_token_invalid`` 401,
  ``scope_not_authorized`` 401, ``invalid_params`` 400, ``rate_limit_exceeded`` 429,
  ``internal_error`` 500. The endpoint pages spell the bad-field code ``invalid_param``, which
  is what this server answers.
- Query Creator Info (``content-posting-api-reference-query-creator-info``):
  ``POST /v2/post/publish/creator_info/query/``, scope ``video.publish``, 20 requests a minute
  per token; answers ``creator_avatar_url``, ``creator_username``, ``creator_nickname``,
  ``privacy_level_options``, ``comment_disabled``, ``duet_disabled``, ``stitch_disabled``,
  ``max_video_post_duration_sec``.
- Direct Post (``content-posting-api-reference-direct-post``):
  ``POST /v2/post/publish/video/init/``, scope ``video.publish``, 6 requests a minute per
  token, header ``Content-Type: application/json; charset=UTF-8``; ``post_info`` (``title`` up
  to 2,200 UTF-16 units, ``privacy_level`` required and among the creator's options, else
  ``privacy_level_option_mismatch``; booleans ``disable_duet``, ``disable_comment``,
  ``disable_stitch``, ``brand_content_toggle``, ``brand_organic_toggle``, ``is_aigc``;
  ``video_cover_timestamp_ms``; branded content cannot be ``SELF_ONLY``) and ``source_info``;
  answers ``publish_id`` and ``upload_url``; ``spam_risk_too_many_posts`` (403) past the daily
  cap. Unknown fields are refused here (``invalid_param``) to catch misspelt ones.
- Upload (``content-posting-api-reference-upload-video``):
  ``POST /v2/post/publish/inbox/video/init/``, scope ``video.upload``, ``source_info`` only;
  ``spam_risk_too_many_pending_share`` (403) past 5 pending drafts.
- Media Transfer Guide (``content-posting-api-media-transfer-guide``): ``total_chunk_count``
  = floor(``video_size`` / ``chunk_size``); chunks 5-64 MB, the last up to 128 MB taking the
  trailing bytes; a video under 5 MB in one chunk of its own size; one over 64 MB in several;
  1 to 1,000 chunks, sent in order, each a ``PUT`` with ``Content-Type`` (``video/mp4``,
  ``video/quicktime`` or ``video/webm``), ``Content-Length`` and ``Content-Range: bytes
  FIRST-LAST/TOTAL``; answered 206 Partial Content, and 201 Created for the last. An upload
  URL serves one publish_id once. (MB is read as 1,048,576 bytes; TikTok's 4 GB video limit
  is enforced too.) PULL_FROM_URL is refused with ``url_ownership_unverified``: no domain is
  verified here.
- Get Post Status (``content-posting-api-reference-get-video-status``):
  ``POST /v2/post/publish/status/fetch/`` with ``publish_id``, scope ``video.upload`` or
  ``video.publish``, 30 requests a minute; ``status`` PROCESSING_UPLOAD while bytes arrive,
  then PUBLISH_COMPLETE (direct; ``publicaly_available_post_id`` for public posts) or
  SEND_TO_USER_INBOX (inbox), or FAILED with ``fail_reason``; ``uploaded_bytes``.

Chosen here where the pages give no detail: the HTTP status of
``privacy_level_option_mismatch`` and the spam errors (403); the pending-draft cap (5); what a
broken chunk ``PUT`` gets (400 for a bad header, 416 for a chunk out of order or of the wrong
length, 403 for a used-up upload URL, 500 for an injected failure), always with TikTok's error
object; an unknown ``publish_id`` is ``invalid_param``.

What tests can trigger: per token (:class:`FakeToken`) its scopes, privacy options,
interaction settings, duration limit, ``fail_reason`` (processing ends FAILED),
``processing_polls`` (status queries answered PROCESSING_UPLOAD after the last chunk),
``rate_limited`` and the daily cap; per server ``fail_chunks`` (chunk indexes whose next PUT
answers 500 once). It records what it received: :attr:`FakeTikTok.posts` (post_info and
source_info as sent, the reassembled bytes, each chunk's headers) and every request's path.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MB = 1024 * 1024
MIN_CHUNK, MAX_CHUNK, MAX_FINAL_CHUNK, MAX_CHUNKS = 5 * MB, 64 * MB, 128 * MB, 1000
MAX_VIDEO = 4 * 1024 * MB
ALL_PRIVACY = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
LIMITS = {"creator_info": 20, "init": 6, "status": 30}  # requests a minute per token
BOOL_FIELDS = (
    "disable_duet",
    "disable_comment",
    "disable_stitch",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
POST_INFO_FIELDS = {*BOOL_FIELDS, "title", "privacy_level", "video_cover_timestamp_ms"}
SOURCE_FIELDS = {"source", "video_size", "chunk_size", "total_chunk_count", "video_url"}
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass
class FakeToken:
    scopes: frozenset[str] = frozenset({"user.info.basic", "video.publish", "video.upload"})
    username: str = "hallmark_creator"
    privacy_level_options: tuple[str, ...] = ALL_PRIVACY
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    fail_reason: str | None = None  # processing ends FAILED with this reason
    processing_polls: int = 1
    rate_limited: bool = False
    daily_post_cap: int = 15
    pending_share_cap: int = 5


@dataclass
class FakePost:
    publish_id: str
    token: str
    mode: str  # "direct" | "inbox"
    post_info: dict[str, Any] | None
    source_info: dict[str, Any]
    upload_token: str
    data: bytearray = field(default_factory=bytearray)
    chunks: list[dict[str, Any]] = field(default_factory=list)  # headers of each stored chunk
    complete: bool = False
    polls_after_complete: int = 0

    @property
    def video_size(self) -> int:
        return int(self.source_info["video_size"])

    @property
    def chunk_size(self) -> int:
        return int(self.source_info["chunk_size"])

    @property
    def total_chunk_count(self) -> int:
        return int(self.source_info["total_chunk_count"])


class ContractError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def log_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def _ok(data: dict[str, Any], status: int = 200) -> JSONResponse:
    error = {"code": "ok", "message": "", "log_id": log_id()}
    return JSONResponse({"data": data, "error": error}, status_code=status)


def _error(exc: ContractError) -> JSONResponse:
    error = {"code": exc.code, "message": exc.message, "log_id": log_id()}
    return JSONResponse({"data": {}, "error": error}, status_code=exc.status)


def _bad(message: str) -> ContractError:
    return ContractError(400, "invalid_param", message)


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"source_info.{name} must be an int64")
    return value


def check_chunk_rules(video_size: int, chunk_size: int, total_chunk_count: int) -> None:
    """The Media Transfer Guide's chunk restrictions; ContractError on the first broken."""
    if video_size <= 0 or chunk_size <= 0:
        raise _bad("video_size and chunk_size must be positive")
    if video_size < MIN_CHUNK:
        if chunk_size != video_size or total_chunk_count != 1:
            raise _bad("a video under 5 MB is uploaded whole: chunk_size = video_size, 1 chunk")
        return
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise _bad("chunk_size must be at least 5 MB and at most 64 MB")
    if total_chunk_count != video_size // chunk_size:
        raise _bad("total_chunk_count must be video_size / chunk_size rounded down")
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        raise _bad("a video is uploaded in 1 to 1000 chunks")
    if video_size - (total_chunk_count - 1) * chunk_size > MAX_FINAL_CHUNK:
        raise _bad("the final chunk may be at most 128 MB")
    if video_size > MAX_CHUNK and total_chunk_count < 2:
        raise _bad("a video over 64 MB is uploaded in several chunks")


class FakeTikTok:
    """Start with ``running()``; ``url`` is its base URL (for HALLMARK_TIKTOK_BASE_URL)."""

    def __init__(self) -> None:
        self.tokens: dict[str, FakeToken] = {}
        self.posts: dict[str, FakePost] = {}
        self.requests: list[tuple[str, str, bool]] = []  # method, path, had Authorization
        self.fail_chunks: set[int] = set()
        self._calls: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.app = Starlette(
            routes=[
                Route("/v2/post/publish/creator_info/query/", self._creator_info, methods=["POST"]),
                Route("/v2/post/publish/video/init/", self._direct_post, methods=["POST"]),
                Route("/v2/post/publish/inbox/video/init/", self._inbox_upload, methods=["POST"]),
                Route("/v2/post/publish/status/fetch/", self._status, methods=["POST"]),
                Route("/upload/", self._put_chunk, methods=["PUT"]),
            ]
        )

    def add_token(self, token: str | None = None, **config: Any) -> str:
        token = token or "act." + secrets.token_urlsafe(24)
        self.tokens[token] = FakeToken(**config)
        return token

    def post(self, publish_id: str | None = None) -> FakePost:
        """A post by id, or the only one."""
        if publish_id is None:
            (only,) = self.posts.values()
            return only
        return self.posts[publish_id]

    # --- lifecycle ---

    def start(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake TikTok server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)

    # --- the open API ---

    async def _creator_info(self, request: Request) -> Response:
        try:
            _, config = self._authorize(request, {"video.publish"}, "creator_info")
            await self._json_body(request)
            return _ok(
                {
                    "creator_avatar_url": f"{self.url}/avatar/{config.username}.jpg",
                    "creator_username": config.username,
                    "creator_nickname": config.username.replace("_", " ").title(),
                    "privacy_level_options": list(config.privacy_level_options),
                    "comment_disabled": config.comment_disabled,
                    "duet_disabled": config.duet_disabled,
                    "stitch_disabled": config.stitch_disabled,
                    "max_video_post_duration_sec": config.max_video_post_duration_sec,
                }
            )
        except ContractError as exc:
            return _error(exc)

    async def _direct_post(self, request: Request) -> Response:
        try:
            token, config = self._authorize(request, {"video.publish"}, "init")
            body = await self._json_body(request)
            if set(body) - {"post_info", "source_info"}:
                raise _bad(f"unknown fields: {sorted(set(body) - {'post_info', 'source_info'})}")
            post_info = self._post_info(body.get("post_info"), config)
            source_info = self._source_info(body.get("source_info"))
            with self._lock:
                posted = sum(1 for p in self.posts.values() if p.token == token)
                if posted >= config.daily_post_cap:
                    raise ContractError(
                        403, "spam_risk_too_many_posts", "the daily post cap is reached"
                    )
                return _ok(self._new_post(token, "direct", post_info, source_info))
        except ContractError as exc:
            return _error(exc)

    async def _inbox_upload(self, request: Request) -> Response:
        try:
            token, config = self._authorize(request, {"video.upload"}, "init")
            body = await self._json_body(request)
            if set(body) != {"source_info"}:
                raise _bad("the body takes source_info only")
            source_info = self._source_info(body["source_info"])
            with self._lock:
                pending = sum(
                    1 for p in self.posts.values() if p.token == token and p.mode == "inbox"
                )
                if pending >= config.pending_share_cap:
                    raise ContractError(
                        403, "spam_risk_too_many_pending_share", "too many pending shares"
                    )
                return _ok(self._new_post(token, "inbox", None, source_info))
        except ContractError as exc:
            return _error(exc)

    async def _status(self, request: Request) -> Response:
        try:
            token, config = self._authorize(request, {"video.upload", "video.publish"}, "status")
            body = await self._json_body(request)
            publish_id = body.get("publish_id")
            if not isinstance(publish_id, str) or set(body) != {"publish_id"}:
                raise _bad("the body takes publish_id, a string")
            with self._lock:
                post = self.posts.get(publish_id)
                if post is None or post.token != token:
                    raise _bad(f"publish_id {publish_id} not found")
                return _ok(self._status_of(post, config))
        except ContractError as exc:
            return _error(exc)

    def _status_of(self, post: FakePost, config: FakeToken) -> dict[str, Any]:
        data: dict[str, Any] = {"uploaded_bytes": len(post.data)}
        if not post.complete or post.polls_after_complete < config.processing_polls:
            if post.complete:
                post.polls_after_complete += 1
            return {**data, "status": "PROCESSING_UPLOAD"}
        if config.fail_reason:
            return {**data, "status": "FAILED", "fail_reason": config.fail_reason}
        if post.mode == "inbox":
            return {**data, "status": "SEND_TO_USER_INBOX"}
        assert post.post_info is not None
        public = post.post_info["privacy_level"] == "PUBLIC_TO_EVERYONE"
        ids = (
            [int(post.publish_id.rsplit(".", 1)[-1]) + 7_000_000_000_000_000_000] if public else []
        )
        return {**data, "status": "PUBLISH_COMPLETE", "publicaly_available_post_id": ids}

    # --- the media transfer ---

    async def _put_chunk(self, request: Request) -> Response:
        self._note(request)
        try:
            body = await request.body()
            with self._lock:
                return self._store_chunk(request, body)
        except ContractError as exc:
            return _error(exc)

    def _store_chunk(self, request: Request, body: bytes) -> Response:
        post = self.posts.get(request.query_params.get("upload_id", ""))
        if post is None or request.query_params.get("upload_token") != post.upload_token:
            raise ContractError(404, "invalid_param", "no such upload_url")
        if post.complete:
            raise ContractError(403, "invalid_param", "this upload_url was used up")
        media_type = request.headers.get("content-type", "")
        if media_type not in VIDEO_TYPES:
            raise _bad(f"Content-Type must be one of {', '.join(VIDEO_TYPES)}")
        if post.chunks and media_type != post.chunks[0]["content_type"]:
            raise _bad("every chunk must have the same Content-Type")
        match = CONTENT_RANGE.fullmatch(request.headers.get("content-range", ""))
        if match is None:
            raise _bad("Content-Range must be 'bytes FIRST-LAST/TOTAL'")
        first, last, total = (int(g) for g in match.groups())
        if total != post.video_size:
            raise _bad(f"Content-Range total {total} is not video_size {post.video_size}")
        index = len(post.chunks)
        if first != len(post.data):
            raise ContractError(
                416, "invalid_param", f"chunks go in order: expected byte {len(post.data)} next"
            )
        final = index == post.total_chunk_count - 1
        expected_last = post.video_size - 1 if final else first + post.chunk_size - 1
        if last != expected_last:
            raise ContractError(416, "invalid_param", f"chunk {index} ends at {expected_last}")
        if int(request.headers.get("content-length", "-1")) != len(body) or len(body) != (
            last - first + 1
        ):
            raise _bad("Content-Length must be the chunk's byte size and match Content-Range")
        if index in self.fail_chunks:
            self.fail_chunks.discard(index)
            raise ContractError(500, "internal_error", "the chunk was lost; send it again")
        post.data.extend(body)
        post.chunks.append(
            {"content_type": media_type, "content_range": match.group(0), "size": len(body)}
        )
        if final:
            post.complete = True
            return Response(status_code=201)
        return Response(status_code=206)

    # --- rules shared by the endpoints ---

    def _note(self, request: Request) -> None:
        with self._lock:
            auth = "authorization" in request.headers
            self.requests.append((request.method, request.url.path, auth))

    def _authorize(self, request: Request, scopes: set[str], limit: str) -> tuple[str, FakeToken]:
        self._note(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        config = self.tokens.get(token) if scheme == "Bearer" else None
        if config is None:
            raise ContractError(401, "access_token_invalid", "the access token is invalid")
        if not scopes & config.scopes:
            raise ContractError(
                401, "scope_not_authorized", f"the user did not authorize {' or '.join(scopes)}"
            )
        with self._lock:
            calls, now = self._calls[(token, limit)], time.monotonic()
            while calls and now - calls[0] > 60:
                calls.popleft()
            if config.rate_limited or len(calls) >= LIMITS[limit]:
                raise ContractError(429, "rate_limit_exceeded", "too many requests; slow down")
            calls.append(now)
        return token, config

    async def _json_body(self, request: Request) -> dict[str, Any]:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise _bad("Content-Type must be application/json; charset=UTF-8")
        raw = await request.body()
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise _bad("the body is not JSON") from None
        if not isinstance(body, dict):
            raise _bad("the body must be a JSON object")
        return body

    def _post_info(self, value: Any, config: FakeToken) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _bad("post_info is required and must be an object")
        unknown = set(value) - POST_INFO_FIELDS
        if unknown:
            raise _bad(f"post_info has unknown fields: {sorted(unknown)}")
        for name in BOOL_FIELDS:
            if name in value and not isinstance(value[name], bool):
                raise _bad(f"post_info.{name} must be a boolean")
        title = value.get("title", "")
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > 2200:
            raise _bad("post_info.title must be a string of at most 2200 UTF-16 units")
        cover = value.get("video_cover_timestamp_ms", 0)
        if not isinstance(cover, int) or isinstance(cover, bool) or cover < 0:
            raise _bad("post_info.video_cover_timestamp_ms must be a non-negative int32")
        level = value.get("privacy_level")
        if not isinstance(level, str) or level not in config.privacy_level_options:
            raise ContractError(
                403,
                "privacy_level_option_mismatch",
                f"privacy_level must be one of {list(config.privacy_level_options)}",
            )
        if value.get("brand_content_toggle") and level == "SELF_ONLY":
            raise _bad("branded content cannot be private (SELF_ONLY)")
        return dict(value)

    def _source_info(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _bad("source_info is required and must be an object")
        if set(value) - SOURCE_FIELDS:
            raise _bad(f"source_info has unknown fields: {sorted(set(value) - SOURCE_FIELDS)}")
        source = value.get("source")
        if source == "PULL_FROM_URL":
            raise ContractError(403, "url_ownership_unverified", "the URL prefix is unverified")
        if source != "FILE_UPLOAD":
            raise _bad("source_info.source must be FILE_UPLOAD or PULL_FROM_URL")
        size, chunk = _int(value, "video_size"), _int(value, "chunk_size")
        check_chunk_rules(size, chunk, _int(value, "total_chunk_count"))
        if size > MAX_VIDEO:
            raise _bad("the video is larger than 4 GB")
        return dict(value)

    def _new_post(
        self, token: str, mode: str, post_info: dict[str, Any] | None, source: dict[str, Any]
    ) -> dict[str, str]:
        publish_id = f"v_{'pub' if mode == 'direct' else 'inbox'}_file~v2.{len(self.posts) + 1}"
        upload_token = secrets.token_urlsafe(16)
        self.posts[publish_id] = FakePost(publish_id, token, mode, post_info, source, upload_token)
        upload_url = f"{self.url}/upload/?upload_id={publish_id}&upload_token={upload_token}"
        return {"publish_id": publish_id, "upload_url": upload_url}


@contextmanager
def running() -> Iterator[FakeTikTok]:
    server = FakeTikTok()
    server.start()
    try:
        yield server
    finally:
        server.stop()
