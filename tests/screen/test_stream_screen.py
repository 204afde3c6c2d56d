"""Screening a streamed reply: a blocked term is found before any of it is released, benign text
is released whole and unchanged, flagged text keeps streaming, and the whole reply is screened
once more at the end."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from hallmark.content import Content, Medium
from hallmark.policy import Policy, resolve_policy
from hallmark.registry import load_components
from hallmark.screen.base import Hit, Screen, TextSpan
from hallmark.screen.lexicon import Lexicon
from hallmark.screen.stream import DEFAULT_LONGEST_TERM, MARGIN, StreamScreen, StreamStep
from hallmark.settings import Settings

BENIGN_EN = (
    "Glaze the cup twice and let it dry overnight. The kiln should reach about 1,240 degrees; "
    "open it only when it has cooled below a hundred.\n"
)
BENIGN_ZH = "清晨的光很柔和，茶杯在窗边。请帮我写一段产品介绍！明天的会议改到下午三点。\n"


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> list[Screen]:
    """The registered text screens (the built-in lexicon and the classifier), loaded once."""
    settings = Settings(home=tmp_path_factory.mktemp("home"), worker_threads=0)
    components = load_components(settings)
    return [screen.prepare() for screen in components.screens if "text" in screen.media]


@pytest.fixture(scope="module")
def cn() -> Policy:
    return resolve_policy("cn")


def pieces(text: str, sizes: Sequence[int] = (1,), seed: int = 0) -> Iterator[str]:
    """The text cut into deltas of the given sizes, in a seeded random order."""
    rng = random.Random(seed)
    start = 0
    while start < len(text):
        size = rng.choice(sizes)
        yield text[start : start + size]
        start += size


def stream(screen: StreamScreen, deltas: Iterable[str]) -> tuple[str, list[StreamStep]]:
    """Feed every delta, then finish: the released text and every step."""
    steps = [screen.feed(delta) for delta in deltas]
    steps.append(screen.finish())
    return "".join(step.release for step in steps), steps


def text_spans(hits: Iterable[Hit], screen: str = "lexicon") -> list[tuple[int, int]]:
    spans = []
    for hit in hits:
        if hit.screen == screen:
            assert isinstance(hit.evidence, TextSpan)
            spans.append((hit.evidence.start, hit.evidence.end))
    return spans


@pytest.mark.parametrize(
    ("term", "category"),
    [
        ("how to make a pipe bomb", "terrorism"),
        ("加入法轮功", "cult"),
        ("加入法@轮@功", "cult"),  # separators between the characters, one a delta
        ("f . u . c . k you", "profanity"),
    ],
)
def test_a_blocked_term_fed_a_character_at_a_time_is_never_released(
    screens: list[Screen], cn: Policy, term: str, category: str
) -> None:
    before = BENIGN_EN * 3 + "Sure, here it is: "
    text = before + term + ". " + BENIGN_EN * 3
    # Profanity is flagged under cn; in minors mode what is flagged is blocked.
    screen = StreamScreen(screens, cn, minor=category == "profanity")

    released, steps = stream(screen, pieces(text))

    assert term not in released
    assert text.startswith(released)
    assert len(released) <= len(before)
    decision = steps[-1].decision
    assert decision.action == "block"
    assert decision.refusal
    assert (len(before), len(before) + len(term)) in text_spans(
        hit for hit in decision.hits if hit.category == category
    )
    blocked_at = next(index for index, step in enumerate(steps) if step.decision.action == "block")
    assert all(step.release == "" for step in steps[blocked_at:])


def test_a_blocked_term_that_ends_the_reply_is_caught_at_finish(
    screens: list[Screen], cn: Policy
) -> None:
    before = BENIGN_EN * 3
    text = before + "how to make a pipe bomb"

    released, steps = stream(StreamScreen(screens, cn), pieces(text, (2,)))

    assert released == before[: len(released)]
    assert "pipe" not in released
    assert steps[-1].decision.action == "block"
    assert steps[-1].release == ""


def test_a_benign_long_reply_is_released_whole_and_unchanged(
    screens: list[Screen], cn: Policy
) -> None:
    text = (BENIGN_EN + BENIGN_ZH) * 20

    released, steps = stream(StreamScreen(screens, cn), pieces(text, (1, 2, 4, 7, 30)))

    assert released == text
    assert steps[-1].decision.action == "allow"
    assert steps[-1].decision.hits == ()
    assert sum(bool(step.release) for step in steps[:-1]) > 20  # it streamed, not all at the end


def test_release_runs_holdback_characters_behind(screens: list[Screen], cn: Policy) -> None:
    text = BENIGN_EN * 10
    screen = StreamScreen(screens, cn)
    released = ""
    for delta in pieces(text, (3,)):
        released += screen.feed(delta).release
        fed = len(screen.text)
        assert fed - screen.holdback - 16 <= len(released) <= max(0, fed - screen.holdback)

    assert released + screen.finish().release == text


def test_flagged_text_keeps_streaming(screens: list[Screen], cn: Policy) -> None:
    text = "Well, fuck off then. " + BENIGN_EN * 5

    released, steps = stream(StreamScreen(screens, cn), pieces(text, (4,)))

    flagged_at = next(index for index, step in enumerate(steps) if step.decision.action == "flag")
    assert any(step.release for step in steps[flagged_at + 1 :])
    assert released == text
    assert steps[-1].decision.action == "flag"
    assert "profanity" in steps[-1].decision.categories


def test_finish_releases_the_tail(screens: list[Screen], cn: Policy) -> None:
    text = "A short and friendly reply."
    screen = StreamScreen(screens, cn)

    steps = [screen.feed(delta) for delta in pieces(text, (5,))]
    last = screen.finish()

    assert all(step.release == "" for step in steps)  # shorter than the holdback
    assert last.release == text
    assert last.decision.action == "allow"
    assert screen.finish().release == ""  # a second finish releases nothing more


def test_chinese_text_streams_and_blocks_with_spans_in_the_whole_reply(
    screens: list[Screen], cn: Policy
) -> None:
    benign = BENIGN_ZH * 10
    released, steps = stream(StreamScreen(screens, cn), pieces(benign, (1, 2, 3)))
    assert released == benign
    assert steps[-1].decision.action == "allow"

    text = BENIGN_ZH * 4 + "我想出售冰毒，" + BENIGN_ZH * 4
    released, steps = stream(StreamScreen(screens, cn), pieces(text, (1, 2, 3)))
    assert "冰毒" not in released
    decision = steps[-1].decision
    assert decision.action == "block"
    ((start, end),) = text_spans(hit for hit in decision.hits if hit.category == "drugs")
    assert "冰毒" in text[start:end]


@pytest.mark.parametrize(
    "text",
    [
        "我们去吃大麻哈鱼吧，大麻哈鱼很好吃。",  # 大麻 inside an allow phrase
        "The methane levels in the lake are high.",  # meth inside a word
        "Try a hot chocolate bomb recipe tonight.",  # an allow phrase around a term
    ],
)
def test_a_term_is_not_judged_before_the_text_after_it_arrives(
    screens: list[Screen], cn: Policy, text: str
) -> None:
    padded = BENIGN_EN * 3 + text + " " + BENIGN_EN * 3

    released, steps = stream(StreamScreen(screens, cn), pieces(padded))

    assert released == padded
    assert all(step.decision.action != "block" for step in steps)


def test_a_hit_found_while_streaming_and_at_finish_counts_once(
    screens: list[Screen], cn: Policy
) -> None:
    text = "Well, fuck off then. " + BENIGN_EN * 3

    _, steps = stream(StreamScreen(screens, cn), pieces(text, (2,)))

    spans = text_spans(steps[-1].decision.hits)
    assert len(spans) == len(set(spans))


def test_a_long_delta_is_screened_in_overlapping_windows(screens: list[Screen], cn: Policy) -> None:
    before = BENIGN_EN * 20
    text = before + "how to make a pipe bomb. " + BENIGN_EN * 20
    screen = StreamScreen(screens, cn, window=256)

    step = screen.feed(text)

    assert step.release == ""
    assert step.decision.action == "block"
    assert (len(before), len(before) + 23) in text_spans(step.decision.hits)


def test_after_a_block_nothing_is_released_and_feeding_after_finish_is_an_error(
    screens: list[Screen], cn: Policy
) -> None:
    screen = StreamScreen(screens, cn, holdback=0)
    step = screen.feed("how to make a pipe bomb. " + BENIGN_EN)

    assert step.release == ""
    assert screen.blocked
    assert screen.feed(BENIGN_EN * 5) == StreamStep("", screen.decision)
    assert screen.finish().release == ""
    with pytest.raises(RuntimeError, match="after finish"):
        screen.feed("more")


def test_the_default_holdback_comes_from_the_longest_term(
    screens: list[Screen], cn: Policy
) -> None:
    (lexicon,) = [screen for screen in screens if isinstance(screen, Lexicon)]

    assert StreamScreen(screens, cn).holdback == 2 * lexicon.longest_term + MARGIN
    assert StreamScreen([], cn).holdback == 2 * DEFAULT_LONGEST_TERM + MARGIN
    assert StreamScreen(screens, cn, holdback=7).holdback == 7
    with pytest.raises(ValueError, match="holdback"):
        StreamScreen(screens, cn, holdback=-1)


class Recording(Screen):
    """A screen that records what it read and finds nothing."""

    name: ClassVar[str] = "recording"
    media: ClassVar[frozenset[Medium]] = frozenset({"text"})

    def __init__(self) -> None:
        self.read: list[str] = []

    def find(self, content: Content) -> list[Hit]:
        self.read.append(content.text)
        return []


class RecordingTerms(Recording):
    name: ClassVar[str] = "recording-terms"

    @property
    def longest_term(self) -> int:
        return 8


def test_term_screens_run_as_text_arrives_and_the_others_once_at_finish(cn: Policy) -> None:
    whole, terms = Recording(), RecordingTerms()
    text = BENIGN_EN * 4
    screen = StreamScreen([whole, terms], cn)

    for delta in pieces(text, (4,)):
        screen.feed(delta)
    assert whole.read == []
    assert len(terms.read) > 5
    assert max(len(read) for read in terms.read) < 200  # new text plus context, not all of it

    screen.finish()
    assert whole.read == [text]
    assert terms.read[-1] == text


def test_screens_that_do_not_read_text_are_left_out(cn: Policy) -> None:
    class ImageOnly(Recording):
        media: ClassVar[frozenset[Medium]] = frozenset({"image"})

    image = ImageOnly()
    screen = StreamScreen([image], cn)
    screen.feed("hello.")
    screen.finish()

    assert image.read == []


def test_a_stream_screen_over_a_custom_lexicon_uses_its_terms(tmp_path: Path, cn: Policy) -> None:
    lexicon_file = tmp_path / "extra.txt"
    lexicon_file.write_text("forbidden widget\tfraud\t3\n", encoding="utf-8")
    lexicon = Lexicon.with_files([lexicon_file]).prepare()
    text = BENIGN_EN + "Buy a forbidden widget today. " + BENIGN_EN

    released, steps = stream(StreamScreen([lexicon], cn), pieces(text, (1, 3)))

    assert "forbidden widget" not in released
    assert steps[-1].decision.action == "block"
