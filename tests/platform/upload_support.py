"""Real media and the chunked upload protocol, for the uploads and feed tests."""

from __future__ import annotations

import functools
import hashlib
import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hallmark.accounts.service import authenticate, ensure_tenant
from hallmark.flows.mark import MarkRequest, run_mark
from hallmark.mark.gb45438 import AIGCFields, format_for
from hallmark.mark.gb45438.marker import existing_fields
from hallmark.platform.feed import Member
from hallmark.services import Services
from helpers import auth

CHUNK_TYPE = {"Content-Type": "application/offset+octet-stream"}
Client = TestClient | httpx.Client


@functools.cache
def photo(seed: int = 1, size: tuple[int, int] = (320, 240), fmt: str = "PNG") -> bytes:
    """A photo-like picture with no AI label: smooth gradients and a little noise."""
    width, height = size
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    x, y = np.broadcast_arrays(x, y)
    base = np.concatenate([x * 200 + 30, y * 180 + 40, (1 - x) * 150 + y * 60], axis=2)
    pixels = np.clip(base + rng.normal(0, 6, (height, width, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt)
    return out.getvalue()


def marked_photo(services: Services, seed: int = 2) -> bytes:
    """A photo labelled by hallmark's mark flow (what `hallmark mark` writes)."""
    owner = tenant_id(services, "studio")
    return run_mark(services, owner, MarkRequest(photo(seed), filename="p.png")).content.data


@functools.cache
def video(seconds: int = 1) -> bytes:
    """A small real MP4 (H.264) from ffmpeg's test source."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "clip.mp4"
        source = f"testsrc=duration={seconds}:size=256x144:rate=10"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", source,
             "-pix_fmt", "yuv420p", "-c:v", "libx264", str(target)],
            check=True,
            timeout=60,
        )  # fmt: skip
        return target.read_bytes()


def bomb_png(side: int = 30000) -> bytes:
    """A decompression bomb: side × side 1-bit pixels, about 100 KB on disk."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        out = io.BytesIO()
        Image.new("1", (side, side), 0).save(out, format="PNG", optimize=True)
        return out.getvalue()
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def read_label(data: bytes, media_type: str) -> AIGCFields | None:
    """The GB 45438 label in a file's metadata, as the marker reads it back."""
    found = format_for(media_type, data)
    assert found is not None, media_type
    return existing_fields(found.open(data))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split(data: bytes, parts: int) -> list[bytes]:
    step = -(-len(data) // parts)
    return [data[i : i + step] for i in range(0, len(data), step)]


def tenant_id(services: Services, name: str = "acme") -> str:
    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, name).id


def member_of(services: Services, token: str) -> Member:
    with services.db.session() as session:
        principal = authenticate(session, token)
    return Member.of(principal.tenant_id, principal.key_id, principal.role)


# --- the protocol, over HTTP ---------------------------------------------------------------


def start(
    client: Client, token: str, data: bytes, name: str = "photo.png", **fields: Any
) -> dict[str, Any]:
    body = {"filename": name, "size": len(data), **fields}
    response = client.post("/v1/uploads", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def put(client: Client, token: str, upload_id: str, offset: int, chunk: bytes) -> httpx.Response:
    return client.put(
        f"/v1/uploads/{upload_id}",
        params={"offset": offset},
        content=chunk,
        headers={**auth(token), **CHUNK_TYPE},
    )


def send(client: Client, token: str, upload_id: str, chunks: list[bytes], offset: int = 0) -> int:
    for chunk in chunks:
        response = put(client, token, upload_id, offset, chunk)
        assert response.status_code == 200, response.text
        offset = response.json()["offset"]
    return offset


def complete(client: Client, token: str, upload_id: str) -> httpx.Response:
    return client.post(f"/v1/uploads/{upload_id}/complete", headers=auth(token))


def upload(
    client: Client, token: str, data: bytes, parts: int = 3, **fields: Any
) -> dict[str, Any]:
    """Create, send in ``parts`` chunks, complete; the post."""
    created = start(client, token, data, **fields)
    assert send(client, token, created["id"], split(data, parts)) == len(data)
    response = complete(client, token, created["id"])
    assert response.status_code == 200, response.text
    post: dict[str, Any] = response.json()
    return post
