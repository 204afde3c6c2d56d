"""The ``hallmark`` CLI (Typer + Rich). Known errors become one ``error: ...`` line."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hallmark.cli.chat import chat
from hallmark.cli.perceive import perceive
from hallmark.cli.platform import feed, upload
from hallmark.cli.publish import publish_app
from hallmark.cli.reports import reports_app
from hallmark.cli.studio import studio_app
from hallmark.errors import HallmarkError, UserError
from hallmark.services import Services, build_services
from hallmark.settings import load_settings

if TYPE_CHECKING:
    from hallmark.assistant.conversations import ConversationExport
    from hallmark.flows.screen import ScreenOutcome
    from hallmark.trace import Traced

app = typer.Typer(
    name="hallmark",
    help="Generative AI with compliance built in: every artifact carries its hallmark.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
policy_app = typer.Typer(
    help="Show the labeling, screening and retention rules.", no_args_is_help=True
)
ledger_app = typer.Typer(help="Verify, export and prune the audit ledger.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
jobs_app = typer.Typer(help="List and watch jobs.", invoke_without_command=True)
app.add_typer(policy_app, name="policy")
app.add_typer(ledger_app, name="ledger")
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_app, name="jobs")
app.command("chat")(chat)
app.command("perceive")(perceive)
app.command("upload")(upload)
app.command("feed")(feed)
conversations_app = typer.Typer(
    help="List, show, export, delete and prune the assistant's stored conversations.",
    no_args_is_help=True,
)
app.add_typer(conversations_app, name="conversations")
app.add_typer(reports_app, name="reports")
app.add_typer(publish_app, name="publish")
app.add_typer(studio_app, name="studio")

out = Console()
err = Console(stderr=True, soft_wrap=True)


def _services() -> Services:
    return build_services(load_settings())


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


# --- serve -------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default: settings).")
    ] = None,
) -> None:
    """Run the API and web UI server."""
    import uvicorn

    from hallmark.accounts.service import list_keys
    from hallmark.api.app import create_app

    settings = load_settings()
    services = build_services(settings)
    host, port = host or settings.host, port or settings.port
    out.print(
        f"hallmark on http://{host}:{port}  (data: {settings.home}, db: {services.db.dialect})"
    )
    with services.db.session() as session:
        if not list_keys(session):
            out.print("no API keys yet: create one with `hallmark keys create --role admin`")
    uvicorn.run(create_app(settings, services), host=host, port=port, log_level="info")


# --- policy ------------------------------------------------------------------------------


@policy_app.command("show")
def policy_show(
    jurisdictions: Annotated[str, typer.Argument(help="Comma-separated codes, e.g. cn,eu,us-ca.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the combined policy of some jurisdictions and where each rule comes from."""
    from hallmark.policy import parse_codes, policy_as_dict, render_rules, resolve_policy

    settings = load_settings()
    policy = resolve_policy(parse_codes(jurisdictions), settings.policy_dir)
    if as_json:
        _print_json(policy_as_dict(policy))
        return
    table = Table(title=f"policy: {', '.join(policy.jurisdictions)}", show_lines=False)
    table.add_column("rule", style="bold")
    table.add_column("value")
    table.add_column("source", style="dim")
    for rule, value, sources in render_rules(policy):
        table.add_row(rule, value, sources)
    out.print(table)


# --- ledger ------------------------------------------------------------------------------


@ledger_app.command("verify")
def ledger_verify(
    file: Annotated[
        Path | None, typer.Option("--file", help="Verify an export (JSON Lines) offline.")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="Pin the signer's public key (PEM) for --file.")
    ] = None,
) -> None:
    """Check the hash chain and its signed head; exit 1 naming the first bad entry."""
    from hallmark.ledger.export import verify_export

    if file is not None:
        report = verify_export(file, public_key)
    else:
        services = _services()
        with services.db.session() as session:
            report = services.ledger.verify(session)
    if report.ok:
        out.print(f"ledger ok: {report.checked} entries verified, head at entry {report.head_seq}")
        return
    err.print(f"ledger BROKEN: {report.problem}", markup=False, highlight=False)
    raise typer.Exit(1)


@ledger_app.command("export")
def ledger_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write every entry for an auditor as JSON Lines, with the checkpoint and signed head."""
    from hallmark.ledger.export import write_export

    services = _services()
    if output is None:
        count = write_export(services, sys.stdout)
    else:
        try:
            handle = output.open("w", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {output}: {exc.strerror}") from exc
        with handle:
            count = write_export(services, handle)
        err.print(f"wrote {count} entries to {output}")


@ledger_app.command("prune")
def ledger_prune(
    older_than: Annotated[
        int | None, typer.Option(help="Days to keep (default: HALLMARK_LEDGER_RETENTION_DAYS).")
    ] = None,
) -> None:
    """Remove entries past retention, leaving a signed checkpoint so the rest still verifies."""
    from hallmark.ledger.retention import prune_per_policy

    services = _services()
    checkpoint = prune_per_policy(services, older_than)
    if checkpoint is None:
        out.print("nothing to prune")
    else:
        out.print(
            f"pruned entries up to {checkpoint.upto_seq}; checkpoint {checkpoint.upto_hash[:19]}…"
        )


# --- keys --------------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="creator, reviewer or admin.")],
    tenant: Annotated[str, typer.Option(help="Tenant name (created if new).")] = "default",
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    from hallmark.accounts.service import create_key

    services = _services()
    with services.db.session() as session:
        issued = create_key(
            session, services.ledger, tenant_name=tenant, role=role, name=name, actor="cli"
        )
    err.print(
        f"created {issued.role} key {issued.id} for tenant {issued.tenant}; it is shown once:"
    )
    sys.stdout.write(issued.token + "\n")


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
) -> None:
    """List API keys (never their secrets)."""
    from hallmark.accounts.service import get_tenant, list_keys

    services = _services()
    with services.db.session() as session:
        tenant_id = get_tenant(session, tenant).id if tenant else None
        rows = list_keys(session, tenant_id)
        table = Table("id", "tenant", "role", "prefix", "name", "created", "revoked")
        for key, owner in rows:
            table.add_row(
                key.id,
                owner.name,
                key.role,
                key.prefix,
                key.name,
                key.created_at,
                key.revoked_at or "",
            )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke an API key."""
    from hallmark.accounts.service import revoke_key

    services = _services()
    with services.db.session() as session:
        revoke_key(session, services.ledger, key_id, tenant_id=None, actor="cli")
    out.print(f"revoked {key_id}")


# --- jobs --------------------------------------------------------------------------------


def _watch(services: Services, job_id: str) -> dict[str, Any]:
    from hallmark.jobs import service

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        with services.db.session() as session:
            job = service.get(session, job_id, None)
        task = progress.add_task(job.kind, total=1.0, message=job.message)
        while True:
            with services.db.session() as session:
                job = service.get(session, job_id, None)
            progress.update(task, completed=job.progress, message=job.message)
            if job.done:
                break
            time.sleep(0.2)
    if job.state == "failed":
        raise HallmarkError(f"job {job.id} failed: {job.message}")
    return job.to_dict()


@jobs_app.callback()
def jobs_list(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="Only jobs in this state.")] = None,
) -> None:
    """List recent jobs (all tenants)."""
    if ctx.invoked_subcommand is not None:
        return
    from hallmark.jobs import service

    services = _services()
    with services.db.session() as session:
        jobs = service.list_jobs(session, None, state=state)
    table = Table("id", "kind", "state", "progress", "message", "created")
    for job in jobs:
        table.add_row(
            job.id, job.kind, job.state, f"{job.progress:.0%}", job.message, job.created_at
        )
    out.print(table)


@jobs_app.command("show")
def jobs_show(job_id: Annotated[str, typer.Argument(help="The job's id.")]) -> None:
    """Print one job as JSON."""
    from hallmark.jobs import service

    services = _services()
    with services.db.session() as session:
        _print_json(service.get(session, job_id, None).to_dict())


@jobs_app.command("watch")
def jobs_watch(job_id: Annotated[str, typer.Argument(help="The job's id.")]) -> None:
    """Follow a job's progress until it ends."""
    _print_json(_watch(_services(), job_id))


# --- create ------------------------------------------------------------------------------


@app.command()
def create(
    prompt: Annotated[str | None, typer.Argument(help="The prompt.")] = None,
    engine: Annotated[str, typer.Option(help="Engine name.")] = "llm",
    file: Annotated[
        Path | None, typer.Option("--file", help="Run every line of this file as a batch job.")
    ] = None,
    jurisdictions: Annotated[
        str | None, typer.Option(help="Comma-separated codes (default: the tenant's).")
    ] = None,
    language: Annotated[str | None, typer.Option(help="zh or en.")] = None,
    tenant: Annotated[str, typer.Option(help="Tenant to act as.")] = "default",
) -> None:
    """Create content through the full flow (screen, generate, label, record)."""
    from hallmark.accounts.service import ensure_tenant
    from hallmark.flows.create import CreateRequest, run_create
    from hallmark.jobs import service
    from hallmark.jobs.worker import run_pending
    from hallmark.policy import parse_codes

    if (prompt is None) == (file is None):
        raise UserError("give either a PROMPT or --file, not both or neither")
    codes = parse_codes(jurisdictions) if jurisdictions else None
    services = _services()
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, tenant).id
    if prompt is not None:
        outcome = run_create(
            services,
            tenant_id,
            CreateRequest(
                prompt=prompt,
                engine=engine,
                jurisdictions=tuple(codes) if codes else None,
                language=language,
            ),
        )
        _print_json(outcome.to_dict())
        return
    assert file is not None
    try:
        lines = file.read_text("utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from exc
    prompts = [line for line in lines if line.strip()]
    with services.db.session() as session:
        job = service.submit(
            session,
            services.components,
            tenant_id,
            "create.batch",
            {"prompts": prompts, "engine": engine, "jurisdictions": codes, "language": language},
        )
    runner = threading.Thread(target=run_pending, args=(services,), daemon=True)
    runner.start()
    result = _watch(services, job.id)
    runner.join()
    _print_json(result)


# --- mark and inspect ----------------------------------------------------------------------


def _read_file(path: Path) -> bytes:
    from hallmark.mark.report import read_file

    return read_file(path)


@app.command()
def mark(
    source: Annotated[Path, typer.Argument(help="The file to label (never modified).")],
    output: Annotated[Path, typer.Argument(help="Where to write the labelled copy.")],
    jurisdiction: Annotated[
        str | None, typer.Option("--jurisdiction", "-j", help="e.g. cn,eu,us-ca.")
    ] = None,
    explicit: Annotated[
        bool, typer.Option("--explicit/--no-explicit", help="Write the visible label.")
    ] = True,
    language: Annotated[str | None, typer.Option(help="zh or en.")] = None,
    tenant: Annotated[str, typer.Option(help="Tenant to act as.")] = "default",
) -> None:
    """Write every label the policy requires on a file, and record it in the ledger."""
    from hallmark.accounts.service import ensure_tenant
    from hallmark.files import write_atomically
    from hallmark.flows.mark import MarkRequest, run_mark
    from hallmark.policy import parse_codes

    if source.resolve() == output.resolve():
        raise UserError("OUTPUT must differ from SOURCE: the input file is never modified")
    data = _read_file(source)
    codes = tuple(parse_codes(jurisdiction)) if jurisdiction else None
    services = _services()
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, tenant).id
    outcome = run_mark(
        services,
        tenant_id,
        MarkRequest(
            data=data,
            filename=source.name,
            jurisdictions=codes,
            language=language,
            explicit=explicit,
        ),
    )
    try:
        write_atomically(output, outcome.content.data)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from exc
    _print_json(outcome.to_dict())


@app.command()
def inspect(
    files: Annotated[list[Path], typer.Argument(help="Files to inspect.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Files read in parallel.")] = 2,
    quick: Annotated[
        bool, typer.Option("--quick", help="Skip OCR of visible labels: metadata and marks only.")
    ] = False,
) -> None:
    """Read AI labels from any files and give each a verdict (confirmed/possible/suspected/none)."""
    from hallmark.mark.report import inspect_paths
    from hallmark.registry import load_components
    from hallmark.trace import open_existing, with_provenance

    settings = load_settings()
    components = load_components(settings)
    db = open_existing(settings)  # resolves watermarks to this hallmark's records, if any

    reports: list[dict[str, Any]] = []
    with Progress(
        TextColumn("[bold]inspect"), BarColumn(), TaskProgressColumn(), console=err
    ) as progress:
        task = progress.add_task("inspect", total=len(files))
        for report in inspect_paths(components, files, workers=workers, quick=quick):
            reports.append(with_provenance(db, report))
            progress.advance(task)
    if db is not None:
        db.dispose()
    if as_json:
        for report in reports:
            sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        table = Table("file", "type", "verdict", "explicit", "gb45438", "c2pa", "watermark")
        for report in reports:
            if "error" in report:
                table.add_row(report["file"], "", "error", report["error"]["message"])
                continue
            found = report["provenance"]
            table.add_row(
                report["file"],
                report["media_type"],
                report["verdict"],
                "yes" if report["explicit"] else "",
                "yes" if report["gb45438"] else "",
                str((report["c2pa"] or {}).get("state", "")),
                f"ledger entry {found['ledger_seq']}"
                if found
                else ("yes" if report["watermark"] else ""),
            )
        out.print(table)
    if any("error" in report for report in reports):
        raise typer.Exit(2)


@app.command()
def screen(
    file: Annotated[
        Path | None, typer.Argument(metavar="FILE", help="A file to screen.", show_default=False)
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="A text to screen.")] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            metavar="IN.jsonl",
            help='JSON Lines, one {"text": ...} a line; one decision a line out, in order.',
        ),
    ] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option("--jurisdiction", "-j", help="e.g. cn,eu,us-ca (default: the tenant's)."),
    ] = None,
    language: Annotated[str | None, typer.Option(help="zh or en: the refusal's language.")] = None,
    tenant: Annotated[str, typer.Option(help="Tenant to act as.")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Screen a text (--text), a FILE or a batch (--batch) and record each call in the ledger.

    Prints the action (allow, flag or block), the categories, the evidence (the term, where it
    is in the text, its category) and, when blocked, the policy's refusal in the user's language.
    A batch always writes JSON: one decision a line to stdout, in input order; a bad line gets
    {"line": N, "error": {...}} and the rest are still screened.

    Exit status: 0 when allowed or flagged, 1 when blocked, 2 for bad input. For a batch: 2 when
    any line is bad, else 1 when any line is blocked, else 0.
    """
    from hallmark.accounts.service import ensure_tenant
    from hallmark.flows.screen import ScreenRequest, run_screen
    from hallmark.policy import parse_codes

    if sum(given is not None for given in (text, file, batch)) != 1:
        raise UserError("give exactly one of --text TEXT, FILE or --batch IN.jsonl")
    codes = tuple(parse_codes(jurisdiction)) if jurisdiction else None
    data = _read_file(file) if file is not None else None
    lines = _open_batch(batch) if batch is not None else None
    services = _services()
    with services.db.session() as session:
        tenant_id = ensure_tenant(session, services.ledger, tenant).id
    if lines is not None:
        assert batch is not None
        with lines:
            raise typer.Exit(_screen_batch(services, tenant_id, batch.name, lines, codes, language))
    outcome = run_screen(
        services,
        tenant_id,
        ScreenRequest(
            text=text,
            data=data,
            filename=file.name if file is not None else None,
            jurisdictions=codes,
            language=language,
        ),
    )
    if as_json:
        _print_json(outcome.to_dict())
    else:
        shown = text if text is not None else (data or b"").decode("utf-8", errors="replace")
        _print_decision(outcome, shown)
    if outcome.decision.action == "block":
        raise typer.Exit(1)


def _open_batch(path: Path) -> BinaryIO:
    try:
        handle = path.open("rb")
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc
    if os.fstat(handle.fileno()).st_size == 0:
        handle.close()
        raise UserError(f'{path} is empty; expected JSON Lines, one {{"text": ...}} a line')
    return handle


def _screen_batch(
    services: Services,
    tenant_id: str,
    source: str,
    lines: BinaryIO,
    codes: tuple[str, ...] | None,
    language: str | None,
) -> int:
    """Screen every line, writing its decision as it goes; the exit status."""
    from hallmark.flows.screen import TextBatch, decision_record, parse_batch_line

    batch = TextBatch(services, tenant_id, jurisdictions=codes, language=language, source=source)
    size = os.fstat(lines.fileno()).st_size
    started = time.perf_counter()
    try:
        with Progress(
            TextColumn("[bold]screen"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[lines]} lines"),
            TimeElapsedColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("screen", total=size, lines=0)
            for number, raw in enumerate(lines, start=1):
                item: dict[str, Any] = {"line": number}
                try:
                    text, ident = parse_batch_line(raw.rstrip(b"\r\n"))
                    if ident is not None:
                        item["id"] = ident
                    decision = batch.screen(text)
                except HallmarkError as exc:
                    batch.reject()
                    item.update(exc.to_dict())
                else:
                    item.update(decision_record(decision, batch.screened_by, batch.note))
                sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
                progress.update(task, advance=len(raw), lines=number)
    finally:
        seq = batch.record()
    elapsed = max(time.perf_counter() - started, 1e-6)
    actions = batch.actions
    err.print(
        f"screened {batch.lines} lines in {elapsed:.2f} s ({batch.lines / elapsed:.0f} lines/s): "
        f"{actions['allow']} allowed, {actions['flag']} flagged, {actions['block']} blocked, "
        f"{actions['rejected']} bad; ledger entry {seq}",
        markup=False,
        highlight=False,
    )
    if actions["rejected"]:
        return 2
    return 1 if actions["block"] else 0


def _print_decision(outcome: ScreenOutcome, text: str) -> None:
    from rich.text import Text

    decision = outcome.decision
    screened = ", ".join(outcome.screened_by) or "nothing"
    summary = [
        f"{decision.action} under {', '.join(outcome.jurisdictions)}",
        f"screened by: {screened}",
        f"ledger entry {outcome.ledger_seq}",
    ]
    out.print("; ".join(summary), markup=False, highlight=False)
    if outcome.note:
        out.print(f"note: {outcome.note}", markup=False, highlight=False)
    if decision.categories:
        out.print(f"categories: {', '.join(decision.categories)}", markup=False, highlight=False)
    evidence = decision.to_dict()["evidence"]
    if evidence:
        table = Table("term", "found", "offsets", "category", "action", "via")
        for item in evidence:
            span = item.get("evidence") or {}
            found, where = "", ""
            if span.get("kind") == "text":
                found, where = text[span["start"] : span["end"]], f"{span['start']}:{span['end']}"
            cells = (item["term"], found, where, item["category"], item.get("action", ""))
            table.add_row(*(Text(cell) for cell in (*cells, item.get("via", ""))))
        out.print(table)
    if decision.refusal:
        out.print(f"refusal: {decision.refusal}", markup=False, highlight=False)


@app.command()
def trace(
    target: Annotated[
        str,
        typer.Argument(
            metavar="WATERMARK_ID_OR_FILE",
            help="A watermark id (12 hex digits, as inspect reports it) or a file to read it from.",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find the content a watermark belongs to (any tenant's) and its ledger entries."""
    from sqlalchemy import select

    from hallmark import trace as tracing
    from hallmark.store.models import Tenant

    services = _services()
    if tracing.WATERMARK_ID.match(target.strip()):
        idents = [tracing.parse_watermark_id(target)]
    else:
        idents = _watermarks_in_file(services, Path(target))
    ident, found = _first_traced(services, idents)
    if as_json:
        _print_json({"watermark_id": ident, "records": [item.to_dict() for item in found]})
        return
    with services.db.session() as session:
        tenants = dict(session.execute(select(Tenant.id, Tenant.name)).tuples().all())
    out.print(f"watermark {ident}: {len(found)} record(s), oldest first", highlight=False)
    for item in found:
        record, entry, check = item.record, item.entry, item.check
        if check is None:
            checked = "entry pruned (the retention checkpoint covers it)"
        elif check.hash_matches and check.linked:
            checked = "ok (hash recomputed; the next entry or the signed head names it)"
        else:
            checked = f"BROKEN (hash matches: {check.hash_matches}, linked: {check.linked})"
        rows = [
            ("tenant", tenants.get(record.tenant_id, record.tenant_id)),
            ("flow", f"{record.flow}, {record.media_type}"),
            ("created", record.created_at),
            ("ledger", f"entry {record.ledger_seq}" + (f", {entry.hash}" if entry else "")),
            ("check", checked),
        ]
        out.print(f"\ncontent {record.id}", highlight=False, markup=False)
        for name, value in rows:
            out.print(f"  {name:<8} {value}", highlight=False, markup=False, soft_wrap=True)


def _watermarks_in_file(services: Services, path: Path) -> list[str]:
    from hallmark.mark.report import inspect_bytes
    from hallmark.mark.watermark.payload import ID_HEX_DIGITS
    from hallmark.trace import watermark_ids

    if not path.exists():
        raise UserError(
            f"{str(path)!r} is neither a watermark id ({ID_HEX_DIGITS} hex digits) "
            "nor an existing file"
        )
    report = inspect_bytes(services.components, _read_file(path), filename=str(path))
    found = watermark_ids(report)
    if not found:
        raise UserError(f"{path} carries no watermark this hallmark can read")
    return found


def _first_traced(services: Services, idents: list[str]) -> tuple[str, list[Traced]]:
    """The first of ``idents`` (a file may carry two marks, e.g. video and audio) that
    resolves, with its records; the first one's ``NotFound`` when none does."""
    from hallmark.errors import NotFound
    from hallmark.trace import trace as trace_records

    first: NotFound | None = None
    for ident in idents:
        try:
            return ident, trace_records(services, ident)
        except NotFound as exc:
            first = first or exc
    assert first is not None
    raise first


# --- conversations -----------------------------------------------------------------------
# The CLI is the local operator: it sees every user's conversations of one tenant.

TenantOption = Annotated[str, typer.Option(help="Tenant whose conversations these are.")]
ConversationId = Annotated[str, typer.Argument(help="The conversation's id.")]


def _conversation(services: Services, tenant: str, conversation_id: str) -> ConversationExport:
    from hallmark.accounts.service import get_tenant
    from hallmark.assistant.conversations import find_owner, get_conversation

    with services.db.session() as session:
        tenant_id = get_tenant(session, tenant).id
        owner = find_owner(session, tenant_id, conversation_id)
        return get_conversation(session, tenant_id, owner, conversation_id)


@conversations_app.command("list")
def conversations_list(
    user: Annotated[
        str | None, typer.Option(help="Only this user's (default: every user's).")
    ] = None,
    tenant: TenantOption = "default",
    limit: Annotated[int, typer.Option(help="At most this many, most recent first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List conversations, the most recently active first."""
    from hallmark.accounts.service import get_tenant
    from hallmark.assistant.conversations import list_conversations

    services = _services()
    with services.db.session() as session:
        tenant_id = get_tenant(session, tenant).id
        found = list_conversations(session, tenant_id, user, limit=limit)
    if as_json:
        _print_json({"conversations": [summary.to_dict() for summary in found]})
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=32)  # whole: it is what `show` takes
    for name in ("user", "title", "model", "minor", "messages", "updated"):
        table.add_column(name)
    for summary in found:
        table.add_row(
            summary.id,
            summary.user_id,
            summary.title,
            summary.model,
            "yes" if summary.minor else "",
            str(summary.message_count),
            summary.updated_at[:19].replace("T", " "),
        )
    out.print(table)


@conversations_app.command("show")
def conversations_show(
    conversation_id: ConversationId,
    tenant: TenantOption = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a conversation's messages in order."""
    found = _conversation(_services(), tenant, conversation_id)
    if as_json:
        _print_json(found.to_dict())
        return
    summary = found.summary
    facts = [f"user {summary.user_id}", f"{summary.message_count} messages"]
    facts += [f"model {summary.model}"] if summary.model else []
    facts += ["minors mode"] if summary.minor else []
    out.print(f"{summary.title or '(untitled)'}  ({', '.join(facts)})", markup=False)
    for message in found.messages:
        answers = f" (answers {message.tool_call_id})" if message.tool_call_id else ""
        out.print(f"\n[{message.seq}] {message.role}{answers}", markup=False, highlight=False)
        if message.content:
            out.print(message.content, markup=False, highlight=False)
        for call in message.tool_calls:
            function = call.get("function") or {}
            called = f"{function.get('name', '?')}({function.get('arguments', '')})"
            out.print(f"  calls {called}", markup=False, highlight=False)


@conversations_app.command("export")
def conversations_export(
    conversation_id: ConversationId,
    output: Annotated[Path, typer.Option("--output", "-o", help="JSON file to write.")],
    tenant: TenantOption = "default",
) -> None:
    """Write a conversation and all its messages to a JSON file (a user's copy, on request)."""
    from hallmark.files import write_atomically

    found = _conversation(_services(), tenant, conversation_id)
    data = json.dumps(found.to_dict(), ensure_ascii=False, indent=2) + "\n"
    try:
        write_atomically(output, data.encode("utf-8"))
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from exc
    err.print(
        f"wrote conversation {conversation_id} ({found.summary.message_count} messages) "
        f"to {output}",
        markup=False,
        highlight=False,
    )


@conversations_app.command("delete")
def conversations_delete(conversation_id: ConversationId, tenant: TenantOption = "default") -> None:
    """Delete a conversation and its messages."""
    from hallmark.accounts.service import get_tenant
    from hallmark.assistant.conversations import delete_conversation, find_owner

    services = _services()
    with services.db.session() as session:
        tenant_id = get_tenant(session, tenant).id
        owner = find_owner(session, tenant_id, conversation_id)
        delete_conversation(session, tenant_id, owner, conversation_id)
    out.print(f"deleted conversation {conversation_id}", markup=False, highlight=False)


@conversations_app.command("prune")
def conversations_prune(
    older_than: Annotated[
        int | None,
        typer.Option(help="Days untouched (default: HALLMARK_CONVERSATION_RETENTION_DAYS)."),
    ] = None,
) -> None:
    """Delete every tenant's conversations untouched for that many days, with their messages
    and the daily usage records of that age."""
    from hallmark.assistant.retention import prune_expired

    pruned = prune_expired(_services(), older_than)
    days = pruned.older_than_days
    out.print(
        f"pruned {pruned.conversations} conversation(s) and {pruned.usage_days} daily usage "
        f"record(s) untouched for {days} day{'' if days == 1 else 's'}",
        markup=False,
        highlight=False,
    )


def main() -> None:
    """Entry point: run the CLI, turning known errors into one line and an exit code."""
    try:
        app(standalone_mode=True)
    except HallmarkError as exc:
        err.print(f"error: {exc.message}", markup=False, highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
