"""What each studio command does, once for the CLI, the jobs and the web page.

Every action that makes a video ends in ``export.export_video``: the create flow screens the
words first, runs the work, screens the video, labels it and logs it; the works that render
(render, script-to-video, smart cut) draw the explicit label in the render itself, a reframe
leaves it to the marker. The captions action
makes a text sidecar: its words are screened through the screen flow (one ledger entry) and a
blocked transcript is refused.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hallmark.engines.llm.base import ChatEngine, helper_engine
from hallmark.errors import UserError
from hallmark.flows.common import blocked
from hallmark.flows.screen import ScreenRequest, run_screen
from hallmark.services import Services
from hallmark.speech.base import TextToSpeech
from hallmark.studio.captions import Cue, caption_track, captions_for, to_srt, to_vtt
from hallmark.studio.export import ExportOutcome, Progress, Work, Worked, export_video
from hallmark.studio.library import MediaItem, library_for
from hallmark.studio.media import MediaResolver, probe, resolve_project
from hallmark.studio.presets import Preset, preset_for
from hallmark.studio.reframe import reframe
from hallmark.studio.render import RenderResult, render_project
from hallmark.studio.script import build_script_project, script_language
from hallmark.studio.smartcut import CutList, CutOptions, cut_list, project_from_cuts
from hallmark.studio.templates import apply_template, load_template
from hallmark.studio.timeline import Project, Track, VideoClip, text_of
from hallmark.studio.voiceover import synthesize_voiceover


@dataclass(slots=True, frozen=True)
class Target:
    """Where and how an export goes."""

    out: Path | None = None
    preset: str | None = None
    preview: bool = False
    jurisdictions: tuple[str, ...] | None = None
    language: str | None = None

    def chosen_preset(self) -> Preset | None:
        return None if self.preset is None else preset_for(self.preset)


def _render_work(
    project: Project,
    resolver: MediaResolver,
    target: Target,
    preset: Preset | None,
    report: dict[str, Any] | None = None,
) -> Work:
    """The work of rendering ``project``, which draws the label it is given; ``report`` adds
    to what the render reports."""

    def work(path: Path, progress: Progress, label: str | None) -> Worked:
        result = render_project(
            project,
            path,
            resolver,
            preset=preset,
            preview=target.preview,
            progress=progress,
            label=label,
        )
        return Worked({**_rendered(result), **(report or {})}, labeled=label is not None)

    return work


def _rendered(result: RenderResult) -> dict[str, Any]:
    return {
        "duration": round(result.duration, 3),
        "width": result.width,
        "height": result.height,
        "fps": result.fps,
        "frames": result.frames,
        "render_seconds": round(result.seconds, 3),
    }


def _what(project: Project, fallback: str) -> str:
    return text_of(project) or " ".join(filter(None, [fallback, project.name]))


def render(
    services: Services,
    tenant_id: str,
    project: Project,
    resolver: MediaResolver,
    target: Target,
    *,
    template: str | None = None,
    progress: Progress | None = None,
) -> ExportOutcome:
    """Render a project and export it (``hallmark studio render``)."""
    preset = target.chosen_preset()  # an unknown preset fails before any work
    project = resolve_project(project, resolver)  # missing media fail before screening
    if template is not None:
        project = apply_template(project, load_template(template), title=project.name or None)
    return export_video(
        services,
        tenant_id,
        what=_what(project, "studio video"),
        work=_render_work(project, resolver, target, preset),
        out=target.out,
        jurisdictions=target.jurisdictions,
        language=target.language or project.language,
        progress=progress,
    )


def scene_engine(services: Services) -> ChatEngine | None:
    """The chat engine that splits scripts into scenes (``HALLMARK_STUDIO_SCENE_ENGINE``)."""
    return helper_engine(
        services.components,
        services.settings.studio_scene_engine,
        "HALLMARK_STUDIO_SCENE_ENGINE",
    )


def _voices(services: Services, voice: str | None) -> list[TextToSpeech]:
    """The voice asked for by name, or every registered voice to choose from by language."""
    return [services.components.voices.get(voice)] if voice else list(services.components.voices)


def script_to_video(
    services: Services,
    tenant_id: str,
    script: str,
    target: Target,
    *,
    media: Sequence[Path] = (),
    music: Path | None = None,
    voice: str | None = None,
    template: str | None = None,
    progress: Progress | None = None,
) -> ExportOutcome:
    """A script becomes scenes with voice-over, captions, backgrounds and music, exported
    (``hallmark studio script2video``). The script is screened before any speech is made."""
    if not script.strip():
        raise UserError("the script is empty")
    preset = target.chosen_preset()
    chosen = load_template(template) if template is not None else None
    voices = _voices(services, voice)
    for path in [*media, *([music] if music else [])]:
        probe(path)  # unreadable media fail before screening
    width, height = (preset.width, preset.height) if preset else (1080, 1920)
    chat = scene_engine(services)

    def work(path: Path, progress: Progress, label: str | None) -> Worked:
        with tempfile.TemporaryDirectory(prefix="hallmark-script-") as folder:
            project = build_script_project(
                script,
                voices=voices,
                work_dir=Path(folder),
                language=target.language,
                media=media,
                music=music,
                width=width,
                height=height,
                chat=chat,
                progress=lambda share, what: progress(share * 0.3, what),
            )
            if chosen is not None:
                project = apply_template(project, chosen, title=script.strip().splitlines()[0])
            result = render_project(
                project,
                path,
                MediaResolver(Path(folder)),
                preset=preset,
                preview=target.preview,
                progress=lambda share, what: progress(0.3 + share * 0.7, what),
                label=label,
            )
            scenes = sum(
                1 for track in project.tracks if track.role == "voice" for _ in track.clips
            )
            return Worked({**_rendered(result), "scenes": scenes}, labeled=label is not None)

    return export_video(
        services,
        tenant_id,
        what=script,
        work=work,
        out=target.out,
        jurisdictions=target.jurisdictions,
        language=target.language,
        progress=progress,
    )


def smart_cut(
    services: Services,
    tenant_id: str,
    source: Path,
    target: Target,
    *,
    options: CutOptions | None = None,
    cuts: CutList | None = None,
    progress: Progress | None = None,
) -> tuple[ExportOutcome, CutList]:
    """Remove silences (``hallmark studio smartcut``): the cut list is computed (or the
    reviewed one given is used), laid out as a project and exported."""
    info = probe(source)
    if not info.has_video:
        raise UserError(f"{source.name} has no video: smart cut takes a video with speech")
    chosen = cuts if cuts is not None else cut_list(source, options or CutOptions())
    project = project_from_cuts(chosen, info.width, info.height, info.fps or 30.0, True)
    project = replace(project, tracks=tuple(_with_source(t, str(source)) for t in project.tracks))
    resolver = MediaResolver(source.parent)
    project = resolve_project(project, resolver)
    work = _render_work(
        project, resolver, target, target.chosen_preset(), {"cuts": chosen.to_dict()}
    )
    outcome = export_video(
        services,
        tenant_id,
        what=f"studio smart cut of {source.name}",
        work=work,
        out=target.out,
        jurisdictions=target.jurisdictions,
        language=target.language,
        progress=progress,
    )
    return outcome, chosen


def _with_source(track: Track, source: str) -> Track:
    """The track with every media clip pointing at ``source`` (the cut list's own name for it
    may be relative to somewhere else)."""
    clips = tuple(
        replace(clip, source=source) if isinstance(clip, VideoClip) else clip
        for clip in track.clips
    )
    return replace(track, clips=clips)


def reframe_video(
    services: Services,
    tenant_id: str,
    source: Path,
    target: Target,
    *,
    progress: Progress | None = None,
) -> ExportOutcome:
    """Reframe to 9:16 following faces (``hallmark studio reframe``)."""
    info = probe(source)
    if not info.has_video:
        raise UserError(f"{source.name} has no video to reframe")
    preset = target.chosen_preset()
    width, height = (preset.width, preset.height) if preset else (1080, 1920)
    if target.preview:
        width, height = width // 3 // 2 * 2, height // 3 // 2 * 2

    def work(path: Path, progress: Progress, label: str | None) -> Worked:
        # The reframe's own encode does not draw the label: the explicit marker does.
        result = reframe(
            source, path, width=width, height=height, progress=lambda f: progress(f, "reframing")
        )
        report = {
            "width": width,
            "height": height,
            "duration": info.duration,
            "crop": [result.crop_width, result.crop_height],
            "frames_with_face": result.found,
            "frames_sampled": result.sampled,
        }
        return Worked(report, labeled=False)

    return export_video(
        services,
        tenant_id,
        what=f"studio reframe of {source.name}",
        work=work,
        out=target.out,
        jurisdictions=target.jurisdictions,
        language=target.language,
        progress=progress,
    )


@dataclass(slots=True, frozen=True)
class CaptionsOutcome:
    cues: tuple[Cue, ...]
    language: str | None
    screening: dict[str, Any]
    ledger_seq: int

    def srt(self) -> str:
        return to_srt(self.cues)

    def vtt(self) -> str:
        return to_vtt(self.cues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cues": [{"start": c.start, "end": c.end, "text": c.text} for c in self.cues],
            "language": self.language,
            "srt": self.srt(),
            "vtt": self.vtt(),
            "screening": self.screening,
            "ledger_seq": self.ledger_seq,
        }


def captions(
    services: Services,
    tenant_id: str,
    source: Path,
    *,
    language: str | None = None,
    jurisdictions: tuple[str, ...] | None = None,
    max_chars: int | None = None,
) -> CaptionsOutcome:
    """Transcribe a file into caption cues; the transcript is screened and logged."""
    transcriber = next(iter(services.components.transcribers), None)
    if transcriber is None:
        raise UserError("no speech-to-text model is registered")
    cues = captions_for(source, transcriber, language, max_chars=max_chars)
    text = "\n".join(cue.text for cue in cues)
    screened = run_screen(
        services,
        tenant_id,
        ScreenRequest(text=text or " ", jurisdictions=jurisdictions, language=language),
    )
    if screened.decision.action == "block":
        raise blocked("the captions", screened.decision)
    return CaptionsOutcome(tuple(cues), language, screened.decision.to_dict(), screened.ledger_seq)


def burn_captions(
    services: Services,
    tenant_id: str,
    source: Path,
    cues: Sequence[Cue],
    target: Target,
    *,
    template: str | None = None,
    progress: Progress | None = None,
) -> ExportOutcome:
    """The source video with ``cues`` burned in, exported like any render."""
    info = probe(source)
    if not info.has_video or info.width is None or info.height is None:
        raise UserError(f"{source.name} has no video to burn captions into")
    clip = VideoClip(source=str(source), out=info.duration, fit="contain")
    project = Project(
        width=info.width // 2 * 2,
        height=info.height // 2 * 2,
        fps=min(info.fps or 30.0, 60.0),
        tracks=(Track(kind="visual", clips=(clip,), role="main"), caption_track(list(cues))),
        name=source.stem,
    )
    return render(
        services,
        tenant_id,
        project,
        MediaResolver(source.parent),
        target,
        template=template,
        progress=progress,
    )


def add_voiceover_media(
    services: Services,
    tenant_id: str,
    text: str,
    *,
    language: str | None = None,
    voice: str | None = None,
    jurisdictions: tuple[str, ...] | None = None,
) -> tuple[MediaItem, float]:
    """Speak ``text`` into a WAV in the tenant's studio library. The words are screened first
    (one ledger entry) and a blocked text is refused before any speech is made."""
    if not text.strip():
        raise UserError("the voice-over text is empty")
    screened = run_screen(
        services,
        tenant_id,
        ScreenRequest(text=text, jurisdictions=jurisdictions, language=language),
    )
    if screened.decision.action == "block":
        raise blocked("the voice-over text", screened.decision)
    voices = _voices(services, voice)
    with tempfile.TemporaryDirectory(prefix="hallmark-voice-") as folder:
        spoken = synthesize_voiceover(text, language or script_language(text), voices, Path(folder))
        name = " ".join(text.split()[:6])[:40]
        item = library_for(services.settings).add(
            tenant_id, spoken.path.read_bytes(), f"voice-over {name}.wav"
        )
    return item, spoken.duration
