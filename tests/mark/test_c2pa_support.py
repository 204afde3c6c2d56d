"""Sample media and a throwaway "other tool" for the C2PA tests, and proof the samples are real.

JPEG, PNG and WebP come from Pillow, WAV from the stdlib ``wave`` module, MP3 and MP4 from
ffmpeg (1 s, tiny), PDF from Pillow. Other test modules import these helpers.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from hallmark.mark.base import LabelContext, Provenance
from hallmark.mark.c2pa.reader import read_credentials
from hallmark.policy import resolve_policy

FORMATS = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "pdf": "application/pdf",
}
CONTENT_ID = "c-0123456789abcdef"


def _image(fmt: str) -> bytes:
    image = Image.new("RGB", (96, 64), (30, 120, 200))
    for x in range(0, 96, 8):  # some detail, so the codecs have data to carry
        image.paste((200, 40 + x, 30), (x, 0, x + 4, 64))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def _wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(random.Random(7).randbytes(16000))  # noise: no repeated runs
    return out.getvalue()


def _ffmpeg(args: list[str], suffix: str) -> bytes:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is needed to make the MP3/MP4 samples: apt-get install ffmpeg")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"sample{suffix}"
        command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", *args]
        subprocess.run([*command, str(target)], check=True, timeout=60)
        return target.read_bytes()


@functools.cache
def sample(kind: str) -> bytes:
    """A small, valid file of ``kind`` (a key of FORMATS) without Content Credentials."""
    if kind in ("jpeg", "png", "webp", "pdf"):
        return _image(kind.upper())
    if kind == "wav":
        return _wav()
    if kind == "mp3":
        return _ffmpeg(["-i", "sine=frequency=440:duration=1", "-b:a", "32k"], ".mp3")
    if kind == "mp4":
        source = ["-i", "testsrc=duration=1:size=64x48:rate=10", "-pix_fmt", "yuv420p"]
        return _ffmpeg([*source, "-c:v", "libx264"], ".mp4")
    raise ValueError(kind)


def provenance(content_id: str = CONTENT_ID, **changes: Any) -> Provenance:
    fields: dict[str, Any] = {
        "content_id": content_id,
        "service": "hallmark/echo-1",
        "producer_code": "001100000000000000000000000",
        "created_at": "2026-08-02T10:00:00Z",
        **changes,
    }
    return Provenance(**fields)


def label_context(content_id: str = CONTENT_ID, **changes: Any) -> LabelContext:
    policy = resolve_policy("us-ca")
    return LabelContext(policy, "en", policy.label_text("en"), provenance(content_id, **changes))


def _name(common_name: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )


def throwaway_chain(org: str = "Other Tool Inc") -> tuple[bytes, bytes, bytes]:
    """(chain PEM signer-first, signer key PEM, root PEM) of a separate CA made here."""
    now = dt.datetime.now(dt.UTC)
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def usage(signer: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            signer, False, False, False, False, not signer, not signer, False, False
        )

    root = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{org} Root", org))
        .issuer_name(_name(f"{org} Root", org))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{org} Signer", org))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    root_pem = root.public_bytes(pem)
    return leaf.public_bytes(pem) + root_pem, key_pem, root_pem


def sign_as_other_tool(data: bytes, media_type: str, source_type: str) -> bytes:
    """``data`` signed by "other-tool" with its own throwaway CA (not trusted by hallmark)."""
    chain, key, _ = throwaway_chain()
    definition = {
        "claim_generator_info": [{"name": "other-tool", "version": "9.9"}],
        "title": "other.jpg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/"
                            f"digitalsourcetype/{source_type}",
                        }
                    ]
                },
            }
        ],
    }
    output = io.BytesIO()
    info = c2pa.C2paSignerInfo(b"es256", chain, key, None)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(definition) as builder:
        builder.sign(signer, media_type, io.BytesIO(data), output)
    return output.getvalue()


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_samples_are_real_files_without_credentials(kind: str) -> None:
    """c2pa-rs parses every sample (no error) and finds no manifest in it."""
    report = read_credentials(sample(kind), FORMATS[kind])
    assert report.state == "absent"
    assert report.error is None
