"""The ``hallmark`` CLI (Typer + Rich). Known errors become one ``error: ...`` line."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hallmark.errors import HallmarkError, UserError
from hallmark.services import Services, build_services
from hallmark.settings import load_settings

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
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc


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
    from concurrent.futures import ThreadPoolExecutor

    from hallmark.mark.report import inspect_bytes
    from hallmark.registry import load_components

    components = load_components(load_settings())

    def one(path: Path) -> dict[str, Any]:
        try:
            return inspect_bytes(components, _read_file(path), filename=str(path), quick=quick)
        except HallmarkError as exc:
            return {"file": str(path), **exc.to_dict()}

    reports: list[dict[str, Any]] = []
    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        Progress(
            TextColumn("[bold]inspect"), BarColumn(), TaskProgressColumn(), console=err
        ) as progress,
    ):
        task = progress.add_task("inspect", total=len(files))
        for report in pool.map(one, files):
            reports.append(report)
            progress.advance(task)
    if as_json:
        for report in reports:
            sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        table = Table("file", "type", "verdict", "explicit", "gb45438", "c2pa", "watermark")
        for report in reports:
            if "error" in report:
                table.add_row(report["file"], "", "error", report["error"]["message"])
                continue
            table.add_row(
                report["file"],
                report["media_type"],
                report["verdict"],
                "yes" if report["explicit"] else "",
                "yes" if report["gb45438"] else "",
                str((report["c2pa"] or {}).get("state", "")),
                "yes" if report["watermark"] else "",
            )
        out.print(table)
    if any("error" in report for report in reports):
        raise typer.Exit(2)


def main() -> None:
    """Entry point: run the CLI, turning known errors into one line and an exit code."""
    try:
        app(standalone_mode=True)
    except HallmarkError as exc:
        err.print(f"error: {exc.message}", markup=False, highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
