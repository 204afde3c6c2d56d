"""Reads visible AI notices in images ("AI生成", "AI-generated", ...) by OCR: a trace that makes
content suspected (Labeling Measures Art. 6), as the text inspector does for text.

OCR is rapidocr's PP-OCR models, shipped inside its wheel (Chinese and English), run with
onnxruntime on the CPU: loaded on first use, once per process, two threads. Images are shown as
their EXIF orientation says and read at most ``MAX_OCR_SIDE`` pixels on the long side; boxes are
given in the shown image's full-size pixels. An image that cannot be decoded, or is too large to
decode, is not read (the metadata inspectors report on its container).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from PIL import Image, ImageOps

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import Finding, Inspector
from hallmark.mark.explicit_image import decoding, open_image, orientation_of
from hallmark.mark.gb45438.formats import base_type
from hallmark.mark.notices import find_notice
from hallmark.registry import Components

log = logging.getLogger(__name__)

MAX_OCR_SIDE = 1600
OCR_THREADS = 2
RECENT_IMAGES = 8  # OCR results kept, by the pixels they were read from
_READ_FORMATS: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}


@dataclass(slots=True, frozen=True)
class TextLine:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the pixels of the image read
    score: float


class TextReader(Protocol):
    def read(self, image: Image.Image) -> list[TextLine]:
        """Every line of text in an RGB image."""


class RapidOcrReader:
    """rapidocr (PP-OCR, English and Chinese), loaded on the first ``read``."""

    def __init__(self, threads: int = OCR_THREADS) -> None:
        self.threads = threads
        self._engine: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one image at a time: the threads are per run
        # The lines of the last few images: the inspector and the image screen both read an
        # upload, and hashing its pixels costs a millisecond where reading them costs hundreds.
        self._recent: OrderedDict[bytes, tuple[TextLine, ...]] = OrderedDict()

    def _loaded(self) -> Any:
        if self._engine is None:
            with self._load_lock:
                if self._engine is None:
                    from rapidocr import RapidOCR

                    self._engine = RapidOCR(
                        params={
                            "Global.log_level": "warning",
                            # Labels are drawn upright (images are shown per EXIF first), so
                            # the angle classifier only costs time; detection at most 960 px
                            # on the long side reads a 5%-of-short-side label 1.5-4x faster.
                            "Global.use_cls": False,
                            "Det.limit_type": "max",
                            "Det.limit_side_len": 960,
                            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                        }
                    )
        return self._engine

    def read(self, image: Image.Image) -> list[TextLine]:
        key = hashlib.sha256(image.tobytes()).digest() + repr((image.mode, image.size)).encode()
        with self._run_lock:
            if (known := self._recent.get(key)) is not None:
                self._recent.move_to_end(key)
                return list(known)
        lines = self._read(image)
        with self._run_lock:
            self._recent[key] = tuple(lines)
            while len(self._recent) > RECENT_IMAGES:
                self._recent.popitem(last=False)
        return lines

    def _read(self, image: Image.Image) -> list[TextLine]:
        engine = self._loaded()
        with self._run_lock:
            result = engine(image)
        boxes = getattr(result, "boxes", None)
        texts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if boxes is None or texts is None or scores is None:
            return []
        lines = []
        for quad, text, score in zip(boxes.tolist(), texts, scores, strict=True):
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            lines.append(TextLine(str(text), (min(xs), min(ys), max(xs), max(ys)), float(score)))
        return lines


@functools.cache
def shared_reader() -> RapidOcrReader:
    """The process's one OCR engine."""
    return RapidOcrReader()


def shown_for_ocr(data: bytes, pillow_format: str) -> tuple[Image.Image, float, float]:
    """The image as shown (EXIF orientation), RGB, at most MAX_OCR_SIDE on its long side, and
    the factors that take its pixels back to the full-size shown image's."""
    image = open_image(data, pillow_format)
    width, height = image.size
    with decoding(pillow_format):
        image.draft(None, (MAX_OCR_SIDE, MAX_OCR_SIDE))  # JPEG decodes at 1/2, 1/4, 1/8
        image.load()  # before the orientation: a PNG may keep its EXIF after the pixels
        rotated = orientation_of(image) in (5, 6, 7, 8)
        full = (height, width) if rotated else (width, height)
        shown = ImageOps.exif_transpose(image)
        shown.thumbnail((MAX_OCR_SIDE, MAX_OCR_SIDE))
        if shown.has_transparency_data:  # as a viewer shows it: over white
            backdrop = Image.new("RGBA", shown.size, (255, 255, 255, 255))
            shown = Image.alpha_composite(backdrop, shown.convert("RGBA"))
        shown = shown.convert("RGB")
    return shown, full[0] / shown.width, full[1] / shown.height


class ImageTextInspector(Inspector):
    name: ClassVar[str] = "image-text"
    media: ClassVar[frozenset[Medium]] = frozenset({"image"})
    costly: ClassVar[bool] = True

    def __init__(self, reader: TextReader) -> None:
        self.reader = reader

    def inspect(self, content: Content) -> list[Finding]:
        pillow_format = _READ_FORMATS.get(base_type(content.media_type))
        if pillow_format is None:
            return []
        try:
            image, scale_x, scale_y = shown_for_ocr(content.data, pillow_format)
        except UserError as exc:
            log.warning("image-text: not read: %s", exc.message)
            return []
        findings = []
        for line in self.reader.read(image):
            if find_notice(line.text) is None:
                continue
            x0, y0, x1, y1 = line.box
            box = [
                max(0, round(x0 * scale_x)),
                max(0, round(y0 * scale_y)),
                min(round(image.width * scale_x), round(x1 * scale_x)),
                min(round(image.height * scale_y), round(y1 * scale_y)),
            ]
            detail = {"text": line.text, "box": box, "score": round(line.score, 4)}
            findings.append(Finding("explicit", "explicit", detail))
        return findings


def register(components: Components) -> None:
    components.inspectors.register("image-text", ImageTextInspector(shared_reader()))
