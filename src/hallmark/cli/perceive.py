"""``hallmark perceive``: a grounded answer about an image, a sound or a video."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hallmark.cli.session import tenant_session
from hallmark.errors import UserError

out = Console()
err = Console(stderr=True, soft_wrap=True)


def perceive(
    file: Annotated[Path, typer.Argument(help="An image, audio or video file.")],
    ask: Annotated[str | None, typer.Option("--ask", help="A question about the file.")] = None,
    overlay: Annotated[
        Path | None,
        typer.Option(help="Write the labeled overlay PNG here (boxes, or the sound's timeline)."),
    ] = None,
    jurisdictions: Annotated[
        str | None, typer.Option("--jurisdiction", "--jurisdictions", help="e.g. cn,eu,us-ca")
    ] = None,
    language: Annotated[str | None, typer.Option(help="Language of the answer: zh or en.")] = None,
    tenant: Annotated[str, typer.Option(help="Tenant to act as.")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say what is in a file, each thing named linked to its box or time span."""
    from hallmark.files import write_atomically
    from hallmark.flows.perceive import PerceiveRequest, run_perceive
    from hallmark.mark.report import read_file
    from hallmark.policy import parse_codes

    if not file.is_file():
        raise UserError(f"no such file: {file}")
    if overlay is not None and overlay.suffix.lower() != ".png":
        raise UserError(f"the overlay is a PNG: give a name ending in .png, not {overlay.name}")
    codes = tuple(parse_codes(jurisdictions)) if jurisdictions else None
    data = read_file(file)
    with tenant_session(tenant) as (services, tenant_id), err.status("perceiving…"):
        outcome = run_perceive(
            services,
            tenant_id,
            PerceiveRequest(
                data=data,
                filename=file.name,
                question=ask,
                jurisdictions=codes,
                language=language,
            ),
        )
    if overlay is not None:
        write_atomically(overlay, outcome.overlay.content.data)
    if as_json:
        record = outcome.to_dict()
        record["overlay"]["path"] = None if overlay is None else str(overlay)
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return
    perception = outcome.perception
    out.print(f"[{outcome.notice}]", markup=False, highlight=False)
    out.print(perception.answer, markup=False, highlight=False)
    for entity in perception.entities:
        if entity.box is not None:
            x, y, w, h = entity.box
            where = f"box x={x} y={y} w={w} h={h}"
        elif entity.start is not None and entity.end is not None:
            where = f"{entity.start:.2f}–{entity.end:.2f} s"
        else:
            where = "the whole file"
        out.print(f"  {entity.text} ({entity.kind}): {where}", markup=False, highlight=False)
    if overlay is not None:
        out.print(f"overlay: {overlay}", markup=False, highlight=False)
