"""Housekeeping that runs in the server: once at startup, then once a day."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)
DAY_SECONDS = 24 * 60 * 60


def start_daily(work: Callable[[], object], what: str) -> asyncio.Task[None]:
    """Run ``work`` now, then once a day in a worker thread of the running event loop; cancel
    the task to stop. A failure is logged (naming ``what``) and the next day tries again: the
    server keeps serving."""
    try:
        work()
    except Exception:
        log.exception("%s failed", what)
    return asyncio.get_running_loop().create_task(_daily(work, what))


async def _daily(work: Callable[[], object], what: str) -> None:
    while True:
        await asyncio.sleep(DAY_SECONDS)
        try:
            await run_in_threadpool(work)
        except Exception:
            log.exception("%s failed", what)
