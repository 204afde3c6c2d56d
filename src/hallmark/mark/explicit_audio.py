"""The explicit label for audio (WAV, MP3), before and after the programme: a spoken notice or
the rhythm cue of GB 45438-2025, which allows either.

``HALLMARK_AUDIO_NOTICE`` chooses: ``auto`` speaks the notice when a registered voice
(``Components.voices``) speaks the label's language and plays the cue otherwise; ``cue`` always
plays the cue; ``spoken`` speaks or refuses (UserError) when no voice speaks the language. No
Chinese voice ships, so a Chinese label (cn) gets the cue under ``auto``.

The cue: a 1 kHz tone at about -12 dBFS, short 100 ms, long 300 ms, short, short, with 100 ms
gaps and 5 ms raised-cosine ramps (0.9 s in all), then 200 ms of silence before the programme;
at the end the same silence and cue after it. Every channel carries it.

The spoken notice: the label wording in a sentence of the label's language
(``notices.spoken_notice``: "This audio is AI-generated."), synthesized once per voice, text,
language and sample rate and kept in memory: resampled to the file's rate, the voice's own
lead-in and tail silence cut, at -3 dBFS peak, on every channel, in the cue's places (with the
same 200 ms of silence between it and the programme). The programme's samples are not changed,
only moved.

What was written is recorded for the flow's ledger entry in ``content.metadata["audio_notice"]``
(``kind`` "rhythm-cue" or "spoken", ``time_spans`` of both copies in seconds, and for speech the
text, language and voice), and in ``explicit_label``: "rhythm-cue", or the spoken sentence. A
voice that fails is an error, not a quiet fall-back to the cue.

Reading it back: ``inspect_audio_cue`` finds the cue in the file alone. A spoken notice is not
recognised in the file (that needs speech-to-text, which this module does not run): the explicit
section of a stranger's inspection of such a file is empty, while its implicit labels (GB 45438
metadata, C2PA, watermark) still say AI. Only the marking's record above says a notice was
spoken.

This module also holds the PCM round trip both audio markers share (``decode_audio`` /
``encode_audio``). WAV (PCM 8/16/24/32-bit, any rate and channel count) is read and written
here with numpy: the ``data`` chunk is replaced and the other chunks copied, except those that
point at sample positions (``cue ``, ``smpl``, ``LIST/adtl``) when the samples move, and C2PA's
manifest, whose hash binding cannot match changed samples (the C2PA marker writes a new one).
MP3 goes through ffmpeg: decoded to float PCM, changed, encoded with libmp3lame at the source's
bitrate and sample rate; the ID3v2 tag and an ID3v1 tag are copied byte for byte.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import tempfile
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from hallmark.content import Content, Medium
from hallmark.errors import HallmarkError, UserError
from hallmark.mark.base import EXPLICIT, LabelContext, Marker
from hallmark.mark.gb45438 import mp3, riff, wav
from hallmark.mark.gb45438.formats import base_type, format_for
from hallmark.mark.notices import spoken_notice
from hallmark.registry import Components
from hallmark.settings import AudioNotice
from hallmark.speech.base import TextToSpeech, voice_for

Samples = npt.NDArray[np.float64]  # (frames, channels), full scale is 1.0

CUE_FREQUENCY = 1000.0  # Hz
CUE_LEVEL = 10 ** (-12 / 20)  # peak amplitude, -12 dBFS
SHORT, LONG, GAP, RAMP = 0.100, 0.300, 0.100, 0.005  # seconds
CUE_PATTERN = (SHORT, LONG, SHORT, SHORT)  # GB 45438: short-long-short-short
SILENCE = 0.200  # between the cue and the programme
MIN_RATE = 4000  # Hz: the cue's 1 kHz must be well under Nyquist
FFMPEG_TIMEOUT = 120
NOTICE_PEAK = 10 ** (-3 / 20)  # the spoken notice's peak amplitude, -3 dBFS
SILENT = 1e-4  # a voice's output with no sample above this is silence
PAD = 0.050  # seconds of silence after speech before it is resampled
QUIET = 10 ** (-40 / 20)  # of the peak: a voice's lead-in and tail below it are cut...
MARGIN = 0.010  # ...but for this many seconds
CACHE_SIZE = 32  # spoken notices kept (voice, text, language, rate)

KINDS: dict[str, Literal["wav", "mp3"]] = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}
_PCM, _EXTENSIBLE = 1, 0xFFFE
_PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
# Chunks that point at sample positions (dropped when samples are inserted) or bind a hash of
# the old samples (always dropped).
_POSITIONAL = frozenset({b"cue ", b"smpl"})
_BOUND = frozenset({b"C2PA"})


@dataclass(slots=True, frozen=True)
class Decoded:
    """An audio file's samples and what is needed to write them back in its own format."""

    kind: Literal["wav", "mp3"]
    samples: Samples
    rate: int
    data: bytes  # the original file
    sample_width: int = 2  # WAV: bytes per sample
    bitrate: int = 128_000  # MP3: bits per second

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def kind_for(content: Content) -> Literal["wav", "mp3"]:
    media_type = base_type(content.media_type)
    kind = KINDS.get(media_type)
    if kind is None:
        raise UserError(
            f"{media_type!r} audio cannot be labelled; supported: audio/mpeg (MP3), audio/wav"
        )
    format_for(media_type, content.data)  # an MP3 sent as audio/wav is refused by name
    return kind


# --- WAV ---------------------------------------------------------------------------------------


def _wav_format(chunk: riff.Chunk) -> tuple[int, int, int]:
    """(channels, rate, bytes per sample) of a PCM ``fmt `` chunk; UserError otherwise."""
    if len(chunk.data) < 16:
        raise UserError("corrupt WAV: the fmt chunk is too short")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", chunk.data)
    if tag == _EXTENSIBLE and len(chunk.data) >= 40 and chunk.data[26:40] == _PCM_GUID_TAIL:
        tag = struct.unpack_from("<H", chunk.data, 24)[0]
    if tag != _PCM or bits not in (8, 16, 24, 32):
        raise UserError(f"only PCM WAV (8/16/24/32-bit) is supported, not format {tag}/{bits}")
    if channels < 1 or rate < MIN_RATE:
        raise UserError(f"unsupported WAV: {channels} channels at {rate} Hz")
    return channels, rate, bits // 8


def _pcm_to_float(raw: bytes, width: int, channels: int) -> Samples:
    frames = len(raw) // (width * channels)
    raw = raw[: frames * width * channels]
    if width == 1:
        values = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        values = np.where(ints >= 1 << 23, ints - (1 << 24), ints) / float(1 << 23)
    else:
        dtype = np.int16 if width == 2 else np.int32
        values = np.frombuffer(raw, f"<{np.dtype(dtype).str[1:]}").astype(np.float64)
        values /= float(1 << (8 * width - 1))
    return np.asarray(values, dtype=np.float64).reshape(frames, channels)


def _float_to_pcm(samples: Samples, width: int) -> bytes:
    full = float(1 << (8 * width - 1))
    ints = np.clip(np.round(samples.reshape(-1) * full), -full, full - 1).astype(np.int64)
    if width == 1:
        return (ints + 128).astype(np.uint8).tobytes()
    if width == 3:
        unsigned = (ints & 0xFFFFFF).astype(np.uint32)
        out = np.stack([unsigned & 0xFF, (unsigned >> 8) & 0xFF, unsigned >> 16], axis=1)
        return out.astype(np.uint8).tobytes()
    return ints.astype("<i2" if width == 2 else "<i4").tobytes()


def _decode_wav(data: bytes) -> Decoded:
    found, _ = wav.chunks(data)
    fmt = next(c for c in found if c.fourcc == b"fmt ")
    channels, rate, width = _wav_format(fmt)
    raw = next(c for c in found if c.fourcc == wav.DATA).data
    return Decoded("wav", _pcm_to_float(raw, width, channels), rate, data, sample_width=width)


def _encode_wav(source: Decoded, samples: Samples, moved: bool) -> bytes:
    found, trailing = wav.chunks(source.data)
    out = []
    for chunk in found:
        positional = chunk.fourcc in _POSITIONAL or chunk.list_type == b"adtl"
        if chunk.fourcc in _BOUND or chunk.fourcc == b"fact" or (moved and positional):
            continue
        if chunk.fourcc == wav.DATA:
            chunk = riff.Chunk(wav.DATA, _float_to_pcm(samples, source.sample_width))
        out.append(chunk.encode())
    body = b"WAVE" + b"".join(out)
    return b"RIFF" + struct.pack("<I", len(body)) + body + trailing


# --- MP3 through ffmpeg ------------------------------------------------------------------------


def _ffmpeg(tool: str = "ffmpeg") -> str:
    path = shutil.which(tool)
    if path is None:
        raise HallmarkError(f"{tool} is needed to label MP3 audio: install ffmpeg")
    return path


def _run(command: list[str], stdin: bytes, what: str) -> bytes:
    try:
        done = subprocess.run(
            command, input=stdin, capture_output=True, timeout=FFMPEG_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise UserError(f"corrupt or unsupported MP3: {what} took too long") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise UserError(f"corrupt or unsupported MP3: {what} failed ({message[0]})")
    return done.stdout


def _mp3_bounds(data: bytes) -> tuple[int, int]:
    """(start, end) of the MPEG frames: after an ID3v2 tag, before an ID3v1 tag."""
    tag = mp3.parse_tag(data)
    start = 0 if tag is None else tag.size
    end = len(data)
    if end - start >= mp3.ID3V1_SIZE and data[end - mp3.ID3V1_SIZE : end - 125] == b"TAG":
        end -= mp3.ID3V1_SIZE
    while start < end and data[start] == 0:
        start += 1
    if start + 4 > end or data[start] != 0xFF or data[start + 1] & 0xE0 != 0xE0:
        raise UserError("not an MP3 file: no MPEG audio frame")
    return start, end


def _decode_mp3(data: bytes) -> Decoded:
    start, end = _mp3_bounds(data)
    audio = data[start:end]
    probe = _run(
        [_ffmpeg("ffprobe"), "-v", "error", "-show_streams", "-of", "json", "-f", "mp3", "-"],
        audio,
        "reading the stream",
    )
    try:
        stream = json.loads(probe)["streams"][0]
        rate, channels = int(stream["sample_rate"]), int(stream["channels"])
        bitrate = int(stream.get("bit_rate") or 128_000)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise UserError("corrupt or unsupported MP3: no audio stream") from exc
    command = [_ffmpeg(), "-v", "error", "-f", "mp3", "-i", "-", "-f", "f32le", "-"]
    pcm = _run(command, audio, "decoding")
    samples = np.frombuffer(pcm, "<f4").astype(np.float64)
    if rate < MIN_RATE or channels < 1 or len(samples) < channels:
        raise UserError("corrupt or unsupported MP3: no decodable audio")
    samples = samples[: len(samples) // channels * channels].reshape(-1, channels)
    return Decoded("mp3", samples, rate, data, bitrate=bitrate)


def encode_mp3(samples: Samples, rate: int, bitrate: int) -> bytes:
    """MPEG audio frames (no ID3 tag) of ``samples`` from libmp3lame."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "out.mp3"
        command = [
            _ffmpeg(), "-v", "error", "-f", "f32le", "-ar", str(rate),
            "-ac", str(samples.shape[1]), "-i", "-", "-c:a", "libmp3lame",
            "-b:a", str(bitrate), "-id3v2_version", "0", "-write_id3v1", "0", str(target),
        ]  # fmt: skip
        pcm = np.clip(samples, -1.0, 1.0).astype("<f4").tobytes()
        _run(command, pcm, "encoding")
        return target.read_bytes()


def _encode_mp3_file(source: Decoded, samples: Samples) -> bytes:
    start, end = _mp3_bounds(source.data)
    frames = encode_mp3(samples, source.rate, source.bitrate)
    return source.data[:start] + frames + source.data[end:]


# --- both formats ------------------------------------------------------------------------------


def decode_audio(content: Content) -> Decoded:
    """The samples of a WAV or MP3 file; UserError for anything else or a broken file."""
    kind = kind_for(content)
    decoded = _decode_wav(content.data) if kind == "wav" else _decode_mp3(content.data)
    if len(decoded.samples) == 0:
        raise UserError(f"the {kind.upper()} file holds no audio samples")
    return decoded


def encode_audio(source: Decoded, samples: Samples, *, moved: bool = False) -> bytes:
    """The file of ``source`` with ``samples`` in place of its own; ``moved`` when samples
    were inserted, so that chunks pointing at sample positions are dropped."""
    if source.kind == "wav":
        return _encode_wav(source, samples, moved)
    return _encode_mp3_file(source, samples)


# --- the cue -----------------------------------------------------------------------------------


def cue(rate: int) -> npt.NDArray[np.float64]:
    """The mono cue signal at ``rate`` Hz, without the silence around it."""
    parts: list[npt.NDArray[np.float64]] = []
    ramp = max(1, round(RAMP * rate))
    for index, length in enumerate(CUE_PATTERN):
        n = round(length * rate)
        t = np.arange(n) / rate
        tone = CUE_LEVEL * np.sin(2 * np.pi * CUE_FREQUENCY * t)
        edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        tone[:ramp] *= edge
        tone[n - ramp :] *= edge[::-1]
        parts.append(tone)
        if index < len(CUE_PATTERN) - 1:
            parts.append(np.zeros(round(GAP * rate)))
    return np.concatenate(parts)


def _around(samples: Samples, signal: npt.NDArray[np.float64], rate: int) -> Samples:
    """``signal``, silence, the programme, silence, ``signal``; every channel the same."""
    block = np.repeat(signal[:, None], samples.shape[1], axis=1)
    gap = np.zeros((round(SILENCE * rate), samples.shape[1]))
    return np.concatenate([block, gap, samples, gap, block])


def with_cue(samples: Samples, rate: int) -> Samples:
    """Cue, silence, the programme, silence, cue; every channel the same cue."""
    return _around(samples, cue(rate), rate)


# --- the spoken notice -------------------------------------------------------------------------


def resample(signal: npt.NDArray[np.float64], source: int, target: int) -> npt.NDArray[np.float64]:
    """``signal`` at ``target`` Hz: band-limited (FFT) resampling, so a lower rate does not
    alias. The circular FFT joins the two ends, so the signal is padded with silence first."""
    if source == target:
        return signal
    pad = np.concatenate([signal, np.zeros(round(PAD * source))])
    length = round(len(signal) * target / source)
    resampled = np.fft.irfft(np.fft.rfft(pad), round(len(pad) * target / source))
    return np.asarray(resampled[:length] * (target / source), dtype=np.float64)


def _levelled(signal: npt.NDArray[np.float64], rate: int) -> npt.NDArray[np.float64]:
    """``signal`` at -3 dBFS peak, without the quiet a voice leaves around speech, so that the
    silence before the programme is the 200 ms of ``SILENCE``."""
    peak = float(np.max(np.abs(signal), initial=0.0))
    if not np.isfinite(peak) or peak < SILENT:
        raise HallmarkError("the voice returned silence for the audio notice")
    loud = np.flatnonzero(np.abs(signal) >= peak * QUIET)
    margin = round(MARGIN * rate)
    kept = signal[max(0, loud[0] - margin) : loud[-1] + 1 + margin]
    return np.asarray(kept * (NOTICE_PEAK / peak), dtype=np.float64)


class ExplicitAudioLabel(Marker):
    scheme: ClassVar[str] = EXPLICIT
    media: ClassVar[frozenset[Medium]] = frozenset({"audio"})

    def __init__(self, voices: Collection[TextToSpeech] = (), notice: AudioNotice = "auto") -> None:
        self.voices = voices  # a live registry: voices registered later count too
        self.notice = notice
        self._spoken: dict[tuple[str, str, str, int], npt.NDArray[np.float64]] = {}
        self._lock = threading.Lock()

    def _voice(self, language: str) -> TextToSpeech | None:
        if self.notice == "cue":
            return None
        voice = voice_for(self.voices, language)
        if voice is None and self.notice == "spoken":
            known = sorted({code for v in self.voices for code in v.languages})
            raise UserError(
                f"HALLMARK_AUDIO_NOTICE=spoken, but no voice speaks the label's language "
                f"{language!r} (voices speak: {', '.join(known) or 'none'}); ask for another "
                "language or set HALLMARK_AUDIO_NOTICE to auto or cue for the rhythm cue"
            )
        return voice

    def spoken(
        self, voice: TextToSpeech, text: str, language: str, rate: int
    ) -> npt.NDArray[np.float64]:
        """The notice ``voice`` says, at ``rate`` Hz and -3 dBFS peak, mono; made once."""
        key = (voice.name, text, language, rate)
        with self._lock:  # one synthesis per key even when several files arrive at once
            if key not in self._spoken:
                speech, speech_rate = voice.synthesize(text, language)
                mono = np.asarray(speech, dtype=np.float64).reshape(-1)
                signal = _levelled(resample(mono, speech_rate, rate), rate)
                signal.setflags(write=False)
                if len(self._spoken) >= CACHE_SIZE:
                    del self._spoken[next(iter(self._spoken))]
                self._spoken[key] = signal
            return self._spoken[key]

    def mark(self, content: Content, context: LabelContext) -> Content:
        source = decode_audio(content)
        voice = self._voice(context.language)
        if voice is None:
            signal, label = cue(source.rate), "rhythm-cue"
            record: dict[str, Any] = {"kind": "rhythm-cue", "pattern": "short-long-short-short"}
        else:
            label = spoken_notice(context.wording, context.language)
            signal = self.spoken(voice, label, context.language, source.rate)
            record = {
                "kind": "spoken",
                "text": label,
                "language": context.language,
                "voice": voice.name,
            }
        labelled = _around(source.samples, signal, source.rate)
        length, total = len(signal) / source.rate, len(labelled) / source.rate
        record["time_spans"] = {
            "start": [0.0, round(length, 3)],
            "end": [round(total - length, 3), round(total, 3)],
        }
        data = encode_audio(source, labelled, moved=True)
        return content.with_data(data, explicit_label=label, audio_notice=record)


def register(components: Components) -> None:
    marker = ExplicitAudioLabel(components.voices, components.settings.audio_notice)
    components.markers.register("explicit.audio", marker)
