"""Reading jurisdiction files: codes, the extra folder, and the errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallmark.errors import PolicyFileError, UnknownJurisdiction, UserError
from hallmark.policy import (
    available_jurisdictions,
    load_jurisdiction,
    parse_codes,
    resolve_policy,
)

MINIMAL = """
name = "{name}"
language = "en"
wording_source = "{code} wording law"

[wording]
en = "{label}"

[labels.image]
explicit = true
implicit = ["c2pa"]
sources = ["{code} labelling law s. 1"]

[screening]
hate = {{ action = "block", sources = ["{code} hate law"] }}

[retention]
min_days = {days}
sources = ["{code} records law"]

[complaints]

[minors]
required = false
sources = ["{code}: no minors duty"]

[chatbot_disclosure]
required = false
sources = ["{code}: no disclosure duty"]
"""


def write_jurisdiction(
    folder: Path, code: str, *, name: str = "Test", label: str = "AI made", days: int = 10
) -> Path:
    path = folder / f"{code}.toml"
    path.write_text(MINIMAL.format(code=code, name=name, label=label, days=days), encoding="utf-8")
    return path


def test_parse_codes_splits_on_commas_and_spaces() -> None:
    assert parse_codes("cn, eu,us-ca") == ["cn", "eu", "us-ca"]
    assert parse_codes("  CN  eu ") == ["cn", "eu"]


def test_parse_codes_drops_duplicates_and_empty_items() -> None:
    assert parse_codes("cn,,cn, ,eu,") == ["cn", "eu"]


@pytest.mark.parametrize("text", ["", "   ", " , ,"])
def test_parse_codes_of_nothing_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError, match="no jurisdiction given"):
        parse_codes(text)


def test_unknown_code_error_names_the_code_and_the_known_ones() -> None:
    with pytest.raises(UnknownJurisdiction) as caught:
        load_jurisdiction("xx")

    assert str(caught.value) == "unknown jurisdiction 'xx'; known: cn, eu, us-ca"
    assert caught.value.details == {"code": "xx"}


def test_resolve_policy_with_an_unknown_code_is_unknown_jurisdiction() -> None:
    with pytest.raises(UnknownJurisdiction, match="'mars'"):
        resolve_policy("cn, mars")


def test_a_path_is_not_a_jurisdiction_code(tmp_path: Path) -> None:
    write_jurisdiction(tmp_path, "zz")

    with pytest.raises(UnknownJurisdiction):
        load_jurisdiction(f"../{tmp_path.name}/zz", tmp_path)


def test_extra_folder_adds_a_jurisdiction(tmp_path: Path) -> None:
    write_jurisdiction(tmp_path, "zz", name="Zedland")

    assert available_jurisdictions(tmp_path) == ["cn", "eu", "us-ca", "zz"]
    zz = load_jurisdiction("zz", tmp_path)
    assert zz.name == "Zedland"
    assert zz.retention.sources[0].jurisdiction == "zz"
    assert zz.retention.sources[0].ref == "zz records law"


def test_extra_folder_file_overrides_the_builtin_of_the_same_code(tmp_path: Path) -> None:
    write_jurisdiction(tmp_path, "eu", name="EU, local reading", days=400)

    eu = load_jurisdiction("eu", tmp_path)

    assert eu.name == "EU, local reading"
    assert resolve_policy("eu,cn", tmp_path).retention.min_days == 400
    assert available_jurisdictions(tmp_path) == ["cn", "eu", "us-ca"]
    assert load_jurisdiction("eu").name == "European Union"


def test_unknown_code_with_extra_folder_lists_its_codes_too(tmp_path: Path) -> None:
    write_jurisdiction(tmp_path, "zz")

    with pytest.raises(UnknownJurisdiction, match="known: cn, eu, us-ca, zz"):
        load_jurisdiction("xx", tmp_path)


def test_invalid_toml_is_a_policy_file_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("name = 'unterminated\n", encoding="utf-8")

    with pytest.raises(PolicyFileError) as caught:
        load_jurisdiction("broken", tmp_path)

    assert str(bad) in caught.value.message
    assert "invalid TOML" in caught.value.message


def test_a_rule_without_sources_is_a_policy_file_error(tmp_path: Path) -> None:
    path = write_jurisdiction(tmp_path, "zz")
    path.write_text(
        path.read_text(encoding="utf-8").replace('sources = ["zz records law"]', ""),
        encoding="utf-8",
    )

    with pytest.raises(PolicyFileError, match=r"zz\.toml.*retention cites no source"):
        load_jurisdiction("zz", tmp_path)


def test_an_empty_citation_is_a_policy_file_error(tmp_path: Path) -> None:
    path = write_jurisdiction(tmp_path, "zz")
    path.write_text(
        path.read_text(encoding="utf-8").replace('"zz records law"', '"  "'),
        encoding="utf-8",
    )

    with pytest.raises(PolicyFileError, match=r"retention\.sources\.0\.ref"):
        load_jurisdiction("zz", tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('action = "block"', 'action = "ban"', "screening.hate.action"),
        ('implicit = ["c2pa"]', 'implicit = ["stamp"]', "unknown implicit scheme stamp"),
        ("[screening]\nhate", "[screening]\nrudeness", "unknown screening category rudeness"),
        ("min_days = 10", "min_days = -1", "retention.min_days"),
        ('language = "en"', 'language = "en"\nlanguages = ["en"]', "languages"),
        ('en = "AI made"', 'fr = "IA"', "needs an 'en' entry"),
        ("[complaints]", '[refusal]\nen = "No."\n\n[complaints]', "refusal needs a refusal_source"),
        (
            "[complaints]",
            '[refusal]\nzh = "不行"\n\n[complaints]',
            "refusal needs an 'en' entry",
        ),
    ],
)
def test_invalid_values_are_policy_file_errors_naming_the_field(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    path = write_jurisdiction(tmp_path, "zz")
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")

    with pytest.raises(PolicyFileError) as caught:
        load_jurisdiction("zz", tmp_path)

    assert "zz.toml" in caught.value.message
    assert problem in caught.value.message


def test_a_code_that_disagrees_with_the_file_name_is_a_policy_file_error(tmp_path: Path) -> None:
    path = write_jurisdiction(tmp_path, "zz")
    path.write_text('code = "yy"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")

    with pytest.raises(PolicyFileError, match="does not match the file name"):
        load_jurisdiction("zz", tmp_path)


def test_a_missing_extra_folder_is_a_policy_file_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="not a folder"):
        available_jurisdictions(tmp_path / "absent")
