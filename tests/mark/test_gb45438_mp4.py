"""MP4/MOV: the label as the ``AIGC`` keyed item of ``moov/udta/meta``, read back by ffprobe;
the media packets byte-identical, chunk offsets moved with the media in faststart files;
ffmpeg's own ``AIGC`` tag read as a foreign label; broken files refused."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from mutagen.mp4 import MP4 as MP4File
from mutagen.mp4 import AtomDataType, MP4FreeForm
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
from hallmark.mark.gb45438.mp4 import Box, boxes, children, content_digest, top_level

MP4 = "video/mp4"
FREEFORM = "----:com.apple.iTunes:AIGC"
SAMPLES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "mp4": (".mp4", (), MP4),
    "faststart": (".mp4", ("-movflags", "+faststart"), MP4),
    "mov": (".mov", (), "video/quicktime"),
    "tagged": (".mp4", ("-metadata", "title=Sample", "-metadata", "artist=Someone"), MP4),
}


def sample(name: str) -> tuple[bytes, str]:
    suffix, args, media_type = SAMPLES[name]
    return ffmpeg_sample(suffix, *args, video=True), media_type


def inspect(data: bytes, keys: KeyStore, media_type: str = MP4) -> list[dict[str, object]]:
    content = Content("video", media_type, data)
    return [f.detail for f in GB45438Inspector(keys).inspect(content)]


def saved(tmp_path: Path, data: bytes, name: str = "out.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def top(data: bytes, kind: bytes) -> Box:
    return next(b for b in top_level(data)[0] if b.type == kind)


def payload(data: bytes, kind: bytes) -> bytes:
    found = top(data, kind)
    return data[found.body : found.end]


def chunk_offsets(data: bytes) -> list[int]:
    """Every stco entry of every track."""
    found: list[int] = []
    stack = [top(data, b"moov")]
    while stack:
        box = stack.pop()
        for child in children(data, box):
            if child.type == b"stco":
                (count,) = struct.unpack_from(">I", data, child.body + 4)
                found += struct.unpack_from(f">{count}I", data, child.body + 8)
            elif child.type in (b"trak", b"mdia", b"minf", b"stbl"):
                stack.append(child)
    return found


@pytest.mark.parametrize("name", list(SAMPLES))
def test_round_trip_read_by_ffprobe_with_packets_untouched(
    name: str, tmp_path: Path, keys: KeyStore
) -> None:
    original, media_type = sample(name)
    labelled, fields = label(original, media_type, keys)
    [detail] = inspect(labelled, keys, media_type)
    assert (detail["ProduceID"], detail["integrity"]) == ("content-1", "valid")
    assert detail["serialization"] == "mp4-keys"
    before, after = saved(tmp_path, original, "in.mp4"), saved(tmp_path, labelled)
    tags = ffprobe_tags(after)
    assert tags["AIGC"] == fields.to_json()
    assert {k: v for k, v in tags.items() if k != "AIGC"} == ffprobe_tags(before)
    assert decode_errors(after) == ""
    assert packets(after) == packets(before)
    assert payload(labelled, b"mdat") == payload(original, b"mdat")


def test_faststart_chunk_offsets_move_with_the_media(keys: KeyStore) -> None:
    original, _ = sample("faststart")
    assert top(original, b"moov").start < top(original, b"mdat").start
    labelled, _ = label(original, MP4, keys)
    moved = top(labelled, b"mdat").start - top(original, b"mdat").start
    grown = top(labelled, b"moov").end - top(original, b"moov").end
    assert moved == grown > 0
    assert chunk_offsets(labelled) == [o + moved for o in chunk_offsets(original)]


def test_media_after_moov_keeps_its_offsets(keys: KeyStore) -> None:
    original, _ = sample("mp4")
    assert top(original, b"mdat").start < top(original, b"moov").start
    labelled, _ = label(original, MP4, keys)
    assert labelled.startswith(original[: top(original, b"moov").start])
    assert chunk_offsets(labelled) == chunk_offsets(original)


def test_itunes_items_stay_beside_a_new_mdta_meta_box(keys: KeyStore) -> None:
    original, _ = sample("tagged")
    labelled, _ = label(original, MP4, keys)
    udta = next(b for b in children(labelled, top(labelled, b"moov")) if b.type == b"udta")
    metas = [b for b in children(labelled, udta) if b.type == b"meta"]
    handlers = [labelled[m.body + 4 + 16 : m.body + 4 + 20] for m in metas]
    assert handlers == [b"mdir", b"mdta"]


@pytest.mark.parametrize("name", ["mp4", "faststart"])
def test_relabelling_replaces_the_item(name: str, tmp_path: Path, keys: KeyStore) -> None:
    original, _ = sample(name)
    once, _ = label(original, MP4, keys)
    twice, fields = label(once, MP4, keys)
    assert len(twice) == len(once)
    assert [d["ProduceID"] for d in inspect(twice, keys)] == ["content-1"]
    assert twice.count(b"mdtaAIGC") == 1
    path = saved(tmp_path, twice)
    assert ffprobe_tags(path)["AIGC"] == fields.to_json()
    assert packets(path) == packets(saved(tmp_path, original, "in.mp4"))


def test_a_label_written_by_ffmpeg_is_foreign_then_propagated(
    tmp_path: Path, keys: KeyStore
) -> None:
    args = ("-movflags", "+faststart+use_metadata_tags", "-metadata", f"AIGC={FOREIGN_LABEL}")
    received = ffmpeg_sample(".mp4", *args, video=True)
    [before] = inspect(received, keys)
    assert (before["ContentProducer"], before["integrity"]) == (FOREIGN, "unverifiable")
    marked = GB45438Marker(keys).mark(Content("video", MP4, received), cn_context())
    [after] = inspect(marked.data, keys)
    assert (after["ContentProducer"], after["ProduceID"]) == (FOREIGN, "their-7")
    assert (after["PropagateID"], after["integrity"]) == ("ours-9", "valid")
    path = saved(tmp_path, marked.data)
    tags = ffprobe_tags(path)
    assert json.loads(tags["AIGC"])["ContentPropagator"] == PRODUCER
    assert tags["encoder"].startswith("Lavf")  # ffmpeg's other keyed item kept
    assert marked.data.count(b"mdtaAIGC") == 1
    assert packets(path) == packets(saved(tmp_path, received, "in.mp4"))


def test_an_itunes_freeform_label_is_read_and_kept_in_step(tmp_path: Path, keys: KeyStore) -> None:
    path = saved(tmp_path, sample("tagged")[0], "in.mp4")
    tagged = MP4File(path)
    assert tagged.tags is not None
    tagged.tags[FREEFORM] = [MP4FreeForm(FOREIGN_LABEL.encode(), AtomDataType.UTF8)]
    tagged.save()
    received = path.read_bytes()
    [before] = inspect(received, keys)
    assert (before["serialization"], before["integrity"]) == ("mp4-itunes", "unverifiable")
    marked = GB45438Marker(keys).mark(Content("video", MP4, received), cn_context())
    [after] = inspect(marked.data, keys)
    assert after["serializations"] == ["mp4-keys", "mp4-itunes"]
    assert (after["ContentProducer"], after["integrity"]) == (FOREIGN, "valid")
    out = saved(tmp_path, marked.data)
    reread = MP4File(out).tags
    assert reread is not None and reread["\xa9nam"] == ["Sample"]
    assert json.loads(bytes(reread[FREEFORM][0]))["PropagateID"] == "ours-9"
    assert packets(out) == packets(path)


def test_one_changed_media_byte_makes_the_label_invalid(keys: KeyStore) -> None:
    labelled, _ = label(sample("mp4")[0], MP4, keys)
    at = top(labelled, b"mdat").body + 100
    changed = labelled[:at] + bytes([labelled[at] ^ 0x01]) + labelled[at + 1 :]
    assert inspect(changed, keys)[0]["integrity"] == "invalid"


@pytest.mark.parametrize("name", ["mp4", "faststart"])
def test_the_c2pa_manifest_box_is_outside_the_digest(name: str) -> None:
    original, _ = sample(name)
    signed = sign_as_other_tool(original, MP4, "trainedAlgorithmicMedia")
    assert any(b.type == b"uuid" for b in top_level(signed)[0])
    assert content_digest(signed) == content_digest(original)


def _set_size(data: bytes, box: Box, size: int) -> bytes:
    return data[: box.start] + struct.pack(">I", size) + data[box.start + 4 :]


def _deeply_nested() -> bytes:
    """A moov holding traks inside traks, 5,000 deep."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    inner = b""
    for _ in range(5000):
        inner = box(b"trak", inner)
    return box(b"ftyp", b"isom" * 2) + box(b"moov", inner) + box(b"mdat", b"media")


BROKEN: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda d: b"", "empty"),
    "truncated": (lambda d: d[:-200], "past the end"),
    "mdat past the end": (
        lambda d: _set_size(d, top(d, b"mdat"), len(d) * 2),
        "box 'mdat' at byte .* past the end of the file",
    ),
    "no moov": (lambda d: d[: top(d, b"moov").start], "0 moov boxes"),
    "stray bytes": (lambda d: d + b"\x01\x02\x03", "stray bytes"),
    "not an mp4": (lambda d: b"\x00\x00\x00\x10abcd" + d[8:], "not a MP4/MOV file"),
    "nested too deep": (lambda d: _deeply_nested(), "nested deeper than 12"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_files_are_user_errors(case: str, keys: KeyStore) -> None:
    mutate, message = BROKEN[case]
    broken = mutate(sample("mp4")[0])
    with pytest.raises(UserError, match=message):
        label(broken, MP4, keys)
    if broken and case != "nested too deep":  # reading never walks that deep
        with pytest.raises(UserError, match=message):
            inspect(broken, keys)


def test_a_broken_stco_table_is_a_user_error(keys: KeyStore) -> None:
    original, _ = sample("faststart")
    at = original.index(b"stco") + 8  # entry count
    broken = original[:at] + struct.pack(">I", 1 << 20) + original[at + 4 :]
    with pytest.raises(UserError, match=r"stco box .* more than fit"):
        label(broken, MP4, keys)


def test_fragmented_files_are_refused(keys: KeyStore) -> None:
    fragmented = ffmpeg_sample(".mp4", "-movflags", "frag_keyframe+empty_moov", video=True)
    assert any(b.type == b"moof" for b in boxes(fragmented, 0, len(fragmented), "file"))
    with pytest.raises(UserError, match="fragmented MP4"):
        label(fragmented, MP4, keys)


def test_a_file_sent_under_the_wrong_type_is_named(keys: KeyStore) -> None:
    mp3 = ffmpeg_sample(".mp3")
    with pytest.raises(UserError, match="sent as video/mp4 but is a MP3 file"):
        label(mp3, MP4, keys)
