"""The application: API routers, the web UI, error handlers, and the job worker's lifecycle."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from hallmark import __version__
from hallmark.api.errors import install_error_handlers
from hallmark.api.ratelimit import RateLimiter
from hallmark.api.routes import (
    chat,
    contents,
    conversations,
    create,
    feed,
    health,
    jobs,
    keys,
    ledger,
    mark,
    perceive,
    policy,
    publish,
    receive,
    reports,
    screen,
    studio,
    uploads,
    watermarks,
)
from hallmark.assistant.retention import start_pruning
from hallmark.jobs.worker import Worker
from hallmark.platform.uploads import start_pruning as start_upload_pruning
from hallmark.services import Services, build_services
from hallmark.settings import Settings
from hallmark.web import report_pages
from hallmark.web import routes as web


def session_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept beside the other keys."""
    if settings.session_secret:
        return settings.session_secret
    path: Path = settings.keys_dir / "session-secret"
    if not path.exists():
        settings.keys_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_urlsafe(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        app.state.services = services or build_services(settings)
        for member in app.state.services.components.screens:
            member.prepare()  # compile lexicons now, not on the first request
        pruner = start_pruning(app.state.services)  # conversations past retention (art. 11)
        upload_pruner = start_upload_pruning(app.state.services)  # uploads past expiry
        worker = None
        if settings.worker_threads > 0:
            worker = Worker(app.state.services, settings.worker_threads, settings.job_poll_seconds)
            worker.start()
        app.state.worker = worker
        try:
            yield
        finally:
            pruner.cancel()
            upload_pruner.cancel()
            if worker is not None:
                worker.stop()
            if own:
                app.state.services.close()

    app = FastAPI(
        title="hallmark",
        version=__version__,
        description="Generative AI with compliance built in: every artifact carries its hallmark.",
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="hallmark_session",
        same_site="strict",
        https_only=False,
    )
    install_error_handlers(app)
    app.state.inspect_limiter = RateLimiter(settings.inspect_rate_per_minute)
    routers = (
        health,
        policy,
        keys,
        create,
        receive,
        mark,
        screen,
        contents,
        ledger,
        jobs,
        watermarks,
        uploads,
        feed,
        chat,
        conversations,
        reports,
        publish,
        studio,
        perceive,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(report_pages.router)  # before the UI's catch-all in web.mount
    web.mount(app)
    return app
