"""``hallmark studio``: render projects, caption, voice, cut and reframe videos.

Every command that writes a video exports it through the create flow (screened, labeled,
logged); a progress bar goes to stderr and the outcome to stdout (``--json``: one object).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from hallmark.cli.session import tenant_session
from hallmark.errors import UserError

if TYPE_CHECKING:
    from hallmark.studio.actions import Target
    from hallmark.studio.export import ExportOutcome

studio_app = typer.Typer(
    help="Make and edit videos: render projects, captions, voice-over, smart cut, reframe.",
    no_args_is_help=True,
)
otio_app = typer.Typer(help="Move projects to and from OpenTimelineIO.", no_args_is_help=True)
studio_app.add_typer(otio_app, name="otio")
err = Console(stderr=True, soft_wrap=True)
out = Console()

Jurisdictions = Annotated[
    str | None,
    typer.Option("--jurisdiction", "--jurisdictions", help="Comma-separated codes, e.g. cn,eu."),
]
Language = Annotated[str | None, typer.Option(help="Language of the words: zh, en, ...")]
PresetOption = Annotated[
    str | None,
    typer.Option(help="Export preset: tiktok, douyin, shorts, square or landscape."),
]
Preview = Annotated[
    bool, typer.Option("--preview", help="A quick low-resolution draft instead of the final.")
]
TemplateOption = Annotated[
    str | None, typer.Option(help="A bundled template name or a template JSON file.")
]
Tenant = Annotated[str, typer.Option(help="Tenant to act as.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@contextmanager
def _bar(title: str) -> Iterator[Any]:
    """A progress bar on stderr, drawn from the first report on: an error found before any
    work starts stays the one ``error: ...`` line."""
    progress = Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    task = progress.add_task("", total=1.0)

    def show(share: float, what: str) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=max(0.0, min(share, 1.0)), description=what)

    try:
        yield show
    finally:
        if progress.live.is_started:
            progress.stop()


def _target(
    out_path: Path,
    preset: str | None,
    preview: bool,
    jurisdictions: str | None,
    language: str | None,
) -> Target:
    from hallmark.policy import parse_codes
    from hallmark.studio.actions import Target

    if out_path.suffix.lower() != ".mp4":
        raise UserError(f"the output must be an .mp4 file, not {out_path.name}")
    codes = parse_codes(jurisdictions) if jurisdictions else None
    return Target(
        out=out_path,
        preset=preset,
        preview=preview,
        jurisdictions=tuple(codes) if codes else None,
        language=language,
    )


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise UserError(f"no such {what}: {path}")
    return path


def _print_export(
    outcome: ExportOutcome, as_json: bool, extra: dict[str, Any] | None = None
) -> None:
    record = {**outcome.to_dict(), **(extra or {})}
    if as_json:
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return
    work = outcome.work
    details = [f"{record['size']} bytes"]
    if "width" in work:
        details.append(f"{work['width']}x{work['height']}")
    if "duration" in work:
        details.append(f"{work['duration']:.2f} s")
    lines = [
        f"wrote {outcome.path} ({', '.join(details)})",
        f"labels: {', '.join(outcome.create.labels) or 'none'}",
        f"content {outcome.create.content_id}, ledger entry {outcome.create.ledger_seq}",
    ]
    for line in lines:
        out.print(line, markup=False, highlight=False)


@studio_app.command("render")
def render_command(
    project_file: Annotated[Path, typer.Argument(help="The project JSON.")],
    out_path: Annotated[Path, typer.Argument(help="The MP4 to write.")],
    preset: PresetOption = None,
    preview: Preview = False,
    template: TemplateOption = None,
    jurisdictions: Jurisdictions = None,
    language: Language = None,
    tenant: Tenant = "default",
    as_json: AsJson = False,
) -> None:
    """Render a project (paths in it are relative to the project file) and export it."""
    from hallmark.studio.actions import render
    from hallmark.studio.media import MediaResolver
    from hallmark.studio.timeline import load_project

    project = load_project(project_file)
    target = _target(out_path, preset, preview, jurisdictions, language)
    with tenant_session(tenant) as (services, tenant_id), _bar("render") as show:
        outcome = render(
            services,
            tenant_id,
            project,
            MediaResolver(project_file.resolve().parent),
            target,
            template=template,
            progress=show,
        )
    _print_export(outcome, as_json)


@studio_app.command("captions")
def captions_command(
    source: Annotated[Path, typer.Argument(help="The video or audio to caption.")],
    out_path: Annotated[Path, typer.Argument(help="The sidecar to write: .srt or .vtt.")],
    burn: Annotated[
        Path | None, typer.Option(help="Also write the video with the captions burned in.")
    ] = None,
    max_chars: Annotated[
        int | None, typer.Option(min=8, max=80, help="Characters a caption line may hold.")
    ] = None,
    preset: PresetOption = None,
    preview: Preview = False,
    template: TemplateOption = None,
    jurisdictions: Jurisdictions = None,
    language: Language = None,
    tenant: Tenant = "default",
    as_json: AsJson = False,
) -> None:
    """Transcribe speech into timed captions (SRT or WebVTT), optionally burned in."""
    from hallmark.files import write_atomically
    from hallmark.studio.actions import burn_captions, captions

    _existing(source, "file")
    suffix = out_path.suffix.lower()
    if suffix not in {".srt", ".vtt"}:
        raise UserError(f"the captions file must end in .srt or .vtt, not {out_path.name}")
    target = _target(burn, preset, preview, jurisdictions, language) if burn else None
    codes = target.jurisdictions if target else _codes(jurisdictions)
    with tenant_session(tenant) as (services, tenant_id):
        with _bar("captions") as show:
            show(0.05, "transcribing")
            heard = captions(
                services,
                tenant_id,
                source,
                language=language,
                jurisdictions=codes,
                max_chars=max_chars,
            )
            show(1.0, f"{len(heard.cues)} captions")
        write_atomically(
            out_path, (heard.srt() if suffix == ".srt" else heard.vtt()).encode("utf-8")
        )
        outcome = None
        if burn is not None and target is not None:
            with _bar("burn in") as show:
                outcome = burn_captions(
                    services,
                    tenant_id,
                    source,
                    heard.cues,
                    target,
                    template=template,
                    progress=show,
                )
    record = {"captions": str(out_path), "cues": len(heard.cues), "ledger_seq": heard.ledger_seq}
    if outcome is not None:
        _print_export(outcome, as_json, record)
    elif as_json:
        sys.stdout.write(json.dumps({**record, **heard.to_dict()}, ensure_ascii=False) + "\n")
    else:
        out.print(f"wrote {out_path}: {len(heard.cues)} captions", markup=False, highlight=False)


def _codes(jurisdictions: str | None) -> tuple[str, ...] | None:
    from hallmark.policy import parse_codes

    return tuple(parse_codes(jurisdictions)) if jurisdictions else None


@studio_app.command("script2video")
def script_command(
    script_file: Annotated[
        Path, typer.Argument(help="The script: a text file, one scene a paragraph.")
    ],
    out_path: Annotated[Path, typer.Argument(help="The MP4 to write.")],
    voice: Annotated[str | None, typer.Option(help="The voice to speak with, by name.")] = None,
    media: Annotated[
        Path | None, typer.Option(help="A folder of images and videos to use as backgrounds.")
    ] = None,
    music: Annotated[Path | None, typer.Option(help="A music file for the bed.")] = None,
    preset: PresetOption = None,
    preview: Preview = False,
    template: TemplateOption = None,
    jurisdictions: Jurisdictions = None,
    language: Language = None,
    tenant: Tenant = "default",
    as_json: AsJson = False,
) -> None:
    """Turn a script into a video: scenes, voice-over, captions, backgrounds, music."""
    from hallmark.studio.actions import script_to_video

    try:
        script = _existing(script_file, "script").read_text("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"the script {script_file} is not UTF-8 text") from None
    media_files: list[Path] = []
    if media is not None:
        if not media.is_dir():
            raise UserError(f"--media must be a folder: {media}")
        media_files = sorted(
            p for p in media.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES
        )
    if music is not None:
        _existing(music, "music file")
    target = _target(out_path, preset, preview, jurisdictions, language)
    with tenant_session(tenant) as (services, tenant_id), _bar("script2video") as show:
        outcome = script_to_video(
            services,
            tenant_id,
            script,
            target,
            media=media_files,
            music=music,
            voice=voice,
            template=template,
            progress=show,
        )
    _print_export(outcome, as_json)


MEDIA_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".mp4", ".mov", ".mkv", ".webm"})


@studio_app.command("smartcut")
def smartcut_command(
    source: Annotated[Path, typer.Argument(help="The video to cut.")],
    out_path: Annotated[Path | None, typer.Argument(help="The MP4 to write.")] = None,
    cuts_out: Annotated[
        Path | None, typer.Option("--cuts-out", help="Write the cut list (JSON) here to review.")
    ] = None,
    cuts: Annotated[
        Path | None, typer.Option("--cuts", help="Apply this reviewed cut list instead.")
    ] = None,
    margin: Annotated[float, typer.Option(help="Seconds kept around speech.")] = 0.2,
    min_silence: Annotated[float, typer.Option(help="Shorter silences are kept.")] = 0.5,
    threshold: Annotated[float, typer.Option(help="Speech probability threshold.")] = 0.5,
    min_speech: Annotated[float, typer.Option(help="Shorter speech is noise.")] = 0.25,
    preset: PresetOption = None,
    preview: Preview = False,
    jurisdictions: Jurisdictions = None,
    language: Language = None,
    tenant: Tenant = "default",
    as_json: AsJson = False,
) -> None:
    """Remove silences and dead air. With only --cuts-out, write the cut list to review."""
    from hallmark.files import write_atomically
    from hallmark.studio.actions import smart_cut
    from hallmark.studio.smartcut import CutList, CutOptions, cut_list

    _existing(source, "video")
    options = CutOptions(
        threshold=threshold, margin=margin, min_silence=min_silence, min_speech=min_speech
    )
    reviewed = None
    if cuts is not None:
        reviewed = CutList.from_json(_existing(cuts, "cut list").read_text("utf-8"), cuts.name)
    if out_path is None:
        if cuts_out is None:
            raise UserError("give OUT.mp4 to write the video, or --cuts-out to review the cuts")
        chosen = reviewed or cut_list(source, options)
        write_atomically(cuts_out, _json_bytes(chosen.to_dict()))
        _print_cuts(chosen, cuts_out, as_json)
        return
    target = _target(out_path, preset, preview, jurisdictions, language)
    with tenant_session(tenant) as (services, tenant_id), _bar("smartcut") as show:
        outcome, chosen = smart_cut(
            services, tenant_id, source, target, options=options, cuts=reviewed, progress=show
        )
    if cuts_out is not None:
        write_atomically(cuts_out, _json_bytes(chosen.to_dict()))
    _print_export(outcome, as_json, {"kept_seconds": round(chosen.kept_seconds, 3)})


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _print_cuts(chosen: Any, path: Path, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(chosen.to_dict(), ensure_ascii=False) + "\n")
        return
    out.print(
        f"wrote {path}: keep {len(chosen.keep)} parts, {chosen.kept_seconds:.2f} s "
        f"of {chosen.duration:.2f} s",
        markup=False,
        highlight=False,
    )


@studio_app.command("reframe")
def reframe_command(
    source: Annotated[Path, typer.Argument(help="The video to reframe.")],
    out_path: Annotated[Path, typer.Argument(help="The MP4 to write.")],
    preset: PresetOption = None,
    preview: Preview = False,
    jurisdictions: Jurisdictions = None,
    language: Language = None,
    tenant: Tenant = "default",
    as_json: AsJson = False,
) -> None:
    """Reframe to vertical 9:16, following faces with smoothed motion."""
    from hallmark.studio.actions import reframe_video

    _existing(source, "video")
    target = _target(out_path, preset, preview, jurisdictions, language)
    with tenant_session(tenant) as (services, tenant_id), _bar("reframe") as show:
        outcome = reframe_video(services, tenant_id, source, target, progress=show)
    _print_export(outcome, as_json)


@studio_app.command("templates")
def templates_command(as_json: AsJson = False) -> None:
    """List the bundled templates."""
    from hallmark.studio.templates import bundled_templates, load_template

    rows = [(name, load_template(name).description) for name in bundled_templates()]
    if as_json:
        sys.stdout.write(json.dumps([{"name": n, "description": d} for n, d in rows]) + "\n")
        return
    for name, description in rows:
        out.print(f"{name}: {description}", markup=False, highlight=False)


@otio_app.command("export")
def otio_export(
    project_file: Annotated[Path, typer.Argument(help="The project JSON.")],
    out_path: Annotated[Path, typer.Argument(help="The .otio file to write.")],
) -> None:
    """Write a project as an OpenTimelineIO timeline."""
    from hallmark.files import write_atomically
    from hallmark.studio.otio import export_otio_string
    from hallmark.studio.timeline import load_project

    text = export_otio_string(load_project(project_file))
    write_atomically(out_path, text.encode("utf-8"))
    out.print(f"wrote {out_path}", markup=False, highlight=False)


@otio_app.command("import")
def otio_import(
    otio_file: Annotated[Path, typer.Argument(help="An OpenTimelineIO (.otio) timeline.")],
    out_path: Annotated[Path, typer.Argument(help="The project JSON to write.")],
    width: Annotated[int, typer.Option(help="Canvas width when the timeline has none.")] = 1920,
    height: Annotated[int, typer.Option(help="Canvas height when the timeline has none.")] = 1080,
) -> None:
    """Turn an OpenTimelineIO timeline into a project."""
    from hallmark.files import write_atomically
    from hallmark.studio.otio import import_otio_string
    from hallmark.studio.timeline import dump_project

    try:
        text = _existing(otio_file, "timeline").read_text("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{otio_file} is not an OpenTimelineIO JSON file") from None
    project, warnings = import_otio_string(text, width=width, height=height)
    write_atomically(out_path, dump_project(project).encode("utf-8"))
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    out.print(f"wrote {out_path}", markup=False, highlight=False)
