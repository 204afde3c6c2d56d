"""The completion scaffold for base models, and prompted tool calling (pure functions)."""

from __future__ import annotations

import json

from hallmark.engines.llm.base import ChatMessage, Tool, ToolCall
from hallmark.engines.llm.scaffold import (
    DEFAULT_SYSTEM,
    STOP,
    ReplyFilter,
    describe_tools,
    parse_reply,
    parse_tool_call,
    render,
)

WEATHER = Tool(
    "weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def test_a_conversation_renders_as_a_transcript_ending_with_the_assistant() -> None:
    scaffold = render(
        [
            ChatMessage("system", "Be brief."),
            ChatMessage("user", " Hi "),
            ChatMessage("assistant", "Hello."),
            ChatMessage("user", "How are you?"),
        ]
    )
    assert scaffold.prompt == (
        "Be brief.\n\nUser: Hi\nAssistant: Hello.\nUser: How are you?\nAssistant:"
    )
    assert "\nUser:" in scaffold.stop
    assert scaffold.stop == STOP


def test_without_a_system_message_a_default_one_opens_the_transcript() -> None:
    assert render([ChatMessage("user", "hi")]).prompt.startswith(DEFAULT_SYSTEM + "\n\n")


def test_tools_are_described_with_their_schema_and_how_to_call_them() -> None:
    prompt = render([ChatMessage("user", "Weather in Paris?")], [WEATHER]).prompt
    system = prompt.split("\n\nUser:")[0]
    assert "weather: The weather in a city." in system
    assert json.dumps(WEATHER.parameters, sort_keys=True) in system
    assert '<tool_call>{"name": "TOOL_NAME", "arguments": {...}}</tool_call>' in system
    assert "must call" not in system


def test_tool_choice_none_describes_no_tools_and_required_insists() -> None:
    assert "tool_call" not in render([ChatMessage("user", "x")], [WEATHER], "none").prompt
    assert describe_tools([WEATHER], "none") == ""
    assert "You must call a tool" in describe_tools([WEATHER], "required")
    named = describe_tools(
        [WEATHER, Tool("clock", "The time.")], {"type": "function", "function": {"name": "clock"}}
    )
    assert "clock: The time." in named
    assert "weather" not in named


def test_tool_calls_and_their_results_render_back_into_the_transcript() -> None:
    call = ToolCall("call_1", "weather", '{"city": "Paris"}')
    prompt = render(
        [
            ChatMessage("user", "Weather in Paris?"),
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", '{"celsius": 21}', tool_call_id="call_1"),
        ],
        [WEATHER],
    ).prompt
    assert prompt.endswith(
        'Assistant: <tool_call>{"name": "weather", "arguments": {"city": "Paris"}}</tool_call>\n'
        'Tool result (weather): {"celsius": 21}\n'
        "Assistant:"
    )


def test_a_reply_with_a_tool_call_gives_the_call_and_the_rest_of_the_text() -> None:
    text, calls = parse_reply(
        ' Let me look. <tool_call>{"name": "weather", "arguments": {"city": "Paris"}}'
        "</tool_call>\n",
        {"weather"},
    )
    assert text == "Let me look."
    assert [(c.name, c.parsed_arguments()) for c in calls] == [("weather", {"city": "Paris"})]
    assert calls[0].id.startswith("call_") and len(calls[0].id) > 10


def test_two_calls_get_distinct_ids() -> None:
    block = '<tool_call>{"name": "weather", "arguments": {"city": "%s"}}</tool_call>'
    _, calls = parse_reply(block % "Paris" + block % "Rome", {"weather"})
    assert [c.parsed_arguments()["city"] for c in calls] == ["Paris", "Rome"]
    assert calls[0].id != calls[1].id


def test_bad_json_in_a_tool_call_stays_text_and_never_raises() -> None:
    for block in (
        "<tool_call>{not json}</tool_call>",
        '<tool_call>["weather"]</tool_call>',
        '<tool_call>{"arguments": {}}</tool_call>',
        '<tool_call>{"name": "weather", "arguments": [1]}</tool_call>',
        '<tool_call>{"name": "weather", "arguments": "{bad"}</tool_call>',
        '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>',
    ):
        assert parse_reply(f"Hmm {block}", {"weather"}) == (f"Hmm {block}", ())


def test_arguments_written_as_json_text_are_accepted() -> None:
    call = parse_tool_call('{"name": "weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}')
    assert call is not None and call.parsed_arguments() == {"city": "Oslo"}


def test_a_call_cut_off_before_its_closing_tag_still_counts() -> None:
    _, calls = parse_reply('<tool_call>{"name": "weather", "arguments": {}}', {"weather"})
    assert [c.name for c in calls] == ["weather"]


def test_streaming_holds_back_what_may_begin_a_tool_call_tag() -> None:
    reply = ReplyFilter({"weather"})
    shown = [
        reply.feed(piece)
        for piece in (
            " Sure",
            ", one moment <tool_c",
            'all>{"name": "weather", ',
            '"arguments": {"city": "Paris"}}</tool',
            "_call>",
        )
    ]
    text, calls = reply.finish()
    assert shown == ["Sure", ", one moment", "", "", ""]
    assert text == ""
    assert "<" not in "".join(shown)
    assert [c.parsed_arguments() for c in calls] == [{"city": "Paris"}]


def test_streaming_releases_a_held_back_tag_start_that_was_only_text() -> None:
    reply = ReplyFilter({"weather"})
    assert reply.feed("a <tool_c") == "a"
    assert reply.feed("ounter> b") == " <tool_counter> b"
    assert reply.feed(" <tool_") == ""
    assert reply.finish() == (" <tool_", ())


def test_streamed_text_equals_the_whole_reply_parsed_at_once() -> None:
    whole = '  Hi <tool_call>{bad}</tool_call> there <tool_call>{"name": "weather"}</tool_call>  \n'
    reply = ReplyFilter({"weather"})
    streamed = "".join(reply.feed(char) for char in whole)
    tail, calls = reply.finish()
    text, whole_calls = parse_reply(whole, {"weather"})
    assert streamed + tail == text == "Hi <tool_call>{bad}</tool_call> there"
    assert [c.name for c in calls] == [c.name for c in whole_calls] == ["weather"]


def test_without_tools_a_tag_is_plain_text_and_only_the_ends_are_trimmed() -> None:
    reply = ReplyFilter(parse_calls=False)
    shown = reply.feed("\n <tool_call>{}</tool_call> ok \n")
    assert shown + reply.finish()[0] == "<tool_call>{}</tool_call> ok"
