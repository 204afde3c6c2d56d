"""One taxonomy of screening categories: the 31 risk types of TC260-003 Appendix A in their five
groups, then the categories EU and US instruments name and finer risk types hallmark screens for.

Every screen reports hits by category id; every jurisdiction maps every id to an action. An id
is stable: lexicon files, policy files and ledger entries name it. A category outside Appendix A
names the Appendix A type it falls under (``tc260``), so a compliance report can count every
hit against the 31 types; ``profanity`` falls under none.

The Appendix A list follows TC260-003 as published on 2024-02-29 (checked against reproductions
of the text; secondary sources say GB/T 45654-2025 carries it over as its informative Annex A,
UNCONFIRMED). The Chinese names are the standard's, the English names ours.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class Group:
    id: str
    code: str
    zh: str
    en: str


@dataclass(slots=True, frozen=True)
class Category:
    id: str
    group: str
    code: str
    """``"A.1 a)"`` for an Appendix A type; ``""`` for the other categories."""
    zh: str
    en: str
    tc260: str | None = None
    """For a category outside Appendix A, the id of the Appendix A type it falls under."""

    @property
    def in_appendix_a(self) -> bool:
        return bool(self.code)


GROUPS: tuple[Group, ...] = (
    Group(
        "core_values",
        "A.1",
        "包含违反社会主义核心价值观的内容",
        "Content violating the core socialist values",
    ),
    Group("discrimination", "A.2", "包含歧视性内容", "Discriminatory content"),
    Group("commercial", "A.3", "商业违法违规", "Commercial violations"),
    Group(
        "rights", "A.4", "侵犯他人合法权益", "Infringing others' legitimate rights and interests"
    ),
    Group(
        "service_security",
        "A.5",
        "无法满足特定服务类型的安全需求",
        "Failing the security needs of specific service types",
    ),
    Group(
        "additional", "", "其他类别", "Categories of EU and US instruments, and finer risk types"
    ),
)

_A = "core_values"
_D = "discrimination"
_C = "commercial"
_R = "rights"
_S = "service_security"
_X = "additional"

CATEGORIES: tuple[Category, ...] = (
    # A.1
    Category(
        "subversion",
        _A,
        "A.1 a)",
        "煽动颠覆国家政权、推翻社会主义制度",
        "Inciting subversion of state power or the overthrow of the socialist system",
    ),
    Category(
        "national_security",
        _A,
        "A.1 b)",
        "危害国家安全和利益、损害国家形象",
        "Endangering national security and interests, harming the national image",
    ),
    Category(
        "separatism",
        _A,
        "A.1 c)",
        "煽动分裂国家、破坏国家统一和社会稳定",
        "Inciting separatism, undermining national unity and social stability",
    ),
    Category(
        "terrorism", _A, "A.1 d)", "宣扬恐怖主义、极端主义", "Promoting terrorism or extremism"
    ),
    Category("ethnic_hatred", _A, "A.1 e)", "宣扬民族仇恨", "Promoting ethnic hatred"),
    Category(
        "violence_obscenity",
        _A,
        "A.1 f)",
        "宣扬暴力、淫秽色情",
        "Promoting violence, obscenity or pornography",
    ),
    Category(
        "false_information",
        _A,
        "A.1 g)",
        "传播虚假有害信息",
        "Spreading false and harmful information",
    ),
    Category(
        "other_prohibited",
        _A,
        "A.1 h)",
        "其他法律、行政法规禁止的内容",
        "Other content prohibited by laws and administrative regulations",
    ),
    # A.2
    Category("ethnic_discrimination", _D, "A.2 a)", "民族歧视内容", "Ethnic discrimination"),
    Category("religious_discrimination", _D, "A.2 b)", "信仰歧视内容", "Discrimination by belief"),
    Category(
        "national_discrimination", _D, "A.2 c)", "国别歧视内容", "Discrimination by nationality"
    ),
    Category("regional_discrimination", _D, "A.2 d)", "地域歧视内容", "Regional discrimination"),
    Category("gender_discrimination", _D, "A.2 e)", "性别歧视内容", "Gender discrimination"),
    Category("age_discrimination", _D, "A.2 f)", "年龄歧视内容", "Age discrimination"),
    Category(
        "occupational_discrimination", _D, "A.2 g)", "职业歧视内容", "Occupational discrimination"
    ),
    Category("health_discrimination", _D, "A.2 h)", "健康歧视内容", "Discrimination by health"),
    Category("other_discrimination", _D, "A.2 i)", "其他方面歧视内容", "Other discrimination"),
    # A.3
    Category(
        "ip_infringement",
        _C,
        "A.3 a)",
        "侵犯他人知识产权",
        "Infringing others' intellectual property rights",
    ),
    Category("business_ethics", _C, "A.3 b)", "违反商业道德", "Violating business ethics"),
    Category("trade_secrets", _C, "A.3 c)", "泄露他人商业秘密", "Disclosing others' trade secrets"),
    Category(
        "unfair_competition",
        _C,
        "A.3 d)",
        "利用算法、数据、平台等优势，实施垄断和不正当竞争行为",
        "Monopoly or unfair competition through advantages in algorithms, data or platforms",
    ),
    Category(
        "other_commercial", _C, "A.3 e)", "其他商业违法违规行为", "Other commercial violations"
    ),
    # A.4
    Category(
        "health_harm",
        _R,
        "A.4 a)",
        "危害他人身心健康",
        "Endangering others' physical or mental health",
    ),
    Category(
        "portrait_rights", _R, "A.4 b)", "侵害他人肖像权", "Infringing others' portrait rights"
    ),
    Category(
        "reputation_rights",
        _R,
        "A.4 c)",
        "侵害他人名誉权",
        "Infringing others' right of reputation",
    ),
    Category("honor_rights", _R, "A.4 d)", "侵害他人荣誉权", "Infringing others' right of honour"),
    Category("privacy", _R, "A.4 e)", "侵害他人隐私权", "Infringing others' privacy"),
    Category(
        "personal_information",
        _R,
        "A.4 f)",
        "侵害他人个人信息权益",
        "Infringing others' rights in personal information",
    ),
    Category(
        "other_rights",
        _R,
        "A.4 g)",
        "侵犯他人其他合法权益",
        "Infringing others' other legitimate rights and interests",
    ),
    # A.5
    Category(
        "inaccurate_content",
        _S,
        "A.5 a)",
        "内容不准确，严重不符合科学常识或主流认知",
        "Inaccurate content, seriously at odds with scientific common sense or mainstream views",
    ),
    Category(
        "unreliable_content",
        _S,
        "A.5 b)",
        "内容不可靠，虽然不包含严重错误的内容，但无法对使用者形成帮助",
        "Unreliable content that, without serious errors, cannot help the user",
    ),
    # EU and US instruments, and finer risk types
    Category(
        "sexual_minors",
        _X,
        "",
        "儿童性虐待内容",
        "Child sexual abuse material and sexualisation of minors",
        tc260="violence_obscenity",
    ),
    Category(
        "ncii",
        _X,
        "",
        "未经同意的私密影像",
        "Non-consensual intimate images, including AI forgeries",
        tc260="portrait_rights",
    ),
    Category("self_harm", _X, "", "自杀与自伤", "Suicide and self-harm", tc260="health_harm"),
    Category(
        "hate",
        _X,
        "",
        "仇恨言论",
        "Hate speech: slurs and dehumanisation of protected groups",
        tc260="ethnic_hatred",
    ),
    Category(
        "sexual", _X, "", "色情内容", "Sexual content and pornography", tc260="violence_obscenity"
    ),
    Category(
        "violence",
        _X,
        "",
        "暴力",
        "Violence: threats, instructions for violent crime, gore",
        tc260="violence_obscenity",
    ),
    Category(
        "weapons",
        _X,
        "",
        "枪支与武器",
        "Illegal weapons: firearms, their parts, chemical and biological weapons",
        tc260="other_prohibited",
    ),
    Category(
        "drugs",
        _X,
        "",
        "毒品",
        "Illegal drugs: making, buying and selling",
        tc260="other_prohibited",
    ),
    Category(
        "fraud",
        _X,
        "",
        "诈骗与洗钱",
        "Fraud, scams, forgery and money laundering",
        tc260="other_prohibited",
    ),
    Category("gambling", _X, "", "赌博", "Gambling", tc260="other_prohibited"),
    Category(
        "cybercrime",
        _X,
        "",
        "网络犯罪",
        "Cybercrime: malware, intrusion, attacks on systems",
        tc260="other_prohibited",
    ),
    Category(
        "cult",
        _X,
        "",
        "邪教",
        "Organisations banned as cults under PRC law",
        tc260="other_prohibited",
    ),
    Category("profanity", _X, "", "脏话", "Profanity and insults"),
)

CATEGORY_IDS: tuple[str, ...] = tuple(category.id for category in CATEGORIES)
APPENDIX_A: tuple[Category, ...] = tuple(c for c in CATEGORIES if c.in_appendix_a)
"""The 31 risk types of TC260-003 Appendix A, in the order of the text."""

_BY_ID = {category.id: category for category in CATEGORIES}
_GROUPS_BY_ID = {group.id: group for group in GROUPS}


def category(category_id: str) -> Category:
    """The category with that id; ``KeyError`` names the known ones."""
    try:
        return _BY_ID[category_id]
    except KeyError:
        raise KeyError(
            f"unknown category {category_id!r}; known: {', '.join(CATEGORY_IDS)}"
        ) from None


def group(group_id: str) -> Group:
    return _GROUPS_BY_ID[group_id]


def appendix_a_type(category_id: str) -> Category | None:
    """The Appendix A risk type a category counts as: itself, the type it falls under, or none."""
    found = category(category_id)
    if found.in_appendix_a:
        return found
    return _BY_ID[found.tc260] if found.tc260 is not None else None
