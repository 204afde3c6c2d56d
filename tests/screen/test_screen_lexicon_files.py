"""Operator lexicon files through settings, and the errors for malformed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallmark.errors import PolicyFileError
from hallmark.registry import Components
from hallmark.screen.lexicon import Lexicon, LexiconFileError, parse_lexicon, read_lexicon, register
from hallmark.settings import Settings


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


def registered_lexicon(settings: Settings) -> Lexicon:
    components = Components(settings)
    register(components)
    screen = components.screens.get("lexicon")
    assert isinstance(screen, Lexicon)
    return screen


def test_an_operator_file_named_in_settings_adds_terms_and_allow_phrases(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        "extra.tsv",
        "# our own list\n"
        "widget smuggling\tother_prohibited\t3\n"
        "秘密配方\ttrade_secrets\t2\n"
        "\n"
        "shit happens\tallow\n",
    )
    settings = Settings(home=tmp_path / "home", lexicon_files=f" {extra} ,")

    lexicon = registered_lexicon(settings)

    assert settings.lexicon_paths() == [extra]
    hits = lexicon.find_text("Widget Smuggling and 秘密配方")
    assert [(hit.category, hit.term, hit.severity) for hit in hits] == [
        ("other_prohibited", "widget smuggling", 3),
        ("trade_secrets", "秘密配方", 2),
    ]
    # The operator's allow phrase switches off the built-in term inside it, not elsewhere.
    assert lexicon.find_text("well, shit happens") == []
    assert [hit.term for hit in lexicon.find_text("oh shit")] == ["shit"]


def test_without_operator_files_the_builtin_lexicon_is_registered(tmp_path: Path) -> None:
    lexicon = registered_lexicon(Settings(home=tmp_path))

    assert [hit.category for hit in lexicon.find_text("how to make a bomb")] == ["terrorism"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("just one column", "expected 'term<TAB>category<TAB>severity"),
        ("a\tb\tc\td\te", "found 5 column(s)"),
        ("\tprofanity\t1", "the term is empty"),
        ("rudeness\tbad_manners\t2", "unknown category 'bad_manners'"),
        ("rudeness\tprofanity", "severity must be 1, 2 or 3, found none"),
        ("rudeness\tprofanity\t5", "severity must be 1, 2 or 3, found '5'"),
        ("rudeness\tprofanity\thigh", "severity must be 1, 2 or 3, found 'high'"),
        ("rudeness\tprofanity\t2\tpinyin", "the fourth column may only be 'initials'"),
        ("nice words\tallow\t1", "an allow line has no other columns"),
    ],
)
def test_a_malformed_line_is_an_error_naming_file_and_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = write(tmp_path, "bad.tsv", f"# header\nfine term\tprofanity\t1\n{line}\n")

    with pytest.raises(LexiconFileError) as caught:
        read_lexicon(path)

    assert caught.value.message.startswith(f"{path}:3: ")
    assert problem in caught.value.message
    assert caught.value.details == {"file": str(path), "line": 3}
    assert isinstance(caught.value, PolicyFileError)


def test_a_term_without_letters_is_an_error_when_the_lexicon_is_built(tmp_path: Path) -> None:
    path = write(tmp_path, "symbols.tsv", "fine\tprofanity\t1\n@@@ !!!\tprofanity\t1\n")
    settings = Settings(home=tmp_path / "home", lexicon_files=str(path))

    with pytest.raises(LexiconFileError, match=r"symbols\.tsv:2: the term '@@@ !!!' has no"):
        registered_lexicon(settings)


def test_a_missing_or_undecodable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "absent.tsv"
    latin1 = write(tmp_path, "latin1.tsv", "caf\xe9\tprofanity\t1\n", encoding="latin-1")

    with pytest.raises(LexiconFileError, match=r"absent\.tsv: cannot read the lexicon"):
        registered_lexicon(Settings(home=tmp_path / "home", lexicon_files=str(missing)))
    with pytest.raises(LexiconFileError, match=r"latin1\.tsv: cannot read the lexicon"):
        read_lexicon(latin1)


def test_parse_accepts_a_byte_order_mark_and_windows_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "bom.tsv"
    path.write_bytes("\ufeffterm one\tprofanity\t1\r\n另一个词\tprofanity\t2\r\n".encode())

    entries = read_lexicon(path)

    assert [(e.term, e.severity, e.language) for e in entries] == [
        ("term one", 1, "en"),
        ("另一个词", 2, "zh"),
    ]
    assert entries[1].source == f"{path}:2"


def test_parse_lexicon_names_its_source_in_errors() -> None:
    with pytest.raises(LexiconFileError, match=r"^inline:1: unknown category"):
        parse_lexicon("x\tnope\t1", "inline")
