"""WAV: the label as a ``LIST``/``INFO`` ``AIGC`` entry (ffprobe reads it as a tag) and as XMP in
a ``_PMX`` chunk (exiftool reads it); other INFO entries kept, the ``data`` chunk byte-identical,
the RIFF size and pad bytes right; labels other writers left (comment, chunk, ID3) read and kept
in step; broken files refused."""

from __future__ import annotations

import io
import json
import random
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from mutagen.id3 import TXXX
from mutagen.wave import WAVE
from test_c2pa_support import sign_as_other_tool
from test_gb45438_support import (
    FOREIGN,
    FOREIGN_LABEL,
    cn_context,
    decode_errors,
    exiftool_xmp,
    ffmpeg_sample,
    ffprobe_tags,
    label,
    needs_exiftool,
    packets,
)

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.gb45438 import GB45438Inspector, GB45438Marker, KeyStore
from hallmark.mark.gb45438.riff import Chunk
from hallmark.mark.gb45438.wav import chunks, content_digest, parse_chunks

WAV = "audio/wav"


def plain_wav() -> bytes:
    """A WAV from the stdlib writer: fmt and data chunks only."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(random.Random(3).randbytes(8002))
    return out.getvalue()


def tagged_wav(comment: str = "a comment") -> bytes:
    """A WAV from ffmpeg with an INFO list (title, comment, encoder)."""
    return ffmpeg_sample(".wav", "-metadata", "title=Sample", "-metadata", f"comment={comment}")


SAMPLES: dict[str, Callable[[], bytes]] = {"stdlib": plain_wav, "ffmpeg": tagged_wav}


def inspect(data: bytes, keys: KeyStore, media_type: str = WAV) -> list[dict[str, object]]:
    content = Content("audio", media_type, data)
    return [f.detail for f in GB45438Inspector(keys).inspect(content)]


def saved(tmp_path: Path, data: bytes, name: str = "out.wav") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def fourccs(data: bytes) -> list[bytes]:
    return [c.fourcc for c in chunks(data)[0]]


def chunk(data: bytes, fourcc: bytes) -> Chunk:
    return next(c for c in chunks(data)[0] if c.fourcc == fourcc)


def info(data: bytes) -> dict[bytes, bytes]:
    listed = chunk(data, b"LIST")
    return {e.fourcc: e.data for e in parse_chunks(listed.data, 4, len(listed.data), "INFO")}


def with_chunk(data: bytes, extra: Chunk) -> bytes:
    """``data`` with ``extra`` put before its data chunk and the RIFF size fixed."""
    found, _ = chunks(data)
    at = next(i for i, c in enumerate(found) if c.fourcc == b"data")
    body = b"WAVE" + b"".join(c.encode() for c in [*found[:at], extra, *found[at:]])
    return b"RIFF" + struct.pack("<I", len(body)) + body


@needs_exiftool
@pytest.mark.parametrize("name", list(SAMPLES))
@pytest.mark.parametrize("media_type", ["audio/wav", "audio/x-wav", "audio/wave"])
def test_round_trip_read_by_ffprobe_exiftool_and_mutagen(
    name: str, media_type: str, tmp_path: Path, keys: KeyStore
) -> None:
    original = SAMPLES[name]()
    labelled, fields = label(original, media_type, keys)
    found = inspect(labelled, keys, media_type)
    assert [(d["ProduceID"], d["integrity"]) for d in found] == [("content-1", "valid")]
    assert found[0]["serializations"] == ["xmp", "wav-info"]
    assert fourccs(labelled)[-3:] == [b"LIST", b"_PMX", b"data"]
    assert chunk(labelled, b"data") == chunk(original, b"data")
    assert struct.unpack_from("<I", labelled, 4)[0] == len(labelled) - 8
    path, before = saved(tmp_path, labelled), saved(tmp_path, original, "in.wav")
    assert fields.to_json().replace('"', "&quot;") in exiftool_xmp(path)
    probed = ffprobe_tags(path)
    assert probed.pop("AIGC") == fields.to_json()
    assert probed == ffprobe_tags(before)  # title, comment and encoder kept
    assert WAVE(path).info.length == WAVE(before).info.length
    assert decode_errors(path) == ""
    assert packets(path) == packets(before)


def test_relabelling_updates_the_entries_in_place(keys: KeyStore) -> None:
    once, _ = label(tagged_wav(), WAV, keys)
    twice, fields = label(once, WAV, keys)
    assert fourccs(twice) == fourccs(once)
    assert list(info(twice)) == list(info(once))
    assert info(twice)[b"AIGC"] == fields.to_json().encode() + b"\x00"
    assert [d["ProduceID"] for d in inspect(twice, keys)] == ["content-1"]


def test_odd_sized_chunks_keep_their_pad_byte(keys: KeyStore) -> None:
    odd = with_chunk(plain_wav(), Chunk(b"abcd", b"odd"))
    labelled, _ = label(odd, WAV, keys)
    assert chunk(labelled, b"abcd").data == b"odd"
    assert chunk(labelled, b"data") == chunk(odd, b"data")
    for produce_id in ("x", "xy"):  # an odd and an even label length
        relabelled = GB45438Marker(keys).mark(
            Content("audio", WAV, labelled), cn_context(produce_id)
        )
        assert struct.unpack_from("<I", relabelled.data, 4)[0] == len(relabelled.data) - 8
        assert len(relabelled.data) % 2 == 0
        assert chunk(relabelled.data, b"data") == chunk(odd, b"data")


def test_a_comment_label_written_by_ffmpeg_is_foreign_then_propagated(
    tmp_path: Path, keys: KeyStore
) -> None:
    received = tagged_wav(f"AIGC={FOREIGN_LABEL}")
    [before] = inspect(received, keys)
    assert before["serialization"] == "wav-comment"
    assert (before["ContentProducer"], before["integrity"]) == (FOREIGN, "unverifiable")
    marked = GB45438Marker(keys).mark(Content("audio", WAV, received), cn_context())
    [after, stale] = inspect(marked.data, keys)
    assert (after["ContentProducer"], after["ProduceID"]) == (FOREIGN, "their-7")
    assert (after["PropagateID"], after["integrity"]) == ("ours-9", "valid")
    # The user's comment is never rewritten: it still holds what the first service wrote.
    assert (stale["serialization"], stale["integrity"]) == ("wav-comment", "unverifiable")
    assert ffprobe_tags(saved(tmp_path, marked.data))["comment"] == f"AIGC={FOREIGN_LABEL}"


def test_a_chunk_and_an_id3_label_are_read_and_kept_in_step(tmp_path: Path, keys: KeyStore) -> None:
    path = saved(tmp_path, with_chunk(plain_wav(), Chunk(b"AIGC", FOREIGN_LABEL.encode())))
    tagged = WAVE(path)
    tagged.add_tags()
    assert tagged.tags is not None
    tagged.tags.add(TXXX(encoding=3, desc="AIGC", text=[FOREIGN_LABEL]))
    tagged.save()
    received = path.read_bytes()
    [before] = inspect(received, keys)
    assert before["serializations"] == ["wav-chunk", "wav-id3"]
    marked = GB45438Marker(keys).mark(Content("audio", WAV, received), cn_context())
    [after] = inspect(marked.data, keys)
    assert after["serializations"] == ["xmp", "wav-info", "wav-chunk", "wav-id3"]
    assert after["integrity"] == "valid"
    tags = WAVE(saved(tmp_path, marked.data, "marked.wav")).tags
    assert tags is not None
    assert json.loads(tags.getall("TXXX:AIGC")[0].text[0])["PropagateID"] == "ours-9"


def test_the_c2pa_chunk_is_outside_the_digest(keys: KeyStore) -> None:
    labelled, _ = label(plain_wav(), WAV, keys)
    signed = sign_as_other_tool(labelled, WAV, "trainedAlgorithmicMedia")
    assert b"C2PA" in fourccs(signed)
    assert content_digest(signed) == content_digest(labelled)
    assert inspect(signed, keys)[0]["integrity"] == "valid"


def test_one_changed_sample_byte_makes_the_label_invalid(keys: KeyStore) -> None:
    labelled, _ = label(plain_wav(), WAV, keys)
    at = len(labelled) - 100
    changed = labelled[:at] + bytes([labelled[at] ^ 0x01]) + labelled[at + 1 :]
    assert inspect(changed, keys)[0]["integrity"] == "invalid"


BROKEN: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda d: b"", "empty"),
    "truncated": (lambda d: d[:-10], "truncated WAV"),
    "chunk past the end": (
        lambda d: d[:40] + struct.pack("<I", 1 << 30) + d[44:],
        "chunk b'data' at byte 36 claims",
    ),
    "no data chunk": (lambda d: b"RIFF" + struct.pack("<I", 28) + d[8:36], "no data chunk"),
    "rf64": (lambda d: b"RF64" + d[4:], "RF64"),
    "not a wav": (lambda d: d[:8] + b"AVI " + d[12:], "not a WAV file"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_files_are_user_errors(case: str, keys: KeyStore) -> None:
    mutate, message = BROKEN[case]
    broken = mutate(plain_wav())
    with pytest.raises(UserError, match=message):
        label(broken, WAV, keys)


def test_a_file_sent_under_the_wrong_type_is_named(keys: KeyStore) -> None:
    with pytest.raises(UserError, match="sent as audio/wav but is a MP3 file"):
        label(ffmpeg_sample(".mp3"), WAV, keys)
