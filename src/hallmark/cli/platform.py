"""``hallmark upload`` and ``hallmark feed``: the platform's uploads and feed, in process.

``upload`` sends a file through the same resumable protocol the API serves, in chunks of
``HALLMARK_UPLOAD_CHUNK_BYTES`` with a progress bar, then completes it (the receive flow) and
prints the post's id, verdict and platform label. Interrupted, the same command resumes: it
finds this user's open upload of the same bytes (by SHA-256 and size) and goes on from its
offset.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from hallmark.errors import UserError

if TYPE_CHECKING:
    from hallmark.platform.feed import Member
    from hallmark.platform.uploads import UploadStatus
    from hallmark.services import Services

CLI_USER = "cli"
HASH_BLOCK = 1024 * 1024
CAPTION_SHOWN = 48

out = Console()
err = Console(stderr=True, soft_wrap=True)

TenantOption = Annotated[str, typer.Option(help="Tenant to act as.")]


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _services() -> Services:
    from hallmark.services import build_services
    from hallmark.settings import load_settings

    return build_services(load_settings())


def _member(services: Services, tenant: str, *, create: bool = True) -> Member:
    """The CLI's member of ``tenant``; uploading may open the tenant, reading may not."""
    from hallmark.accounts.service import ensure_tenant, get_tenant
    from hallmark.platform.feed import Member

    with services.db.session() as session:
        found = ensure_tenant(session, services.ledger, tenant) if create else None
        tenant_id = (found or get_tenant(session, tenant)).id
    # The CLI is the local operator: one user of the tenant, who also moderates.
    return Member(tenant_id, CLI_USER, moderator=True)


def _fingerprint(path: Path) -> tuple[int, str]:
    """The file's size and hex SHA-256, read in blocks."""
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as handle:
            while block := handle.read(HASH_BLOCK):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise UserError(f"{path} is empty")
    return size, digest.hexdigest()


def _send(services: Services, member: Member, path: Path, status: UploadStatus) -> UploadStatus:
    from hallmark.platform.uploads import append_chunk

    chunk_bytes = services.settings.upload_chunk_bytes
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with (
        Progress(*columns, console=err, disable=not err.is_terminal) as progress,
        path.open("rb") as handle,
    ):
        task = progress.add_task(status.filename, total=status.size, completed=status.offset)
        handle.seek(status.offset)
        while status.offset < status.size:
            chunk = handle.read(min(chunk_bytes, status.size - status.offset))
            if not chunk:
                raise UserError(f"{path} got shorter while it was being uploaded")
            status = append_chunk(services, member, status.id, status.offset, chunk)
            progress.update(task, completed=status.offset)
    return status


def upload(
    file: Annotated[Path, typer.Argument(help="The file to upload and post.")],
    declare_ai: Annotated[
        bool, typer.Option("--declare-ai", help="Declare the content AI-generated.")
    ] = False,
    caption: Annotated[str, typer.Option(help="The post's caption.")] = "",
    jurisdiction: Annotated[
        str | None,
        typer.Option("--jurisdiction", "-j", help="e.g. cn,eu,us-ca (default: the tenant's)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    tenant: TenantOption = "default",
) -> None:
    """Upload a file in resumable chunks and post it to the feed: inspected, classified,
    screened and labelled as a propagation platform must (run it again to resume)."""
    from hallmark.platform.uploads import (
        UploadRequest,
        complete_upload,
        create_upload,
        find_open_upload,
    )
    from hallmark.policy import parse_codes

    size, sha256 = _fingerprint(file)
    codes = tuple(parse_codes(jurisdiction)) if jurisdiction else None
    services = _services()
    try:
        member = _member(services, tenant)
        status = find_open_upload(services, member, sha256, size)
        resumed_from = status.offset if status is not None else None
        if status is None:
            request = UploadRequest(
                filename=file.name,
                size=size,
                sha256=sha256,
                declared_type=None,
                declared_ai=declare_ai,
                caption=caption,
                jurisdictions=codes,
            )
            status = create_upload(services, member, request)
        elif not as_json:
            err.print(
                f"resuming upload {status.id} at byte {status.offset:,} of {size:,}",
                markup=False,
                highlight=False,
            )
        try:
            status = _send(services, member, file, status)
        except KeyboardInterrupt:
            err.print(
                f"interrupted: upload {status.id} is kept; run the same command to resume",
                markup=False,
                highlight=False,
            )
            raise typer.Exit(130) from None
        completed = complete_upload(services, member, status.id)
    finally:
        services.close()
    if as_json:
        _print_json({**completed.to_dict(), "resumed_from": resumed_from})
        return
    post = completed.post
    rows = [
        ("post", post.id),
        ("upload", completed.upload_id),
        ("verdict", post.verdict),
        ("label", post.label or "(none: no sign of AI)"),
        ("media", post.media_type),
    ]
    if completed.duplicate:
        rows.append(("note", "these bytes were already posted: this is that post"))
    for name, value in rows:
        out.print(f"{name:8} {value}", markup=False, highlight=False)


def feed(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Posts to show.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="The next_cursor of a previous page.")] = None,
    tenant: TenantOption = "default",
) -> None:
    """List the tenant's visible posts, newest first, with their verdicts and labels."""
    from hallmark.platform.feed import list_feed

    services = _services()
    try:
        page = list_feed(
            services, _member(services, tenant, create=False).tenant_id, cursor=cursor, limit=limit
        )
    finally:
        services.close()
    if as_json:
        _print_json(page.to_dict())
        return
    if not page.posts:
        out.print("no posts yet: add one with `hallmark upload FILE`", markup=False)
        return
    table = Table("post", "posted", "medium", "verdict", "label", "caption")
    for post in page.posts:
        caption = post.caption
        if len(caption) > CAPTION_SHOWN:
            caption = caption[: CAPTION_SHOWN - 1] + "…"
        table.add_row(
            post.id,
            post.created_at[:19].replace("T", " "),
            post.medium,
            post.verdict,
            post.label or "",
            caption,
        )
    out.print(table)
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}", markup=False, highlight=False)
