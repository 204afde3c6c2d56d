"""MP3: the label as an ID3 ``TXXX:AIGC`` frame, read back by mutagen and ffprobe; the tag's
version and other frames kept, the audio byte-identical; ffmpeg's own ``AIGC`` tag read as a
foreign label; broken files refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from test_c2pa_support import sign_as_other_tool
from test_gb45438_support import (
    FOREIGN,
    FOREIGN_LABEL,
    PRODUCER,
    cn_context,
    decode_errors,
    ffmpeg_sample,
    ffprobe_tags,
    label,
    packets,
)

from hallmark.content import Content
from hallmark.errors import UserError
from hallmark.mark.gb45438 import GB45438Inspector, GB45438Marker, KeyStore
from hallmark.mark.gb45438.mp3 import content_digest, parse_tag

MP3 = "audio/mpeg"
# name -> (ffmpeg output options, ID3v2 version written)
SAMPLES: dict[str, tuple[tuple[str, ...], int]] = {
    "id3v2.4": ((), 4),
    "id3v2.3 with title and ID3v1": (
        ("-id3v2_version", "3", "-metadata", "title=Sample", "-write_id3v1", "1"),
        3,
    ),
    "no tag": (("-id3v2_version", "0"), 4),
}


def sample(name: str) -> bytes:
    return ffmpeg_sample(".mp3", "-b:a", "32k", *SAMPLES[name][0])


def inspect(data: bytes, keys: KeyStore) -> list[dict[str, object]]:
    return [f.detail for f in GB45438Inspector(keys).inspect(Content("audio", MP3, data))]


def saved(tmp_path: Path, data: bytes, name: str = "out.mp3") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def audio(data: bytes) -> bytes:
    """The bytes after the ID3v2 tag."""
    tag = parse_tag(data)
    return data if tag is None else data[tag.size :]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_round_trip_read_by_mutagen_and_ffprobe(name: str, tmp_path: Path, keys: KeyStore) -> None:
    original = sample(name)
    assert original.startswith(b"ID3") == (name != "no tag")
    labelled, fields = label(original, MP3, keys)
    [detail] = inspect(labelled, keys)
    assert (detail["ProduceID"], detail["integrity"]) == ("content-1", "valid")
    assert detail["serialization"] == "id3-txxx"
    path, before = saved(tmp_path, labelled), saved(tmp_path, original, "in.mp3")
    tags = ID3(path)
    assert tags.version[1] == SAMPLES[name][1]
    assert tags.getall("TXXX:AIGC")[0].text == [fields.to_json()]
    if name != "no tag":
        kept = {k: str(v) for k, v in ID3(before).items()}
        assert {k: str(v) for k, v in tags.items() if k != "TXXX:AIGC"} == kept
    probed = ffprobe_tags(path)
    assert probed.pop("AIGC") == fields.to_json()
    assert probed == ffprobe_tags(before)
    assert audio(labelled) == audio(original)
    assert decode_errors(path) == ""
    assert packets(path) == packets(before)


def test_relabelling_replaces_the_frame(tmp_path: Path, keys: KeyStore) -> None:
    once, _ = label(sample("id3v2.4"), MP3, keys)
    twice, fields = label(once, MP3, keys)
    assert twice == once  # same label, same content: the same bytes
    frames = ID3(saved(tmp_path, twice)).getall("TXXX:AIGC")
    assert [f.text for f in frames] == [[fields.to_json()]]


def test_a_label_written_by_ffmpeg_is_foreign_then_propagated(
    tmp_path: Path, keys: KeyStore
) -> None:
    received = ffmpeg_sample(".mp3", "-b:a", "32k", "-metadata", f"AIGC={FOREIGN_LABEL}")
    [before] = inspect(received, keys)
    assert (before["ContentProducer"], before["integrity"]) == (FOREIGN, "unverifiable")
    marked = GB45438Marker(keys).mark(Content("audio", MP3, received), cn_context())
    [after] = inspect(marked.data, keys)
    assert (after["ContentProducer"], after["ProduceID"]) == (FOREIGN, "their-7")
    assert (after["PropagateID"], after["integrity"]) == ("ours-9", "valid")
    path = saved(tmp_path, marked.data)
    assert len(ID3(path).getall("TXXX:AIGC")) == 1
    assert json.loads(ffprobe_tags(path)["AIGC"])["ContentPropagator"] == PRODUCER
    assert audio(marked.data) == audio(received)


def test_the_c2pa_geob_frame_is_outside_the_digest(keys: KeyStore) -> None:
    labelled, _ = label(sample("id3v2.4"), MP3, keys)
    signed = sign_as_other_tool(labelled, MP3, "trainedAlgorithmicMedia")
    tag = parse_tag(signed)
    assert tag is not None and b"GEOB" in {f.id for f in tag.frames}
    assert content_digest(signed) == content_digest(labelled)
    assert inspect(signed, keys)[0]["integrity"] == "valid"


def test_one_changed_audio_byte_makes_the_label_invalid(keys: KeyStore) -> None:
    labelled, _ = label(sample("id3v2.4"), MP3, keys)
    at = len(labelled) - 500
    changed = labelled[:at] + bytes([labelled[at] ^ 0x01]) + labelled[at + 1 :]
    assert inspect(changed, keys)[0]["integrity"] == "invalid"


def _id3(body: bytes, version: int = 4) -> bytes:
    size = len(body)
    return (
        b"ID3" + bytes([version, 0, 0]) + bytes((size >> s) & 0x7F for s in (21, 14, 7, 0)) + body
    )


BROKEN: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda d: b"", "empty"),
    "truncated tag": (lambda d: d[:20], "truncated MP3: the ID3 tag claims"),
    "id3 header only": (lambda d: d[:6], "truncated MP3"),
    "no audio after the tag": (lambda d: _id3(b"\x00" * 10) + b"RIFF....", "no MPEG audio frame"),
    "id3v2.2": (lambda d: _id3(b"", 2) + audio(d), "ID3v2.2"),
    "frame past the tag": (
        lambda d: _id3(b"TXXX\x00\x00\x7f\x7f\x00\x00\x03AIGC\x00{}") + audio(d),
        "frame TXXX .* past the end of the tag",
    ),
    "size not syncsafe": (lambda d: d[:6] + b"\x00\x00\x80\x00" + d[10:], "syncsafe"),
    "not an mp3": (lambda d: b"OggS" + d[4:], "not a MP3 file"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_files_are_user_errors(case: str, keys: KeyStore) -> None:
    mutate, message = BROKEN[case]
    broken = mutate(sample("id3v2.4"))
    with pytest.raises(UserError, match=message):
        label(broken, MP3, keys)


def test_a_file_sent_under_the_wrong_type_is_named(keys: KeyStore) -> None:
    mp4 = ffmpeg_sample(".mp4", video=True)
    with pytest.raises(UserError, match="sent as audio/mpeg but is a MP4/MOV file"):
        label(mp4, MP3, keys)


def test_an_unsynchronised_id3v2_3_tag_is_read_and_written_plain(
    tmp_path: Path, keys: KeyStore
) -> None:
    text = b"\x01" + "AIGC".encode("utf-16") + b"\x00\x00" + FOREIGN_LABEL.encode("utf-16")
    frame = b"TXXX" + len(text).to_bytes(4, "big") + b"\x00\x00" + text
    body = frame.replace(b"\xff", b"\xff\x00")  # unsynchronisation
    tagged = _id3(body, 3)[:5] + b"\x80" + _id3(body, 3)[6:] + audio(sample("id3v2.4"))
    [before] = inspect(tagged, keys)
    assert before["ContentProducer"] == FOREIGN
    labelled, fields = label(tagged, MP3, keys)
    assert labelled[3] == 3 and labelled[5] == 0
    assert ID3(saved(tmp_path, labelled)).getall("TXXX:AIGC")[0].text == [fields.to_json()]


def test_an_id3v2_2_file_is_refused_for_writing_but_inspects_as_unlabelled(
    keys: KeyStore,
) -> None:
    old = _id3(b"TT2\x00\x00\x06\x00Title", 2) + audio(sample("id3v2.4"))
    assert inspect(old, keys) == []
    with pytest.raises(UserError, match=r"ID3v2\.2"):
        GB45438Marker(keys).mark(Content("audio", MP3, old), cn_context())
