"""The ``openai-vision`` perceiver: a vision-language model behind an OpenAI-compatible API.

A bigger model than the bundled ones, by configuration: Qwen2.5-VL served by vLLM (or any
server with OpenAI's ``/chat/completions`` and image content parts) is shown the image and
asked for the objects in it, and the text, with boxes. Registered only when
``HALLMARK_VISION_BASE_URL`` is set.

The image is sent as a PNG data URL, as shown (EXIF orientation applied), resized so that both
sides are multiples of 28 and it has at most ``max_pixels`` pixels: exactly the size Qwen2.5-VL's
processor would resize it to (its ``smart_resize``), so the absolute pixel boxes the model
answers with are in the sent image and scale back to the original exactly. The server's own
``max_pixels`` must not be smaller, or its processor resizes the image again.

Both of Qwen's grounding formats are read, into ``object`` findings (``text`` findings for the
text it reads):

- Qwen2.5-VL's JSON list, ``[{"bbox_2d": [x1, y1, x2, y2], "label": "dog"}]``, in absolute
  pixels of the image it saw, bare or inside a ````json`` fence; text as ``"text_content"``
  (its OCR format) or ``"text"``.
- Qwen-VL and Qwen2-VL's tags, ``<|object_ref_start|>dog<|object_ref_end|><|box_start|>(x1,y1),
  (x2,y2)<|box_end|>``, on a 0–1000 grid; also with the special tokens stripped, as servers
  that skip special tokens return them (``dog(x1,y1),(x2,y2)``).

Boxes become ``(x, y, w, h)`` in the original image's pixels, clamped to it; a box wholly
outside it is dropped. The model gives no confidence, so each finding's score is 1.0 unless
its item carries a ``score`` or ``confidence``.

A reply in neither format is an upstream failure, not an empty result: the model answered, but
not with boxes, and "nothing found" would be a claim it did not make. It raises
``VisionReplyUnreadable`` (an ``UpstreamError``, its ``details`` holding the start of the
reply), so a caller may fall back to the bundled perceiver. An empty list (``[]``) is an
honest "nothing found" and gives no findings.

Failures are translated at this boundary by the client the ``openai-compatible`` chat engine
uses too (``hallmark.engines.openai_http``): a server that cannot be reached, or answers 429 or
5xx, is retried with exponential backoff and jitter (``HALLMARK_VISION_RETRIES``), then it is an
``UpstreamError``; a server silent for longer than ``HALLMARK_VISION_TIMEOUT_SECONDS`` is an
``UpstreamTimeout``.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image, ImageOps

from hallmark.engines.openai_http import BACKOFF_SECONDS, OpenAIClient
from hallmark.errors import UpstreamError, UserError
from hallmark.mark.explicit_image import PILLOW_FORMATS, decode_image, decoding
from hallmark.perception.base import (
    Box,
    Finding,
    PerceivedMedium,
    Perceiver,
    PerceptionInput,
)

if TYPE_CHECKING:
    import httpx  # imported where used: registering the perceiver should not cost its import

    from hallmark.registry import Components

PATCH = 28  # Qwen2.5-VL's pixels per side of a merged patch: its image sides are multiples
MIN_PIXELS = 56 * 56  # Qwen2.5-VL processor's default
MAX_PIXELS = 1280 * 28 * 28  # about a megapixel: Qwen's suggested cap for grounding
GRID = 1000  # Qwen-VL / Qwen2-VL box coordinates are on a 0..1000 grid
REPLY_TOKENS = 2048
REPLY_EXCERPT = 500

PROMPT = (
    "Locate every object in the image and output their bbox coordinates in JSON format: a list "
    'of {"bbox_2d": [x1, y1, x2, y2], "label": "<what it is>"}. For text written in the image, '
    'give each line as {"bbox_2d": [x1, y1, x2, y2], "label": "text", "text_content": "<the '
    'text>"}. Output only the JSON list; output [] if there is nothing.'
)
QUESTION_PROMPT = " Include everything that helps to answer this question: {question}"

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_TAGGED = re.compile(
    r"<\|object_ref_start\|>(.*?)<\|object_ref_end\|>\s*((?:<\|box_start\|>.*?<\|box_end\|>\s*)+)",
    re.DOTALL,
)
_TAGGED_BOX = re.compile(r"<\|box_start\|>(.*?)<\|box_end\|>", re.DOTALL)
_NUMBERS = re.compile(r"-?\d+(?:\.\d+)?")
# The tags with their special tokens stripped: "a dog(100,200),(300,400)"
_STRIPPED = re.compile(
    r"([^\n()\[\]{}<>,.;:]*?)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*,\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)"
)
_TEXT_KEYS = ("text_content", "text", "content")
_TEXT_LABELS = frozenset(("text", "words", "writing", "caption", "sign text", "ocr"))


class VisionReplyUnreadable(UpstreamError):
    """The vision model answered, but with no boxes in a format that can be read."""

    code = "upstream_unreadable"


# --- boxes in the model's reply (pure) ---------------------------------------------------------


def smart_resize(
    width: int, height: int, max_pixels: int = MAX_PIXELS, min_pixels: int = MIN_PIXELS
) -> tuple[int, int]:
    """The size Qwen2.5-VL's processor gives an image: both sides multiples of ``PATCH``,
    the area within ``min_pixels``..``max_pixels``, the aspect ratio kept as well as that
    allows."""
    w = max(PATCH, round(width / PATCH) * PATCH)
    h = max(PATCH, round(height / PATCH) * PATCH)
    if w * h > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w = max(PATCH, math.floor(width / beta / PATCH) * PATCH)
        h = max(PATCH, math.floor(height / beta / PATCH) * PATCH)
    elif w * h < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w = math.ceil(width * beta / PATCH) * PATCH
        h = math.ceil(height * beta / PATCH) * PATCH
    return w, h


def parse_grounding(
    reply: str, size: tuple[int, int], sent: tuple[int, int] | None = None
) -> list[Finding] | None:
    """The findings in a model's grounding reply; None when it is in no known format.

    ``size`` is the original image's (width, height), ``sent`` the size of the image the model
    saw (its JSON boxes are in that image's pixels; the tags' are on the 0–1000 grid).
    """
    seen = sent or size
    items = _json_items(reply)
    if items is not None:
        found = [_from_item(item, size, seen) for item in items]
        return [finding for finding in found if finding is not None]
    tagged = _tagged(reply, size)
    return tagged if tagged is not None else None


def _json_items(reply: str) -> list[dict[str, Any]] | None:
    """The JSON list of boxes in a reply (bare, fenced, or after some words), or None."""
    candidates = [match.group(1) for match in _FENCE.finditer(reply)]
    candidates.append(reply)
    if (start := reply.find("[")) >= 0 and (end := reply.rfind("]")) > start:
        candidates.append(reply[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate.strip())
        except ValueError:
            continue
        if isinstance(value, dict):
            value = [value]
        if _boxes_list(value):
            return list(value)
    return None


def _boxes_list(value: object) -> bool:
    """Whether a JSON value is a list of boxes: of objects, some with a box, or empty."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return False
    return not value or any(_box_of(item) is not None for item in value)


def _box_of(item: dict[str, Any]) -> list[float] | None:
    for key in ("bbox_2d", "bbox", "box_2d", "box"):
        value = item.get(key)
        if isinstance(value, list) and len(value) == 4:
            try:
                return [float(number) for number in value]
            except (TypeError, ValueError):
                return None
    return None


def _from_item(
    item: dict[str, Any], size: tuple[int, int], seen: tuple[int, int]
) -> Finding | None:
    corners = _box_of(item)
    if corners is None:
        return None
    box = _pixel_box(corners, size, (size[0] / seen[0], size[1] / seen[1]))
    if box is None:
        return None
    label = str(item.get("label") or "").strip()
    text = next((str(item[key]).strip() for key in _TEXT_KEYS if item.get(key)), "")
    score = item.get("score", item.get("confidence", 1.0))
    score = min(1.0, max(0.0, float(score))) if isinstance(score, int | float) else 1.0
    if text and (not label or label.casefold() in _TEXT_LABELS):
        return Finding("text", text, score, box, detail={"source": "openai-vision"})
    if not label:
        return None
    detail: dict[str, Any] = {"source": "openai-vision"}
    if text:
        detail["text"] = text
    return Finding("object", label, score, box, detail=detail)


def _tagged(reply: str, size: tuple[int, int]) -> list[Finding] | None:
    """Findings from Qwen's ``<|object_ref_start|>`` tags, or from their stripped form."""
    scale = (size[0] / GRID, size[1] / GRID)
    found: list[Finding] = []
    matches = list(_TAGGED.finditer(reply))
    for match in matches:
        label = match.group(1).strip()
        for box_text in _TAGGED_BOX.findall(match.group(2)):
            numbers = [float(n) for n in _NUMBERS.findall(box_text)]
            if len(numbers) == 4 and label:
                found.extend(_object(label, numbers, size, scale))
    if matches:
        return found
    stripped = list(_STRIPPED.finditer(reply))
    for match in stripped:
        label = match.group(1).strip(" -*\t\"'")
        numbers = [float(match.group(k)) for k in range(2, 6)]
        if label:
            found.extend(_object(label, numbers, size, scale))
    return found if stripped else None


def _object(
    label: str, corners: list[float], size: tuple[int, int], scale: tuple[float, float]
) -> Iterator[Finding]:
    box = _pixel_box(corners, size, scale)
    if box is not None:
        yield Finding("object", label, 1.0, box, detail={"source": "openai-vision"})


def _pixel_box(
    corners: list[float], size: tuple[int, int], scale: tuple[float, float]
) -> Box | None:
    """``x1, y1, x2, y2`` scaled into the image and clamped to it, as ``(x, y, w, h)``."""
    x1, y1, x2, y2 = corners
    left, right = sorted((x1 * scale[0], x2 * scale[0]))
    top, bottom = sorted((y1 * scale[1], y2 * scale[1]))
    left, right = max(0, round(left)), min(size[0], round(right))
    top, bottom = max(0, round(top)), min(size[1], round(bottom))
    if right <= left or bottom <= top:
        return None
    return (left, top, right - left, bottom - top)


# --- the image sent ------------------------------------------------------------------------------


def image_payload(
    source: PerceptionInput, max_pixels: int = MAX_PIXELS
) -> tuple[str, tuple[int, int], tuple[int, int]]:
    """The image as a PNG data URL at the size the model should see it, with the original's
    (width, height) as shown and the sent one's."""
    pillow_format = PILLOW_FORMATS.get(source.media_type.split(";")[0].strip().casefold())
    if pillow_format is None:
        supported = ", ".join(sorted(set(PILLOW_FORMATS) - {"image/jpg"}))
        raise UserError(
            f"{source.path.name}: cannot look at {source.media_type or 'this file'} with a vision "
            f"model; supported: {supported}"
        )
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {source.path.name}: {exc.strerror or exc}") from exc
    try:
        image = decode_image(data, pillow_format)
        with decoding(pillow_format):
            shown = ImageOps.exif_transpose(image).convert("RGB")
    except UserError as exc:
        raise UserError(f"{source.path.name}: {exc.message}") from exc
    size = shown.size
    sent = smart_resize(*size, max_pixels=max_pixels)
    if sent != size:
        shown = shown.resize(sent, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    shown.save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return url, size, sent


# --- the perceiver -------------------------------------------------------------------------------


class OpenAIVisionPerceiver(Perceiver):
    name: ClassVar[str] = "openai-vision"
    media: ClassVar[frozenset[PerceivedMedium]] = frozenset({"image"})

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        retries: int = 2,
        *,
        max_pixels: int = MAX_PIXELS,
        backoff: float = BACKOFF_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = OpenAIClient(
            base_url,
            api_key,
            model,
            timeout,
            retries,
            backoff=backoff,
            transport=transport,
            setting_prefix="HALLMARK_VISION",
        )
        self.base_url = self._client.base_url
        self._max_pixels = max_pixels

    def __repr__(self) -> str:  # never the key
        return f"OpenAIVisionPerceiver({self.base_url!r}, model={self._client.known_model!r})"

    @property
    def model(self) -> str:
        """The model asked: the configured one, else the first the server lists."""
        return self._client.model

    def perceive(self, source: PerceptionInput, question: str | None = None) -> list[Finding]:
        url, size, sent = image_payload(source, self._max_pixels)
        text = PROMPT + (QUESTION_PROMPT.format(question=question.strip()) if question else "")
        body = {
            "model": self.model,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": url}},
                        {"type": "text", "text": text},
                    ],
                }
            ],
            "max_tokens": REPLY_TOKENS,
            "temperature": 0,
            "stream": False,
        }
        reply = self._reply(self._client.send("POST", "/chat/completions", body))
        findings = parse_grounding(reply, size, sent)
        if findings is None:
            raise VisionReplyUnreadable(
                f"{self.base_url} answered with no boxes that can be read",
                reply=reply[:REPLY_EXCERPT],
            )
        return findings

    def _reply(self, response: httpx.Response) -> str:
        try:
            message = response.json()["choices"][0]["message"]
            content = message.get("content")
        except (ValueError, LookupError, TypeError, AttributeError) as exc:
            raise UpstreamError(f"{self.base_url} answered with no chat completion") from exc
        if isinstance(content, list):  # content parts, as some servers answer
            content = "".join(
                str(part.get("text") or "") for part in content if isinstance(part, dict)
            )
        return str(content or "")


def register(components: Components) -> None:
    """Registers the perceiver when ``HALLMARK_VISION_BASE_URL`` is set."""
    settings = components.settings
    if not settings.vision_base_url:
        return
    components.perceivers.register(
        OpenAIVisionPerceiver.name,
        OpenAIVisionPerceiver(
            settings.vision_base_url,
            model=settings.vision_model,
            api_key=settings.vision_api_key,
            timeout=settings.vision_timeout_seconds,
            retries=settings.vision_retries,
            max_pixels=settings.vision_max_pixels,
        ),
    )
