"""Markers that sign C2PA Content Credentials into the content, in memory.

One manifest carries both labels: the C2PA AI declaration (``c2pa.actions``) and the SB 942
latent disclosure (``org.hallmark.sb942``). Policies may ask for them in either order
(us-ca lists ``sb942`` before ``c2pa``), so whichever marker runs first writes the manifest and
the other finds it already there for this content and leaves the file alone.

Plain text and Markdown have no container c2pa-rs can write into; their manifest is signed and
appended by ``hallmark.mark.c2pa.text`` (C2PA 2.4 Appendix A.8).
"""

from __future__ import annotations

import io
from typing import Any, ClassVar

import c2pa

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import LabelContext, Marker
from hallmark.mark.c2pa import text
from hallmark.mark.c2pa.credentials import Credentials, CredentialSource
from hallmark.mark.c2pa.manifest import COMPOSITE, build_manifest, input_ingredient
from hallmark.mark.c2pa.reader import open_store, report_from_store

# Media types hallmark signs, with the file extension used in titles.
FORMATS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
}
SUPPORTED = "JPEG, PNG, WebP, MP4, WAV, MP3, PDF, plain text, Markdown"
# No embedded thumbnails: the image itself is the preview, and a thumbnail adds tens to hundreds
# of kilobytes to every image (83 KB on a 96x64 JPEG, 476 KB on a 1024x1024 one).
_BUILDER_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}


def signable_type(media_type: str) -> str | None:
    base = media_type.split(";")[0].strip().lower()
    return base if base in FORMATS else None


class C2paMarker(Marker):
    scheme: ClassVar[str] = "c2pa"
    media: ClassVar[frozenset[Medium]] = frozenset({"image", "audio", "video", "document"})

    def __init__(
        self, credentials: CredentialSource | Credentials, *, edited_real_media: bool = False
    ) -> None:
        """``edited_real_media``: the content is real media edited with AI, declared as
        ``c2pa.edited`` + compositeWithTrainedAlgorithmicMedia instead of ``c2pa.created``."""
        self._credentials = credentials
        self.edited_real_media = edited_real_media

    def mark(self, content: Content, context: LabelContext) -> Content:
        credentials = self._credentials
        if isinstance(credentials, CredentialSource):
            credentials = credentials.signing()
        declared = context.provenance.digital_source_type.rsplit("/", 1)[-1]
        edited = self.edited_real_media or declared == COMPOSITE.rsplit("/", 1)[-1]
        return sign_content(content, context, credentials, edited_real_media=edited)


class Sb942Marker(C2paMarker):
    """The SB 942 latent disclosure: the same manifest, asked for under its own scheme."""

    scheme: ClassVar[str] = "sb942"


def sign_content(
    content: Content,
    context: LabelContext,
    credentials: Credentials,
    *,
    edited_real_media: bool = False,
) -> Content:
    """The content with hallmark's manifest for ``context`` signed in (unchanged if present)."""
    media_type = signable_type(content.media_type)
    if media_type is None:
        raise UserError(
            f"C2PA Content Credentials cannot be written into {content.media_type!r} content; "
            f"supported: {SUPPORTED}"
        )
    if not content.data:
        raise UserError(f"the {media_type} file is empty")
    provenance = context.provenance
    is_text = media_type in text.TEXT_TYPES
    try:
        store = open_store(content.data, media_type)
    except c2pa.C2paError as exc:
        if not is_text:
            raise UserError(f"the {media_type} file is corrupt or not {media_type}: {exc}") from exc
        store = None  # a text wrapper holding no readable manifest store is replaced
    if store is not None:
        existing = report_from_store(store)
        if existing.by_hallmark and (existing.sb942 or {}).get("identifier") == (
            provenance.content_id
        ):
            return content  # written by the other scheme's marker for this same content
    title = f"{provenance.content_id}.{FORMATS[media_type]}"
    # The input becomes an ingredient when it is the real media being edited, or when it
    # already carries Content Credentials (re-signing without it would strip them).
    with_input = edited_real_media or bool(store and store.get("manifests"))
    definition = build_manifest(
        provenance, title=title, edited_real_media=edited_real_media, input_ingredient=with_input
    )
    ingredient = None
    if with_input:
        ingredient = input_ingredient(title, edited_real_media=edited_real_media)
    try:
        if is_text:
            prior = (store or {}).get("validation_results") if with_input else None
            signed = text.sign(
                definition, ingredient, media_type, content.data, credentials, prior_results=prior
            )
        else:
            signed = _sign(definition, ingredient, media_type, content.data, credentials)
    except c2pa.C2paError as exc:
        raise UserError(
            f"cannot write C2PA Content Credentials into this {media_type} file: {exc}"
        ) from exc
    return content.with_data(signed, c2pa_signer=credentials.fingerprint)


def _sign(
    definition: dict[str, Any],
    ingredient: dict[str, Any] | None,
    media_type: str,
    data: bytes,
    credentials: Credentials,
) -> bytes:
    info = c2pa.C2paSignerInfo(
        credentials.alg.encode("ascii"), credentials.chain_pem, credentials.key_pem, None
    )
    output = io.BytesIO()
    with (
        c2pa.Context.from_dict(_BUILDER_SETTINGS) as context,
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder(definition, context) as builder,
    ):
        if ingredient is not None:
            builder.add_ingredient(ingredient, media_type, io.BytesIO(data))
        builder.sign(signer, media_type, io.BytesIO(data), output)
    return output.getvalue()
