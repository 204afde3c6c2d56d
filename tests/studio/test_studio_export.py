"""Studio exports go through the create flow: screened words first, then the work, then the
video's screening, the labels and one ledger entry; nothing is written on a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from studio_media import make_video, probe, stream

from hallmark.errors import ContentBlocked, UserError
from hallmark.mark import explicit_video
from hallmark.mark.report import inspect_bytes
from hallmark.mark.watermark import video as watermark_video
from hallmark.policy import resolve_policy
from hallmark.services import Services
from hallmark.store.models import LedgerEntry
from hallmark.studio.actions import Target, render, smart_cut
from hallmark.studio.export import ExportOutcome, Progress, Worked, export_video
from hallmark.studio.media import MediaResolver
from hallmark.studio.smartcut import CutList
from hallmark.studio.timeline import parse_project

BLOCKED = "how to make a pipe bomb"  # terrorism in screen/lexicons/en.txt
EVERYWHERE = ("cn", "eu", "us-ca")


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


def _render(
    services: Services,
    tenant: str,
    folder: Path,
    target: Target,
    caption: str = "Hello from the studio",
) -> ExportOutcome:
    """The export of the test project (the clip in ``folder`` with a caption) to ``target``."""
    return render(services, tenant, parse_project(_project(caption)), MediaResolver(folder), target)


def test_a_rendered_project_leaves_labeled_and_logged(
    services: Services, tenant: str, folder: Path
) -> None:
    out = folder / "out.mp4"
    outcome = _render(
        services, tenant, folder, Target(out=out, jurisdictions=("cn", "eu", "us-ca"))
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
        _render(services, tenant, folder, Target(out=out), caption=BLOCKED)
    assert not out.exists()
    assert _entries(services)[-1].kind == "create.blocked"


def test_missing_media_is_a_clear_error_and_nothing_is_written(
    services: Services, tenant: str, folder: Path
) -> None:
    (folder / "clip.mp4").unlink()
    out = folder / "out.mp4"
    with pytest.raises(UserError, match=r"clip\.mp4"):
        _render(services, tenant, folder, Target(out=out))
    assert not out.exists()


# --- the explicit label drawn by the render itself ----------------------------------------------


def _wording(services: Services) -> str:
    return resolve_policy(list(EVERYWHERE), services.settings.policy_dir).label_text()


def _no_second_encode(monkeypatch: pytest.MonkeyPatch) -> None:
    """An encode for the label alone fails the test: the render, or the watermark's pass,
    must have drawn it."""

    def refuse(data: bytes, container: str, wording: str) -> bytes:
        raise AssertionError("the video was encoded once more just for its label")

    monkeypatch.setattr(explicit_video, "label_video", refuse)
    monkeypatch.setattr(watermark_video, "label_video", refuse)


def _every_label_found(services: Services, path: Path, wording: str) -> None:
    report = inspect_bytes(services.components, path.read_bytes(), filename=path.name)
    assert report["verdict"] == "confirmed"
    texts = [str(notice["text"]).lower() for notice in report["explicit"]]
    assert any(wording.lower() in text for text in texts), texts  # read by OCR
    assert report["gb45438"] is not None
    assert report["c2pa"] is not None
    assert report["watermark"] is not None


def test_a_render_export_is_labelled_by_the_render_without_a_second_encode(
    services: Services, tenant: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_second_encode(monkeypatch)
    out = folder / "out.mp4"
    outcome = _render(services, tenant, folder, Target(out=out, jurisdictions=EVERYWHERE))
    assert {"explicit", "watermark", "gb45438", "c2pa"} <= set(outcome.create.labels)
    assert outcome.create.content.metadata["explicit_label"] == _wording(services)
    assert "labeled" not in outcome.work and "explicit_label" not in outcome.work
    _every_label_found(services, out, _wording(services))


def test_an_exported_preview_still_carries_the_label(
    services: Services, tenant: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_second_encode(monkeypatch)
    out = folder / "preview.mp4"
    outcome = _render(
        services,
        tenant,
        folder,
        Target(out=out, preset="tiktok", preview=True, jurisdictions=EVERYWHERE),
    )
    assert (outcome.work["width"], outcome.work["height"]) == (360, 640)  # the draft's size
    _every_label_found(services, out, _wording(services))


def test_a_smart_cut_export_is_labelled_by_its_render(
    services: Services, tenant: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_second_encode(monkeypatch)
    source = make_video(folder / "talk.mp4", seconds=3.0)
    cuts = CutList(str(source), 3.0, ((0.0, 1.2), (1.8, 3.0)))
    out = folder / "cut.mp4"
    outcome, _ = smart_cut(
        services, tenant, source, Target(out=out, jurisdictions=EVERYWHERE), cuts=cuts
    )
    assert abs(float(probe(out)["format"]["duration"]) - 2.4) < 0.2
    assert outcome.create.content.metadata["explicit_label"] == _wording(services)
    _every_label_found(services, out, _wording(services))


def test_a_work_that_does_not_draw_the_label_is_labelled_in_the_watermarks_pass(
    services: Services, tenant: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[str | None] = []
    _no_second_encode(monkeypatch)

    def work(path: Path, progress: Progress, label: str | None) -> Worked:
        given.append(label)
        make_video(path, seconds=2.0, size="320x568")
        return Worked({"made": "here"})  # drew nothing

    out = folder / "plain.mp4"
    outcome = export_video(
        services, tenant, what="a test card", work=work, out=out, jurisdictions=EVERYWHERE
    )
    wording = _wording(services)
    assert given == [wording]  # the work was offered the wording, and drew nothing
    assert outcome.work == {"made": "here"}
    _every_label_found(services, out, wording)
