"""A small in-process rate limiter (sliding window per client address) for public routes."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from hallmark.errors import UserError


class RateLimited(UserError):
    status = 429
    code = "rate_limited"


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits[client]
            while hits and now - hits[0] >= 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry = int(60 - (now - hits[0])) + 1
                raise RateLimited(
                    f"too many requests: at most {self.per_minute} a minute; retry in {retry} s",
                    retry_after=retry,
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= 60]:
                    del self._hits[key]
