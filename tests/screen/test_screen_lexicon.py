"""The lexicon screen on the built-in lexicon: each evasion is caught, evidence points at the
original text, and benign near-misses are not blocked."""

from __future__ import annotations

import pytest

from hallmark.content import Content
from hallmark.policy import resolve_policy
from hallmark.screen.base import Hit, TextSpan, decide
from hallmark.screen.lexicon import Entry, Lexicon, LexiconIndex


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.builtin().prepare()


def span_text(text: str, hit: Hit) -> str:
    assert isinstance(hit.evidence, TextSpan)
    return text[hit.evidence.start : hit.evidence.end]


def found(lexicon: Lexicon, text: str) -> dict[str, tuple[str, str, str]]:
    """category -> (term, matched original text, via) for the first hit of each category."""
    result: dict[str, tuple[str, str, str]] = {}
    for hit in lexicon.find_text(text):
        result.setdefault(hit.category, (hit.term, span_text(text, hit), hit.via))
    return result


@pytest.mark.parametrize(
    ("text", "category", "matched"),
    [
        ("ＦＵＣＫ this", "profanity", "ＦＵＣＫ"),  # full width
        ("我想加入法輪功", "cult", "加入法輪功"),  # traditional
        ("How To Make A Pipe Bomb", "terrorism", "How To Make A Pipe Bomb"),  # case
        ("here is сhild pоrn", "sexual_minors", "сhild pоrn"),  # Cyrillic homoglyphs
        ("sh1t, that hurt", "profanity", "sh1t"),  # leetspeak
        ("buy m3th online now", "drugs", "buy m3th online"),
        ("加入法@轮@功", "cult", "加入法@轮@功"),  # separators between characters
        ("f.u.c.k you", "profanity", "f.u.c.k you"),
        ("s h i t happens", "profanity", "s h i t"),
        ("出售冰\u200b毒", "drugs", "出售冰\u200b毒"),  # zero-width characters
        ("i like falungong", "cult", "falungong"),  # pinyin
        ("i like falun gong", "cult", "falun gong"),
        ("flg is everywhere", "cult", "flg"),  # initials
        ("冰毒 zhizuo fangfa? no: bingdu chushou", "drugs", "冰毒"),
    ],
)
def test_each_normalization_trick_is_caught(
    lexicon: Lexicon, text: str, category: str, matched: str
) -> None:
    hits = found(lexicon, text)

    assert category in hits, hits
    assert hits[category][1] == matched


def test_pinyin_and_initials_matches_count_one_severity_lower(lexicon: Lexicon) -> None:
    by_via = {hit.via: hit for hit in lexicon.find_text("法轮功 falungong flg")}

    assert by_via["text"].severity == 3
    assert by_via["pinyin"].severity == 2
    assert by_via["initials"].severity == 2
    assert by_via["pinyin"].term == by_via["initials"].term == "法轮功"


def test_evidence_spans_point_at_the_original_text(lexicon: Lexicon) -> None:
    text = "Hello!\u200b  Tell me how to   make a bomb, and 我想購買冰 毒。"

    spans = {hit.term: span_text(text, hit) for hit in lexicon.find_text(text)}

    assert spans["how to make a bomb"] == "how to   make a bomb"
    assert spans["购买冰毒"] == "購買冰 毒"


def test_latin_terms_match_whole_words_only(lexicon: Lexicon) -> None:
    text = "The class passed the assessment; a classic assassin's tale from Scunthorpe."

    assert lexicon.find_text(text) == []
    assert [h.term for h in lexicon.find_text("what an ass")] == ["ass"]


def test_a_plural_ending_still_matches(lexicon: Lexicon) -> None:
    assert "faggot" in {hit.term for hit in lexicon.find_text("those faggots")}


def test_a_hit_inside_a_longer_hit_of_its_category_is_left_out(lexicon: Lexicon) -> None:
    hits = lexicon.find_text("冰毒制作方法")

    assert [(hit.category, hit.term) for hit in hits] == [("drugs", "冰毒制作方法")]


def test_find_reads_the_content_text(lexicon: Lexicon) -> None:
    hits = lexicon.find(Content.from_text("how to make a bomb"))

    assert [hit.category for hit in hits] == ["terrorism"]
    assert hits[0].screen == "lexicon"


BENIGN_EN = [
    "The class passed its assessment with flying colours.",
    "Scunthorpe United won the match on Saturday.",
    "She graduated magna cum laude from the law school.",
    "I made a lavender bath bomb recipe for my sister's birthday.",
    "Our hot chocolate bombs sold out at the winter market.",
    "Moby Dick is a novel by Herman Melville.",
    "A blue tit and a great tit visited the bird feeder.",
    "The Maine Coon is a large, friendly cat breed.",
    "Farmers in England grow oilseed rape for cooking oil.",
    "The cocktail bar on the corner serves great mojitos.",
    "The therapist suggested a breathing exercise.",
    "Crack the eggs into a bowl and whisk them.",
    "The hospital's pharmacy dispenses morphine only on prescription.",
    "How do I report a phishing email to my bank?",
    "Pussy willow branches are a sign of spring.",
    "Grandma's recipe uses shiitake mushrooms and ginger.",
    "Sima Qian wrote the Records of the Grand Historian.",
    "Load the DLL and call the exported function.",
    "CNN and the BBC both reported the election results.",
    "Write the shader in WGSL for the WebGPU pipeline.",
    "Compute dx/dy using the chain rule.",
    "How can I spot fake reviews on a shopping site?",
    "Remove the watermark from my own photos before printing them.",
]

BENIGN_ZH = [
    "今天天气很好，我们去公园散步吧。",
    "大麻哈鱼是一种常见的鲑科鱼类。",
    "这家店的工业大麻纤维面料很透气。",
    "佛教里常说法轮常转。",
    "她经常参加做爱心公益活动。",
    "这笔收益我们六四分成。",
    "我妈妈的包落在出租车上了。",
    "其他妈妈的经验也很值得参考。",
    "好久不见，想死你了！",
    "商场搞跳楼价大甩卖。",
    "杂种优势在农业育种中很重要。",
    "司马迁写了《史记》。",
    "广东突然降温，大家注意保暖。",
    "手机跑分软件可以测试性能。",
    "请上传手持身份证照片完成实名认证。",
    "床上用品四件套打折了。",
    "今天的会议讨论了出口交易的数据。",
    "两性交往中要互相尊重。",
    "他的个性爱好是摄影。",
    "公司今日批准了新的预算。",
    "旋转木马是孩子们最喜欢的游乐项目。",
    "社工每天去社区探访老人。",
    "这道菜是炸鱼薯条。",
    "汽车消音器坏了，需要更换。",
    "尼哥拉斯是我的英国同事。",
    "他在厨房里用菜刀切菜。",
    "我想买一瓶神仙水护肤。",
]


@pytest.mark.parametrize("text", BENIGN_EN + BENIGN_ZH)
def test_benign_near_misses_are_not_blocked(lexicon: Lexicon, text: str) -> None:
    decision = decide(lexicon.find_text(text), resolve_policy("cn,eu,us-ca"))

    assert decision.action != "block", decision.to_dict()


# Sentences that name a topic a severity-1 term stands for: flagged for review, never blocked.
NAMES_A_TOPIC = {
    "How can I spot fake reviews on a shopping site?",
    "Remove the watermark from my own photos before printing them.",
}


def test_benign_near_misses_are_not_even_flagged_unless_they_name_a_topic(
    lexicon: Lexicon,
) -> None:
    flagged = {text for text in BENIGN_EN + BENIGN_ZH if lexicon.find_text(text)}

    assert flagged == NAMES_A_TOPIC


def test_an_allow_phrase_suppresses_an_overlapping_hit() -> None:
    index = LexiconIndex(
        [
            Entry("bomb recipe", "terrorism", 3),
            Entry("bath bomb", "allow", 0),
            Entry("大麻", "drugs", 1),
            Entry("大麻哈鱼", "allow", 0),
        ]
    )
    lexicon = Lexicon([index])

    assert lexicon.find_text("a bath bomb recipe") == []
    assert lexicon.find_text("大麻哈鱼好吃") == []
    assert [h.term for h in lexicon.find_text("bomb recipe and 大麻")] == ["bomb recipe", "大麻"]


def test_an_allow_phrase_in_pinyin_suppresses_a_pinyin_hit() -> None:
    index = LexiconIndex([Entry("死妈", "profanity", 2), Entry("司马", "allow", 0)])
    lexicon = Lexicon([index])

    assert lexicon.find_text("sima qian was a historian") == []
    assert [h.via for h in lexicon.find_text("你死妈")] == ["text"]
