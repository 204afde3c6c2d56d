"""Templates: JSON presets of a look, applied to a project in one step.

A template names a caption style and height, intro and outro cards (a colour or gradient with
an optional title; ``{title}`` in its text becomes the video's title), a layout (how clips fit
the canvas, the background, the canvas size) and the music's level and ducking. Every part is
optional: what a template leaves out, the project keeps.

``apply_template`` is pure and can be repeated: the cards it adds live on tracks named
``template:...``, and applying a template first takes those away (and moves the project back
from behind the old intro), so applying twice gives what applying once gives, and applying a
second template replaces the first one's cards. Bundled templates sit beside this module in
``templates/*.json``; ``load_template`` also reads a template from any JSON file.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.dataclasses import dataclass

from hallmark.errors import UnknownComponent, UserError
from hallmark.studio.timeline import (
    MAX_SIDE,
    Color,
    Fit,
    Project,
    TextStyle,
    parse_project,
    project_duration,
    project_to_dict,
)

FORMAT_VERSION = 1
TRACK_PREFIX = "template:"  # tracks a template added, taken away when one is applied again
INTRO = "template:intro"
OUTRO = "template:outro"
TITLE = ":title"  # the text track above a card's track: "template:intro:title"
MAX_CARD = 30.0  # seconds an intro or outro may last

_STRICT = ConfigDict(extra="forbid")

Side = Annotated[int, Field(ge=16, le=MAX_SIDE, multiple_of=2)]


class InvalidTemplate(UserError):
    code = "invalid_template"


@dataclass(frozen=True, slots=True, config=_STRICT)
class Card:
    """An intro or outro: a full-canvas card, with ``text`` centred on it when not empty."""

    duration: Annotated[float, Field(gt=0, le=MAX_CARD, allow_inf_nan=False)]
    text: Annotated[str, Field(max_length=2000)] = ""
    color: Color = "#000000"
    gradient_to: Color | None = None
    direction: Literal["vertical", "horizontal", "diagonal"] = "vertical"
    style: TextStyle = TextStyle(size=0.07, bold=True)
    fade_in: Annotated[float, Field(ge=0, le=MAX_CARD, allow_inf_nan=False)] = 0.0
    fade_out: Annotated[float, Field(ge=0, le=MAX_CARD, allow_inf_nan=False)] = 0.0


@dataclass(frozen=True, slots=True, config=_STRICT)
class Layout:
    fit: Fit | None = None  # for every video and image clip
    background: Color | None = None
    width: Side | None = None
    height: Side | None = None


@dataclass(frozen=True, slots=True, config=_STRICT)
class Template:
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: str = ""
    caption_style: TextStyle | None = None
    caption_y: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    intro: Card | None = None
    outro: Card | None = None
    layout: Layout | None = None
    music_volume: Annotated[float, Field(ge=0, le=4, allow_inf_nan=False)] | None = None
    duck: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    version: Literal[1] = 1  # FORMAT_VERSION


_ADAPTER: TypeAdapter[Template] = TypeAdapter(Template)
_STYLE: TypeAdapter[TextStyle] = TypeAdapter(TextStyle)


# --- reading ---------------------------------------------------------------------------------


def bundled_templates() -> list[str]:
    """The names of the templates that ship with hallmark."""
    folder = resources.files("hallmark.studio").joinpath("templates")
    return sorted(
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".json")
    )


def load_template(name_or_path: str) -> Template:
    """A bundled template by name (``"bold"``) or the template in a JSON file."""
    names = bundled_templates()
    if name_or_path in names:
        file = resources.files("hallmark.studio").joinpath("templates", f"{name_or_path}.json")
        return parse_template(_json(file.read_text(encoding="utf-8"), f"{name_or_path}.json"))
    path = Path(name_or_path)
    if path.suffix.lower() != ".json" and not path.exists():
        raise UnknownComponent(
            f"unknown template {name_or_path!r}; bundled templates: {', '.join(names)} "
            "(or give the path of a .json template)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no such template file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the template {path}: {exc}") from None
    return parse_template(_json(text, path.name), label=path.name)


def parse_template(data: Any, *, label: str = "template") -> Template:
    """A checked ``Template`` from JSON-like data, or ``InvalidTemplate`` naming the problems."""
    if not isinstance(data, dict):
        raise InvalidTemplate(f"{label}: a template must be a JSON object")
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise InvalidTemplate(
            f"{label}: version: this hallmark reads template format {FORMAT_VERSION}, "
            f"not {version!r}"
        )
    try:
        template = _ADAPTER.validate_python(data)
    except PydanticValidationError as exc:
        problems = [_describe(error) for error in exc.errors()[:5]]
        raise InvalidTemplate(f"{label}: " + "; ".join(problems), problems=problems) from None
    for where, card in (("intro", template.intro), ("outro", template.outro)):
        if card is not None and card.fade_in + card.fade_out > card.duration + 1e-6:
            raise InvalidTemplate(
                f"{label}: {where}: fade_in + fade_out is longer than the card "
                f"({card.duration:g} s)"
            )
    return template


def _json(text: str, label: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidTemplate(
            f"{label} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _describe(error: Any) -> str:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + str(part)
    message = str(error["msg"])
    if error["type"] in {"extra_forbidden", "unexpected_keyword_argument"}:
        message = "is not a known field"
    elif error["type"] == "missing":
        message = "is required"
    elif error["type"] == "string_pattern_mismatch":
        message = "must be a colour like #RRGGBB or #RRGGBBAA"
    return f"{path}: {message}" if path else message


# --- applying --------------------------------------------------------------------------------


def apply_template(project: Project, template: Template, *, title: str | None = None) -> Project:
    """The project in the template's look. ``title`` fills ``{title}`` in the cards' text
    (else the project's name). An outro needs every clip's length known (``media.resolve``)."""
    data = project_to_dict(project)
    tracks = [track for track in data["tracks"] if not _is_template_track(track)]
    earlier = _intro_length(data["tracks"])  # the intro a previous template put in front
    later = template.intro.duration if template.intro is not None else 0.0
    for track in tracks:
        for clip in track["clips"]:
            if earlier:  # rounded, so that (t + a) - a is t again, not t plus float dust
                clip["start"] = max(0.0, round(clip["start"] - earlier, 9))
            clip["start"] += later
        _restyle(track, template)
    data["tracks"] = tracks
    layout = template.layout
    if layout is not None:
        data |= {
            key: value
            for key, value in (
                ("background", layout.background),
                ("width", layout.width),
                ("height", layout.height),
            )
            if value is not None
        }
    heading = title if title is not None else project.name
    if template.intro is not None:
        tracks += _card_tracks(INTRO, template.intro, 0.0, heading)
    if template.outro is not None:
        end = project_duration(parse_project(data))
        tracks += _card_tracks(OUTRO, template.outro, end, heading)
    return parse_project(data)


def _restyle(track: dict[str, Any], template: Template) -> None:
    style = template.caption_style
    layout = template.layout
    for clip in track["clips"]:
        if track["role"] == "caption" and clip["kind"] == "text":
            if style is not None:
                clip["style"] = _style(style)
            if template.caption_y is not None:
                clip["y"] = template.caption_y
        elif clip["kind"] in {"video", "image"} and layout is not None and layout.fit is not None:
            clip["fit"] = layout.fit
        elif track["role"] == "music" and clip["kind"] == "audio":
            if template.music_volume is not None:
                clip["volume"] = template.music_volume
            if template.duck is not None:
                clip["duck"] = template.duck


def _style(style: TextStyle) -> dict[str, Any]:
    """A ``TextStyle`` as the project's JSON writes it."""
    data: dict[str, Any] = _STYLE.dump_python(style, mode="json")
    return data


def _card_tracks(name: str, card: Card, start: float, title: str) -> list[dict[str, Any]]:
    tracks: list[dict[str, Any]] = [
        {
            "kind": "visual",
            "name": name,
            "clips": [
                {
                    "kind": "card",
                    "start": start,
                    "duration": card.duration,
                    "color": card.color,
                    "gradient_to": card.gradient_to,
                    "direction": card.direction,
                    "fade_in": card.fade_in,
                    "fade_out": card.fade_out,
                }
            ],
        }
    ]
    text = card.text.replace("{title}", title).strip()
    if text:
        tracks.append(
            {
                "kind": "text",
                "name": name + TITLE,
                "clips": [
                    {
                        "kind": "text",
                        "text": text,
                        "start": start,
                        "duration": card.duration,
                        "y": 0.5,
                        "style": _style(card.style),
                        "fade_in": card.fade_in,
                        "fade_out": card.fade_out,
                    }
                ],
            }
        )
    return tracks


def _is_template_track(track: dict[str, Any]) -> bool:
    return str(track["name"]).startswith(TRACK_PREFIX)


def _intro_length(tracks: list[dict[str, Any]]) -> float:
    return max(
        (
            clip["start"] + clip["duration"]
            for track in tracks
            if track["name"] == INTRO
            for clip in track["clips"]
        ),
        default=0.0,
    )
