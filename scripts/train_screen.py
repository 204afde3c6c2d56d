"""Train the classifier screen's models from the open data sets in ../shared/data.

    .venv/bin/python scripts/train_screen.py [--data DIR] [--out DIR]    (or: make train-screen)

Two models, each a multinomial logistic regression over hashed TF-IDF n-grams
(``hallmark.screen.classifier``), fitted here with numpy alone (full-batch Adam, L2):

- ``zh_offensive``: COLD (Chinese offensive language). Its train split is not in shared/data, so
  the model is fitted on ``dev.csv`` and scored on ``test.csv``. Classes: not offensive, or
  offensive about race, region or gender.
- ``en_harmful``: the first Human turn of each HH-RLHF harmless-base red-teaming dialogue,
  labelled by hand in ``scripts/screen_labels/`` (benign, unclear, or the harm asked for);
  unclear turns are left out. 20% of the labelled turns, stratified by label, are held out.

The L2 strength is chosen by 5-fold cross-validation on the training part, and so are the
thresholds (on the out-of-fold scores): ``block`` maximizes F1 for COLD, and for English is the
lowest score at which at most 5% of benign prompts are blocked; ``flag`` is the lowest score
at which at most 15% of benign texts are flagged for review (never above ``block``); ``high``
needs 95% precision. XSTest is never read here: it is the evaluation set
(bench/bench_screen.py). Everything is seeded: two runs write the same files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hallmark.screen.classifier import (
    Features,
    LinearModel,
    Script,
    Thresholds,
    script_text,
    term_frequencies,
)
from hallmark.screen.normalize import normalize

ROOT = Path(__file__).resolve().parents[1]
DATA_ENV = "SCREEN_DATA_DIR"
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_OUT = ROOT / "src" / "hallmark" / "screen" / "models"
HH_LABELS = ROOT / "scripts" / "screen_labels" / "hh-rlhf-harmless-first-turns.tsv"
SEED = 20261126
FOLDS = 5
EPOCHS = 60
BENIGN_BLOCK_RATE = 0.05
FLAG_BENIGN_RATE = 0.15
HIGH_PRECISION = 0.95

COLD_TOPICS = {
    "race": "ethnic_discrimination",
    "region": "regional_discrimination",
    "gender": "gender_discrimination",
}
ZH_FEATURES = Features(bits=18, char=(1, 2))
EN_FEATURES = Features(bits=18, char=(3, 5), word=(1, 1))
ZH_L2 = (3e-5, 1e-4)
EN_L2 = (1e-4, 3e-4)
EN_CLASSES = (
    "benign",
    "violence",
    "weapons",
    "drugs",
    "fraud",
    "cybercrime",
    "hate",
    "sexual",
    "self_harm",
    "privacy",
    "profanity",
    "other_prohibited",
)
# Too few to learn on their own; the lexicon screens child sexual abuse material.
EN_MERGED = {"sexual_minors": "sexual"}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(slots=True)
class Labelled:
    texts: list[str]
    classes: IntArray
    """Index into the model's classes; 0 is "nothing to report"."""

    def subset(self, rows: IntArray) -> Labelled:
        return Labelled([self.texts[i] for i in rows], self.classes[rows])


@dataclass(slots=True)
class Matrix:
    """Sparse rows of features, their columns numbered densely from 0 (``columns`` maps them
    back to buckets). Each product reads its dense operand in order, which keeps it in cache."""

    n_rows: int
    columns: IntArray
    rows: IntArray
    """Row of each entry, entries in row order."""
    local: IntArray
    """Local column of each entry, entries in row order."""
    values: FloatArray
    by_column: tuple[IntArray, IntArray, FloatArray]
    """The same entries in column order: rows, local columns, values."""

    @classmethod
    def build(cls, indptr: IntArray, indices: IntArray, values: FloatArray) -> Matrix:
        columns, local = np.unique(indices, return_inverse=True)
        rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        order = np.argsort(local, kind="stable")
        return cls(
            len(indptr) - 1,
            columns,
            rows,
            local,
            values,
            (rows[order], local[order], values[order]),
        )

    def dot(self, weights: FloatArray) -> FloatArray:
        """``X @ weights.T`` for ``weights`` of shape (classes, local columns): (rows, classes)."""
        rows, local, values = self.by_column
        return np.stack(
            [np.bincount(rows, values * w[local], minlength=self.n_rows) for w in weights], axis=1
        )

    def t_dot(self, gradient: FloatArray) -> FloatArray:
        """``(X.T @ gradient).T`` for ``gradient`` of shape (rows, classes)."""
        size = len(self.columns)
        return np.stack(
            [
                np.bincount(self.local, self.values * g[self.rows], minlength=size)
                for g in np.ascontiguousarray(gradient.T)
            ]
        )


def normalized(texts: Sequence[str], script: Script) -> list[str]:
    return [script_text(script, normalize(text).text) for text in texts]


def term_counts(features: Features, texts: Sequence[str]) -> tuple[IntArray, IntArray, FloatArray]:
    """CSR arrays of the sublinear term frequencies of already normalized texts."""
    indptr = [0]
    indices: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.float32]] = []
    for text in texts:
        buckets, tf = term_frequencies(features, text)
        indices.append(buckets)
        values.append(tf)
        indptr.append(indptr[-1] + len(buckets))
    return (
        np.array(indptr, dtype=np.int64),
        np.concatenate(indices).astype(np.int64),
        np.concatenate(values).astype(np.float64),
    )


def inverse_document_frequency(indices: IntArray, n_rows: int, size: int) -> FloatArray:
    df = np.bincount(indices, minlength=size).astype(np.float64)
    return np.log((1.0 + n_rows) / (1.0 + df)) + 1.0


def tfidf_matrix(
    features: Features, texts: Sequence[str], idf: FloatArray | None = None
) -> tuple[Matrix, FloatArray]:
    """The TF-IDF rows of normalized texts, L2-normalized, and the IDF (fitted here if not
    given)."""
    indptr, indices, tf = term_counts(features, texts)
    if idf is None:
        idf = inverse_document_frequency(indices, len(texts), 2**features.bits)
    values = tf * idf[indices]
    squares = np.add.reduceat(values**2, indptr[:-1])
    norms = np.sqrt(np.where(np.diff(indptr) > 0, squares, 1.0))
    values = values / np.repeat(norms, np.diff(indptr))
    return Matrix.build(indptr, indices, values), idf


def softmax(logits: FloatArray) -> FloatArray:
    exp: FloatArray = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def sample_weights(classes: IntArray) -> FloatArray:
    """Benign and harmful rows weigh the same in total; each row averages 1."""
    harmful = classes > 0
    share = float(harmful.mean())
    weights: FloatArray = np.where(harmful, 0.5 / max(share, 1e-9), 0.5 / max(1 - share, 1e-9))
    return weights / weights.mean()


def fit(
    matrix: Matrix,
    classes: IntArray,
    n_classes: int,
    size: int,
    *,
    l2: float,
    epochs: int = EPOCHS,
    rate: float = 0.1,
) -> tuple[FloatArray, FloatArray]:
    """Multinomial logistic regression by full-batch Adam: weighted mean cross-entropy plus
    ``l2 / 2`` times the squared weights. Deterministic: no randomness, fixed reduction order."""
    targets = np.eye(n_classes)[classes]
    row_weights = sample_weights(classes)[:, None] / matrix.n_rows
    local = np.zeros((n_classes, len(matrix.columns)))
    bias = np.zeros(n_classes)
    moments = [np.zeros_like(local), np.zeros_like(local), np.zeros_like(bias), np.zeros_like(bias)]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        error = (softmax(matrix.dot(local) + bias) - targets) * row_weights
        grad_w = matrix.t_dot(error) + l2 * local
        grad_b = error.sum(axis=0)
        correction = np.sqrt(1 - beta2**step) / (1 - beta1**step)
        for param, grad, first, second in (
            (local, grad_w, moments[0], moments[1]),
            (bias, grad_b, moments[2], moments[3]),
        ):
            first *= beta1
            first += (1 - beta1) * grad
            second *= beta2
            second += (1 - beta2) * grad**2
            param -= rate * correction * first / (np.sqrt(second) + eps)
    weights = np.zeros((size, n_classes))
    weights[matrix.columns] = local.T
    return weights, bias


def harm_scores(matrix: Matrix, weights: FloatArray, bias: FloatArray) -> FloatArray:
    return 1.0 - softmax(matrix.dot(weights[matrix.columns].T) + bias)[:, 0]


def stratified_folds(classes: IntArray, k: int, seed: int) -> list[IntArray]:
    """``k`` disjoint row sets covering every row, each class spread evenly."""
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(classes), dtype=np.int64)
    for label in np.unique(classes):
        rows = np.flatnonzero(classes == label)
        rows = rows[rng.permutation(len(rows))]
        offset = int(rng.integers(k))
        assignment[rows] = (np.arange(len(rows)) + offset) % k
    return [np.flatnonzero(assignment == fold) for fold in range(k)]


def out_of_fold_scores(
    features: Features, texts: Sequence[str], classes: IntArray, n_classes: int, *, l2: float
) -> FloatArray:
    scores = np.zeros(len(texts))
    for held in stratified_folds(classes, FOLDS, SEED):
        keep = np.setdiff1d(np.arange(len(texts)), held)
        train, idf = tfidf_matrix(features, [texts[i] for i in keep])
        weights, bias = fit(train, classes[keep], n_classes, 2**features.bits, l2=l2)
        test, _ = tfidf_matrix(features, [texts[i] for i in held], idf)
        scores[held] = harm_scores(test, weights, bias)
    return scores


def average_precision(scores: FloatArray, harmful: npt.NDArray[np.bool_]) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = harmful[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / max(hits.sum(), 1))


def metrics(
    scores: FloatArray, harmful: npt.NDArray[np.bool_], threshold: float
) -> dict[str, float]:
    predicted = scores >= threshold
    tp = int((predicted & harmful).sum())
    fp = int((predicted & ~harmful).sum())
    fn = int((~predicted & harmful).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    benign = int((~harmful).sum())
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "benign_flagged": round(fp / benign, 4) if benign else 0.0,
    }


def choose_thresholds(
    scores: FloatArray, harmful: npt.NDArray[np.bool_], block_rule: str
) -> Thresholds:
    """Thresholds from out-of-fold scores (candidates: the scores themselves)."""
    candidates = np.unique(np.round(scores, 4))
    table = [(float(t), metrics(scores, harmful, float(t))) for t in candidates]
    if block_rule == "f1":
        block = max(table, key=lambda row: (row[1]["f1"], -row[0]))[0]
    else:
        allowed = [t for t, m in table if m["benign_flagged"] <= BENIGN_BLOCK_RATE]
        block = min(allowed) if allowed else 1.0
    review = [t for t, m in table if m["benign_flagged"] <= FLAG_BENIGN_RATE]
    flag = min(min(review) if review else block, block)
    precise = [t for t, m in table if t >= block and m["precision"] >= HIGH_PRECISION]
    high = min(precise) if precise else 1.0
    return Thresholds(round(flag, 4), round(block, 4), round(high, 4))


@dataclass(slots=True)
class Trained:
    model: LinearModel
    report: dict[str, Any]


def train(
    name: str,
    script: Script,
    features: Features,
    class_names: Sequence[str],
    categories: Sequence[str],
    train_set: Labelled,
    test_set: Labelled,
    *,
    block_rule: str,
    l2_grid: Sequence[float],
    log: Callable[[str], None] = print,
) -> Trained:
    """Choose L2 and thresholds by cross-validation on ``train_set``, fit on all of it, and
    score ``test_set`` once."""
    started = time.perf_counter()
    texts = normalized(train_set.texts, script)
    harmful = train_set.classes > 0
    n_classes = len(class_names)
    best: tuple[float, float, FloatArray] | None = None
    for l2 in l2_grid:
        scores = out_of_fold_scores(features, texts, train_set.classes, n_classes, l2=l2)
        ap = average_precision(scores, harmful)
        log(f"  {name}: l2={l2:g} cross-validated average precision {ap:.4f}")
        if best is None or ap > best[1]:
            best = (l2, ap, scores)
    assert best is not None
    l2, ap, oof = best
    thresholds = choose_thresholds(oof, harmful, block_rule)
    matrix, idf = tfidf_matrix(features, texts)
    weights, bias = fit(matrix, train_set.classes, n_classes, 2**features.bits, l2=l2)
    model = LinearModel(
        name=name,
        script=script,
        classes=tuple(class_names),
        categories=tuple(categories),
        features=features,
        idf=_as_shipped(idf),
        weights=_as_shipped(weights),
        bias=bias.astype(np.float32),
        thresholds=thresholds,
        info={"l2": l2, "epochs": EPOCHS, "seed": SEED},
    )
    # The held-out scores come from the model as it ships (half-precision arrays), through the
    # same code the screen runs.
    test_texts = normalized(test_set.texts, script)
    test_scores = np.array([model.score(text).score for text in test_texts])
    test_harmful = test_set.classes > 0
    report = {
        "train_rows": len(texts),
        "train_harmful": int(harmful.sum()),
        "test_rows": len(test_texts),
        "test_harmful": int(test_harmful.sum()),
        "l2": l2,
        "cv_average_precision": round(ap, 4),
        "cv_at_block": metrics(oof, harmful, thresholds.block),
        "test_average_precision": round(average_precision(test_scores, test_harmful), 4),
        "test_at_flag": metrics(test_scores, test_harmful, thresholds.flag),
        "test_at_block": metrics(test_scores, test_harmful, thresholds.block),
        "test_at_high": metrics(test_scores, test_harmful, thresholds.high),
    }
    log(f"  {name}: trained in {time.perf_counter() - started:.1f} s")
    return Trained(model, report)


def _as_shipped(array: FloatArray) -> npt.NDArray[np.float32]:
    return array.astype(np.float16).astype(np.float32)


def read_cold(path: Path) -> Labelled:
    topics = list(COLD_TOPICS)
    texts: list[str] = []
    classes: list[int] = []
    with path.open(encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file):
            texts.append(row["TEXT"])
            classes.append(1 + topics.index(row["topic"]) if row["label"] == "1" else 0)
    return Labelled(texts, np.array(classes, dtype=np.int64))


def first_human_turn(dialogue: str) -> str:
    found = re.search(r"\n\nHuman: (.*?)\n\nAssistant:", dialogue, re.S)
    if found is None:
        raise ValueError("no Human turn")
    return found.group(1).strip()


def turn_key(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def read_hh(path: Path, labels_path: Path) -> tuple[Labelled, dict[str, int]]:
    """The labelled first turns (unclear ones left out) and how many of each label there were."""
    labels = {}
    for line in labels_path.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            key, label = line.split("\t")
            labels[key] = EN_MERGED.get(label, label)
    seen: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8") as file:
        for line in file:
            turn = first_human_turn(json.loads(line)["chosen"])
            seen.setdefault(turn_key(turn), turn)
    counts: dict[str, int] = {}
    texts: list[str] = []
    classes: list[int] = []
    for key, turn in seen.items():
        label = labels.get(key, "unlabelled")
        counts[label] = counts.get(label, 0) + 1
        if label in EN_CLASSES:
            texts.append(turn)
            classes.append(EN_CLASSES.index(label))
    return Labelled(texts, np.array(classes, dtype=np.int64)), dict(sorted(counts.items()))


def holdout(data: Labelled, share: float, seed: int) -> tuple[Labelled, Labelled]:
    rng = np.random.default_rng(seed)
    held: list[int] = []
    for label in np.unique(data.classes):
        rows = np.flatnonzero(data.classes == label)
        rows = rows[rng.permutation(len(rows))]
        held.extend(rows[: round(share * len(rows))].tolist())
    test = np.array(sorted(held), dtype=np.int64)
    train_rows = np.setdiff1d(np.arange(len(data.texts)), test)
    return data.subset(train_rows), data.subset(test)


def train_zh(data: Path, log: Callable[[str], None] = print) -> Trained:
    return train(
        "zh_offensive",
        "cjk",
        ZH_FEATURES,
        ("none", *COLD_TOPICS),
        ("", *COLD_TOPICS.values()),
        read_cold(data / "cold" / "dev.csv"),
        read_cold(data / "cold" / "test.csv"),
        block_rule="f1",
        l2_grid=ZH_L2,
        log=log,
    )


def train_en(data: Path, log: Callable[[str], None] = print) -> Trained:
    labelled, counts = read_hh(data / "hh-rlhf-harmless" / "test.jsonl.gz", HH_LABELS)
    log(f"  en_harmful: labels of the distinct first turns: {counts}")
    train_set, test_set = holdout(labelled, 0.2, SEED)
    trained = train(
        "en_harmful",
        "latin",
        EN_FEATURES,
        ("none", *EN_CLASSES[1:]),
        ("", *EN_CLASSES[1:]),
        train_set,
        test_set,
        block_rule="benign_rate",
        l2_grid=EN_L2,
        log=log,
    )
    trained.report["labels"] = counts
    return trained


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get(DATA_ENV, DEFAULT_DATA)),
        help=f"the shared data folder (default: ${DATA_ENV} or ../shared/data)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the models")
    args = parser.parse_args(argv)
    if not (args.data / "cold").is_dir() or not (args.data / "hh-rlhf-harmless").is_dir():
        print(f"train_screen: no cold/ and hh-rlhf-harmless/ in {args.data}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    reports = {}
    for trainer in (train_zh, train_en):
        trained = trainer(args.data)
        path = args.out / f"{trained.model.name}.npz"
        trained.model.save(path)
        trained.report["thresholds"] = {
            "flag": trained.model.thresholds.flag,
            "block": trained.model.thresholds.block,
            "high": trained.model.thresholds.high,
        }
        trained.report["bytes"] = path.stat().st_size
        reports[trained.model.name] = trained.report
        print(summary(trained.model.name, trained.report))
    (args.out / "scores.json").write_text(json.dumps(reports, indent=2, sort_keys=True) + "\n")
    print(f"wrote {', '.join(sorted(p.name for p in args.out.glob('*.npz')))} and scores.json")
    return 0


def summary(name: str, report: dict[str, Any]) -> str:
    lines = [
        f"{name}: {report['train_rows']} training texts ({report['train_harmful']} harmful), "
        f"l2 {report['l2']:g}, {report['bytes'] / 1e6:.2f} MB",
        f"  thresholds: {report['thresholds']}",
        f"  held out: {report['test_rows']} texts ({report['test_harmful']} harmful), "
        f"average precision {report['test_average_precision']:.3f}",
    ]
    for level in ("flag", "block", "high"):
        m = report[f"test_at_{level}"]
        lines.append(
            f"    at {level:5}: precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
            f"F1 {m['f1']:.3f}  benign texts over it {m['benign_flagged']:.1%}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
