"""The web UI: server-rendered pages over the same services as the JSON API.

Every page under ``/ui`` renders HTML, errors included: the routes use :class:`PageRoute`,
which turns the errors a page can raise into an error page (or, when the caller is not
signed in, a redirect to the sign-in form) before the app's JSON error handlers see them.
Sign-in stores the API key in the signed session cookie, which the JSON API accepts too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from hallmark.accounts.roles import allows
from hallmark.accounts.service import Principal, authenticate
from hallmark.api.deps import SESSION_KEY, PrincipalDep, ServicesDep, get_principal, require
from hallmark.errors import Forbidden, HallmarkError, NotAuthenticated, NotFound
from hallmark.flows.common import policy_for
from hallmark.jobs.service import STATES, JobView, list_jobs
from hallmark.ledger.chain import Entry
from hallmark.ledger.service import VerifyReport
from hallmark.policy import available_jurisdictions, render_rules, resolve_policy
from hallmark.services import Services
from hallmark.store.models import ContentRecord, Job, Tenant

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
LOGIN_PATH = "/ui/login"
LEDGER_PAGE = 50
RECENT = 10
SUMMARY_CHARS = 120

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

ERROR_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    422: "Invalid request",
    500: "Something went wrong",
}

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """A page, with the signed-in principal (if any) for the top bar."""
    context.setdefault("principal", getattr(request.state, "principal", None))
    context.setdefault("allows", allows)
    context.setdefault("active", "")
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> Response:
    title = ERROR_TITLES.get(status, "Error")
    return render(request, "error.html", status, status=status, title=title, message=message)


class PageRoute(APIRoute):
    """A route whose errors render as HTML pages, with the UI's security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handler(request)
            except NotAuthenticated:
                request.session.pop(SESSION_KEY, None)
                response = RedirectResponse(LOGIN_PATH, status_code=303)
            except HallmarkError as exc:
                response = error_page(request, exc.status, exc.message)
            except RequestValidationError as exc:
                problems = "; ".join(str(error.get("msg", "invalid")) for error in exc.errors())
                response = error_page(request, 400, problems or "invalid request")
            except StarletteHTTPException as exc:
                response = error_page(request, exc.status_code, str(exc.detail))
            except Exception:
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                response = error_page(request, 500, "internal error; see the server log")
            response.headers.update(SECURITY_HEADERS)
            return response

        return page


router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)


# --- dependencies --------------------------------------------------------------------------


def signed_in(request: Request, principal: PrincipalDep) -> Principal:
    """The caller, kept on the request so every page (error pages too) shows the top bar."""
    request.state.principal = principal
    return principal


def page_allowed(permission: str) -> Callable[[Principal], Principal]:
    check = require(permission)

    def allowed(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
        return check(principal)

    return allowed


def same_origin(request: Request) -> None:
    """CSRF defence beside the SameSite=strict cookie: a form post must come from this host."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        raise Forbidden("this form was posted from another site; reload the page and try again")


User = Annotated[Principal, Depends(signed_in)]
LedgerReader = Annotated[Principal, Depends(page_allowed("ledger:read"))]
PolicyReader = Annotated[Principal, Depends(page_allowed("policy:read"))]
SameOrigin = [Depends(same_origin)]


# --- what the pages show -------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class LedgerRow:
    seq: int
    time: str
    kind: str
    short_hash: str
    hash: str
    summary: str

    @classmethod
    def of(cls, entry: Entry) -> LedgerRow:
        return cls(
            seq=entry.seq,
            time=_time(entry.created_at),
            kind=entry.kind,
            short_hash=entry.hash.removeprefix("sha256:")[:12],
            hash=entry.hash,
            summary=_summary(entry.payload),
        )


@dataclass(slots=True, frozen=True)
class Dashboard:
    contents_by_flow: dict[str, int]
    jobs_by_state: dict[str, int]
    head_seq: int
    jurisdictions: list[str]
    jurisdictions_default: bool
    recent_contents: list[ContentRecord]
    recent_jobs: list[JobView]

    @property
    def contents_total(self) -> int:
        return sum(self.contents_by_flow.values())


def _time(iso: str) -> str:
    """``2025-01-02T03:04:05.123456Z`` -> ``2025-01-02 03:04:05Z``."""
    return iso[:19].replace("T", " ") + "Z" if len(iso) >= 19 else iso


templates.env.filters["when"] = _time


def _summary(payload: Any) -> str:
    if isinstance(payload, dict):
        parts = []
        for key, value in payload.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            parts.append(f"{key}={text if len(text) <= 40 else text[:39] + '…'}")
        text = ", ".join(parts)
    else:
        text = json.dumps(payload, ensure_ascii=False)
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _citations(sources: str, codes: Sequence[str]) -> list[tuple[str, str]]:
    """``"cn: a; b; eu: c"`` -> ``[("cn", "a; b"), ("eu", "c")]`` (a ref may hold "; ")."""
    if not sources:
        return []
    starts = "|".join(re.escape(code) for code in codes)
    parts = re.split(rf"; (?=(?:{starts}): )", sources)
    return [(code, ref) for code, _, ref in (part.partition(": ") for part in parts)]


def _dashboard(services: Services, session: Session, principal: Principal) -> Dashboard:
    tenant_id = principal.tenant_id
    flows: dict[str, int] = {}
    for flow, count in session.execute(
        select(ContentRecord.flow, func.count())
        .where(ContentRecord.tenant_id == tenant_id)
        .group_by(ContentRecord.flow)
    ):
        flows[flow] = count
    states = dict.fromkeys(STATES, 0)
    for state, count in session.execute(
        select(Job.state, func.count()).where(Job.tenant_id == tenant_id).group_by(Job.state)
    ):
        states[state] = count
    tenant = session.get(Tenant, tenant_id)
    own = tenant.jurisdictions.split(",") if tenant is not None and tenant.jurisdictions else []
    can_read = allows(principal.role, "content:read")
    recent = (
        list(
            session.scalars(
                select(ContentRecord)
                .where(ContentRecord.tenant_id == tenant_id)
                .order_by(ContentRecord.created_at.desc())
                .limit(RECENT)
            )
        )
        if can_read
        else []
    )
    jobs = list_jobs(session, tenant_id, limit=RECENT) if allows(principal.role, "jobs:use") else []
    return Dashboard(
        contents_by_flow=flows,
        jobs_by_state=states,
        head_seq=services.ledger.head(session)[0],
        jurisdictions=own or services.settings.jurisdiction_codes(),
        jurisdictions_default=not own,
        recent_contents=recent,
        recent_jobs=jobs,
    )


# --- pages ---------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request) -> Response:
    return render(request, "login.html", message=None)


@router.post("/login", dependencies=SameOrigin)
def login(
    request: Request, services: ServicesDep, api_key: Annotated[str, Form()] = ""
) -> Response:
    token = api_key.strip()
    if not token:
        return render(request, "login.html", 401, message="Enter your API key.")
    try:
        with services.db.session() as session:
            principal = authenticate(session, token)
    except NotAuthenticated as exc:
        return render(request, "login.html", 401, message=f"Sign-in failed: {exc.message}.")
    request.session.clear()
    # The signed cookie names the key; it never holds the secret itself.
    request.session[SESSION_KEY] = principal.key_id
    return RedirectResponse("/ui", status_code=303)


@router.post("/logout", dependencies=SameOrigin)
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse(LOGIN_PATH, status_code=303)


@router.get("")
def dashboard(request: Request, services: ServicesDep, principal: User) -> Response:
    with services.db.session() as session:
        data = _dashboard(services, session, principal)
    return render(request, "dashboard.html", active="dashboard", data=data)


def _ledger_page(
    request: Request,
    services: Services,
    principal: Principal,
    after: int,
    report: VerifyReport | None = None,
) -> Response:
    with services.db.session() as session:
        entries = services.ledger.entries(
            session, tenant_id=principal.tenant_id, after=after, limit=LEDGER_PAGE
        )
    rows = [LedgerRow.of(entry) for entry in entries]
    next_after = rows[-1].seq if len(rows) == LEDGER_PAGE else None
    return render(
        request,
        "ledger.html",
        active="ledger",
        rows=rows,
        after=after,
        next_after=next_after,
        report=report,
    )


@router.get("/ledger")
def ledger(
    request: Request,
    services: ServicesDep,
    principal: LedgerReader,
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    return _ledger_page(request, services, principal, after)


@router.post("/ledger/verify", dependencies=SameOrigin)
def ledger_verify(
    request: Request,
    services: ServicesDep,
    principal: LedgerReader,
    after: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    with services.db.session() as session:
        report = services.ledger.verify(session)
    return _ledger_page(request, services, principal, after, report)


@router.get("/policy")
def policy(
    request: Request,
    services: ServicesDep,
    principal: PolicyReader,
    jurisdictions: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    requested = (jurisdictions or "").strip()
    known = available_jurisdictions(services.settings.policy_dir)
    try:
        if requested:
            combined = resolve_policy(requested, services.settings.policy_dir)
        else:
            with services.db.session() as session:
                combined = policy_for(services, session, principal.tenant_id, None)
    except HallmarkError as exc:
        return render(
            request,
            "policy.html",
            exc.status,
            active="policy",
            error=exc.message,
            requested=requested,
            known=known,
            codes=[],
            rows=[],
        )
    return render(
        request,
        "policy.html",
        active="policy",
        error=None,
        requested=requested or ",".join(combined.jurisdictions),
        known=known,
        codes=list(combined.jurisdictions),
        rows=[
            (rule, value, _citations(sources, combined.jurisdictions))
            for rule, value, sources in render_rules(combined)
        ],
    )


@router.api_route("/{path:path}", methods=["GET", "POST"])
def not_found(request: Request, services: ServicesDep, path: str) -> Response:
    if not path:  # /ui/
        return RedirectResponse("/ui", status_code=303)
    with contextlib.suppress(NotAuthenticated):  # show the top bar to a signed-in caller
        signed_in(request, get_principal(request, services))
    raise NotFound(f"there is no page at /ui/{path}")


# --- mounting ------------------------------------------------------------------------------


def root() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=303)


def mount(app: FastAPI) -> None:
    """Add the web UI's routes and static files to the app."""
    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
