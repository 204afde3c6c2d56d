"""The studio's renderer against the ffmpeg CLI, and PyAV against the same CLI.

``studio.render``: ``render_project`` of a 1080x1920, 30 fps project (the TikTok preset): one
video clip (a 1280x720 H.264 testsrc2 source with a 440 Hz tone, AAC) scaled to cover the
frame, and one caption. The baseline is the command a person would write by hand for the same
output: ``scale=...:force_original_aspect_ratio=increase,crop=1080:1920``, ``overlay`` of the
same caption PNG, the same encoder settings (libx264 High, CRF 20, veryfast, AAC 44.1 kHz
192 kb/s, +faststart). The ratio is what our generality costs: the background source, the
per-clip timing, probing the media, drawing the caption. The issue's goal: ours at least 0.9x
the CLI's frame rate, so a time ratio of 1.11 or lower.

``studio.render.pyav``: the same edit composited with PyAV (its bundled FFmpeg decodes and
encodes) and numpy (scale with libswscale, crop, alpha-blend the caption in RGB, encode with
the same libx264 settings, audio re-encoded), against the same CLI. It measures the design the
renderer did not take; skipped when ``av`` is not installed (``pip install av==18.1.0``).

``studio.export``: the whole export (``studio.actions.render``: the caption screened, the
render, the video screened (scene-change frames through NSFW detection and OCR, the sound
through whisper), the labels of cn, eu and us-ca written (the explicit label re-encodes the
video), the ledger entry) against ``render_project`` alone on the same project: what
compliance costs a studio export.

Units are output frames: 5 s at 30 fps (1 s with ``--quick``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench.harness import Case, Skip, Workspace
from hallmark.accounts.service import ensure_tenant
from hallmark.studio.actions import Target, render
from hallmark.studio.media import MediaResolver
from hallmark.studio.presets import preset_for
from hallmark.studio.render import render_project
from hallmark.studio.text_image import render_text
from hallmark.studio.timeline import Project, TextClip, parse_project

FPS = 30
WIDTH, HEIGHT = 1080, 1920
CAPTION = "Hallmark studio 字幕 caption test"


@dataclass(slots=True)
class RenderState:
    folder: tempfile.TemporaryDirectory[str]
    source: Path
    caption: Path
    caption_at: tuple[int, int]
    project: Project
    resolver: MediaResolver
    seconds: int


def _project(seconds: int) -> Project:
    return parse_project(
        {
            "width": WIDTH,
            "height": HEIGHT,
            "fps": FPS,
            "tracks": [
                {"kind": "visual", "clips": [{"kind": "video", "source": "source.mp4"}]},
                {
                    "kind": "text",
                    "clips": [{"kind": "text", "text": CAPTION, "duration": seconds}],
                },
            ],
        }
    )


def setup_render(units: int) -> RenderState:
    if shutil.which("ffmpeg") is None:
        raise Skip("ffmpeg is not installed (Debian ffmpeg)")
    seconds = max(1, units // FPS)
    folder = tempfile.TemporaryDirectory(prefix="hallmark-bench-studio-")
    root = Path(folder.name)
    source = root / "source.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate={FPS}:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    project = _project(seconds)
    caption_clip = project.tracks[1].clips[0]
    assert isinstance(caption_clip, TextClip)
    picture, at = render_text(caption_clip, WIDTH, HEIGHT)
    caption = root / "caption.png"
    picture.save(caption)
    return RenderState(folder, source, caption, at, project, MediaResolver(root), seconds)


def render_ours(state: RenderState) -> None:
    render_project(
        state.project,
        state.source.with_name("ours.mp4"),
        MediaResolver(state.resolver.root),  # probing the media is part of our work
        preset=preset_for("tiktok"),
    )


def render_cli(state: RenderState) -> None:
    x, y = state.caption_at
    graph = (
        f"[0:v]scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=increase,"
        f"crop={WIDTH}:{HEIGHT}[bg];[bg][1:v]overlay={x}:{y}[v]"
    )
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(state.source),
         "-i", str(state.caption), "-filter_complex", graph, "-map", "[v]", "-map", "0:a",
         "-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-crf", "20",
         "-preset", "veryfast", "-r", str(FPS), "-c:a", "aac", "-b:a", "192k",
         "-ar", "44100", "-ac", "2", "-movflags", "+faststart",
         str(state.source.with_name("cli.mp4"))],
        check=True, capture_output=True,
    )  # fmt: skip


def setup_pyav(units: int) -> RenderState:
    try:
        import av  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as exc:
        raise Skip(f"PyAV is not installed (pip install av==18.1.0): {exc}") from None
    return setup_render(units)


def render_pyav(state: RenderState) -> None:
    """Decode, scale to cover, crop, blend the caption with numpy, encode: the same output."""
    import av
    import numpy as np
    from PIL import Image

    caption = np.asarray(Image.open(state.caption).convert("RGBA"), dtype=np.float32)
    x, y = state.caption_at
    ch, cw = caption.shape[:2]
    alpha = caption[..., 3:4] / 255.0
    ink = caption[..., :3] * alpha
    keep = 1.0 - alpha
    with (
        av.open(str(state.source)) as source,
        av.open(
            str(state.source.with_name("pyav.mp4")), "w", options={"movflags": "+faststart"}
        ) as target,
    ):
        video_in, audio_in = source.streams.video[0], source.streams.audio[0]
        video_in.thread_type = "AUTO"
        video = target.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.profile = "High"
        video.options = {"crf": "20", "preset": "veryfast"}
        video.thread_type = "AUTO"
        audio = target.add_stream("aac", rate=44100)
        audio.layout = "stereo"
        audio.bit_rate = 192_000
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=44100)
        scale = max(WIDTH / video_in.width, HEIGHT / video_in.height)
        scaled_w = 2 * round(video_in.width * scale / 2)
        scaled_h = 2 * round(video_in.height * scale / 2)
        left, top = (scaled_w - WIDTH) // 2, (scaled_h - HEIGHT) // 2
        count = 0
        for frame in source.decode(video_in, audio_in):
            if isinstance(frame, av.AudioFrame):
                for chunk in resampler.resample(frame):
                    chunk.pts = None
                    target.mux(audio.encode(chunk))
                continue
            rgb = frame.to_ndarray(width=scaled_w, height=scaled_h, format="rgb24")
            canvas = rgb[top : top + HEIGHT, left : left + WIDTH].copy()
            region = canvas[y : y + ch, x : x + cw].astype(np.float32)
            canvas[y : y + ch, x : x + cw] = (region * keep + ink).astype(np.uint8)
            out = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            out.pts = count
            out.time_base = Fraction(1, FPS)
            count += 1
            target.mux(video.encode(out))
        for chunk in resampler.resample(None):
            chunk.pts = None
            target.mux(audio.encode(chunk))
        target.mux(video.encode(None))
        target.mux(audio.encode(None))


def teardown(state: RenderState) -> None:
    state.folder.cleanup()


@dataclass(slots=True)
class ExportState:
    render: RenderState
    workspace: Workspace
    tenant_id: str


def setup_export(units: int) -> ExportState:
    state = setup_render(units)
    workspace = Workspace.open()
    with workspace.services.db.session() as session:
        tenant_id = ensure_tenant(session, workspace.services.ledger, "bench").id
    return ExportState(state, workspace, tenant_id)


def export_ours(state: ExportState) -> None:
    root = state.render.source.parent
    render(
        state.workspace.services,
        state.tenant_id,
        state.render.project,
        MediaResolver(root),
        Target(out=root / "export.mp4", preset="tiktok", jurisdictions=("cn", "eu", "us-ca")),
    )


def export_render_only(state: ExportState) -> None:
    render_ours(state.render)


def teardown_export(state: ExportState) -> None:
    state.workspace.close()
    teardown(state.render)


CASES: list[Case[Any]] = [
    Case(
        name="studio.render",
        measures=(
            "render a 1080x1920 30 fps project (a 1280x720 clip covering the frame, a caption) "
            "to H.264 High + AAC with the TikTok preset."
        ),
        baseline_is=(
            "the ffmpeg CLI command written by hand for the same output (scale+crop, overlay "
            "of the same caption PNG, same encoder settings); goal: ratio at most 1.11."
        ),
        setup=setup_render,
        ours=render_ours,
        baseline=render_cli,
        teardown=teardown,
        units=5 * FPS,
        quick_units=FPS,
        unit="frame",
    ),
    Case(
        name="studio.render.pyav",
        measures="the same edit composited with PyAV and numpy (the alternative design).",
        baseline_is="the same hand-written ffmpeg CLI command.",
        setup=setup_pyav,
        ours=render_pyav,
        baseline=render_cli,
        teardown=teardown,
        units=5 * FPS,
        quick_units=FPS,
        unit="frame",
    ),
    Case(
        name="studio.export",
        measures=(
            "the whole export of the same project: words screened, render, video screened, "
            "cn+eu+us-ca labels written, ledger entry."
        ),
        baseline_is="render_project alone: what compliance costs an export.",
        setup=setup_export,
        ours=export_ours,
        baseline=export_render_only,
        teardown=teardown_export,
        units=5 * FPS,
        quick_units=FPS,
        unit="frame",
    ),
]
