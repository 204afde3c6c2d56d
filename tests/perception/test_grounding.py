"""Grounding answers in hand-made findings: each named thing linked to its box or span."""

from __future__ import annotations

from hallmark.perception.base import Entity, Finding
from hallmark.perception.grounding import align, ground, mentioned, stem

LEFT_FACE = Finding("face", "face", 0.8, (40, 100, 60, 60))
MIDDLE_FACE = Finding("face", "face", 0.95, (290, 110, 60, 60))
RIGHT_FACE = Finding("face", "face", 0.9, (520, 100, 60, 60))
PERSON = Finding("person", "person", 0.7, (20, 90, 120, 300))
SALE = Finding("text", "SUMMER SALE", 0.95, (100, 10, 300, 50))
WELCOME = Finding("text", "欢迎光临", 0.9, (200, 400, 240, 40))
BLUE = Finding("color", "blue", detail={"share": 0.6})
WHITE = Finding("color", "white", detail={"share": 0.3})
PICTURE = [LEFT_FACE, MIDDLE_FACE, RIGHT_FACE, PERSON, SALE, WELCOME, BLUE, WHITE]

SPEECH_SOUND = Finding("sound", "Speech", 0.9, start=1.0, end=3.3)
SPEECH = Finding("speech", "Speech", 0.8, start=1.1, end=3.2)
TONE = Finding("sound", "Sine wave", 0.95, start=5.0, end=7.0)
NOISE = Finding("sound", "White noise", 0.4, start=9.0, end=10.5)
LATE_SPEECH = Finding("speech", "Speech", 0.85, start=11.0, end=12.0)
SPOKEN = ["hello", "world", "this", "is", "a", "test"]
WORDS = [
    Finding("word", word, start=round(1.2 + 0.3 * k, 2), end=round(1.4 + 0.3 * k, 2))
    for k, word in enumerate(SPOKEN)
]
RECORDING = [SPEECH_SOUND, SPEECH, TONE, NOISE, LATE_SPEECH, *WORDS]


def links(entities: list[Entity]) -> list[tuple[str, int]]:
    return [(entity.text, entity.finding) for entity in entities]


def test_position_words_pick_the_left_and_the_right_face() -> None:
    answer = "There is a face on the left and a face on the right."
    entities = ground(answer, PICTURE)
    assert links(entities) == [("face", 0), ("face", 2)]
    assert entities[0].box == LEFT_FACE.box and entities[1].box == RIGHT_FACE.box
    assert entities[0].offset == answer.index("face")
    assert entities[1].offset == answer.index("face", entities[0].offset + 1)


def test_a_position_before_the_phrase_counts_too() -> None:
    answer = "On the right is a smiling face, and on the left is a face too."
    assert links(ground(answer, PICTURE)) == [("face", 2), ("face", 0)]


def test_ordinals_follow_left_to_right_order() -> None:
    answer = "The first face is calm; the second face smiles and the last face frowns."
    assert links(ground(answer, PICTURE)) == [("face", 0), ("face", 1), ("face", 2)]


def test_a_face_without_cues_is_the_highest_scoring_one() -> None:
    assert links(ground("I can see a face.", PICTURE)) == [("face", 1)]


def test_a_plural_grounds_to_every_finding_of_its_kind() -> None:
    entities = ground("Three faces look at the camera.", PICTURE)
    assert links(entities) == [("faces", 0), ("faces", 1), ("faces", 2)]
    assert len({(entity.text, entity.offset) for entity in entities}) == 1


def test_a_count_takes_that_many_and_prefers_the_cued_ones() -> None:
    assert links(ground("Two faces on the left.", PICTURE)) == [("faces", 0), ("faces", 1)]
    assert links(ground("Two faces on the right.", PICTURE)) == [("faces", 1), ("faces", 2)]


def test_people_and_synonyms_ground_to_the_person() -> None:
    for answer in ("Some people are here.", "A man stands there.", "Someone waves."):
        assert [(e.kind, e.finding) for e in ground(answer, PICTURE)] == [("person", 3)]


def test_a_quoted_ocr_text_with_a_typo_grounds_to_its_line() -> None:
    answer = 'The banner reads "SUMER SALE" in big letters.'
    entities = ground(answer, PICTURE)
    assert ("SUMER SALE", 4) in links(entities)
    quote = next(e for e in entities if e.text == "SUMER SALE")
    assert quote.offset == answer.index("SUMER") and quote.box == SALE.box


def test_a_generic_word_before_a_quote_grounds_to_the_quoted_line() -> None:
    answer = 'The text "欢迎光临" is at the bottom and the sign "SUMMER SALE" at the top.'
    assert links(ground(answer, PICTURE)) == [
        ("text", 5),
        ("欢迎光临", 5),
        ("sign", 4),
        ("SUMMER SALE", 4),
    ]


def test_a_quote_far_from_every_line_is_not_grounded_to_one() -> None:
    assert ground('It says "WINTER CLEARANCE".', [SALE]) == []


def test_unquoted_ocr_words_ground_to_their_line() -> None:
    assert links(ground("There is a summer sale going on.", PICTURE)) == [("summer sale", 4)]


def test_chinese_answers_ground_faces_people_text_and_colours() -> None:
    answer = "图中有两张人脸和1个人，下方写着文字“欢迎光临”，整体是蓝色和白色。"
    entities = ground(answer, PICTURE)
    got = links(entities)
    assert got.count(("人脸", 0)) + got.count(("人脸", 1)) + got.count(("人脸", 2)) == 2
    assert ("人", 3) in got
    assert ("文字", 5) in got and ("欢迎光临", 5) in got
    assert ("蓝色", 6) in got and ("白色", 7) in got
    assert all(answer[e.offset : e.offset + len(e.text)] == e.text for e in entities)


def test_chinese_words_that_only_contain_a_name_are_not_that_thing() -> None:
    assert ground("这是人工智能生成的机器人。", [PERSON]) == []


def test_sounds_and_a_quoted_phrase_ground_to_their_spans() -> None:
    answer = (
        'Speech from 1.0 s to 3.2 s: "hello world". A sine wave from 5.0 s to 7.0 s. '
        "White noise from 9.0 s to 10.5 s."
    )
    entities = ground(answer, RECORDING)
    spans = {e.text: (e.kind, e.start, e.end) for e in entities}
    assert spans["Speech"][0] in ("sound", "speech")
    assert spans["hello world"] == ("word", 1.2, 1.7)  # first word's start, last word's end
    assert spans["sine wave"] == ("sound", 5.0, 7.0)
    assert spans["White noise"] == ("sound", 9.0, 10.5)


def test_a_time_picks_the_stretch_of_speech_it_names() -> None:
    entities = ground("Someone is talking at 11.5 s.", RECORDING)
    assert [(e.text, e.start, e.end) for e in entities] == [("talking", 11.0, 12.0)]


def test_everyday_words_name_yamnet_classes() -> None:
    dog = Finding("sound", "Dog", 0.8, start=2.0, end=3.0)
    music = Finding("sound", "Music", 0.9, start=0.0, end=8.0)
    answer = "A song plays while a dog is barking, then a beep."
    assert links(ground(answer, [dog, music, TONE])) == [
        ("song", 1),
        ("dog", 0),
        ("barking", 0),
        ("beep", 2),
    ]


def test_a_quote_with_a_misheard_word_grounds_to_the_run_of_words() -> None:
    entities = ground('They say "this is a tent".', RECORDING)
    assert [(e.kind, e.finding, e.start, e.end) for e in entities] == [("word", 7, 1.8, 2.9)]


def test_chinese_speech_words_ground_without_spaces() -> None:
    said = [
        Finding("word", text, start=0.5 + 0.4 * k, end=0.8 + 0.4 * k)
        for k, text in enumerate(("今天", "天气", "很好"))
    ]
    entities = ground("录音里说：“天气很好”。", said)
    assert [(e.text, e.finding, e.start, e.end) for e in entities] == [("天气很好", 1, 0.9, 1.6)]


def test_no_phrase_is_grounded_twice_to_one_finding() -> None:
    answer = 'The text "SUMMER SALE" says summer sale.'
    entities = ground(answer, PICTURE)
    pairs = [(e.offset, e.finding) for e in entities]
    assert len(pairs) == len(set(pairs))
    assert links(entities) == [("text", 4), ("SUMMER SALE", 4), ("summer sale", 4)]


def test_entities_come_in_answer_order() -> None:
    answer = "White noise, then a tone, then someone speaking."
    offsets = [e.offset for e in ground(answer, RECORDING)]
    assert offsets == sorted(offsets) and len(offsets) == 3


def test_an_unrelated_answer_grounds_nothing() -> None:
    assert ground("A cat sleeps on a sunny windowsill.", PICTURE) == []
    assert ground("A cat sleeps on a sunny windowsill.", RECORDING) == []
    assert ground("", PICTURE) == []
    assert ground("A face.", []) == []


def test_the_longest_name_wins_where_names_overlap() -> None:
    entities = ground("Only white noise is heard.", [NOISE, WHITE])
    assert links(entities) == [("white noise", 0)]


def test_mentioned_lists_every_candidate() -> None:
    assert mentioned("where are the faces and the sign?", PICTURE) == {0, 1, 2, 4, 5}


def test_stems_map_inflections_together() -> None:
    assert stem("faces")[0] == stem("face")[0] and stem("faces")[1]
    assert stem("people") == ("person", True)
    assert stem("barking")[0] == stem("bark")[0] == stem("barked")[0]
    assert not stem("glass")[1] and not stem("bus")[1]


def test_align_finds_the_best_stretch() -> None:
    assert align("sumersale", "bigsummersaletoday") == (1, 3, 13)
    assert align("abc", "")[0] == 3


def test_a_short_quote_matches_whole_words_only() -> None:
    assert ground('He says "is".', RECORDING)[0].finding == 8  # the word "is", not "this"
    assert [e.text for e in ground('The sign says "UM".', [SALE])] == ["sign"]


def test_a_count_of_none_grounds_nothing() -> None:
    assert ground("There are no faces.", PICTURE) == []
