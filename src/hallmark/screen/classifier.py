"""The classifier screen: small linear models that score a whole text message.

Each model is a multinomial logistic regression over hashed character (and, for English, word)
n-grams of the normalized text, weighted by TF-IDF; numpy is all it needs at run time. The
models ship in ``hallmark/screen/models`` (``MODEL_CARD.md`` there says what data trained them
and how well they do); ``scripts/train_screen.py`` makes them again from the open data sets.

A model's first class is "nothing to report"; the others name taxonomy categories. The score of
a text is one minus the probability of the first class, and the hit's category is the likeliest
of the others. Three thresholds, chosen on validation data when the model was trained, turn the
score into a severity: ``flag`` (severity 1, flagged at most), ``block`` (2) and ``high`` (3).
A model looks only at texts with enough of its script: ``zh_offensive`` at texts with at least 4
Chinese characters, ``en_harmful`` at texts with at least 3 Latin words, with the Chinese
characters taken out.
"""

from __future__ import annotations

import json
import re
import threading
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from hallmark.content import Content, Medium
from hallmark.errors import ConfigurationError, HallmarkError
from hallmark.registry import Components
from hallmark.screen.base import Hit, Screen, TextSpan
from hallmark.screen.document import text_of
from hallmark.screen.normalize import CJK_RANGES, normalize
from hallmark.screen.taxonomy import CATEGORY_IDS

MODEL_NAMES = ("zh_offensive", "en_harmful")
"""The built-in models, each in ``hallmark/screen/models/<name>.npz``."""
FORMAT = "hallmark-screen-linear/1"
CHUNK_CHARS = 1 << 16

Script = Literal["cjk", "latin"]
FloatArray = npt.NDArray[np.float32]
IndexArray = npt.NDArray[np.int64]

_CJK = re.compile(f"[{CJK_RANGES}]")
_LATIN_WORD = re.compile("[a-z]+")
_WORD = re.compile(r"[^\W_]+")
# What a model needs to see before it scores a text: a word or two carry too little evidence
# for these models (short texts score near their prior), and the lexicon covers them.
_EVIDENCE = {"cjk": (_CJK, 4), "latin": (_LATIN_WORD, 3)}

# 64-bit multiplicative hashing (an FNV-style step per character, then a splitmix finalizer):
# vectorized over all n-grams of a text, and the same on every machine and every run.
_STEP = np.uint64(0x100000001B3)
_SEED = np.uint64(0x9E3779B97F4A7C15)
_WORD_SEED = np.uint64(0xD6E8FEB86659FD93)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


class ScreenModelError(HallmarkError):
    """A classifier model file is missing or unreadable; the message names the file."""

    code = "screen_model_error"
    exit_code = 2


@dataclass(slots=True, frozen=True)
class Features:
    """Which n-grams a model hashes, into how many buckets (``2**bits``)."""

    bits: int
    char: tuple[int, int] = (1, 4)
    word: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"bits": self.bits, "char": list(self.char), "word": self.word and list(self.word)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Features:
        word = data.get("word")
        return cls(
            int(data["bits"]),
            (int(data["char"][0]), int(data["char"][1])),
            None if word is None else (int(word[0]), int(word[1])),
        )

    def buckets(self, text: str) -> IndexArray:
        """The bucket of every n-gram of ``text`` (already normalized), repeats included."""
        padded = f" {text} "
        raw = np.frombuffer(padded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = raw.astype(np.uint64)
        parts = [_ngram_hashes(codes, n, _SEED) for n in range(self.char[0], self.char[1] + 1)]
        if self.word is not None:
            words = _WORD.findall(text)
            if words:
                ids = np.array([zlib.crc32(w.encode("utf-8")) for w in words], dtype=np.uint64)
                parts.extend(
                    _ngram_hashes(ids, n, _WORD_SEED) for n in range(self.word[0], self.word[1] + 1)
                )
        hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        return (_finalize(hashes) >> np.uint64(64 - self.bits)).astype(np.int64)


def _ngram_hashes(codes: npt.NDArray[np.uint64], n: int, seed: np.uint64) -> npt.NDArray[np.uint64]:
    count = len(codes) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.full(count, (int(seed) * n) % 2**64, dtype=np.uint64)
    for offset in range(n):
        hashes = (hashes ^ codes[offset : offset + count]) * _STEP
    return hashes


def _finalize(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    hashes = (hashes ^ (hashes >> np.uint64(30))) * _MIX1
    hashes = (hashes ^ (hashes >> np.uint64(27))) * _MIX2
    return hashes ^ (hashes >> np.uint64(31))


def term_frequencies(features: Features, text: str) -> tuple[IndexArray, FloatArray]:
    """The distinct buckets of a text and their sublinear term frequencies (1 + log count).

    A long text is hashed a piece at a time, cut at spaces, so that memory stays bounded; the
    few n-grams that would span a cut are left out.
    """
    if len(text) <= CHUNK_CHARS:
        buckets, counts = np.unique(features.buckets(text), return_counts=True)
    else:
        parts = [np.unique(features.buckets(piece), return_counts=True) for piece in _pieces(text)]
        merged = np.concatenate([part[0] for part in parts])
        order = np.argsort(merged, kind="stable")
        merged = merged[order]
        weights = np.concatenate([part[1] for part in parts])[order]
        starts = np.flatnonzero(np.r_[True, merged[1:] != merged[:-1]])
        buckets, counts = merged[starts], np.add.reduceat(weights, starts)
    return buckets, (1.0 + np.log(counts)).astype(np.float32)


def _pieces(text: str) -> Iterable[str]:
    start = 0
    while start < len(text):
        end = next_start = start + CHUNK_CHARS
        if end < len(text):
            cut = text.rfind(" ", start + CHUNK_CHARS // 2, end)
            if cut > 0:
                end, next_start = cut, cut + 1
        yield text[start:end]
        start = next_start


def tfidf(features: Features, idf: FloatArray, text: str) -> tuple[IndexArray, FloatArray]:
    """The text's sparse TF-IDF vector, L2-normalized: its buckets and their values."""
    buckets, values = term_frequencies(features, text)
    values = values * idf[buckets]
    norm = float(np.sqrt(np.dot(values, values)))
    return buckets, values / norm if norm > 0 else values


def script_text(script: Script, text: str) -> str:
    """What a model of ``script`` reads of a normalized text: a Latin model skips Chinese
    characters."""
    return _CJK.sub(" ", text) if script == "latin" else text


@dataclass(slots=True, frozen=True)
class Thresholds:
    flag: float
    block: float
    high: float

    def severity(self, score: float) -> int:
        """3, 2 or 1 for a score at or above ``high``, ``block`` or ``flag``; else 0."""
        if score >= self.high:
            return 3
        if score >= self.block:
            return 2
        return 1 if score >= self.flag else 0

    def with_block(self, block: float) -> Thresholds:
        """These thresholds with another ``block``; ``flag`` and ``high`` stay on its sides."""
        return Thresholds(min(self.flag, block), block, max(self.high, block))


@dataclass(slots=True, frozen=True)
class Score:
    model: str
    score: float
    category: str


@dataclass(slots=True, eq=False)
class LinearModel:
    """One trained model: its classes (the first one reports nothing), the taxonomy category of
    each other class, the featurizer, and the weights."""

    name: str
    script: Script
    classes: tuple[str, ...]
    categories: tuple[str, ...]
    """The taxonomy id of each class; ``""`` for the first."""
    features: Features
    idf: FloatArray
    weights: FloatArray
    """``(2**bits, len(classes))``."""
    bias: FloatArray
    thresholds: Thresholds
    info: dict[str, Any] = field(default_factory=dict)
    """What the training script recorded: data, hyperparameters, held-out scores."""

    def applies_to(self, text: str) -> bool:
        """Whether the normalized text has enough of the model's script: 4 Chinese characters
        for a ``cjk`` model, 3 Latin words for a ``latin`` one."""
        pattern, wanted = _EVIDENCE[self.script]
        found = pattern.finditer(text)
        return all(next(found, None) is not None for _ in range(wanted))

    def prepare_text(self, text: str) -> str:
        return script_text(self.script, text)

    def probabilities(self, text: str) -> FloatArray:
        """The probability of each class for a normalized text."""
        buckets, values = tfidf(self.features, self.idf, self.prepare_text(text))
        logits: FloatArray = values @ self.weights[buckets] + self.bias
        exp = np.exp(logits - logits.max())
        probabilities: FloatArray = (exp / exp.sum()).astype(np.float32)
        return probabilities

    def score(self, text: str) -> Score:
        """The harm score of a normalized text and the likeliest category."""
        probabilities = self.probabilities(text)
        best = 1 + int(np.argmax(probabilities[1:]))
        return Score(self.name, float(1.0 - probabilities[0]), self.categories[best])

    def save(self, path: Path) -> None:
        meta = {
            "format": FORMAT,
            "name": self.name,
            "script": self.script,
            "classes": list(self.classes),
            "categories": list(self.categories),
            "features": self.features.to_dict(),
            "thresholds": {
                "flag": self.thresholds.flag,
                "block": self.thresholds.block,
                "high": self.thresholds.high,
            },
            "info": self.info,
        }
        with path.open("wb") as file:
            np.savez_compressed(
                file,
                meta=np.array(json.dumps(meta, ensure_ascii=False, sort_keys=True)),
                idf=self.idf.astype(np.float16),
                weights=self.weights.astype(np.float16),
                bias=self.bias.astype(np.float32),
            )

    @classmethod
    def load(cls, source: Path | Traversable, label: str | None = None) -> LinearModel:
        """The model in an ``.npz`` file; any problem with it is a ``ScreenModelError``."""
        label = label or str(source)
        try:
            with source.open("rb") as file, np.load(file, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                idf = data["idf"].astype(np.float32)
                weights = data["weights"].astype(np.float32)
                bias = data["bias"].astype(np.float32)
            return cls._checked(meta, idf, weights, bias, label)
        except ScreenModelError:
            raise
        except FileNotFoundError as exc:
            raise ScreenModelError(
                f"{label}: the classifier model file is missing; reinstall hallmark or run "
                "`make train-screen`",
                file=label,
            ) from exc
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise ScreenModelError(
                f"{label}: not a readable classifier model ({exc})", file=label
            ) from exc

    @classmethod
    def _checked(
        cls,
        meta: dict[str, Any],
        idf: FloatArray,
        weights: FloatArray,
        bias: FloatArray,
        label: str,
    ) -> LinearModel:
        if meta.get("format") != FORMAT:
            raise ScreenModelError(
                f"{label}: unknown model format {meta.get('format')!r}", file=label
            )
        features = Features.from_dict(meta["features"])
        classes = tuple(str(name) for name in meta["classes"])
        categories = tuple(str(name) for name in meta["categories"])
        size = 2**features.bits
        if (
            len(classes) < 2
            or len(categories) != len(classes)
            or idf.shape != (size,)
            or weights.shape != (size, len(classes))
            or bias.shape != (len(classes),)
        ):
            raise ScreenModelError(f"{label}: the model's arrays do not fit together", file=label)
        unknown = [c for c in categories[1:] if c not in CATEGORY_IDS]
        if unknown or categories[0]:
            raise ScreenModelError(
                f"{label}: categories not in the taxonomy: {unknown or [categories[0]]}",
                file=label,
            )
        if meta["script"] not in _EVIDENCE:
            raise ScreenModelError(f"{label}: unknown script {meta['script']!r}", file=label)
        limits = meta["thresholds"]
        return cls(
            name=str(meta["name"]),
            script=meta["script"],
            classes=classes,
            categories=categories,
            features=features,
            idf=idf,
            weights=weights,
            bias=bias,
            thresholds=Thresholds(
                float(limits["flag"]), float(limits["block"]), float(limits["high"])
            ),
            info=dict(meta.get("info", {})),
        )


@dataclass(slots=True, frozen=True)
class ClassifierHit(Hit):
    """A hit with the model's score (0 to 1) for the whole text."""

    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = Hit.to_dict(self)
        data["score"] = self.score
        return data


def builtin_models_dir() -> Traversable:
    return resources.files("hallmark.screen").joinpath("models")


def load_models(
    folder: Path | Traversable | None = None, names: Sequence[str] = MODEL_NAMES
) -> tuple[LinearModel, ...]:
    """The named models of a folder (default: the built-in ones)."""
    folder = builtin_models_dir() if folder is None else folder
    return tuple(LinearModel.load(folder.joinpath(f"{name}.npz")) for name in names)


class Classifier(Screen):
    """The classifier screen over the built-in models, or over models given to it.

    The models are read on the first scan (or by ``prepare``), once, whichever thread comes
    first. ``block_thresholds`` overrides a model's ``block`` threshold by its name;
    ``flag_only`` caps every hit at severity 1, so the classifier alone never blocks.
    """

    name: ClassVar[str] = "classifier"
    media: ClassVar[frozenset[Medium]] = frozenset({"text", "document"})

    def __init__(
        self,
        models: Iterable[LinearModel] | None = None,
        *,
        folder: Path | Traversable | None = None,
        block_thresholds: Mapping[str, float] | None = None,
        flag_only: bool = False,
    ) -> None:
        self._flag_only = flag_only
        self._given = None if models is None else tuple(models)
        self._folder = folder
        self._overrides = dict(block_thresholds or {})
        known = [m.name for m in self._given] if self._given is not None else list(MODEL_NAMES)
        unknown = sorted(set(self._overrides) - set(known))
        if unknown:
            raise ConfigurationError(
                f"classifier thresholds name unknown model(s) {', '.join(unknown)}; "
                f"known: {', '.join(known)}"
            )
        self._models: tuple[tuple[LinearModel, Thresholds], ...] | None = None
        self._lock = threading.Lock()

    @property
    def models(self) -> tuple[tuple[LinearModel, Thresholds], ...]:
        """Each model with the thresholds in force."""
        if self._models is None:
            with self._lock:
                if self._models is None:
                    loaded = self._given if self._given is not None else load_models(self._folder)
                    self._models = tuple(
                        (
                            model,
                            model.thresholds.with_block(self._overrides[model.name])
                            if model.name in self._overrides
                            else model.thresholds,
                        )
                        for model in loaded
                    )
        return self._models

    def prepare(self) -> Classifier:
        _ = self.models
        return self

    def scores(self, text: str) -> list[Score]:
        """The score of each model that looks at ``text``."""
        normalized = normalize(text).text
        return [model.score(normalized) for model, _ in self.models if model.applies_to(normalized)]

    def find(self, content: Content) -> list[Hit]:
        return self.find_text(text_of(content))

    def find_text(self, text: str) -> list[Hit]:
        """A hit for each model whose score reaches its ``flag`` threshold; the evidence is the
        whole text."""
        if not text.strip():
            return []
        normalized = normalize(text).text
        hits: list[Hit] = []
        for model, thresholds in self.models:
            if not model.applies_to(normalized):
                continue
            scored = model.score(normalized)
            severity = thresholds.severity(scored.score)
            if severity and self._flag_only:
                severity = 1  # flagged at most: decide never blocks on severity 1
            if severity:
                hits.append(
                    ClassifierHit(
                        scored.category,
                        model.name,
                        self.name,
                        severity,
                        TextSpan(0, len(text)),
                        score=round(scored.score, 4),
                    )
                )
        return hits


def register(components: Components) -> None:
    settings = components.settings
    if settings.screen_classifier != "off":
        components.screens.register(
            Classifier.name,
            Classifier(
                block_thresholds=settings.classifier_threshold_overrides(),
                flag_only=settings.screen_classifier == "flag",
            ),
        )
