"""Find and read jurisdiction files: the built-in ones shipped in the package, and an extra
folder (``Settings.policy_dir``) whose files add jurisdictions or replace built-in ones.

In a file, a rule's ``sources`` is a list of references (strings); each becomes a
:class:`Citation` of that file's jurisdiction. The file's name is the jurisdiction code.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hallmark.errors import PolicyFileError, UnknownJurisdiction, UserError
from hallmark.policy.combine import combine
from hallmark.policy.model import Jurisdiction, Policy

SUFFIX = ".toml"
_BUILTIN_DIR = resources.files("hallmark.policy").joinpath("jurisdictions")
_CODE_SEPARATORS = re.compile(r"[\s,]+")


def parse_codes(text: str) -> list[str]:
    """``"cn, eu,us-ca"`` -> ``["cn", "eu", "us-ca"]`` (commas or spaces; lower-cased; unique)."""
    codes = [code.lower() for code in _CODE_SEPARATORS.split(text) if code]
    if not codes:
        raise UserError("no jurisdiction given; name at least one, e.g. 'cn' or 'cn,eu,us-ca'")
    return list(dict.fromkeys(codes))


def available_jurisdictions(extra_dir: Path | None = None) -> list[str]:
    """Codes of the built-in jurisdictions and of the ``*.toml`` files in ``extra_dir``."""
    return sorted(_builtin_files().keys() | _extra_files(extra_dir).keys())


def load_jurisdiction(code: str, extra_dir: Path | None = None) -> Jurisdiction:
    """Read one jurisdiction; a file in ``extra_dir`` wins over the built-in of the same code."""
    code = code.strip().lower()
    extra = _extra_files(extra_dir)
    if code in extra:
        return _read(extra[code], code)
    if code in _builtin_files():
        return _load_builtin(code)
    known = ", ".join(available_jurisdictions(extra_dir))
    raise UnknownJurisdiction(f"unknown jurisdiction '{code}'; known: {known}", code=code)


def resolve_policy(codes: str | Sequence[str], extra_dir: Path | None = None) -> Policy:
    """The combined policy for ``"cn,eu"`` or ``["cn", "eu"]``."""
    text = codes if isinstance(codes, str) else ",".join(codes)
    parsed = tuple(parse_codes(text))
    if extra_dir is None:
        return _combined_builtin(parsed)
    return combine([load_jurisdiction(code, extra_dir) for code in parsed])


@functools.lru_cache(maxsize=64)
def _combined_builtin(codes: tuple[str, ...]) -> Policy:
    # Built-in files never change while the process runs and policies are frozen, so every
    # request for the same combination can share one; files in an extra dir are re-read.
    return combine([load_jurisdiction(code) for code in codes])


@functools.cache
def _load_builtin(code: str) -> Jurisdiction:
    return _read(_builtin_files()[code], code)


@functools.cache
def _builtin_files() -> dict[str, Traversable]:
    return {
        entry.name.removesuffix(SUFFIX): entry
        for entry in _BUILTIN_DIR.iterdir()
        if entry.name.endswith(SUFFIX) and entry.is_file()
    }


def _extra_files(extra_dir: Path | None) -> dict[str, Traversable]:
    if extra_dir is None:
        return {}
    if not extra_dir.is_dir():
        raise PolicyFileError(
            f"policy folder {extra_dir} is not a folder; fix HALLMARK_POLICY_DIR",
            file=str(extra_dir),
        )
    return {path.stem.lower(): path for path in sorted(extra_dir.glob(f"*{SUFFIX}"))}


def _read(file: Traversable, code: str) -> Jurisdiction:
    where = str(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileError(f"{where}: cannot read: {exc}", file=where) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{where}: invalid TOML: {exc}", file=where) from exc
    declared = data.setdefault("code", code)
    if declared != code:
        raise PolicyFileError(
            f"{where}: code {declared!r} does not match the file name (expected {code!r})",
            file=where,
        )
    try:
        return Jurisdiction.model_validate(_cite(data, code))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(file)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PolicyFileError(f"{where}: {problems}", file=where) from exc


def _cite(value: Any, code: str) -> Any:
    """Turn each reference string under a ``sources`` or ``*_source`` key into a citation."""
    if isinstance(value, list):
        return [_cite(item, code) for item in value]
    if not isinstance(value, dict):
        return value
    cited: dict[str, Any] = {}
    for key, item in value.items():
        if key == "sources" and isinstance(item, list):
            cited[key] = [_citation(ref, code) for ref in item]
        elif key.endswith("_source"):
            cited[key] = _citation(item, code)
        else:
            cited[key] = _cite(item, code)
    return cited


def _citation(ref: Any, code: str) -> Any:
    return {"jurisdiction": code, "ref": ref} if isinstance(ref, str) else ref
