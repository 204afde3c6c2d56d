"""Every studio export goes through the create flow, so a video leaves screened, labeled and
logged like anything else hallmark makes.

The studio's work (a render, a reframe, a smart cut) is the flow's engine: the words the video
will show or speak are screened first (the create flow's input screen), the work runs, its
MP4 is screened (frames and audio track), the policy's labels are written (the explicit video
label, GB 45438 metadata, C2PA, the watermark), and one ``create`` ledger entry records it all.
Only then is the labeled file written to the caller's path, atomically.

The work is given the wording of the explicit label the policy will put on the video (None
when it puts none). A work that draws it in its own encode (a render: ``render_project``'s
``label``) says so in its ``Worked``, the content carries ``explicit_label``, and the explicit
video marker leaves the pixels alone: one full encode fewer. A work that does not (a reframe)
leaves the label to the marker, as before.

Progress: the work reports 0..1 of its own; it is shown as the first ``WORK_SHARE`` of the
whole, and screening plus labeling as the rest.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from hallmark import __version__
from hallmark.content import Content, Medium
from hallmark.engines.base import Engine, GenerationRequest
from hallmark.errors import UserError
from hallmark.files import write_atomically
from hallmark.flows.create import CreateOutcome, CreateRequest, run_create
from hallmark.services import Services

Progress = Callable[[float, str], None]


@dataclass(slots=True, frozen=True)
class Worked:
    """What a work did: its report (render size, frames, cut list, ...) and whether it drew
    the explicit label it was given."""

    report: dict[str, Any]
    labeled: bool = False


Work = Callable[[Path, Progress, str | None], Worked]
"""work(output path, progress, label wording or None) writes the MP4 (with the explicit label
drawn, if it can and a wording is given) and says what it did."""

ENGINE_NAME = "studio"
WORK_SHARE = 0.75
MAX_WHAT_CHARS = 20_000


@dataclass(slots=True, frozen=True)
class ExportOutcome:
    create: CreateOutcome
    path: Path | None  # where the labeled file was written, when a path was asked for
    work: dict[str, Any]  # what the work reported (render size, frames, cut list, ...)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.create.to_dict(),
            "size": len(self.create.content.data),
            "path": None if self.path is None else str(self.path),
            "studio": self.work,
        }


class _StudioWork(Engine):
    """The flow's engine for one export: runs ``work`` and hands its file to the flow."""

    name: ClassVar[str] = ENGINE_NAME
    media: ClassVar[frozenset[Medium]] = frozenset({"video"})
    version: ClassVar[str] = __version__

    def __init__(self, work: Work, progress: Progress) -> None:
        self._work = work
        self._progress = progress
        self.report: dict[str, Any] = {}

    def generate(self, request: GenerationRequest) -> Content:
        label = request.label_wording
        with tempfile.TemporaryDirectory(prefix="hallmark-studio-") as folder:
            rendered = Path(folder) / "render.mp4"
            worked = self._work(
                rendered, lambda share, what: self._progress(share * WORK_SHARE, what), label
            )
            self.report = worked.report
            try:
                data = rendered.read_bytes()
            except FileNotFoundError:
                raise UserError("the studio work produced no video") from None
        self._progress(WORK_SHARE, "screening and labeling")
        drawn = {"explicit_label": label} if worked.labeled and label is not None else {}
        return Content("video", "video/mp4", data, drawn)


def export_video(
    services: Services,
    tenant_id: str,
    *,
    what: str,
    work: Work,
    out: Path | None = None,
    jurisdictions: tuple[str, ...] | None = None,
    language: str | None = None,
    progress: Progress | None = None,
) -> ExportOutcome:
    """Run ``work`` as the engine of the create flow and write the labeled MP4 to ``out``.

    ``what`` is the text screened before any work is done: the words the video shows and
    speaks, or, for a video with none, a line saying what it is.
    """
    show = progress or (lambda share, what: None)
    if out is not None and out.is_dir():
        raise UserError(f"the output {out} is a folder; give a file name ending in .mp4")
    if out is not None and not out.parent.is_dir():
        raise UserError(f"the output folder {out.parent} does not exist")
    engine = _StudioWork(work, show)
    request = CreateRequest(
        prompt=what[:MAX_WHAT_CHARS],
        engine=ENGINE_NAME,
        medium="video",
        jurisdictions=jurisdictions,
        language=language,
    )
    outcome = run_create(services, tenant_id, request, engine=engine)
    if out is not None:
        write_atomically(out, outcome.content.data)
    show(1.0, "done")
    return ExportOutcome(outcome, out, engine.report)
