"""The video watermark (MP4, MOV): the image watermark, same payload and key, in every frame,
and the audio watermark (``audio_marker``'s, same payload and key) in the first audio stream.

**Writing.** One ffmpeg decodes the first video stream to raw 8-bit yuv420p frames on a pipe
(``-noautorotate``: the frames as stored); numpy adds the image watermark's change to each
frame's Y plane; a second ffmpeg encodes them back with ``explicit_video``'s settings
(libx264, CRF 18, preset veryfast, yuv420p, same size), at the source's frame rate, in the
source's container, the container metadata and the display rotation kept (a piped encode has
no display matrix to copy, so a rotated clip is remuxed once more with ffmpeg's ``rotate`` tag,
which a stream copy turns into one). The tiled pattern depends only on the frame size and the
code, so it is computed once; the texture mask (which depends on the picture) is computed per
frame, at about the decoder's working resolution (a few ms a frame). Frames are timed at the
source's frame rate: a variable-frame-rate source comes out constant-rate at its average rate.

The first audio stream, when it can carry the mark (``audio.MIN_SECONDS`` long, at
``audio.MIN_RATE`` or more), is decoded to float PCM (``video_audio``: its own rate and
channels), marked like a WAV file, written to a temporary f32le file and encoded by the same
ffmpeg as its third input: AAC at the source's audio bitrate (192 kbit/s where the file does not
say; at most 160 kbit/s a channel), in MP4 and MOV alike, placed where the source placed it
against the first frame (sound before the first frame is cut, as the frames start the clip).
Other audio streams, and a first one too short for the mark, are copied packet for packet. The
record in ``metadata["watermark"]`` lists the ``tracks`` that carry the mark, the audio's SNR
(``audio_snr``) or why it carries none (``audio_unmarked``).

**Reading.** ``SAMPLES`` frames spread over the clip are decoded (stored orientation) and read
by the image decoder; the soft code values of the frames whose pilot peak clears the image
inspector's threshold are summed before the Viterbi decoder, and the CRC must match. Since
every frame carries the same pattern, summing adds up the mark and averages out the pictures.
That is ``VideoWatermarkInspector`` (costly). ``VideoAudioWatermarkInspector`` (cheap: quick
inspections run it) reads the audio track, at most ``READ_SECONDS`` from its middle, as a mono
mix, with the audio watermark's reader; so a clip whose picture was replaced is still found by
its sound. Each gives its own finding, with ``track`` "video" or "audio". A propagator keeps a
mark of ours found in either track.

**The explicit label in the same pass.** Where the explicit video marker left its label to this
marker (``PENDING_EXPLICIT``: the watermark comes next in the plan and re-encodes anyway), the
decoding ffmpeg draws ``explicit_video``'s two overlays (``write_overlays``) before the frames
reach numpy, so the mark is added over the label, as when the label is drawn first, and the video
is encoded once for both. A video whose mark of ours is kept as it is (a propagator) gets the
label from ``explicit_video.label_video``.

Refused with a UserError (marking): what ``explicit_video`` refuses, and frames whose short
side is under the watermark's ``image.MIN_SIDE``. The inspectors give no finding for files they
cannot decode.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np

from hallmark.content import Content, Medium
from hallmark.errors import HallmarkError, UserError
from hallmark.mark.base import PENDING_EXPLICIT, LabelContext
from hallmark.mark.explicit_video import (
    CRF,
    PIX_FMT,
    PRESET,
    VIDEO_CODEC,
    VideoInfo,
    container_for,
    encode_timeout,
    label_video,
    probe,
    run_tool,
    write_overlays,
)
from hallmark.mark.video_audio import AudioTrack, audio_track, decode_track
from hallmark.mark.watermark import image
from hallmark.mark.watermark.audio_marker import detect_mono, mark_samples, unfit
from hallmark.mark.watermark.inspector import SYNC_THRESHOLD, Detection, KeyedInspector
from hallmark.mark.watermark.marker import PayloadMarker
from hallmark.mark.watermark.payload import Payload, WatermarkKey, decode, encode

ALGORITHM = "hallmark-tiles-video-v1"
SAMPLES = 5  # frames the inspector reads
AUDIO_CODEC = "aac"
AUDIO_BITRATE = 192_000  # bits per second, where the source does not say its own
MAX_AUDIO_BITRATE = 160_000  # per channel: a PCM source's bitrate is no AAC setting
MARKED_AUDIO = "audio.f32"
READ_SECONDS = 20.0  # of audio the inspector reads, from the middle of the track (~8 blocks)
FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y"]


def frame_rate(path: Path) -> str:
    """The first video stream's frame rate as ffprobe gives it (``30000/1001``); the average
    rate when the nominal one is missing."""
    out = run_tool(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=r_frame_rate,avg_frame_rate", "-of", "csv=p=0", str(path)],
        30.0,
    )  # fmt: skip
    for rate in out.decode("ascii", "replace").strip().split(","):
        numerator, _, denominator = rate.partition("/")
        denominator = denominator or "1"
        if numerator.isdigit() and denominator.isdigit() and int(numerator) * int(denominator):
            return rate.strip()
    raise UserError("corrupt or unsupported video: its frame rate cannot be read")


class FrameMarker:
    """Adds the watermark to yuv420p frames of one size.

    The pattern is computed once, padded to whole blocks of the texture mask and kept with each
    block's energy, so that a frame's work is the coarse mask, one multiply of the pattern by
    the mask (broadcast over its blocks), the add and the rounding; the strength's scale comes
    from the blocks' energies, not from a pass over the full-size change. The frames are those
    of the image watermark's arithmetic (pattern times texture mask, scaled to the target PSNR),
    up to float rounding."""

    def __init__(self, width: int, height: int, payload: Payload, key: WatermarkKey) -> None:
        if min(width, height) < image.MIN_SIDE:
            raise UserError(
                f"the video is {width}x{height}; the watermark needs at least "
                f"{image.MIN_SIDE} px on the short side"
            )
        self.width, self.height = width, height
        cells = image.layout(key.pattern_seed()).cells(encode(payload.bits()))
        self.factor = factor = max(1, min(width, height) // image.WORKING_SIDE)
        rows, columns = -(-height // factor), -(-width // factor)
        padded = np.zeros((rows * factor, columns * factor), dtype=np.float32)
        padded[:height, :width] = image.tiled(image.tile_pattern(cells), height, width)
        self._blocks = padded.reshape(rows, factor, columns, factor)
        self._energy = np.square(self._blocks, dtype=np.float64).sum(axis=(1, 3))
        self._work = np.empty_like(padded)
        self._work_blocks = self._work.reshape(self._blocks.shape)
        self.rms = 255.0 / 10 ** (image.TARGET_PSNR / 20)

    @property
    def frame_size(self) -> int:
        return self.width * self.height * 3 // 2

    def mark(self, frame: bytes) -> bytes:
        """One raw yuv420p frame with the watermark in its Y plane."""
        pixels = self.width * self.height
        luma = np.frombuffer(frame, dtype=np.uint8, count=pixels).reshape(self.height, self.width)
        coarse, _ = image.coarse_texture_mask(luma)
        rows, columns = self._energy.shape
        mask = np.pad(
            coarse, ((0, rows - coarse.shape[0]), (0, columns - coarse.shape[1])), mode="edge"
        )
        energy = float((np.square(mask, dtype=np.float64) * self._energy).sum())
        scale = self.rms / max(math.sqrt(energy / pixels), 1e-6)
        gain = mask * np.float32(scale)
        np.multiply(self._blocks, gain[:, np.newaxis, :, np.newaxis], out=self._work_blocks)
        marked = self._work[: self.height, : self.width]
        np.add(marked, luma, out=marked)
        np.rint(marked, out=marked)
        np.clip(marked, 0, 255, out=marked)
        return marked.astype(np.uint8).tobytes() + frame[pixels:]


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _fail(log: Path, what: str) -> UserError:
    text = log.read_text("utf-8", "replace") if log.exists() else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return UserError(
        f"corrupt or unsupported video: ffmpeg ({what}): {lines[-1] if lines else what}"
    )


@dataclass(slots=True, frozen=True)
class MarkedTrack:
    """The first audio stream's marked samples, written to ``MARKED_AUDIO`` as f32le."""

    track: AudioTrack
    snr: float

    @property
    def bitrate(self) -> int:
        bitrate = self.track.bitrate or AUDIO_BITRATE
        return min(bitrate, MAX_AUDIO_BITRATE * self.track.channels)


def mark_track(root: Path, source: Path, payload: Payload, key: WatermarkKey) -> MarkedTrack | str:
    """The first audio stream marked and written to ``root / MARKED_AUDIO``; or why it does not
    carry the mark (then it is copied as it is)."""
    track = audio_track(source)
    if track is None:
        return "the video has no audio stream"
    reason = unfit(track.rate, track.duration)
    if reason is not None:
        return reason
    try:
        samples = decode_track(source, track)[: round(track.duration * track.rate)]
    except UserError as exc:
        return f"the audio cannot be decoded: {exc}"
    if track.lead < 0:  # sound before the first frame: the encode starts with the frames
        samples = samples[round(-track.lead * track.rate) :]
    reason = unfit(track.rate, len(samples) / track.rate)
    if reason is not None:
        return reason
    marked, snr = mark_samples(samples, track.rate, payload, key)
    del samples  # a long track's copies add up: up to 600 s, several hundred MB each
    np.clip(marked, -1.0, 1.0, out=marked).astype("<f4").tofile(root / MARKED_AUDIO)
    return MarkedTrack(track, snr)


def encoder_args(
    container: str, info: VideoInfo, rate: str, audio: MarkedTrack | None
) -> list[str]:
    """The encoding ffmpeg: frames from the pipe (input 0), the source (input 1) for its
    metadata and the audio streams it copies, the marked first audio stream (input 2)."""
    args = [*FFMPEG, "-f", "rawvideo", "-pix_fmt", PIX_FMT]
    args += ["-s", f"{info.width}x{info.height}", "-framerate", rate, "-i", "-"]
    args += ["-i", f"in.{container}"]
    if audio is None:
        args += ["-map", "0:v:0", "-map", "1:a?"]
    else:
        track = audio.track
        if track.lead > 0:
            args += ["-itsoffset", f"{track.lead:.6f}"]
        args += ["-f", "f32le", "-ar", str(track.rate), "-ac", str(track.channels)]
        args += ["-i", MARKED_AUDIO, "-map", "0:v:0", "-map", "2:a:0"]
        for index in range(1, track.streams):
            args += ["-map", f"1:a:{index}"]
    args += ["-c:v", VIDEO_CODEC, "-crf", CRF, "-preset", PRESET, "-pix_fmt", PIX_FMT]
    args += ["-c:a", "copy"]
    if audio is not None:
        args += ["-c:a:0", AUDIO_CODEC, "-b:a:0", str(audio.bitrate)]
        args += ["-map_metadata:s:a:0", "1:s:a:0"]
    args += ["-map_metadata", "1"]
    return [*args, "-f", container, f"out.{container}"]


def _pipe_through(
    root: Path,
    container: str,
    info: VideoInfo,
    rate: str,
    marker: FrameMarker,
    audio: MarkedTrack | None,
    overlays: str | None = None,
) -> int:
    """Decode (drawing the explicit label's ``overlays`` graph, if given), mark and re-encode;
    the number of frames written."""
    source = f"in.{container}"
    decode_args = [*FFMPEG, "-noautorotate", "-i", source, "-map", "0:v:0"]
    if overlays is not None:
        decode_args += ["-filter:v", overlays]
    decode_args += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", PIX_FMT, "-"]
    encode_args = encoder_args(container, info, rate, audio)
    deadline = time.monotonic() + encode_timeout(info.duration)
    frames = 0
    with (
        (root / "decode.log").open("wb") as decode_log,
        (root / "encode.log").open("wb") as enc_log,
    ):
        try:
            decoder = subprocess.Popen(
                decode_args, cwd=root, stdout=subprocess.PIPE, stderr=decode_log
            )
            encoder = subprocess.Popen(encode_args, cwd=root, stdin=subprocess.PIPE, stderr=enc_log)
        except FileNotFoundError as exc:
            raise HallmarkError("ffmpeg is not installed; the video watermark needs it") from exc
        assert decoder.stdout is not None and encoder.stdin is not None
        try:
            while True:
                if time.monotonic() > deadline:
                    raise UserError("the video cannot be watermarked: ffmpeg took too long")
                frame = _read_exactly(decoder.stdout, marker.frame_size)
                if len(frame) < marker.frame_size:
                    break
                try:
                    encoder.stdin.write(marker.mark(frame))
                except BrokenPipeError:
                    break
                frames += 1
            encoder.stdin.close()
            left = max(1.0, deadline - time.monotonic())
            decoded, encoded = decoder.wait(timeout=left), encoder.wait(timeout=left)
        except subprocess.TimeoutExpired as exc:
            raise UserError("the video cannot be watermarked: ffmpeg took too long") from exc
        finally:
            for process in (decoder, encoder):
                if process.poll() is None:
                    process.kill()
                    process.wait()
    if decoded != 0:
        raise _fail(root / "decode.log", "decoding")
    if encoded != 0 or frames == 0:
        raise _fail(root / "encode.log", "encoding")
    return frames


@dataclass(slots=True, frozen=True)
class MarkedVideo:
    data: bytes
    payload: Payload
    frames: int
    audio_snr: float | None = None  # dB, as written (before the AAC encoder); None: not marked
    audio_unmarked: str | None = None  # why the audio does not carry the mark

    @property
    def tracks(self) -> list[str]:
        return ["video"] if self.audio_snr is None else ["video", "audio"]


def embed_video(
    data: bytes, container: str, payload: Payload, key: WatermarkKey, label: str | None = None
) -> MarkedVideo:
    """The clip with ``payload`` watermarked into every frame and its first audio stream (where
    it can carry the mark), in its own container; with ``label``, the explicit video label
    (``explicit_video``'s overlays) drawn under the mark in the same pass."""
    with tempfile.TemporaryDirectory(prefix="hallmark-wm-video-") as folder:
        root = Path(folder)
        source = root / f"in.{container}"
        source.write_bytes(data)
        info = probe(source)
        marker = FrameMarker(info.width, info.height, payload, key)
        rate = frame_rate(source)
        audio = mark_track(root, source, payload, key)
        marked_track = audio if isinstance(audio, MarkedTrack) else None
        overlays = None if label is None else write_overlays(root, label, info)
        frames = _pipe_through(root, container, info, rate, marker, marked_track, overlays)
        target = root / f"out.{container}"
        if info.rotation and target.exists():
            # A piped encode has no display matrix to copy; a stream copy turns the tag into one.
            args = [*FFMPEG, "-i", target.name, "-map", "0", "-c", "copy", "-map_metadata", "0"]
            args += ["-metadata:s:v:0", f"rotate={info.rotation}", "-f", container]
            run_tool([*args, f"turned.{container}"], encode_timeout(info.duration), cwd=root)
            target = root / f"turned.{container}"
        marked = target.read_bytes() if target.exists() else b""
    if not marked:
        raise UserError("the video cannot be watermarked: ffmpeg wrote nothing")
    if isinstance(audio, MarkedTrack):
        return MarkedVideo(marked, payload, frames, audio_snr=audio.snr)
    return MarkedVideo(marked, payload, frames, audio_unmarked=audio)


def sample_lumas(path: Path, info: VideoInfo, count: int = SAMPLES) -> list[image.Array]:
    """The Y planes of ``count`` frames spread over the clip, as stored."""
    lumas = []
    pixels = info.width * info.height
    for index in range(count):
        at = info.duration * (index + 0.5) / count
        args = [*FFMPEG, "-noautorotate", "-ss", f"{at:.3f}", "-i", str(path), "-map", "0:v:0"]
        args += ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]
        raw = run_tool(args, 60.0)
        if len(raw) >= pixels:
            luma = np.frombuffer(raw, dtype=np.uint8, count=pixels)
            lumas.append(luma.reshape(info.height, info.width).astype(np.float32))
    return lumas


def detect_lumas(lumas: list[image.Array], key: WatermarkKey) -> Detection | None:
    """The watermark from several frames' luminance: the soft values of every frame that
    syncs, summed."""
    seed = key.pattern_seed()
    readings = [r for r in (image.read(luma, seed) for luma in lumas) if r is not None]
    synced = [r for r in readings if r.sync >= SYNC_THRESHOLD]
    if not synced:
        return None
    soft = np.sum([r.soft for r in synced], axis=0)
    bits = decode(soft)
    payload = Payload.from_bits(bits)
    if payload is None:
        return None
    agreement = float(np.mean((soft > 0) == encode(bits).astype(bool)))
    return Detection(payload, max(r.sync for r in synced), agreement, key.key_id)


def detect_video(data: bytes, key: WatermarkKey, samples: int = SAMPLES) -> Detection | None:
    """The watermark in an MP4 or MOV file, or None (also for files ffmpeg cannot read)."""
    with tempfile.TemporaryDirectory(prefix="hallmark-wm-video-") as folder:
        path = Path(folder) / "in.video"
        path.write_bytes(data)
        try:
            info = probe(path)
            lumas = sample_lumas(path, info, samples)
        except UserError:
            return None
    return detect_lumas(lumas, key)


def detect_video_audio(data: bytes, key: WatermarkKey) -> Detection | None:
    """The audio watermark in the first audio stream of an MP4 or MOV file, or None (also for
    files ffmpeg cannot read and files without audio)."""
    with tempfile.TemporaryDirectory(prefix="hallmark-wm-video-") as folder:
        path = Path(folder) / "in.video"
        path.write_bytes(data)
        try:
            track = audio_track(path)
            if track is None or unfit(track.rate, track.duration) is not None:
                return None
            # The reading's cost grows with the length read: a long track gives only its middle.
            start = track.start + max(0.0, track.duration - READ_SECONDS) / 2
            window = decode_track(path, track, start=start, seconds=READ_SECONDS, mono=True)
            mono = window[:, 0]
        except UserError:
            return None
    return detect_mono(mono, track.rate, key)


class VideoWatermarkMarker(PayloadMarker):
    media: ClassVar[frozenset[Medium]] = frozenset({"video"})
    algorithm: ClassVar[str] = ALGORITHM

    def mark(self, content: Content, context: LabelContext) -> Content:
        """The watermark, and the explicit label where the explicit marker left it to this
        pass (``PENDING_EXPLICIT``): drawn while the frames are decoded, so the video is
        encoded once for both."""
        container = container_for(content)  # refuse what is not MP4/MOV before making any key
        pending = content.metadata.get(PENDING_EXPLICIT)
        marked = super().mark(content, context)
        if not pending:
            return marked
        data = marked.data
        if marked.metadata.get("watermark", {}).get("existing"):  # kept as it was: not drawn
            data = label_video(data, container, pending)
        metadata = {k: v for k, v in marked.metadata.items() if k != PENDING_EXPLICIT}
        return replace(marked, data=data, metadata={**metadata, "explicit_label": pending})

    def detect(self, content: Content, key: WatermarkKey) -> Detection | None:
        # A mark in either track is kept: marking the audio again would garble the first mark.
        found = detect_video(content.data, key)
        return found if found is not None else detect_video_audio(content.data, key)

    def embed(
        self, content: Content, payload: Payload, key: WatermarkKey
    ) -> tuple[bytes, dict[str, Any]]:
        label = content.metadata.get(PENDING_EXPLICIT) or None
        marked = embed_video(content.data, container_for(content), payload, key, label)
        extra: dict[str, Any] = {"frames": marked.frames, "tracks": marked.tracks}
        if marked.audio_snr is not None:
            extra["audio_snr"] = marked.audio_snr
        if marked.audio_unmarked is not None:
            extra["audio_unmarked"] = marked.audio_unmarked
        return marked.data, extra


class VideoWatermarkInspector(KeyedInspector):
    """The mark in the frames (the audio track is read by ``VideoAudioWatermarkInspector``)."""

    name: ClassVar[str] = "watermark.video"
    media: ClassVar[frozenset[Medium]] = frozenset({"video"})
    costly: ClassVar[bool] = True  # decodes and searches several frames: about a second

    def detect(self, content: Content, key: WatermarkKey) -> dict[str, Any] | None:
        found = detect_video(content.data, key)
        if found is None:
            return None
        return found.to_dict() | {"algorithm": ALGORITHM, "track": "video"}


class VideoAudioWatermarkInspector(KeyedInspector):
    """The audio watermark in a video's first audio stream: found when the picture was replaced
    or lost its mark, and cheap enough for a quick inspection."""

    name: ClassVar[str] = "watermark.video-audio"
    media: ClassVar[frozenset[Medium]] = frozenset({"video"})

    def detect(self, content: Content, key: WatermarkKey) -> dict[str, Any] | None:
        found = detect_video_audio(content.data, key)
        return None if found is None else found.to_dict() | {"track": "audio"}
