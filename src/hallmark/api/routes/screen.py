"""``POST /v1/screen`` (a JSON text) and ``POST /v1/screen/file`` (an upload): the screening
decision alone. They report decisions and generate nothing, so a blocked text is a 200 whose
``action`` is ``block``; a 4xx means the request itself was bad."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from hallmark.accounts.service import Principal
from hallmark.api.deps import Allowed, ServicesDep
from hallmark.api.uploads import read_upload
from hallmark.flows.screen import ScreenRequest, run_screen
from hallmark.policy import parse_codes

router = APIRouter(prefix="/v1/screen", tags=["screen"])
Screener = Annotated[Principal, Allowed("content:create")]


class ScreenText(BaseModel):
    text: str = Field(min_length=1, description="At most HALLMARK_MAX_SCREEN_CHARS characters.")
    jurisdictions: str | list[str] | None = Field(
        default=None, description='"cn,eu" or ["cn", "eu"]; default: the tenant\'s policy.'
    )
    language: str | None = Field(default=None, description="Of the refusal: zh or en.")


def _codes(jurisdictions: str | list[str] | None) -> tuple[str, ...] | None:
    if jurisdictions is None:
        return None
    text = jurisdictions if isinstance(jurisdictions, str) else ",".join(jurisdictions)
    return tuple(parse_codes(text))


@router.post("")
def screen_text(body: ScreenText, services: ServicesDep, principal: Screener) -> dict[str, Any]:
    """Screen a text: the action (allow, flag or block), the categories, the evidence (spans of
    the text, in characters), the refusal in the user's language when blocked, and which screens
    looked (``screened_by``). The ledger records the text's digest, never the text."""
    outcome = run_screen(
        services,
        principal.tenant_id,
        ScreenRequest(
            text=body.text, jurisdictions=_codes(body.jurisdictions), language=body.language
        ),
    )
    return outcome.to_dict()


@router.post("/file")
def screen_file(
    services: ServicesDep,
    principal: Screener,
    file: Annotated[UploadFile, File(description="The file to screen.")],
    jurisdictions: Annotated[str | None, Form(description="e.g. cn,eu,us-ca")] = None,
    language: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Screen a file, as ``POST /v1/screen`` screens a text: a text file, an image
    (nudity detectors and the text OCR finds), audio (what is said) or video (sound and scene
    frames). A file no screen reads is ``allow`` with an empty ``screened_by`` and a ``note``."""
    outcome = run_screen(
        services,
        principal.tenant_id,
        ScreenRequest(
            data=read_upload(file, services.settings.max_upload_bytes),
            filename=file.filename,
            declared_type=file.content_type,
            jurisdictions=_codes(jurisdictions),
            language=language,
        ),
    )
    return outcome.to_dict()
