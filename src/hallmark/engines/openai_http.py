"""One HTTP client for a server with OpenAI's API, shared by whatever speaks to one.

The chat engine (``openai-compatible``) and the vision perceiver (``openai-vision``) talk to
the same kind of server and must fail the same way, so the talking is here once: the client
made on first use, the model asked of ``GET {base}/models`` once when none is configured, and
failures translated at this boundary. A server that cannot be reached, or answers 429 or 5xx,
is retried with exponential backoff and jitter, but only before its answer has begun; then it
is an ``UpstreamError``. A server silent for longer than the timeout is an ``UpstreamTimeout``;
an error body's message becomes the ``UpstreamError``'s message, and a context-length error a
``ContextTooLong``. Messages name the caller's settings (``{prefix}_TIMEOUT_SECONDS``,
``{prefix}_MODEL``), so a user knows which to change.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from hallmark.errors import ContextTooLong, HallmarkError, UpstreamError, UpstreamTimeout

if TYPE_CHECKING:
    import httpx  # imported where used: registering a component should not cost its import

BACKOFF_SECONDS = 0.5  # before the first retry; doubled for each next one
MAX_BACKOFF_SECONDS = 8.0
ERROR_EXCERPT = 500
CONTEXT_ERROR = re.compile(r"context[ _-]?(length|window|size)|maximum context", re.IGNORECASE)


class OpenAIClient:
    """Requests to one OpenAI-compatible server; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        model: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        *,
        backoff: float = BACKOFF_SECONDS,
        transport: httpx.BaseTransport | None = None,
        setting_prefix: str = "HALLMARK_OPENAI",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.setting_prefix = setting_prefix
        self._api_key = api_key
        self._model = model
        self._retries = retries
        self._backoff = backoff
        self._transport = transport
        self._model_lock = threading.Lock()
        self._client_lock = threading.Lock()
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:  # never the key
        return f"OpenAIClient({self.base_url!r}, model={self._model!r})"

    @property
    def model(self) -> str:
        """The model asked: the configured one, else the first the server lists (asked once)."""
        with self._model_lock:
            if self._model is None:
                self._model = self._first_model()
            return self._model

    @property
    def known_model(self) -> str | None:
        """The model if configured or already asked for; never asks the server."""
        return self._model

    def send(
        self, method: str, path: str, body: dict[str, Any] | None, *, stream: bool = False
    ) -> httpx.Response:
        """The server's answer, once it is a success; retried while nothing has come yet.

        Unless ``stream``, its body has been read whole; a streamed answer is the caller's to
        close.
        """
        import httpx

        url = f"{self.base_url}{path}"
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            client = self._http()
            try:
                response = client.send(client.build_request(method, url, json=body), stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                # nothing came: no connection, or one the server closed before it answered
                if not last:
                    self._pause(attempt, None)
                    continue
                if isinstance(exc, httpx.ConnectTimeout):
                    raise UpstreamTimeout(f"{self.base_url} did not accept a connection") from exc
                raise UpstreamError(f"{self.base_url} is unreachable: {exc}") from exc
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout(
                    f"{self.base_url} did not answer within {self.timeout:g} s "
                    f"({self.setting_prefix}_TIMEOUT_SECONDS)"
                ) from exc
            except httpx.HTTPError as exc:
                raise UpstreamError(f"{self.base_url} failed: {exc}") from exc
            if response.is_success:
                return response
            error = self._error(response)
            if (response.status_code == 429 or response.status_code >= 500) and not last:
                self._pause(attempt, response.headers.get("retry-after"))
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Closes the connections; a later request opens new ones."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _first_model(self) -> str:
        response = self.send("GET", "/models", None)
        try:
            return str(response.json()["data"][0]["id"])
        except (ValueError, LookupError, TypeError) as exc:
            raise UpstreamError(
                f"{self.base_url}/models lists no model; set {self.setting_prefix}_MODEL"
            ) from exc

    def _http(self) -> httpx.Client:
        import httpx

        with self._client_lock:
            if self._client is None:  # made on first use: an SSL context takes a while
                headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
                self._client = httpx.Client(
                    headers=headers,
                    timeout=httpx.Timeout(self.timeout),
                    transport=self._transport,
                )
            return self._client

    def _error(self, response: httpx.Response) -> HallmarkError:
        """The error an unsuccessful answer means; its body is read and the answer closed."""
        import httpx

        try:
            response.read()
            message = error_message(response.content)
        except httpx.HTTPError:
            message = None
        finally:
            response.close()
        message = message or f"HTTP {response.status_code}"
        if response.status_code in (400, 413, 422) and CONTEXT_ERROR.search(message):
            return ContextTooLong(f"the conversation does not fit the model's context: {message}")
        return UpstreamError(f"{self.base_url} answered {response.status_code}: {message}")

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        delay = min(MAX_BACKOFF_SECONDS, self._backoff * 2**attempt)
        delay *= 0.5 + random.random() / 2  # jitter, so clients do not retry in step
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(MAX_BACKOFF_SECONDS, float(retry_after)))
        time.sleep(delay)


def error_message(content: bytes) -> str | None:
    """The message of an OpenAI error body ``{"error": {"message": ...}}``, or its text."""
    try:
        body = json.loads(content)
    except ValueError:
        text = content.decode("utf-8", errors="replace").strip()
        return text[:ERROR_EXCERPT] or None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return None
