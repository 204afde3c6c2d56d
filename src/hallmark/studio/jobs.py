"""The studio's job kinds: renders, script-to-video, smart cut, reframe and captions run as jobs
with progress (``POST /v1/jobs`` or the ``/v1/studio/...`` routes, ``hallmark jobs watch``).

Parameters are checked when the job is submitted, so a bad project is a 4xx then, not a failed
job later. Media come from the tenant's studio library as ``media:ID``; a job never reads a
path of the server's file system. The exported video is stored like any created content: the
result names its content id (``/v1/contents/{id}/raw`` downloads it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from hallmark.errors import UserError
from hallmark.jobs.kinds import JobContext, JobKind, Progress
from hallmark.registry import Components
from hallmark.services import Services
from hallmark.studio.actions import (
    Target,
    burn_captions,
    captions,
    reframe_video,
    render,
    script_to_video,
    smart_cut,
)
from hallmark.studio.export import ExportOutcome
from hallmark.studio.library import MEDIA_ID, library_for
from hallmark.studio.media import MediaResolver
from hallmark.studio.presets import preset_for
from hallmark.studio.smartcut import CutList, CutOptions
from hallmark.studio.templates import load_template
from hallmark.studio.timeline import media_clips, parse_project, project_to_dict

MEDIA_PREFIX = "media:"
MAX_SCRIPT_CHARS = 20_000
MAX_MEDIA = 50


def _resolver(services: Services, tenant_id: str) -> MediaResolver:
    library = library_for(services.settings)
    return MediaResolver(lookup=lambda media_id: library.path(tenant_id, media_id))


def _media_path(services: Services, tenant_id: str, media_id: str) -> Path:
    return library_for(services.settings).path(tenant_id, media_id)


def _check_media_id(value: Any, name: str) -> str:
    if isinstance(value, str) and value.startswith(MEDIA_PREFIX):
        value = value[len(MEDIA_PREFIX) :]
    if not isinstance(value, str) or not MEDIA_ID.match(value):
        raise UserError(f"params.{name} must be a studio media id (upload at /v1/studio/media)")
    return value


def _optional_str(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not (isinstance(value, str) and value):
        raise UserError(f"params.{name} must be a non-empty string")
    return value


def _target_params(params: dict[str, Any]) -> dict[str, Any]:
    preset = _optional_str(params, "preset")
    if preset is not None:
        preset_for(preset)
    template = _optional_str(params, "template")
    if template is not None:
        if "/" in template or template.endswith(".json"):
            raise UserError("params.template must name a bundled template")
        load_template(template)
    jurisdictions = params.get("jurisdictions")
    if jurisdictions is not None and not (
        isinstance(jurisdictions, list) and all(isinstance(j, str) for j in jurisdictions)
    ):
        raise UserError("params.jurisdictions must be a list of jurisdiction codes")
    preview = params.get("preview", False)
    if not isinstance(preview, bool):
        raise UserError("params.preview must be true or false")
    return {
        "preset": preset,
        "template": template,
        "preview": preview,
        "jurisdictions": jurisdictions,
        "language": _optional_str(params, "language"),
    }


def _target(params: dict[str, Any]) -> Target:
    jurisdictions = params.get("jurisdictions")
    return Target(
        preset=params.get("preset"),
        preview=bool(params.get("preview")),
        jurisdictions=tuple(jurisdictions) if jurisdictions else None,
        language=params.get("language"),
    )


def _reporter(progress: Progress) -> Callable[[float, str], None]:
    return lambda share, what: progress(min(share, 1.0), what, None)


def _result(outcome: ExportOutcome) -> dict[str, Any]:
    result = outcome.to_dict()
    result.pop("path", None)
    result["content_id"] = result["id"]
    return result


class StudioRender(JobKind):
    name: ClassVar[str] = "studio.render"
    permission: ClassVar[str] = "content:create"

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        project = parse_project(params.get("project"))
        for t, c, clip in media_clips(project):
            if not clip.source.startswith(MEDIA_PREFIX):
                raise UserError(
                    f"tracks[{t}].clips[{c}].source: a project sent to the server refers to "
                    "its media as media:ID (upload them at /v1/studio/media)"
                )
        return {"project": project_to_dict(project), **_target_params(params)}

    def run(self, services: Services, job: JobContext, progress: Progress) -> dict[str, Any]:
        params = job.params
        outcome = render(
            services,
            job.tenant_id,
            parse_project(params["project"]),
            _resolver(services, job.tenant_id),
            _target(params),
            template=params.get("template"),
            progress=_reporter(progress),
        )
        return _result(outcome)


class StudioScriptToVideo(JobKind):
    name: ClassVar[str] = "studio.script2video"
    permission: ClassVar[str] = "content:create"

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        script = params.get("script")
        if not isinstance(script, str) or not script.strip():
            raise UserError("params.script must be a non-empty text")
        if len(script) > MAX_SCRIPT_CHARS:
            raise UserError(f"params.script is longer than {MAX_SCRIPT_CHARS} characters")
        media = params.get("media") or []
        if not isinstance(media, list) or len(media) > MAX_MEDIA:
            raise UserError(f"params.media must be a list of at most {MAX_MEDIA} media ids")
        music = params.get("music")
        return {
            "script": script,
            "media": [_check_media_id(m, "media[]") for m in media],
            "music": None if music is None else _check_media_id(music, "music"),
            "voice": _optional_str(params, "voice"),
            **_target_params(params),
        }

    def run(self, services: Services, job: JobContext, progress: Progress) -> dict[str, Any]:
        params = job.params
        media = [_media_path(services, job.tenant_id, m) for m in params["media"]]
        music = params["music"]
        outcome = script_to_video(
            services,
            job.tenant_id,
            params["script"],
            _target(params),
            media=media,
            music=None if music is None else _media_path(services, job.tenant_id, music),
            voice=params["voice"],
            template=params.get("template"),
            progress=_reporter(progress),
        )
        return _result(outcome)


class StudioSmartCut(JobKind):
    name: ClassVar[str] = "studio.smartcut"
    permission: ClassVar[str] = "content:create"

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        options = {
            key: params[key]
            for key in ("threshold", "margin", "min_silence", "min_speech")
            if params.get(key) is not None
        }
        if not all(isinstance(v, int | float) for v in options.values()):
            raise UserError("params.threshold, margin, min_silence and min_speech are numbers")
        CutOptions(**options)
        cuts = params.get("cuts")
        if cuts is not None:
            CutList.from_dict(cuts)
        return {
            "media": _check_media_id(params.get("media"), "media"),
            "options": options,
            "cuts": cuts,
            **_target_params(params),
        }

    def run(self, services: Services, job: JobContext, progress: Progress) -> dict[str, Any]:
        params = job.params
        source = _media_path(services, job.tenant_id, params["media"])
        cuts = None if params["cuts"] is None else CutList.from_dict(params["cuts"])
        outcome, chosen = smart_cut(
            services,
            job.tenant_id,
            source,
            _target(params),
            options=CutOptions(**params["options"]),
            cuts=cuts,
            progress=_reporter(progress),
        )
        return {**_result(outcome), "cuts": chosen.to_dict()}


class StudioReframe(JobKind):
    name: ClassVar[str] = "studio.reframe"
    permission: ClassVar[str] = "content:create"

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"media": _check_media_id(params.get("media"), "media"), **_target_params(params)}

    def run(self, services: Services, job: JobContext, progress: Progress) -> dict[str, Any]:
        params = job.params
        outcome = reframe_video(
            services,
            job.tenant_id,
            _media_path(services, job.tenant_id, params["media"]),
            _target(params),
            progress=_reporter(progress),
        )
        return _result(outcome)


class StudioCaptions(JobKind):
    name: ClassVar[str] = "studio.captions"
    permission: ClassVar[str] = "content:create"

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        max_chars = params.get("max_chars")
        if max_chars is not None and not (isinstance(max_chars, int) and 8 <= max_chars <= 80):
            raise UserError("params.max_chars must be a whole number from 8 to 80")
        burn = params.get("burn", False)
        if not isinstance(burn, bool):
            raise UserError("params.burn must be true or false")
        return {
            "media": _check_media_id(params.get("media"), "media"),
            "max_chars": max_chars,
            "burn": burn,
            **_target_params(params),
        }

    def run(self, services: Services, job: JobContext, progress: Progress) -> dict[str, Any]:
        params = job.params
        source = _media_path(services, job.tenant_id, params["media"])
        target = _target(params)
        progress(0.0, "transcribing", None)
        heard = captions(
            services,
            job.tenant_id,
            source,
            language=target.language,
            jurisdictions=target.jurisdictions,
            max_chars=params["max_chars"],
        )
        result: dict[str, Any] = {"captions": heard.to_dict()}
        if params["burn"]:
            report = _reporter(progress)
            outcome = burn_captions(
                services,
                job.tenant_id,
                source,
                heard.cues,
                target,
                template=params.get("template"),
                progress=lambda share, what: report(0.3 + 0.7 * share, what),
            )
            result.update(_result(outcome))
        return result


def register(components: Components) -> None:
    for kind in (
        StudioRender(),
        StudioScriptToVideo(),
        StudioSmartCut(),
        StudioReframe(),
        StudioCaptions(),
    ):
        components.job_kinds.register(kind.name, kind)
