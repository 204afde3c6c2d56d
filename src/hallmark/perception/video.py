"""What is in a video: the frames' findings and the soundtrack's, on one timeline and aligned.

A video is perceived as pictures and sound, then the two are tied together, as BuboGPT's
aligned audio-image case does, so an answer can say what was heard while something was seen.

**Frames.** The first frame and each scene change (:func:`hallmark.screen.video.scene_frames`,
the video screen's sampler, at most ``MAX_FRAMES``) are read by the bundled image perceiver.
A scene changes where ffmpeg's scene score is over ``SCENE_THRESHOLD``, half the video
screen's: its score weighs brightness most, and a cut between two shots of like brightness
scores under the screen's threshold; a frame too many costs one image's perception, a cut
missed loses what the second shot shows.
A long shot has few scene changes, and a sign shown from 0:10 to 0:50 of a one-minute take
would only be looked at if it happened to be in the first frame; so a clip of at least
``LONG_CLIP_S`` seconds with fewer than ``MIN_SAMPLED`` sampled frames also gets frames at
even steps (``EVEN_STEPS`` of them across the clip), except where a sampled frame is already
within ``MIN_GAP_S``. Each frame stands for the time until the next sampled frame (the last
until the end), and its findings carry that span as ``start``/``end`` and the frame's time as
``detail["frame"]``. The same thing seen in consecutive frames (kind, label, and boxes with an
IoU of at least ``SAME_BOX_IOU``) is one finding whose span covers them all. Colours and layout
describe the look of the first frame only: one set, not one per frame.

**Sound.** The first audio stream, decoded to 16 kHz mono, through the registered bundled
audio perceiver (so its models are loaded once for both; one of its own, with the first
registered transcriber, if none is registered); its times are moved onto the video's timeline
(an audio stream may start after the pictures do). A video without sound gets only the visual
findings.

**Alignment.** Each sound finding (``sound``, ``speech``, ``word``) gets ``detail["frames"]``:
the times of the sampled frames on screen while it sounds (whose spans overlap it, so a tone
that starts half-way through a shot lists that shot's frame). Each visual finding gets
``detail["sounds"]``: the labels of the ``sound`` and ``speech`` findings heard while it is
seen (words are left out: the transcript is in the speech and word findings themselves).

Frames are scaled as the video screen scales them (at most ``MAX_FRAME_SIDE`` on the long
side), so boxes are in those pixels, and :func:`key_frame` decodes its frame the same way.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from PIL import Image

from hallmark.errors import UserError
from hallmark.mark.video_audio import audio_track
from hallmark.perception.audio import AudioPerceiver
from hallmark.perception.base import Finding, PerceivedMedium, Perceiver, PerceptionInput
from hallmark.perception.image import iou, perceive_image
from hallmark.perception.yamnet import YamNet
from hallmark.registry import Components
from hallmark.screen.video import MAX_FRAME_SIDE, MAX_FRAMES, scene_frames
from hallmark.speech.base import STT_RATE, SpeechToText
from hallmark.studio.ffmpeg import decode_mono, run_tool
from hallmark.studio.media import probe

TOOL_TIMEOUT_S = 300.0
# ffmpeg's scene score of a hard cut between shots of like brightness (a red card to a blue
# one: 0.19-0.27) is under the video screen's 0.3; a still shot scores near 0
SCENE_THRESHOLD = 0.15
LONG_CLIP_S = 10.0
MIN_SAMPLED = 3
EVEN_STEPS = 6  # a long, still clip is looked at every sixth of its length
MIN_GAP_S = 1.0
SAME_BOX_IOU = 0.5
HEARD_KINDS = frozenset({"sound", "speech"})  # what a visual finding's "sounds" lists
ONCE_KINDS = frozenset({"color", "layout"})  # kept for the first frame only
_SEEK_NUDGE_S = 0.001  # a frame time read back from showinfo may fall a hair before the frame
_SCALE = (
    f"scale='if(gte(iw,ih),min({MAX_FRAME_SIDE},iw),-2)'"
    f":'if(gte(iw,ih),-2,min({MAX_FRAME_SIDE},ih))'"
)


# --- the timeline: pure ----------------------------------------------------------------------


def even_times(duration: float, sampled: Sequence[float]) -> list[float]:
    """The extra frame times for a long clip with few scene changes (see the module's
    docstring); none for a short clip or one with enough sampled frames."""
    if duration < LONG_CLIP_S or len(sampled) >= MIN_SAMPLED:
        return []
    extra: list[float] = []
    for step in range(1, EVEN_STEPS):
        at = round(duration * step / EVEN_STEPS, 3)
        if all(abs(at - seen) >= MIN_GAP_S for seen in (*sampled, *extra)):
            extra.append(at)
    return extra


def frame_spans(times: Sequence[float], duration: float) -> list[tuple[float, float]]:
    """Each sampled frame's span: from its time to the next frame's, the last to the end."""
    ordered = sorted(times)
    ends = [*ordered[1:], max(duration, ordered[-1])] if ordered else []
    return list(zip(ordered, ends, strict=True))


def timed_frame(findings: Sequence[Finding], span: tuple[float, float]) -> list[Finding]:
    """One frame's findings placed on the timeline."""
    start, end = span
    return [
        replace(f, start=start, end=end, detail={**f.detail, "frame": round(start, 3)})
        for f in findings
    ]


def merge_repeats(findings: Sequence[Finding]) -> list[Finding]:
    """Findings in frame order with the same thing in consecutive frames made one: the
    first's box and detail, the best score, the span from the first frame to the last."""
    merged: list[Finding] = []
    for finding in findings:
        index = next(
            (i for i, kept in enumerate(merged) if _continues(kept, finding)),
            None,
        )
        if index is None:
            merged.append(finding)
            continue
        kept = merged[index]
        merged[index] = replace(kept, score=max(kept.score, finding.score), end=finding.end)
    return merged


def _continues(kept: Finding, finding: Finding) -> bool:
    return (
        kept.kind == finding.kind
        and kept.label == finding.label
        and kept.end is not None
        and kept.end == finding.start
        and kept.box is not None
        and finding.box is not None
        and iou(kept.box, finding.box) >= SAME_BOX_IOU
    )


def shifted(findings: Sequence[Finding], by: float) -> list[Finding]:
    """Sound findings moved ``by`` seconds later (onto the video's timeline)."""
    if not by:
        return list(findings)
    return [
        replace(
            f,
            start=None if f.start is None else f.start + by,
            end=None if f.end is None else f.end + by,
        )
        for f in findings
    ]


def meets(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two spans share time. Spans are half-open (a frame's ends where the next one's
    starts); an instant (start == end) meets a span that holds it."""
    (a0, a1), (b0, b1) = a, b
    if a0 == a1 and b0 == b1:
        return a0 == b0
    if a0 == a1:
        return b0 <= a0 < b1
    if b0 == b1:
        return a0 <= b0 < a1
    return a0 < b1 and b0 < a1


def _span(finding: Finding) -> tuple[float, float] | None:
    if finding.start is None or finding.end is None:
        return None
    return (finding.start, finding.end)


def align(
    visual: Sequence[Finding], sounds: Sequence[Finding], spans: Sequence[tuple[float, float]]
) -> list[Finding]:
    """The visual findings, each with the sounds heard while it is seen, then the sound
    findings, each with the frames on screen while it sounds."""
    seen = []
    for finding in visual:
        heard: list[str] = []
        span = _span(finding)
        for sound in sounds:
            sounding = _span(sound)
            if (
                span is not None
                and sounding is not None
                and sound.kind in HEARD_KINDS
                and meets(span, sounding)
                and sound.label not in heard
            ):
                heard.append(sound.label)
        seen.append(replace(finding, detail={**finding.detail, "sounds": heard}))
    heard_findings = []
    for sound in sounds:
        sounding = _span(sound)
        frames = [
            round(start, 3)
            for start, end in spans
            if sounding is not None and meets(sounding, (start, end))
        ]
        heard_findings.append(replace(sound, detail={**sound.detail, "frames": frames}))
    return [*seen, *heard_findings]


def key_frame_time(findings: Sequence[Finding]) -> float:
    """The time of the sampled frame with the most boxed findings on screen; the first
    frame's (0) when no finding came from a frame. Ties go to the earlier frame."""
    times = sorted({float(f.detail["frame"]) for f in findings if "frame" in f.detail})
    boxed = [span for f in findings if f.box is not None and (span := _span(f)) is not None]
    if not times:
        return 0.0
    return max(times, key=lambda at: (sum(meets((at, at), span) for span in boxed), -at))


# --- decoding: I/O ---------------------------------------------------------------------------


def frame_at(path: Path, seconds: float) -> Image.Image:
    """The video's frame at ``seconds`` from its first frame, scaled as the sampled ones."""
    at = seconds + _SEEK_NUDGE_S if seconds > 0 else 0.0
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-ss", f"{at:.3f}", "-i", str(path), "-map", "0:v:0", "-frames:v", "1",
            "-vf", _SCALE, "-f", "image2pipe", "-c:v", "png", "-"]  # fmt: skip
    png = run_tool(args, what=f"cannot read a frame of {path.name}", timeout=TOOL_TIMEOUT_S)
    if not png:  # a seek past the last frame gives nothing
        raise UserError(f"{path.name}: no frame at {seconds:.2f} s")
    return _picture(png)


def _picture(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def key_frame(path: Path, findings: Sequence[Finding]) -> Image.Image:
    """The frame with the most boxed findings (the first frame when none has any)."""
    at = key_frame_time(findings)
    try:
        return frame_at(path, at)
    except UserError:
        if at == 0.0:
            raise
        return frame_at(path, 0.0)


class VideoPerceiver(Perceiver):
    """The frames through the bundled image perceiver, the sound through the bundled audio
    perceiver, aligned on the video's timeline."""

    name: ClassVar[str] = "bundled-video"
    media: ClassVar[frozenset[PerceivedMedium]] = frozenset({"video"})

    def __init__(self, components: Components) -> None:
        self._components = components
        self._own_audio: AudioPerceiver | None = None

    def audio(self) -> AudioPerceiver:
        """The registered audio perceiver (its models are loaded once for both); one of this
        perceiver's own, with the first registered transcriber, when none is registered."""
        for perceiver in self._components.perceivers:
            if isinstance(perceiver, AudioPerceiver):
                return perceiver
        if self._own_audio is None:
            self._own_audio = AudioPerceiver(
                YamNet(self._components.settings.home), self._transcriber
            )
        return self._own_audio

    def _transcriber(self) -> SpeechToText | None:
        return next(iter(self._components.transcribers), None)

    def perceive(self, source: PerceptionInput, question: str | None = None) -> list[Finding]:
        info = probe(source.path)
        if not info.has_video or info.is_image:
            raise UserError(f"{source.path.name}: the file has no video stream")
        with tempfile.TemporaryDirectory(prefix="hallmark-perceive-video-") as scratch:
            sampled = scene_frames(source.path, Path(scratch), MAX_FRAMES, SCENE_THRESHOLD)
        # times to the millisecond, so that spans and ``detail["frame"]`` agree exactly
        frames = [(round(at, 3), _picture(png)) for at, png in sampled]
        extra = even_times(info.duration, [at for at, _ in frames])
        frames += [(at, frame_at(source.path, at)) for at in extra]
        frames.sort(key=lambda pair: pair[0])
        spans = frame_spans([at for at, _ in frames], info.duration)
        visual: list[Finding] = []
        for index, ((_, image), span) in enumerate(zip(frames, spans, strict=True)):
            found = perceive_image(image)
            if index:
                found = [f for f in found if f.kind not in ONCE_KINDS]
            visual += timed_frame(found, span)
        sounds = self._sounds(source.path) if info.has_audio else []
        return align(merge_repeats(visual), sounds, spans)

    def _sounds(self, path: Path) -> list[Finding]:
        track = audio_track(path)
        if track is None:
            return []
        samples = decode_mono(path, STT_RATE, timeout=TOOL_TIMEOUT_S)
        if not len(samples):
            return []
        return shifted(self.audio().perceive_samples(samples), track.lead)


def register(components: Components) -> None:
    components.perceivers.register(VideoPerceiver.name, VideoPerceiver(components))
