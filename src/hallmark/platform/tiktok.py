"""TikTok's Content Posting API over httpx: creator info, direct post, upload to the inbox,
chunked ``FILE_UPLOAD`` and the post status, as TikTok for Developers documents them.

- Query Creator Info: ``POST /v2/post/publish/creator_info/query/`` (scope ``video.publish``).
- Direct Post: ``POST /v2/post/publish/video/init/`` with ``post_info`` and ``source_info``
  (scope ``video.publish``); the answer holds ``publish_id`` and ``upload_url``.
- Upload: ``POST /v2/post/publish/inbox/video/init/`` with ``source_info`` only (scope
  ``video.upload``): the video lands in the creator's inbox as a draft.
- Media Transfer Guide: the chunk rules of :func:`chunk_plan`; each chunk is a ``PUT`` to
  ``upload_url`` with ``Content-Range: bytes FIRST-LAST/TOTAL`` and the video's
  ``Content-Type``, answered 206 while more is expected and 201 when the file is whole.
- Get Post Status: ``POST /v2/post/publish/status/fetch/`` with ``publish_id``.
- Error handling (API v2): every answer carries ``error: {code, message, log_id}``; ``code`` is
  ``ok`` on success. Errors become a :class:`PublishError` (a subclass per kind), whose message
  names TikTok's code, message and log id.

The access token is sent only as the ``Authorization`` header of the open API calls: never to
the upload URL, never in an error or a log line.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from hallmark.errors import HallmarkError

if TYPE_CHECKING:
    from hallmark.settings import Settings

# --- the contract ----------------------------------------------------------------------------

MB = 1024 * 1024  # the Media Transfer Guide's "MB", read as binary megabytes
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_FINAL_CHUNK = 128 * MB
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024 * MB  # the largest video TikTok takes (4 GB)
MAX_TITLE_UTF16 = 2200  # post_info.title, counted in UTF-16 code units
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
FAILED = "FAILED"
STATUSES = (
    "PROCESSING_UPLOAD",
    "PROCESSING_DOWNLOAD",
    SEND_TO_USER_INBOX,
    PUBLISH_COMPLETE,
    FAILED,
)
TERMINAL_STATUSES = frozenset({SEND_TO_USER_INBOX, PUBLISH_COMPLETE, FAILED})

CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
DIRECT_POST_PATH = "/v2/post/publish/video/init/"
INBOX_UPLOAD_PATH = "/v2/post/publish/inbox/video/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
JSON_TYPE = "application/json; charset=UTF-8"

CHUNK_RETRIES = 3  # further tries of a chunk whose PUT failed on the way or with 429/5xx
BACKOFF_SECONDS = 0.5  # before the first retry; doubled for each next one


# --- errors ----------------------------------------------------------------------------------


class PublishError(HallmarkError):
    """TikTok failed or refused; ``details`` hold its ``tiktok_code`` and ``log_id``."""

    status = 502
    code = "tiktok_error"
    exit_code = 1


class TikTokBadRequest(PublishError):
    """TikTok found a field or the file invalid (``invalid_param``, ``invalid_file_upload``)."""

    status = 400
    code = "tiktok_bad_request"
    exit_code = 2


class TikTokUnauthorized(PublishError):
    """The access token is invalid, expired or missing (``access_token_invalid``)."""

    status = 401
    code = "tiktok_unauthorized"
    exit_code = 2


class TikTokForbidden(PublishError):
    """A scope is missing, or TikTok will not take this post (spam caps, unaudited client)."""

    status = 403
    code = "tiktok_forbidden"
    exit_code = 2


class TikTokRateLimited(PublishError):
    status = 429
    code = "tiktok_rate_limited"


class TikTokTimeout(PublishError):
    """TikTok did not answer, or did not finish processing, in time."""

    status = 504
    code = "tiktok_timeout"


class TikTokNotConfigured(PublishError):
    status = 503
    code = "tiktok_not_configured"
    exit_code = 2


class PublishFailed(PublishError):
    """TikTok took the video but its processing ended ``FAILED`` (``fail_reason``)."""

    code = "tiktok_publish_failed"


ERRORS: dict[str, type[PublishError]] = {
    "access_token_invalid": TikTokUnauthorized,
    "scope_not_authorized": TikTokForbidden,
    "scope_permission_missed": TikTokForbidden,
    "invalid_param": TikTokBadRequest,
    "invalid_params": TikTokBadRequest,
    "invalid_file_upload": TikTokBadRequest,
    "privacy_level_option_mismatch": TikTokBadRequest,
    "spam_risk_too_many_posts": TikTokForbidden,
    "spam_risk_too_many_pending_share": TikTokForbidden,
    "spam_risk_user_banned_from_posting": TikTokForbidden,
    "spam_risk_text": TikTokForbidden,
    "spam_risk": TikTokForbidden,
    "reached_active_user_cap": TikTokForbidden,
    "unaudited_client_can_only_post_to_private_accounts": TikTokForbidden,
    "url_ownership_unverified": TikTokForbidden,
    "rate_limit_exceeded": TikTokRateLimited,
}
_BY_HTTP_STATUS: dict[int, type[PublishError]] = {
    400: TikTokBadRequest,
    401: TikTokUnauthorized,
    403: TikTokForbidden,
    429: TikTokRateLimited,
}
HINTS = {
    "access_token_invalid": "set HALLMARK_TIKTOK_ACCESS_TOKEN to a valid, unexpired user "
    "access token",
    "scope_not_authorized": "the TikTok user must authorize this app for video.publish "
    "(direct post) or video.upload (inbox)",
    "scope_permission_missed": "the TikTok user must authorize this app for video.publish "
    "(direct post) or video.upload (inbox)",
    "rate_limit_exceeded": "wait a minute and try again",
    "spam_risk_too_many_posts": "the creator reached TikTok's daily post cap; try tomorrow",
    "spam_risk_too_many_pending_share": "the creator has too many drafts waiting in the "
    "TikTok inbox; post or delete some first",
    "privacy_level_option_mismatch": "choose one of the privacy levels the creator offers",
    "unaudited_client_can_only_post_to_private_accounts": "an unaudited TikTok app may post "
    "only with privacy level SELF_ONLY",
}


def tiktok_error(what: str, http_status: int, error: dict[str, Any]) -> PublishError:
    """The error for TikTok's ``error`` object (or an HTTP status without one)."""
    code = str(error.get("code") or f"http_{http_status}")
    message = str(error.get("message") or "").strip() or "no message"
    log_id = str(error.get("log_id") or "") or None
    cls = ERRORS.get(code) or _BY_HTTP_STATUS.get(http_status, PublishError)
    text = f"TikTok refused {what}: {code}: {message}"
    if log_id:
        text += f" (log_id {log_id})"
    if code in HINTS:
        text += f"; {HINTS[code]}"
    return cls(text, tiktok_code=code, log_id=log_id, http_status=http_status)


# --- chunk plan ------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ChunkPlan:
    """How a file of ``video_size`` bytes is cut: ``ranges`` are inclusive byte ranges."""

    video_size: int
    chunk_size: int
    total_chunk_count: int
    ranges: tuple[tuple[int, int], ...]

    def source_info(self) -> dict[str, Any]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


def chunk_plan(size: int, chunk_size: int = MIN_CHUNK) -> ChunkPlan:
    """Cut ``size`` bytes by the Media Transfer Guide's rules, with chunks of ``chunk_size``
    (kept within 5-64 MB) or larger when that would take more than 1,000 chunks.

    A file under 5 MB is one chunk of its own size; otherwise ``total_chunk_count`` is
    ``floor(size / chunk_size)`` and the last chunk takes the remainder (up to 128 MB). A file
    over 64 MB is always in at least two chunks.
    """
    if size <= 0:
        raise TikTokBadRequest("the video is empty: there is nothing to upload")
    if size < MIN_CHUNK:
        return ChunkPlan(size, size, 1, ((0, size - 1),))
    chunk = min(max(chunk_size, MIN_CHUNK, math.ceil(size / MAX_CHUNKS)), MAX_CHUNK, size)
    if size > MAX_CHUNK and size // chunk < 2:
        chunk = size // 2
    count = size // chunk
    if count > MAX_CHUNKS:
        largest = (MAX_CHUNKS + 1) * MAX_CHUNK - 1
        raise TikTokBadRequest(
            f"the video is {size} bytes; TikTok's chunked upload takes at most "
            f"{MAX_CHUNKS} chunks of {MAX_CHUNK // MB} MB ({largest} bytes)"
        )
    ranges = tuple((i * chunk, (i + 1) * chunk - 1) for i in range(count - 1))
    ranges += (((count - 1) * chunk, size - 1),)
    return ChunkPlan(size, chunk, count, ranges)


# --- answers ---------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class CreatorInfo:
    avatar_url: str
    username: str
    nickname: str
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int

    @classmethod
    def of(cls, data: dict[str, Any]) -> CreatorInfo:
        options = data.get("privacy_level_options")
        return cls(
            avatar_url=str(data.get("creator_avatar_url") or ""),
            username=str(data.get("creator_username") or ""),
            nickname=str(data.get("creator_nickname") or ""),
            privacy_level_options=tuple(str(o) for o in options or ()),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=int(data.get("max_video_post_duration_sec") or 0),
        )


@dataclass(slots=True, frozen=True)
class InitResult:
    publish_id: str
    upload_url: str


@dataclass(slots=True, frozen=True)
class PostStatus:
    status: str
    fail_reason: str | None
    post_ids: tuple[str, ...]  # TikTok's ``publicaly_available_post_id`` (sic)
    uploaded_bytes: int | None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def of(cls, data: dict[str, Any]) -> PostStatus:
        uploaded = data.get("uploaded_bytes")
        return cls(
            status=str(data.get("status") or ""),
            fail_reason=str(data["fail_reason"]) if data.get("fail_reason") else None,
            post_ids=tuple(str(i) for i in data.get("publicaly_available_post_id") or ()),
            uploaded_bytes=uploaded if isinstance(uploaded, int) else None,
        )


@dataclass(slots=True, frozen=True)
class ChunkSent:
    index: int  # 0-based
    count: int
    sent_bytes: int  # all chunks so far
    total_bytes: int


ChunkProgress = Callable[[ChunkSent], None]


# --- the client ------------------------------------------------------------------------------


class TikTokClient:
    """One creator's access to the Content Posting API (sync httpx)."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        timeout: float = 60.0,
        chunk_retries: int = CHUNK_RETRIES,
        backoff: float = BACKOFF_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = access_token
        self._retries = chunk_retries
        self._backoff = backoff
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings) -> TikTokClient:
        token = settings.tiktok_access_token
        if not token:
            raise TikTokNotConfigured(
                "publishing to TikTok needs a user access token: set HALLMARK_TIKTOK_ACCESS_TOKEN"
            )
        return cls(settings.tiktok_base_url, token, timeout=settings.tiktok_timeout_seconds)

    def __repr__(self) -> str:
        return f"TikTokClient({self.base_url!r})"  # never the token

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- the open API ---

    def creator_info(self) -> CreatorInfo:
        return CreatorInfo.of(self._call(CREATOR_INFO_PATH, {}, "the creator info query"))

    def init_direct_post(
        self, post_info: dict[str, Any], source_info: dict[str, Any]
    ) -> InitResult:
        body = {"post_info": post_info, "source_info": source_info}
        return self._init(self._call(DIRECT_POST_PATH, body, "the direct post"))

    def init_inbox_upload(self, source_info: dict[str, Any]) -> InitResult:
        body = {"source_info": source_info}
        return self._init(self._call(INBOX_UPLOAD_PATH, body, "the upload to the inbox"))

    def fetch_status(self, publish_id: str) -> PostStatus:
        body = {"publish_id": publish_id}
        return PostStatus.of(self._call(STATUS_PATH, body, "the status query"))

    def _init(self, data: dict[str, Any]) -> InitResult:
        publish_id, upload_url = data.get("publish_id"), data.get("upload_url")
        if not isinstance(publish_id, str) or not publish_id:
            raise PublishError("TikTok accepted the post but sent no publish_id")
        if not isinstance(upload_url, str) or not upload_url:
            raise PublishError("TikTok accepted the post but sent no upload_url")
        return InitResult(publish_id, upload_url)

    def _call(self, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": JSON_TYPE}
        try:
            response = self._http.post(f"{self.base_url}{path}", json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise TikTokTimeout(f"TikTok did not answer {what} in time") from exc
        except httpx.HTTPError as exc:
            raise PublishError(f"cannot reach TikTok at {self.base_url}: {exc}") from exc
        payload = _json_object(response)
        raw = payload.get("error")
        error: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if response.is_success and error.get("code", "ok") == "ok":
            data = payload.get("data")
            return data if isinstance(data, dict) else {}
        raise tiktok_error(what, response.status_code, error)

    # --- the media transfer ---

    def upload_chunks(
        self,
        upload_url: str,
        path: Path,
        plan: ChunkPlan,
        *,
        media_type: str = "video/mp4",
        progress: ChunkProgress | None = None,
    ) -> None:
        """PUT each chunk in order; a chunk that fails on the way (or with 429/5xx) is sent
        again, with backoff, up to ``chunk_retries`` times; a finished one never is."""
        if media_type not in VIDEO_TYPES:
            raise TikTokBadRequest(f"TikTok takes {', '.join(VIDEO_TYPES)}; not {media_type}")
        sent = 0
        with path.open("rb") as handle:
            for index, (first, last) in enumerate(plan.ranges):
                handle.seek(first)
                chunk = handle.read(last - first + 1)
                if len(chunk) != last - first + 1:
                    raise PublishError(f"{path} changed while it was being uploaded")
                headers = {
                    "Content-Type": media_type,
                    "Content-Range": f"bytes {first}-{last}/{plan.video_size}",
                }
                final = index == plan.total_chunk_count - 1
                self._put_chunk(upload_url, chunk, headers, final, index, plan.total_chunk_count)
                sent += len(chunk)
                if progress is not None:
                    progress(ChunkSent(index, plan.total_chunk_count, sent, plan.video_size))

    def _put_chunk(
        self,
        upload_url: str,
        chunk: bytes,
        headers: dict[str, str],
        final: bool,
        index: int,
        count: int,
    ) -> None:
        what = f"chunk {index + 1} of {count}"
        for attempt in range(self._retries + 1):
            last_try = attempt == self._retries
            try:
                response = self._http.put(upload_url, content=chunk, headers=headers)
            except httpx.HTTPError as exc:
                if last_try:
                    raise PublishError(f"cannot upload {what} to TikTok: {exc}") from exc
            else:
                status = response.status_code
                if status in (201, 206):
                    if final and status != 201:
                        raise PublishError(f"TikTok still expects bytes after the last {what}")
                    return
                if last_try or not (status == 429 or status >= 500):
                    error = _json_object(response).get("error")
                    tries = f" (tried {attempt + 1} times)" if attempt else ""
                    raise tiktok_error(
                        f"{what}{tries}", status, error if isinstance(error, dict) else {}
                    )
            time.sleep(self._backoff * 2**attempt)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
