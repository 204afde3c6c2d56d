"""The studio's API: a media library per tenant, and renders, script-to-video, smart cut,
reframe and captions submitted as jobs (202 with the job; progress at
``/v1/jobs/{id}/events``; the exported video at ``/v1/contents/{content_id}/raw``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.api.uploads import read_upload
from hallmark.jobs import service
from hallmark.studio.actions import add_voiceover_media
from hallmark.studio.library import library_for
from hallmark.studio.presets import PRESETS
from hallmark.studio.templates import bundled_templates, load_template

router = APIRouter(prefix="/v1/studio", tags=["studio"])
Creator = Annotated[Principal, Allowed("content:create")]
Reader = Annotated[Principal, Allowed("content:read")]


@router.post("/media", status_code=201)
def add_media(
    services: ServicesDep,
    principal: Creator,
    file: Annotated[UploadFile, File(description="A video, audio file or image to edit.")],
) -> dict[str, Any]:
    """Add a file to the tenant's studio library; projects refer to it as ``media:ID``."""
    data = read_upload(file, services.settings.max_upload_bytes)
    item = library_for(services.settings).add(principal.tenant_id, data, file.filename)
    return item.to_dict()


@router.get("/media")
def list_media(services: ServicesDep, principal: Reader) -> dict[str, Any]:
    items = library_for(services.settings).list(principal.tenant_id)
    return {"media": [item.to_dict() for item in items]}


@router.get("/media/{media_id}/raw")
def media_file(media_id: str, services: ServicesDep, principal: Reader) -> FileResponse:
    """The library file itself, with Range support, for previews in the page."""
    library = library_for(services.settings)
    item = library.get(principal.tenant_id, media_id)
    return FileResponse(library.path(principal.tenant_id, media_id), media_type=item.media_type)


@router.get("/presets")
def presets(principal: Reader) -> dict[str, Any]:
    return {
        "presets": [
            {"name": name, "width": p.width, "height": p.height, "max_fps": p.max_fps}
            for name, p in PRESETS.items()
        ]
    }


@router.get("/templates")
def templates(principal: Reader) -> dict[str, Any]:
    return {
        "templates": [
            {"name": name, "description": load_template(name).description}
            for name in bundled_templates()
        ]
    }


def _submit(
    kind: str, params: dict[str, Any], request: Request, services: ServicesDep, who: Principal
) -> dict[str, Any]:
    with services.db.session() as session:
        job = service.submit(session, services.components, who.tenant_id, kind, params)
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.wake()
    return job.to_dict()


@router.post("/render", status_code=202)
def render(
    body: dict[str, Any], request: Request, services: ServicesDep, principal: Creator
) -> dict[str, Any]:
    """Render ``project`` (sources as ``media:ID``) with ``preset``, ``preview``,
    ``template``, ``jurisdictions`` and ``language``."""
    return _submit("studio.render", body, request, services, principal)


@router.post("/script2video", status_code=202)
def script2video(
    body: dict[str, Any], request: Request, services: ServicesDep, principal: Creator
) -> dict[str, Any]:
    """``script`` to a video, with optional ``media`` ids, ``music``, ``voice``."""
    return _submit("studio.script2video", body, request, services, principal)


@router.post("/smartcut", status_code=202)
def smartcut(
    body: dict[str, Any], request: Request, services: ServicesDep, principal: Creator
) -> dict[str, Any]:
    """Cut the silences of ``media``; ``cuts`` applies a reviewed cut list."""
    return _submit("studio.smartcut", body, request, services, principal)


@router.post("/reframe", status_code=202)
def reframe(
    body: dict[str, Any], request: Request, services: ServicesDep, principal: Creator
) -> dict[str, Any]:
    """Reframe ``media`` to 9:16, following faces."""
    return _submit("studio.reframe", body, request, services, principal)


@router.post("/captions", status_code=202)
def captions(
    body: dict[str, Any], request: Request, services: ServicesDep, principal: Creator
) -> dict[str, Any]:
    """Caption ``media``: cues, SRT and WebVTT; ``burn`` also exports the captioned video."""
    return _submit("studio.captions", body, request, services, principal)


class VoiceOverBody(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    language: str | None = Field(default=None, max_length=16)
    voice: str | None = Field(default=None, max_length=64)
    jurisdictions: list[str] | None = None


@router.post("/voiceover", status_code=201)
def voiceover(body: VoiceOverBody, services: ServicesDep, principal: Creator) -> dict[str, Any]:
    """Speak ``text`` with a bundled voice into a WAV in the library (screened first), ready to
    go on a voice track; the answer is the media item and its duration."""
    item, duration = add_voiceover_media(
        services,
        principal.tenant_id,
        body.text,
        language=body.language,
        voice=body.voice,
        jurisdictions=tuple(body.jurisdictions) if body.jurisdictions else None,
    )
    return {**item.to_dict(), "duration": duration}
