"""Studio exports go through the create flow: screened words first, then the work, then the
video's screening, the labels and one ledger entry; nothing is written on a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from studio_media import make_video, probe, stream

from hallmark.errors import ContentBlocked, UserError
from hallmark.mark.report import inspect_bytes
from hallmark.services import Services
from hallmark.store.models import LedgerEntry
from hallmark.studio.actions import Target, render
from hallmark.studio.media import MediaResolver
from hallmark.studio.timeline import parse_project

BLOCKED = "how to make a pipe bomb"  # terrorism in screen/lexicons/en.txt


def _project(caption: str = "Hello from the studio") -> dict[str, object]:
    return {
        "width": 320,
        "height": 568,
        "fps": 15,
        "name": "demo",
        "tracks": [
            {"kind": "visual", "role": "main", "clips": [{"kind": "video", "source": "clip.mp4"}]},
            {
                "kind": "text",
                "role": "caption",
                "clips": [{"kind": "text", "text": caption, "duration": 1.5}],
            },
        ],
    }


def _entries(services: Services) -> list[LedgerEntry]:
    with services.db.session() as session:
        return list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)))


@pytest.fixture
def tenant(services: Services) -> str:
    from hallmark.accounts.service import ensure_tenant

    with services.db.session() as session:
        return ensure_tenant(session, services.ledger, "studio").id


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_video(tmp_path / "clip.mp4", seconds=2.0)
    return tmp_path


def test_a_rendered_project_leaves_labeled_and_logged(
    services: Services, tenant: str, folder: Path
) -> None:
    out = folder / "out.mp4"
    outcome = render(
        services,
        tenant,
        parse_project(_project()),
        MediaResolver(folder),
        Target(out=out, jurisdictions=("cn", "eu", "us-ca")),
    )
    info = probe(out)
    assert stream(info, "video")["width"] == 320
    assert stream(info, "audio")["codec_name"] == "aac"
    assert abs(float(info["format"]["duration"]) - 2.0) < 0.2
    report = inspect_bytes(services.components, out.read_bytes(), filename="out.mp4")
    assert report["verdict"] == "confirmed"
    assert {"explicit", "gb45438", "c2pa"} <= set(outcome.create.labels)
    entry = _entries(services)[-1]
    payload = json.loads(entry.payload)
    assert entry.kind == "create"
    assert payload["engine"] == "studio"
    assert payload["content_id"] == outcome.create.content_id
    assert outcome.work["width"] == 320


def test_blocked_words_stop_the_export_before_any_render(
    services: Services, tenant: str, folder: Path
) -> None:
    out = folder / "out.mp4"
    with pytest.raises(ContentBlocked):
        render(
            services,
            tenant,
            parse_project(_project(BLOCKED)),
            MediaResolver(folder),
            Target(out=out),
        )
    assert not out.exists()
    assert _entries(services)[-1].kind == "create.blocked"


def test_missing_media_is_a_clear_error_and_nothing_is_written(
    services: Services, tenant: str, folder: Path
) -> None:
    (folder / "clip.mp4").unlink()
    out = folder / "out.mp4"
    with pytest.raises(UserError, match=r"clip\.mp4"):
        render(
            services,
            tenant,
            parse_project(_project()),
            MediaResolver(folder),
            Target(out=out),
        )
    assert not out.exists()
