"""What is in an image, as findings with boxes: the text in it, the faces and people, exposed
body parts, its dominant colours and its layout. The bundled perceiver: no model to download,
nothing to configure, CPU only.

The models are the ones hallmark already ships and loads once per process:

- **text**: rapidocr (PP-OCR, Chinese and English; :mod:`hallmark.mark.inspect_image_text`),
  one finding per line read, its box the axis-aligned bounds of the line's quadrilateral.
- **faces and nudity**: NudeNet 320n (:mod:`hallmark.screen.image`). OpenCV's Haar cascades
  are not in the OpenCV 5 wheel, so NudeNet's ``FACE_FEMALE``/``FACE_MALE`` boxes are the face
  detector; their class becomes ``detail["gender"]``, the model's guess from the face alone.
  The exposed genitalia, anus, female breast and buttocks classes are ``nsfw`` findings; the
  covered classes and the harmless exposed ones (feet, belly, armpits, a male chest) are not,
  though they still help outline a person.
- **pornography, whole image**: Open-NSFW; a score in its authors' undecided band or above
  (see :mod:`hallmark.screen.image`) is one ``nsfw`` finding whose box is the whole image.

**People** are inferred, not detected: no person detector ships with hallmark. Each face
anchors one person; every other NudeNet body part whose centre lies in the zone a body hangs
in below that face (``BODY_ZONE``, in face sizes) joins the nearest such face, and the person's
box is the union of the face and its parts. A face with no part found below it (a portrait, a
clothed person: NudeNet sees covered parts poorly) gets a head-and-shoulders estimate
(``HEAD_AND_SHOULDERS``), marked ``detail["estimated"]``. So: a person facing away, or whose face
is not found, is not a person here; two people close together may share parts; a box may
miss arms and legs, which NudeNet has no classes for.

**Colours** are k-means clusters (numpy, a fixed seed) of a small copy of the image (at most
``COLOR_SIDE`` pixels on the long side; its distinct colours, weighted by their counts), each
named after the nearest of ``COLOR_NAMES``' exemplars by CIE94 (a distance in CIELAB that
follows what the eye sees) and merged by name. **Layout** is orientation, size, mean
brightness, the share covered by text, and where the content sits: the bounds of what differs
from the border's colour.

Images are read as shown (EXIF orientation, transparency over white, an animation's first
frame), at most ``MAX_OCR_SIDE`` pixels on the long side, and boxes are given in the full-size
shown image's pixels (``x, y, width, height``). A uniform image, a 1x1 included, is an honest
result (its colour and layout) and the models are not run on it. The question, if any, is not
used: these models find what they find whatever is asked.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from hallmark.errors import UserError
from hallmark.mark.explicit_image import decode_image, decoding
from hallmark.mark.inspect_image_text import (
    MAX_OCR_SIDE,
    TextLine,
    TextReader,
    shared_reader,
    shown_for_ocr,
)
from hallmark.perception.base import Box, Finding, PerceivedMedium, Perceiver, PerceptionInput
from hallmark.registry import Components
from hallmark.screen.image import (
    NUDENET_MIN_SCORE,
    OPEN_NSFW_BLOCK,
    OPEN_NSFW_FLAG,
    BodyPart,
    NsfwScorer,
    NudityDetector,
    shared_nsfw_scorer,
    shared_nudity_detector,
)
from hallmark.screen.image import PILLOW_FORMATS as SCREENED_FORMATS

PILLOW_FORMATS: dict[str, str] = {
    **SCREENED_FORMATS,  # what the image screen reads, and two more that perception reads
    "image/bmp": "BMP",
    "image/tiff": "TIFF",
}
_ALL_FORMATS = sorted(set(PILLOW_FORMATS.values()))
MIN_FACE_SCORE = 0.3  # as the studio's reframing: NudeNet scores drawn faces 0.6-0.75
MIN_PART_SCORE = 0.3
NSFW_NAMES: dict[str, str] = {
    "FEMALE_GENITALIA_EXPOSED": "exposed female genitalia",
    "MALE_GENITALIA_EXPOSED": "exposed male genitalia",
    "ANUS_EXPOSED": "exposed anus",
    "FEMALE_BREAST_EXPOSED": "exposed breast",
    "BUTTOCKS_EXPOSED": "exposed buttocks",
}
FACE_GENDERS: dict[str, str] = {"FACE_FEMALE": "female", "FACE_MALE": "male"}
# Where a body part may sit, in face widths (x) and heights (y) from the face's box: a little
# above (hair), beside (shoulders, arms) and down to the feet, about eight heads below.
BODY_ZONE = (1.5, 0.5, 1.5, 8.0)  # left, above, right, below
# A face alone: half a face width each side for the shoulders, 0.4 face heights above for the
# hair and the forehead (NudeNet's face boxes start at the brows), one face height below.
HEAD_AND_SHOULDERS = (0.5, 0.4, 0.5, 1.0)

MAX_COLORS = 4
MIN_COLOR_SHARE = 0.03  # smaller clusters are edges and noise, not a colour of the image
CENTRE_SETTLED = 0.25  # RGB levels: k-means stops when no centre moves more
COLOR_SIDE = 64  # pixels on the long side of the copy that colours and layout are read from
CONTENT_DIFFERENCE = 24  # per channel, from the border's colour, for a pixel to be content
SQUARE_TOLERANCE = 0.05
# Each name by a few of its CSS colours: one point a name misnames the saturated and the pale
# ends of a hue (pure blue came out nearer one purple than one blue).
COLOR_NAMES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "black": ((0, 0, 0), (30, 30, 30)),
    "gray": ((128, 128, 128), (105, 105, 105), (112, 128, 144)),
    "silver": ((192, 192, 192), (211, 211, 211), (169, 169, 169)),
    "white": ((255, 255, 255), (245, 245, 245), (255, 250, 240)),
    "red": ((255, 0, 0), (220, 20, 60), (200, 30, 30)),
    "maroon": ((128, 0, 0), (110, 20, 30)),
    "orange": ((255, 140, 0), (255, 165, 0), (240, 120, 40)),
    "yellow": ((255, 255, 0), (255, 215, 0), (240, 220, 80)),
    "olive": ((128, 128, 0), (107, 142, 35)),
    "green": ((0, 128, 0), (0, 255, 0), (50, 205, 50), (34, 139, 34), (0, 100, 0), (144, 238, 144)),
    "teal": ((0, 128, 128), (95, 158, 160)),
    "cyan": ((0, 255, 255), (64, 224, 208), (0, 206, 209)),
    "light blue": ((173, 216, 230), (135, 206, 235), (176, 196, 222)),
    "blue": (
        (0, 0, 255),
        (0, 0, 205),
        (65, 105, 225),
        (30, 144, 255),
        (70, 130, 180),
        (40, 80, 160),
    ),
    "navy": ((0, 0, 128), (25, 25, 112), (0, 0, 139)),
    "purple": ((128, 0, 128), (75, 0, 130), (138, 43, 226), (147, 112, 219)),
    "magenta": ((255, 0, 255), (199, 21, 133), (218, 112, 214)),
    "pink": ((255, 192, 203), (255, 105, 180), (255, 182, 193), (238, 130, 238)),
    "brown": ((139, 69, 19), (165, 42, 42), (160, 82, 45), (101, 67, 33), (210, 105, 30)),
    "beige": ((245, 245, 220), (222, 184, 135), (210, 180, 140)),
}

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in the pixels the models read
FloatArray = npt.NDArray[np.float64]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``x, y, width, height`` boxes; 0 when either is empty."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    if aw <= 0 or ah <= 0 or bw <= 0 or bh <= 0:
        return 0.0
    overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
    overlap_h = min(ay + ah, by + bh) - max(ay, by)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    overlap = overlap_w * overlap_h
    return overlap / (aw * ah + bw * bh - overlap)


@dataclass(frozen=True, slots=True)
class Models:
    """The three bundled models; the process's shared ones unless a caller brings its own."""

    reader: TextReader
    nudity: NudityDetector
    nsfw: NsfwScorer

    @classmethod
    def shared(cls) -> Models:
        return cls(shared_reader(), shared_nudity_detector(), shared_nsfw_scorer())


@dataclass(frozen=True, slots=True)
class _Frame:
    """The image the models read and the factors back to the full-size shown image."""

    image: Image.Image  # RGB, at most MAX_OCR_SIDE on the long side
    scale_x: float
    scale_y: float

    @property
    def width(self) -> int:
        return round(self.image.width * self.scale_x)

    @property
    def height(self) -> int:
        return round(self.image.height * self.scale_y)

    def box(self, rect: Rect) -> Box:
        x0 = min(max(0, round(rect[0] * self.scale_x)), self.width)
        y0 = min(max(0, round(rect[1] * self.scale_y)), self.height)
        x1 = min(max(x0, round(rect[2] * self.scale_x)), self.width)
        y1 = min(max(y0, round(rect[3] * self.scale_y)), self.height)
        return (x0, y0, x1 - x0, y1 - y0)


def perceive_image(image: Image.Image, models: Models | None = None) -> list[Finding]:
    """The findings in an image as given (already oriented: a decoded file or a video frame).

    Boxes are in ``image``'s pixels whatever size the models read it at. An image of no pixels
    has nothing in it but its size."""
    if image.width == 0 or image.height == 0:
        return [Finding("layout", "empty", detail={"width": image.width, "height": image.height})]
    return _findings(_frame_of(image), models or Models.shared())


def _frame_of(image: Image.Image) -> _Frame:
    shown = image
    if shown.has_transparency_data:  # as a viewer shows it: over white
        backdrop = Image.new("RGBA", shown.size, (255, 255, 255, 255))
        shown = Image.alpha_composite(backdrop, shown.convert("RGBA"))
    if shown.mode != "RGB":
        shown = shown.convert("RGB")
    if max(shown.size) > MAX_OCR_SIDE:
        shown = shown.copy()
        shown.thumbnail((MAX_OCR_SIDE, MAX_OCR_SIDE))
    return _Frame(shown, image.width / shown.width, image.height / shown.height)


def _findings(frame: _Frame, models: Models) -> list[Finding]:
    small = _small_copy(frame.image)
    findings: list[Finding] = []
    lines: list[TextLine] = []
    # a small copy with two colours is enough to know; only a uniform one needs the full look
    if not _uniform_pixels(small) or not _uniform(frame.image):
        lines = models.reader.read(frame.image)
        parts = models.nudity.detect(frame.image)
        findings += [_text_finding(line, frame) for line in lines if line.text.strip()]
        findings += _people_findings(parts, frame)
        findings += _nsfw_findings(parts, models.nsfw.score(frame.image), frame)
    findings += color_findings(small)
    findings.append(_layout_finding(frame, small, lines))
    return findings


# --- the models' findings --------------------------------------------------------------------


def _uniform_pixels(pixels: npt.NDArray[np.uint8]) -> bool:
    return bool((pixels == pixels.reshape(-1, 3)[:1]).all()) if pixels.size else True


def _uniform(image: Image.Image) -> bool:
    bands = cast(tuple[tuple[float, float], ...], image.getextrema())  # RGB: one pair a band
    return all(low == high for low, high in bands)


def _text_finding(line: TextLine, frame: _Frame) -> Finding:
    return Finding("text", line.text.strip(), line.score, frame.box(line.box))


def _people_findings(parts: Sequence[BodyPart], frame: _Frame) -> list[Finding]:
    """A ``face`` finding per face NudeNet found, then a ``person`` per face (see the module's
    docstring for how a person's box is drawn)."""
    faces = [p for p in parts if p.label in FACE_GENDERS and p.score >= MIN_FACE_SCORE]
    bodies = [p for p in parts if p.label not in FACE_GENDERS and p.score >= MIN_PART_SCORE]
    members: list[list[BodyPart]] = [[] for _ in faces]
    for part in bodies:
        owner = _owning_face(part.box, [face.box for face in faces])
        if owner is not None:
            members[owner].append(part)
    findings = [
        Finding(
            "face",
            "face",
            face.score,
            frame.box(face.box),
            detail={"gender": FACE_GENDERS[face.label]},
        )
        for face in faces
    ]
    for face, own in zip(faces, members, strict=True):
        if own:
            rect = _union([face.box, *(part.box for part in own)])
            detail: dict[str, Any] = {"parts": sorted({part.label for part in own})}
        else:
            rect = _grown(face.box, HEAD_AND_SHOULDERS)
            detail = {"estimated": True}
        findings.append(Finding("person", "person", face.score, frame.box(rect), detail=detail))
    return findings


def _owning_face(part: Rect, faces: Sequence[Rect]) -> int | None:
    """The face whose body zone holds the part's centre, the nearest one if several do."""
    cx, cy = (part[0] + part[2]) / 2, (part[1] + part[3]) / 2
    best: tuple[float, int] | None = None
    for index, face in enumerate(faces):
        x0, y0, x1, y1 = _grown(face, BODY_ZONE)
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            distance = math.hypot(cx - (face[0] + face[2]) / 2, cy - (face[1] + face[3]) / 2)
            if best is None or distance < best[0]:
                best = (distance, index)
    return None if best is None else best[1]


def _grown(rect: Rect, by: tuple[float, float, float, float]) -> Rect:
    """``rect`` grown by ``by`` (left, above, right, below) in its own widths and heights."""
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    left, above, right, below = by
    return (
        rect[0] - left * width,
        rect[1] - above * height,
        rect[2] + right * width,
        rect[3] + below * height,
    )


def _union(rects: Sequence[Rect]) -> Rect:
    return (
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
    )


def _nsfw_findings(parts: Sequence[BodyPart], porn: float, frame: _Frame) -> list[Finding]:
    findings = [
        Finding(
            "nsfw",
            NSFW_NAMES[part.label],
            part.score,
            frame.box(part.box),
            detail={"class": part.label},
        )
        for part in parts
        if part.label in NSFW_NAMES and part.score >= NUDENET_MIN_SCORE
    ]
    if porn >= OPEN_NSFW_FLAG:
        label = "pornographic image" if porn >= OPEN_NSFW_BLOCK else "possibly pornographic image"
        whole = (0, 0, frame.width, frame.height)
        findings.append(Finding("nsfw", label, porn, whole, detail={"model": "open-nsfw"}))
    return findings


# --- colours and layout ----------------------------------------------------------------------


def _small_copy(image: Image.Image) -> npt.NDArray[np.uint8]:
    """At most ``COLOR_SIDE`` on the long side: colours and layout need no more pixels."""
    scale = min(1.0, COLOR_SIDE / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image if size == image.size else image.resize(size, Image.Resampling.BOX)
    return np.asarray(small if small.mode == "RGB" else small.convert("RGB"), dtype=np.uint8)


def color_findings(pixels: npt.NDArray[np.uint8]) -> list[Finding]:
    """Up to ``MAX_COLORS`` dominant colours of an ``(h, w, 3)`` RGB array, largest first."""
    flat = pixels.reshape(-1, 3)
    if not len(flat):
        return []
    colours, counts = _distinct(flat)
    centres, sizes = _kmeans(colours, counts, MAX_COLORS)
    names = nearest_color_names(centres)
    merged: dict[str, tuple[float, FloatArray]] = {}
    for name, centre, size in zip(names, centres, sizes, strict=True):
        total, weighted = merged.get(name, (0.0, np.zeros(3)))
        merged[name] = (total + size, weighted + centre * size)
    ranked = sorted(merged.items(), key=lambda item: -item[1][0])
    findings: list[Finding] = []
    for name, (size, weighted) in ranked[:MAX_COLORS]:
        share = size / len(flat)
        if findings and share < MIN_COLOR_SHARE:
            break
        red, green, blue = (round(v) for v in weighted / size)
        detail = {"rgb": f"#{red:02x}{green:02x}{blue:02x}", "share": round(float(share), 2)}
        findings.append(Finding("color", name, detail=detail))
    return findings


def _distinct(flat: npt.NDArray[np.uint8]) -> tuple[FloatArray, FloatArray]:
    """The distinct colours of ``(n, 3)`` RGB pixels (in RGB order) and how many pixels have
    each: a picture has far fewer colours than pixels, so k-means runs on these, weighted."""
    wide = flat.astype(np.int32)
    keys = (wide[:, 0] << 16) | (wide[:, 1] << 8) | wide[:, 2]
    unique, counts = np.unique(keys, return_counts=True)
    colours = np.stack([unique >> 16, (unique >> 8) & 255, unique & 255], axis=1)
    return colours.astype(np.float64), counts.astype(np.float64)


def _kmeans(
    points: FloatArray, weights: FloatArray, k: int, rounds: int = 20
) -> tuple[FloatArray, FloatArray]:
    """Cluster centres and sizes of weighted, distinct points: k-means++ seeding with a fixed
    seed, then Lloyd's rounds."""
    if len(points) <= k:
        return points, weights
    rng = np.random.default_rng(0)
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        nearest = np.min(_sq_distances(points, np.array(centres)), axis=1)
        centres.append(points[rng.choice(len(points), p=nearest / nearest.sum())])
    centre_array = np.array(centres)
    for _ in range(rounds):
        assigned = np.argmin(_sq_distances(points, centre_array), axis=1)
        sizes = np.bincount(assigned, weights=weights, minlength=k)
        sums = np.stack(
            [np.bincount(assigned, weights=weights * points[:, c], minlength=k) for c in range(3)],
            axis=1,
        )
        filled = sizes > 0
        moved = centre_array.copy()
        moved[filled] = sums[filled] / sizes[filled, None]
        if np.allclose(moved, centre_array, rtol=0.0, atol=CENTRE_SETTLED):
            break
        centre_array = moved
    assigned = np.argmin(_sq_distances(points, centre_array), axis=1)
    final: FloatArray = np.bincount(assigned, weights=weights, minlength=k).astype(np.float64)
    keep = final > 0
    return centre_array[keep], final[keep]


def _sq_distances(points: FloatArray, centres: FloatArray) -> FloatArray:
    """Squared distances from each point to each centre, as |p|^2 - 2 p.c + |c|^2: one matrix
    product, not an (n, k, 3) array."""
    cross = points @ centres.T
    return np.asarray(
        (points**2).sum(axis=1)[:, None] - 2 * cross + (centres**2).sum(axis=1)[None, :]
    )


def nearest_color_names(rgb: FloatArray) -> list[str]:
    """The name in ``COLOR_NAMES`` nearest each ``(n, 3)`` RGB colour, by CIE94 distance."""
    names = [name for name, exemplars in COLOR_NAMES.items() for _ in exemplars]
    palette = _lab(np.array([rgb for rgbs in COLOR_NAMES.values() for rgb in rgbs], np.float64))
    nearest = np.argmin(_cie94(_lab(np.asarray(rgb, dtype=np.float64)), palette), axis=1)
    return [names[i] for i in nearest]


def _cie94(colours: FloatArray, palette: FloatArray) -> FloatArray:
    """Squared CIE94 distances (graphic arts weights) from each Lab colour to each of the
    palette's. Plain Lab distance overweighs chroma: it named a clear blue (20, 60, 200) navy."""
    d_lightness = colours[:, None, 0] - palette[None, :, 0]
    chroma = np.hypot(colours[:, 1], colours[:, 2])[:, None]
    d_chroma = chroma - np.hypot(palette[:, 1], palette[:, 2])[None, :]
    d_a = colours[:, None, 1] - palette[None, :, 1]
    d_b = colours[:, None, 2] - palette[None, :, 2]
    d_hue_sq = np.maximum(d_a**2 + d_b**2 - d_chroma**2, 0.0)
    return np.asarray(
        d_lightness**2
        + (d_chroma / (1 + 0.045 * chroma)) ** 2
        + d_hue_sq / (1 + 0.015 * chroma) ** 2
    )


def _lab(rgb: FloatArray) -> FloatArray:
    """sRGB (0..255) to CIELAB under D65."""
    srgb = rgb / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array(
        [
            [0.4124, 0.2126, 0.0193],
            [0.3576, 0.7152, 0.1192],
            [0.1805, 0.0722, 0.9505],
        ]
    )
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1
    )


def _layout_finding(
    frame: _Frame, small: npt.NDArray[np.uint8], lines: Sequence[TextLine]
) -> Finding:
    width, height = frame.width, frame.height
    if abs(width - height) <= SQUARE_TOLERANCE * max(width, height):
        orientation = "square"
    else:
        orientation = "landscape" if width > height else "portrait"
    luma = small.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    detail: dict[str, Any] = {
        "width": width,
        "height": height,
        "brightness": round(float(luma.mean()) / 255, 3),
        "text_area": round(_covered_share(frame.image.size, [line.box for line in lines]), 3),
    }
    if (content := _content_box(small, width, height)) is not None:
        detail["content"] = list(content)
    return Finding("layout", orientation, detail=detail)


def _covered_share(size: tuple[int, int], rects: Sequence[Rect]) -> float:
    """The share of the image that the rectangles cover, overlaps counted once."""
    if not rects:
        return 0.0
    width, height = size
    covered = np.zeros((height, width), dtype=bool)
    for x0, y0, x1, y1 in rects:
        covered[max(0, round(y0)) : max(0, round(y1)), max(0, round(x0)) : max(0, round(x1))] = True
    return float(covered.mean())


def _content_box(pixels: npt.NDArray[np.uint8], width: int, height: int) -> Box | None:
    """The bounds of what differs from the border's median colour, in full-size pixels."""
    rows, cols = pixels.shape[:2]
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border.astype(np.int32), axis=0)
    differs = np.abs(pixels.astype(np.int32) - background).max(axis=2) > CONTENT_DIFFERENCE
    if not differs.any():
        return None
    ys, xs = np.nonzero(differs)
    x0, x1 = math.floor(xs.min() * width / cols), math.ceil((xs.max() + 1) * width / cols)
    y0, y1 = math.floor(ys.min() * height / rows), math.ceil((ys.max() + 1) * height / rows)
    return (x0, y0, min(width, x1) - x0, min(height, y1) - y0)


# --- the perceiver ---------------------------------------------------------------------------


class ImagePerceiver(Perceiver):
    """Text, faces, people, nudity, colours and layout from the bundled models."""

    name: ClassVar[str] = "bundled-image"
    media: ClassVar[frozenset[PerceivedMedium]] = frozenset({"image"})

    def __init__(self, models: Models | None = None) -> None:
        self._models = models

    @property
    def models(self) -> Models:
        if self._models is None:
            self._models = Models.shared()
        return self._models

    def perceive(self, source: PerceptionInput, question: str | None = None) -> list[Finding]:
        return _findings(_open_shown(source.path, source.media_type), self.models)


def open_image(path: Path, media_type: str | None = None) -> Image.Image:
    """The file's image as shown (EXIF orientation, an animation's first frame) at full size:
    what the findings' boxes are drawn on. Without ``media_type`` any format hallmark reads is
    tried. A ``UserError`` naming the file if it is not such an image."""
    formats = [_pillow_format(path, media_type)] if media_type else _ALL_FORMATS
    data = _read(path)
    try:
        with decoding(formats[0] if media_type else "image"):
            pillow_format = Image.open(io.BytesIO(data), formats=formats).format or formats[0]
        image = decode_image(data, pillow_format)  # refuses too many pixels before decoding
        with decoding(pillow_format):
            return ImageOps.exif_transpose(image)
    except UserError as exc:
        raise UserError(f"{path.name}: {exc.message}") from exc


def _open_shown(path: Path, media_type: str) -> _Frame:
    """The file's image as shown, at most ``MAX_OCR_SIDE`` on its long side (a JPEG decoded at
    that size to begin with)."""
    pillow_format = _pillow_format(path, media_type)
    try:
        shown, scale_x, scale_y = shown_for_ocr(_read(path), pillow_format)
    except UserError as exc:
        raise UserError(f"{path.name}: {exc.message}") from exc
    return _Frame(shown, scale_x, scale_y)


def _pillow_format(path: Path, media_type: str) -> str:
    base = media_type.split(";", 1)[0].strip().lower()
    pillow_format = PILLOW_FORMATS.get(base)
    if pillow_format is None:
        raise UserError(
            f"{path.name}: {base or 'this file'} is not an image hallmark can read; "
            "send PNG, JPEG, WebP, GIF, BMP or TIFF"
        )
    return pillow_format


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc


def register(components: Components) -> None:
    components.perceivers.register(ImagePerceiver.name, ImagePerceiver())
