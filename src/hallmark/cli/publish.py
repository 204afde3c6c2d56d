"""``hallmark publish tiktok``: post a video to TikTok with its AI-generated-content flag set.

A progress bar over the chunks goes to stderr; the outcome to stdout (``--json``: one object).
TikTok's errors are one ``error: ...`` line that names TikTok's code and log id.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from hallmark.errors import UserError

if TYPE_CHECKING:
    from hallmark.platform.publish import PublishOutcome, PublishStep

publish_app = typer.Typer(help="Publish content to other platforms.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
out = Console()
PRIVACY_HELP = "PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR or SELF_ONLY"


@publish_app.command("tiktok")
def tiktok(
    file: Annotated[
        Path | None, typer.Argument(help="The video (MP4, MOV or WebM) to publish.")
    ] = None,
    content: Annotated[
        str | None, typer.Option("--content", help="Publish stored content by its id instead.")
    ] = None,
    caption: Annotated[str, typer.Option(help="The post's caption (title).")] = "",
    privacy: Annotated[
        str | None,
        typer.Option(help=f"{PRIVACY_HELP}; default: the most open the creator offers."),
    ] = None,
    inbox: Annotated[
        bool, typer.Option("--inbox", help="Send to the creator's TikTok inbox as a draft.")
    ] = False,
    disable_comment: Annotated[
        bool, typer.Option("--disable-comment", help="Turn comments off.")
    ] = False,
    disable_duet: Annotated[bool, typer.Option("--disable-duet", help="Turn duets off.")] = False,
    disable_stitch: Annotated[
        bool, typer.Option("--disable-stitch", help="Turn stitches off.")
    ] = False,
    declare_ai: Annotated[
        bool, typer.Option("--declare-ai", help="Flag the video AI-generated whatever it carries.")
    ] = False,
    tenant: Annotated[str, typer.Option(help="Tenant to act as.")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Publish a video to TikTok (Content Posting API), its AI flag set from what hallmark
    knows: its own records, the labels the file carries, or --declare-ai."""
    from hallmark.accounts.service import ensure_tenant
    from hallmark.platform.publish import publish_to_tiktok
    from hallmark.platform.tiktok import TikTokClient
    from hallmark.services import build_services
    from hallmark.settings import load_settings

    if (file is None) == (content is None):
        raise UserError("give either a FILE or --content ID, not both or neither")
    settings = load_settings()
    TikTokClient.from_settings(settings)  # no token: say so before any bar is drawn
    services = build_services(settings)
    try:
        with services.db.session() as session:
            tenant_id = ensure_tenant(session, services.ledger, tenant).id
        with _ChunkBar() as bar:
            outcome = publish_to_tiktok(
                services,
                tenant_id,
                file if file is not None else str(content),
                caption=caption,
                privacy_level=privacy,
                mode="inbox" if inbox else "direct",
                disable_comment=disable_comment,
                disable_duet=disable_duet,
                disable_stitch=disable_stitch,
                declare_ai=declare_ai,
                progress=bar.show,
            )
    finally:
        services.close()
    if as_json:
        sys.stdout.write(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_outcome(outcome)


class _ChunkBar:
    """A Rich bar over the upload's chunks, and the other steps as its description."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("chunks"),
            TimeElapsedColumn(),
            console=err,
        )
        self._task = self._progress.add_task("tiktok", total=None)

    def __enter__(self) -> _ChunkBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def show(self, step: PublishStep) -> None:
        chunk = step.chunk
        if chunk is None:
            self._progress.update(self._task, description=step.message)
            return
        self._progress.update(
            self._task,
            description=step.message,
            total=chunk.count,
            completed=chunk.index + 1,
        )


def _print_outcome(outcome: PublishOutcome) -> None:
    where = "published on TikTok" if outcome.state == "published" else "sent to the TikTok inbox"
    lines = [
        f"{where}: publish_id {outcome.publish_id} ({outcome.status})",
        f"AI-generated label: {'on' if outcome.is_aigc else 'off'}"
        + (f" ({'; '.join(outcome.aigc_reasons)})" if outcome.aigc_reasons else ""),
    ]
    if outcome.privacy_level:
        lines.append(f"privacy: {outcome.privacy_level}")
    lines.append(
        f"{outcome.video_size} bytes in {outcome.chunks} chunk(s); "
        f"publication {outcome.publication_id}, ledger entry {outcome.ledger_seq}"
    )
    lines += [f"note: {note}" for note in outcome.notes]
    for line in lines:
        out.print(line, markup=False, highlight=False)
