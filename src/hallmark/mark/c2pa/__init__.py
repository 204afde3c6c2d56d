"""C2PA Content Credentials, carrying the SB 942 latent disclosure: markers that sign them into
JPEG, PNG, WebP, MP4, WAV, MP3 and PDF files and append them to plain text and Markdown (``text``),
and an inspector that reads them back."""

from __future__ import annotations

from hallmark.mark.c2pa.credentials import CredentialSource
from hallmark.mark.c2pa.inspector import C2paInspector
from hallmark.mark.c2pa.marker import C2paMarker, Sb942Marker
from hallmark.registry import Components

__all__ = ["C2paInspector", "C2paMarker", "CredentialSource", "Sb942Marker", "register"]


def register(components: Components) -> None:
    # Credentials are made or loaded the first time a file is signed or inspected.
    settings = components.settings
    credentials = CredentialSource(lambda: settings)
    components.markers.register("c2pa", C2paMarker(credentials))
    components.markers.register("sb942", Sb942Marker(credentials))
    components.inspectors.register("c2pa", C2paInspector(credentials))
