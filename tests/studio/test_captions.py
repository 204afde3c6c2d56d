"""Auto-captions on real speech: the piper voice says known sentences with known pauses, the
bundled whisper model hears them, and the cues must say the same words at the same times."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from studio_media import ffmpeg, make_speech_with_pauses, make_video, write_wav

from hallmark.errors import UserError
from hallmark.speech.base import STT_RATE, Segment, Speech, SpeechToText, Word
from hallmark.speech.whisper import WhisperSpeech
from hallmark.studio.captions import (
    Cue,
    caption_track,
    captions_for,
    cues_from_words,
    extract_speech,
    parse_srt,
    to_srt,
    to_vtt,
    transcribe_words,
    word_error_rate,
)
from hallmark.studio.timeline import Project, TextClip, parse_project, project_to_dict

SENTENCES = [
    "The weather is lovely today, and we went for a walk in the park.",
    "After lunch we visited the old library near the river.",
]


@pytest.fixture(scope="module")
def whisper(shared_whisper_model: Path, tmp_path_factory: pytest.TempPathFactory) -> WhisperSpeech:
    return WhisperSpeech(tmp_path_factory.mktemp("home"), shared_whisper_model).prepare()


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float]]]:
    path = tmp_path_factory.mktemp("speech") / "two.wav"
    return path, make_speech_with_pauses(path, SENTENCES)


@pytest.fixture(scope="module")
def heard(
    whisper: WhisperSpeech, spoken: tuple[Path, list[tuple[float, float]]]
) -> tuple[list[Word], str | None]:
    return transcribe_words(extract_speech(spoken[0]), whisper)


def _cues_of(cues: list[Cue], span: tuple[float, float]) -> list[Cue]:
    """The cues shown around one sentence's span."""
    return [c for c in cues if span[0] - 1.0 < (c.start + c.end) / 2 < span[1] + 1.0]


def _lines(cues: list[Cue]) -> list[str]:
    return [line for cue in cues for line in cue.text.split("\n")]


def test_the_cues_say_the_words_spoken_when_they_are_spoken(
    whisper: WhisperSpeech, spoken: tuple[Path, list[tuple[float, float]]]
) -> None:
    path, spans = spoken
    cues = captions_for(path, whisper, "en")

    text = " ".join(cue.text.replace("\n", " ") for cue in cues)
    assert word_error_rate(" ".join(SENTENCES), text) <= 0.1
    for span in spans:
        around = _cues_of(cues, span)
        assert around, f"no cue for the sentence at {span}"
        assert abs(around[0].start - span[0]) <= 0.3
        assert abs(around[-1].end - span[1]) <= 0.4


def test_a_cue_never_spans_the_pause_between_sentences(
    heard: tuple[list[Word], str | None], spoken: tuple[Path, list[tuple[float, float]]]
) -> None:
    cues = cues_from_words(heard[0])
    first, second = spoken[1]
    assert not any(cue.start < first[1] and cue.end > second[0] for cue in cues)


@pytest.mark.parametrize("max_chars", [12, 20, 42])
def test_a_caption_line_never_exceeds_the_width(
    heard: tuple[list[Word], str | None], max_chars: int
) -> None:
    cues = cues_from_words(heard[0], max_chars=max_chars)

    assert all(len(line) <= max_chars for line in _lines(cues))
    assert all(1 <= len(cue.text.split("\n")) <= 2 for cue in cues)
    spoken = " ".join(word.text.strip() for word in heard[0])
    assert " ".join(_lines(cues)) == spoken  # every word, once, in order, none cut


def test_cues_never_overlap_and_last_long_enough_to_read(
    heard: tuple[list[Word], str | None],
) -> None:
    cues = cues_from_words(heard[0], max_chars=16)

    assert len(cues) > 2
    for before, after in itertools.pairwise(cues):
        assert before.end <= after.start
    assert all(cue.end - cue.start >= 0.7 for cue in cues)


def test_the_language_is_left_open_for_latin_speech(heard: tuple[list[Word], str | None]) -> None:
    assert heard[1] is None  # whisper does not say it, and Latin letters do not tell


def test_segments_without_word_times_are_still_captioned_in_time(
    whisper: WhisperSpeech, spoken: tuple[Path, list[tuple[float, float]]]
) -> None:
    class SegmentsOnly(SpeechToText):
        """Whisper, giving only its segments' times, as some transcribers do."""

        name = "whisper-segments"

        def transcribe(self, samples: Speech, language: str | None = None) -> list[Segment]:
            found = whisper.transcribe(samples, language)
            return [Segment(s.start, s.end, s.text) for s in found]

    path, spans = spoken
    words, _ = transcribe_words(extract_speech(path), SegmentsOnly(), "en")
    cues = cues_from_words(words)

    assert word_error_rate(" ".join(SENTENCES), " ".join(w.text for w in words)) <= 0.1
    for span in spans:
        around = _cues_of(cues, span)
        assert abs(around[0].start - span[0]) <= 0.5
        assert abs(around[-1].end - span[1]) <= 0.6


def test_silence_has_no_cues(whisper: WhisperSpeech, tmp_path: Path) -> None:
    path = write_wav(tmp_path / "silence.wav", np.zeros(3 * 22050, np.float32), 22050)
    assert captions_for(path, whisper) == []


def test_a_video_without_audio_is_refused_by_name(whisper: WhisperSpeech, tmp_path: Path) -> None:
    video = make_video(tmp_path / "mute.mp4", seconds=1.0, tone=None)
    with pytest.raises(UserError, match=r"mute\.mp4 has no audio"):
        captions_for(video, whisper)


def test_a_missing_or_corrupt_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        extract_speech(tmp_path / "nowhere.wav")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 20)
    with pytest.raises(UserError, match=r"cannot read broken\.mp4"):
        extract_speech(broken)


def test_the_speech_of_a_video_is_its_soundtrack_at_the_transcription_rate(
    tmp_path: Path,
) -> None:
    video = make_video(tmp_path / "tone.mp4", seconds=2.0)
    samples = extract_speech(video)
    assert samples.dtype == np.float32
    assert abs(len(samples) / STT_RATE - 2.0) < 0.1
    assert float(np.abs(samples).max()) > 0.1


def test_a_video_with_speech_is_captioned(
    whisper: WhisperSpeech, spoken: tuple[Path, list[tuple[float, float]]], tmp_path: Path
) -> None:
    path, spans = spoken
    video = tmp_path / "talk.mp4"
    ffmpeg("-f", "lavfi", "-i", f"color=c=navy:size=160x120:rate=10:duration={spans[-1][1] + 1}",
           "-i", str(path), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
           "-shortest", str(video))  # fmt: skip

    cues = captions_for(video, whisper, "en")

    assert word_error_rate(" ".join(SENTENCES), " ".join(_lines(cues))) <= 0.1
    assert abs(cues[0].start - spans[0][0]) <= 0.3


# --- Chinese, without a Chinese voice: words as whisper writes them ----------------------------

CHINESE = (
    "今天天气很好，我们一起去公园散步。公园里有很多人在跑步，还有小朋友在放风筝。晚上我们回家吃饭。"
)


def _chinese_words(text: str, per_char: float = 0.2) -> list[Word]:
    """Two-character words (punctuation on its own), as whisper splits Chinese, one after
    another at ``per_char`` seconds a character."""
    pieces: list[str] = []
    for char in text:
        if char in "，。" or not pieces or len(pieces[-1]) >= 2 or pieces[-1][-1] in "，。":
            pieces.append(char)
        else:
            pieces[-1] += char
    words, at = [], 0.0
    for piece in pieces:
        words.append(Word(at, at + per_char * len(piece), piece))
        at += per_char * len(piece)
    return words


def test_chinese_lines_break_at_sentence_ends_and_commas_within_16_characters() -> None:
    cues = cues_from_words(_chinese_words(CHINESE))
    lines = _lines(cues)

    assert all(len(line) <= 16 for line in lines)
    assert "".join(lines) == CHINESE  # joined without spaces, nothing lost
    assert all(line[-1] in "，。" for line in lines)  # every break at 。 or ，
    assert all(cue.text[-1] == "。" or "，" in cue.text for cue in cues)
    assert not any(" " in line for line in lines)


def test_chinese_without_punctuation_still_fits_the_line() -> None:
    text = "我们今天一起去公园散步然后去图书馆看书最后回家吃晚饭"
    cues = cues_from_words(_chinese_words(text, per_char=0.15))
    assert all(len(line) <= 16 for line in _lines(cues))
    assert "".join(_lines(cues)) == text


def test_a_long_sentence_is_cut_at_its_comma() -> None:
    text = (
        "When the morning train finally arrived at the small station near the coast, "
        "everyone on the platform cheered loudly"
    )
    words = [Word(i * 0.3, i * 0.3 + 0.25, " " + w) for i, w in enumerate(text.split())]
    cues = cues_from_words(words, max_chars=40)
    assert [cue.text.replace("\n", " ").endswith("coast,") for cue in cues] == [True, False]
    assert all(len(line) <= 40 for line in _lines(cues))


# --- sidecars and the track --------------------------------------------------------------------

CUES = [
    Cue(0.5, 2.25, "The weather is lovely today,\nand we went for a walk."),
    Cue(2.25, 3.0, "Yes."),
    Cue(3661.001, 3662.999, "今天天气很好，\n我们一起去公园散步。"),
]


def test_srt_round_trips_to_the_millisecond() -> None:
    srt = to_srt(CUES)
    assert "01:01:01,001 --> 01:01:02,999" in srt
    parsed = parse_srt(srt)
    assert [c.text for c in parsed] == [c.text for c in CUES]
    for a, b in zip(parsed, CUES, strict=True):
        assert abs(a.start - b.start) < 0.0005 and abs(a.end - b.end) < 0.0005


def test_vtt_has_its_header_and_dotted_times() -> None:
    vtt = to_vtt(CUES)
    assert vtt.startswith("WEBVTT\n\n00:00:00.500 --> 00:00:02.250\nThe weather")
    assert "01:01:01.001 --> 01:01:02.999\n今天天气很好，\n我们一起去公园散步。\n" in vtt


def test_an_edited_srt_is_read_with_crlf_bom_and_markup() -> None:
    text = "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> there\r\n\r\n\r\n"
    text += "2\r\n00:00:03,000 --> 00:00:04,000 X1:10\r\n{\\an8}Top line\r\n"
    assert parse_srt(text) == [Cue(1.0, 2.5, "Hello there"), Cue(3.0, 4.0, "Top line")]


@pytest.mark.parametrize(
    ("srt", "line"),
    [
        ("1\n00:00:01,000 -> 00:00:02,000\nHello\n", 2),
        ("1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\nnot a time\nBye\n", 6),
        ("1\n00:00:03,000 --> 00:00:02,000\nBackwards\n", 2),
    ],
)
def test_a_broken_srt_is_refused_naming_the_line(srt: str, line: int) -> None:
    with pytest.raises(UserError, match=rf"SRT line {line}:"):
        parse_srt(srt)


def test_the_caption_track_holds_one_clip_per_cue_and_is_a_valid_project() -> None:
    track = caption_track(CUES, y=0.75)

    assert track.kind == "text" and track.role == "caption"
    clips = [c for c in track.clips if isinstance(c, TextClip)]
    assert [c.text for c in clips] == [c.text for c in CUES]
    assert [(c.start, round(c.start + c.duration, 3)) for c in clips] == [
        (c.start, c.end) for c in CUES
    ]
    assert all(c.y == 0.75 for c in clips)
    project = Project(width=320, height=240, tracks=(track,))
    assert parse_project(project_to_dict(project)) == project


def test_overlapping_cues_of_an_edited_srt_are_cut_where_the_next_begins() -> None:
    track = caption_track([Cue(0.0, 3.0, "one"), Cue(2.0, 4.0, "two")])
    first, second = track.clips
    assert isinstance(first, TextClip) and first.duration == 2.0
    assert second.start == 2.0
    Project(width=320, height=240, tracks=(track,))
    parse_project(project_to_dict(Project(width=320, height=240, tracks=(track,))))
