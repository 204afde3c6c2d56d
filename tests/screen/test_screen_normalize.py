"""Normalization folds the tricks used to slip words past a filter, and maps spans back."""

from __future__ import annotations

import pytest

from hallmark.screen.normalize import normalize


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ＦＵＣＫ ｙｏｕ", "fuck you"),  # full width
        ("法輪功", "法轮功"),  # traditional
        ("FuCk", "fuck"),  # case
        ("ѕhіt", "shit"),  # Cyrillic lookalikes in a Latin word
        ("sh1t", "shit"),  # leetspeak
        ("a$$hole", "asshole"),
        ("k!ll", "kill"),
        ("法@轮@功", "法轮功"),  # separators between Chinese characters
        ("法 轮 功", "法轮功"),
        ("法\u200b轮\u200b功", "法轮功"),  # zero-width characters
        ("f.u.c.k", "fuck"),  # separators between letters
        ("s h i t", "shit"),
        ("f_u_c_k", "fuck"),
        ("sh.it", "shit"),
        ("self-harm", "selfharm"),
        ("𝐟𝐮𝐜𝐤", "fuck"),  # mathematical letters
        ("ⓕⓤⓒⓚ", "fuck"),  # circled letters
        ("ᴋɪʟʟ", "kill"),  # small capitals
        ("café", "cafe"),  # accents
        ("make  a\n\nbomb", "make a bomb"),  # whitespace
    ],
)
def test_each_trick_folds_to_the_plain_form(text: str, folded: str) -> None:
    assert normalize(text).text == folded


@pytest.mark.parametrize(
    "text",
    [
        "In 2024 we sold 135 cups.",  # numbers stay numbers
        "Это просто текст.",  # a Russian sentence is not turned into Latin
        "他说完了。轮到你了",  # sentence and clause punctuation between Chinese characters stays
        "好的!轮到你",
        "你好,轮到你了",
        "the cat sat on the mat",  # words are not run together
        "hello, world",
    ],
)
def test_ordinary_text_keeps_its_words(text: str) -> None:
    assert normalize(text).text == text.lower()


@pytest.mark.parametrize(
    ("text", "folded_word", "original_word"),
    [
        ("Oh ＦＵＣＫ this", "fuck", "ＦＵＣＫ"),
        ("say s h i t now", "shit", "s h i t"),
        ("well f\u200bu\u200bck", "fuck", "f\u200bu\u200bck"),
        ("我想加入……法 @ 輪 功，好吗", "法轮功", "法 @ 輪 功"),
        ("ﬁne Straße, sh1t", "shit", "sh1t"),
        ("a\n\n\nself-harm  forum", "selfharm forum", "self-harm  forum"),
    ],
)
def test_spans_map_back_to_the_original_text(
    text: str, folded_word: str, original_word: str
) -> None:
    normalized = normalize(text)
    start = normalized.text.index(folded_word)

    span = normalized.original_span(start, start + len(folded_word))

    assert text[span[0] : span[1]] == original_word


def test_a_span_outside_the_text_is_an_error() -> None:
    normalized = normalize("abc")

    with pytest.raises(ValueError, match="not inside"):
        normalized.original_span(2, 9)
    with pytest.raises(ValueError, match="not inside"):
        normalized.original_span(1, 1)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("abc\ud800 fuck", "fuck"),  # a lone surrogate, as JSON may carry
        ("\x00\x01 shit \x7f", "shit"),  # control characters
        ("\ufeff法轮功", "法轮功"),  # a byte order mark
        ("\U0010ffff\U000e0001 fuck", "fuck"),  # private use and tag characters
        ("\u0301\u0301 fuck", "fuck"),  # combining marks with nothing to combine with
    ],
)
def test_odd_input_normalizes_without_error(text: str, word: str) -> None:
    normalized = normalize(text)
    start = normalized.text.index(word)

    span = normalized.original_span(start, start + len(word))

    assert text[span[0] : span[1]] == word


def test_only_text_is_normalized() -> None:
    with pytest.raises(TypeError, match="takes a str"):
        normalize(b"bytes")  # type: ignore[arg-type]
