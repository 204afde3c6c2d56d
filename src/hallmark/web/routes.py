"""The web UI: server-rendered pages over the same services as the JSON API.

Every page under ``/ui`` renders HTML, errors included: the routes use :class:`PageRoute`,
which turns the errors a page can raise into an error page (or, when the caller is not
signed in, a redirect to the sign-in form) before the app's JSON error handlers see them.
Sign-in stores only the API key's id (never the secret) in the signed session cookie; the
JSON API accepts that cookie too, and each request re-checks the key (see ``api.deps``).
``/ui/inspect``, the free public detector (SB 942), needs no sign-in. ``/ui/chat``, the
assistant, is a page whose script talks to the JSON chat API with that same cookie.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from hallmark.accounts.roles import allows
from hallmark.accounts.service import Principal, authenticate
from hallmark.api.deps import SESSION_KEY, PrincipalDep, ServicesDep, get_principal, require
from hallmark.api.ratelimit import RateLimited
from hallmark.api.uploads import read_upload
from hallmark.errors import Forbidden, HallmarkError, NotAuthenticated, NotFound
from hallmark.flows.common import policy_for
from hallmark.jobs.service import STATES, JobView, list_jobs
from hallmark.ledger.chain import Entry
from hallmark.ledger.service import VerifyReport
from hallmark.mark.gb45438.fields import FIELD_NAMES
from hallmark.mark.report import inspect_bytes
from hallmark.policy import available_jurisdictions, render_rules, resolve_policy
from hallmark.services import Services
from hallmark.store.models import ContentRecord, Job, Tenant
from hallmark.trace import with_provenance

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
LOGIN_PATH = "/ui/login"
LEDGER_PAGE = 50
RECENT = 10
SUMMARY_CHARS = 120
MAX_INSPECT_FILES = 20
GENERIC_TYPES = frozenset({"", "application/octet-stream"})

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
    413: "Upload too large",
    422: "Invalid request",
    429: "Too many requests",
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


def show_signed_in(request: Request, services: Services) -> None:
    """On a public page, show the top bar to a caller who happens to be signed in."""
    with contextlib.suppress(NotAuthenticated):
        signed_in(request, get_principal(request, services))


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
Chatter = Annotated[Principal, Depends(page_allowed("chat:use"))]
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


# --- the inspect report, as the page shows it ----------------------------------------------

VERDICT_SENTENCES = {
    "confirmed": "This file carries an implicit AI label: it was generated by AI.",
    "possible": "This file is declared as possibly AI-generated: it carries an implicit label, "
    "but the label does not confirm that AI generated it.",
    "suspected": "This file shows signs of AI generation (a visible notice or a watermark) "
    "but carries no implicit label.",
    "none": "No AI label found.",
}
GB45438_LABELS = {"1": "generated by AI", "2": "possibly generated by AI", "3": "suspected AI"}
GB45438_ROWS = (
    *((name, name) for name in FIELD_NAMES),
    ("integrity", "Integrity"),
    ("integrity_codes", "Integrity codes"),
    ("serializations", "Found in"),
    ("raw", "Raw value"),
    ("error", "Error"),
)
C2PA_ROWS = (
    ("state", "State"),
    ("signer", "Signer"),
    ("digital_source_types", "Digital source type"),
    ("claim_generator", "Claim generator"),
    ("title", "Title"),
    ("manifests", "Manifests"),
    ("status_codes", "Validation failures"),
    ("error", "Error"),
)
SB942_ROWS = (
    ("provider", "Provider"),
    ("system_name", "System name"),
    ("system_version", "System version"),
    ("event", "Event"),
    ("time", "Time"),
    ("identifier", "Identifier"),
    ("statute", "Statute"),
    ("state", "Manifest state"),
)
SCHEME_TITLES = (
    ("explicit", "Explicit notice"),
    ("gb45438", "GB 45438 metadata"),
    ("c2pa", "C2PA Content Credentials"),
    ("sb942", "SB 942 disclosure"),
    ("watermark", "Watermark"),
)
PROVENANCE_ROWS = (
    ("content_id", "Content"),
    ("created_at", "Created"),
    ("ledger_seq", "Ledger entry"),
    ("entry_hash", "Entry hash"),
    ("watermark_id", "Watermark id"),
)
UNSET = "—"

Rows = tuple[tuple[str, str], ...]


@dataclass(slots=True, frozen=True)
class SchemeSection:
    """One label scheme in a file's report: a table per finding, none when it is absent."""

    key: str
    title: str
    tables: tuple[Rows, ...]


@dataclass(slots=True, frozen=True)
class FileCard:
    """One uploaded file: its report, or the error that stopped it."""

    name: str
    error: str | None = None
    media_type: str = ""
    size: int = 0
    digest: str = ""
    verdict: str = ""
    sections: tuple[SchemeSection, ...] = ()
    provenance: Rows = ()  # where the file's watermark leads in this hallmark's ledger

    @property
    def sentence(self) -> str:
        return VERDICT_SENTENCES.get(self.verdict, "")

    @classmethod
    def of(cls, name: str, report: Mapping[str, Any]) -> FileCard:
        """The card for an ``inspect_bytes`` report. Every finding is shown: the report's
        per-scheme keys hold only the first, and a file may carry two different labels."""
        findings: list[Mapping[str, Any]] = list(report.get("findings") or [])
        sections = []
        for key, title in SCHEME_TITLES:
            found = [
                (str(f.get("kind", "")), f.get("detail") or {})
                for f in findings
                if f.get("scheme") == key
            ]
            if not findings and report.get(key):  # a report without its findings list
                value = report[key]
                found = [("", detail) for detail in (value if isinstance(value, list) else [value])]
            sections.append(SchemeSection(key, title, _tables(key, found)))
        return cls(
            name=name,
            media_type=str(report["media_type"]),
            size=int(report["size"]),
            digest=str(report["digest"]),
            verdict=str(report["verdict"]),
            sections=tuple(sections),
            provenance=_rows(report.get("provenance") or {}, PROVENANCE_ROWS),
        )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return json.dumps(value, ensure_ascii=False)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != () and value != {}


def _rows(
    detail: Mapping[str, Any],
    known: Sequence[tuple[str, str]],
    skip: frozenset[str] = frozenset(),
    always: frozenset[str] = frozenset(),
) -> Rows:
    """Known keys first, under their labels, then any others under their own names; a key in
    ``always`` shows even when unset."""
    names = {key for key, _ in known}
    rows = [
        (label, _text(detail[key]) if _present(detail.get(key)) else UNSET)
        for key, label in known
        if key in always or _present(detail.get(key))
    ]
    rows += [
        (str(key), _text(value))
        for key, value in detail.items()
        if key not in names and key not in skip and _present(value)
    ]
    return tuple(rows)


def _source_type(uri: Any) -> str:
    """``http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia`` -> its name."""
    return str(uri).rstrip("/").rsplit("/", 1)[-1]


def _tables(scheme: str, found: Sequence[tuple[str, Any]]) -> tuple[Rows, ...]:
    if not found:
        return ()
    if scheme == "explicit":  # one table, a row per notice
        notices = [
            detail.get("text", detail) if isinstance(detail, Mapping) else detail
            for _, detail in found
        ]
        return (tuple(("Notice", _text(notice)) for notice in notices),)
    return tuple(_finding_rows(scheme, kind, detail) for kind, detail in found)


def _finding_rows(scheme: str, kind: str, detail: Any) -> Rows:
    if not isinstance(detail, Mapping):
        return (("Found", _text(detail)),)
    if scheme == "gb45438":
        is_label = kind != "trace" and "Label" in detail
        rows = _rows(
            detail,
            GB45438_ROWS,
            skip=frozenset({"serialization"}) if "serializations" in detail else frozenset(),
            always=frozenset(FIELD_NAMES) if is_label else frozenset(),
        )
        return tuple(
            (key, f"{value} ({GB45438_LABELS[value]})")
            if key == "Label" and value in GB45438_LABELS
            else (key, value)
            for key, value in rows
        )
    if scheme == "c2pa":
        shown = dict(detail)
        signer, issuer = shown.get("signer_common_name"), shown.get("signer_issuer")
        if signer or issuer:
            shown["signer"] = (signer or "unnamed") + (f", issued by {issuer}" if issuer else "")
        shown["digital_source_types"] = [
            _source_type(uri) for uri in shown.get("digital_source_types") or []
        ]
        skip = frozenset({"Label", "sb942", "signer_common_name", "signer_issuer"})
        return _rows(shown, C2PA_ROWS, skip=skip)
    if scheme == "sb942":
        return _rows(detail, SB942_ROWS, skip=frozenset({"Label"}))
    return _rows(detail, ())


def _inspect_upload(services: Services, upload: StarletteUploadFile) -> FileCard:
    name = upload.filename or "(unnamed file)"
    declared = upload.content_type if upload.content_type not in GENERIC_TYPES else None
    try:
        data = read_upload(cast(UploadFile, upload), services.settings.max_upload_bytes)
        report = with_provenance(
            services.db,
            inspect_bytes(
                services.components, data, filename=upload.filename, declared_type=declared
            ),
        )
    except HallmarkError as exc:
        return FileCard(name=name, error=exc.message)
    except Exception:
        log.exception("inspecting %r failed", name)
        return FileCard(name=name, error="this file could not be inspected (an internal error)")
    return FileCard.of(name, report)


def _size(size: int) -> str:
    """``1536`` -> ``1.5 KiB (1,536 bytes)``."""
    if size < 1024:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit} ({size:,} bytes)"


templates.env.filters["size"] = _size


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
    return render(request, "login.html", active="login", message=None)


@router.post("/login", dependencies=SameOrigin)
def login(
    request: Request, services: ServicesDep, api_key: Annotated[str, Form()] = ""
) -> Response:
    token = api_key.strip()
    if not token:
        return render(request, "login.html", 401, active="login", message="Enter your API key.")
    try:
        with services.db.session() as session:
            principal = authenticate(session, token)
    except NotAuthenticated as exc:
        return render(
            request, "login.html", 401, active="login", message=f"Sign-in failed: {exc.message}."
        )
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


def _inspect_page(
    request: Request,
    status_code: int = 200,
    *,
    message: str | None = None,
    cards: Sequence[FileCard] = (),
) -> Response:
    return render(
        request,
        "inspect.html",
        status_code,
        active="inspect",
        message=message,
        cards=list(cards),
        max_files=MAX_INSPECT_FILES,
    )


@router.get("/inspect")
def inspect_form(request: Request, services: ServicesDep) -> Response:
    show_signed_in(request, services)
    return _inspect_page(request)


@router.post("/inspect", dependencies=SameOrigin)
async def inspect_files(request: Request, services: ServicesDep) -> Response:
    """The free detector (SB 942) as a page: one report card per file, no sign-in.

    The form is read here rather than declared as ``File()`` parameters so that a form posted
    with no file chosen (a part with an empty file name, which arrives as text) gets this
    page's message instead of a validation error.
    """
    try:
        form = await request.form(max_files=MAX_INSPECT_FILES * 2)
    except StarletteHTTPException as exc:  # a malformed body, or far too many files
        await run_in_threadpool(show_signed_in, request, services)
        return _inspect_page(request, exc.status_code, message=str(exc.detail))
    try:
        uploads = [
            upload
            for upload in form.getlist("file")
            if isinstance(upload, StarletteUploadFile) and (upload.filename or upload.size)
        ]
        return await run_in_threadpool(_inspect_response, request, services, uploads)
    finally:
        await form.close()


def _inspect_response(
    request: Request, services: Services, uploads: Sequence[StarletteUploadFile]
) -> Response:
    show_signed_in(request, services)
    if not uploads:
        return _inspect_page(request, 400, message="Choose at least one file to inspect.")
    if len(uploads) > MAX_INSPECT_FILES:
        return _inspect_page(
            request, 400, message=f"At most {MAX_INSPECT_FILES} files at a time, please."
        )
    client = request.client.host if request.client else "unknown"
    try:
        for _ in uploads:  # one file costs what one POST /v1/inspect does
            request.app.state.inspect_limiter.check(client)
    except RateLimited as exc:
        response = _inspect_page(request, exc.status, message=exc.message)
        if "retry_after" in exc.details:
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response
    cards = [_inspect_upload(services, upload) for upload in uploads]
    return _inspect_page(request, cards=cards)


@router.get("/chat")
def chat(request: Request, principal: Chatter) -> Response:
    """The assistant's chat page: a shell that ``static/chat.js`` fills from the JSON API
    (``/v1/models``, ``/v1/chat/completions``, ``/v1/conversations``)."""
    return render(
        request,
        "chat.html",
        active="chat",
        can_read_ledger=allows(principal.role, "ledger:read"),
    )


@router.api_route("/{path:path}", methods=["GET", "POST"])
def not_found(request: Request, services: ServicesDep, path: str) -> Response:
    if not path:  # /ui/
        return RedirectResponse("/ui", status_code=303)
    show_signed_in(request, services)
    raise NotFound(f"there is no page at /ui/{path}")


# --- mounting ------------------------------------------------------------------------------


def root() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=303)


def mount(app: FastAPI) -> None:
    """Add the web UI's routes and static files to the app."""
    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    from hallmark.web import (  # they import this module's helpers
        feed_pages,
        perceive_pages,
        studio_pages,
    )

    app.include_router(feed_pages.router)  # before ``router``, whose catch-all would match
    app.include_router(studio_pages.router)
    app.include_router(perceive_pages.router)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
