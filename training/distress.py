"""Train the distress classifier shipped as safety/distress_model.bin.

    python -m training.distress          # train, cross-validate, write the model
    python -m training.distress --check  # fail if the model was not trained on today's corpus

The corpus (training/distress/corpus/*.jsonl) was written for training only; the evaluation phrases
in tests/data/ are never read here, so the test numbers stay an honest measure. Training
needs scikit-learn (a dev dependency, not the bot's) and is deterministic (fixed seed, fixed order,
L-BFGS), so the same corpus gives the same file.
The decision threshold is chosen by k-fold cross-validation on the corpus, never on the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safety import normalise_for_distress
from safety.model import CLASSES, MODEL_FILE, DistressModel, feature_vector, features

CORPUS = Path(__file__).parent / "distress" / "corpus"
MODEL_PATH = Path(__file__).parent.parent / "safety" / MODEL_FILE
DIM = 1 << 18
# C (inverse L2 strength) was chosen among 3, 10 and 30 on cross-validation and held-out v4 (which
# that spent); the 3% target sits between the 2% and 4% tried there. v5 was measured only after.
C = 30.0
MAX_ITER = 2000
TARGET_FPR = 0.03  # the threshold is the lowest whose cross-validated false-positive rate is below
FOLDS = 5
SEED = 20261128


@dataclass(frozen=True)
class Example:
    text: str
    lang: str
    label: int  # index into CLASSES
    high: bool


def load_corpus(folder: Path = CORPUS) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            label = CLASSES.index(row["label"])
            if (row["severity"] is None) != (label == 0) or row["lang"] not in {
                "en",
                "hi",
                "hinglish",
            }:
                raise ValueError(f"{path.name}:{number}: inconsistent label")
            examples.append(Example(row["text"], row["lang"], label, row["severity"] == "high"))
    return examples


def corpus_digest(folder: Path = CORPUS) -> str:
    """sha256 over the corpus files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.jsonl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def idf_table(examples: Sequence[Example], dim: int) -> array[int]:
    """Smoothed inverse document frequency per hashed feature, quantised to 1..255.

    ln((1 + n) / (1 + df)) + 1, as scikit-learn's TfidfVectorizer computes it; the scale does not
    matter, because feature vectors are scaled to unit length afterwards.
    """
    df = [0] * dim
    for e in examples:
        for i in set(features(normalise_for_distress(e.text), dim)):
            df[i] += 1
    top = math.log(1 + len(examples)) + 1
    quantised = (
        max(1, round(255 * (math.log((1 + len(examples)) / (1 + d)) + 1) / top)) for d in df
    )
    return array("B", quantised)


class Trainer:
    """Multinomial logistic regression (scikit-learn, L-BFGS) over sparse tf-idf features.

    scikit-learn is a training-only dependency: the bot reads the int8 weights in pure Python.
    One multinomial model gives the four class heads; a binary one, fitted on the positives only,
    gives severity.
    """

    def __init__(self, dim: int = DIM, c: float = C) -> None:
        self.dim = dim
        self.c = c
        self.idf = array("B")
        self.w: list[list[float]] = []
        self.b: list[float] = []

    def _matrix(self, texts: Sequence[str]) -> Any:
        from scipy import sparse  # training-only dependency

        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for row, text in enumerate(texts):
            x = feature_vector(normalise_for_distress(text), self.idf)
            rows += [row] * len(x)
            cols += list(x)
            values += list(x.values())
        return sparse.csr_matrix((values, (rows, cols)), shape=(len(texts), self.dim))

    def fit(self, examples: Sequence[Example]) -> None:
        from sklearn.linear_model import LogisticRegression  # training-only dependency

        self.idf = idf_table(examples, self.dim)
        x = self._matrix([e.text for e in examples])
        labels = [e.label for e in examples]
        classes = LogisticRegression(C=self.c, max_iter=MAX_ITER).fit(x, labels)
        positive = [k for k, e in enumerate(examples) if e.label != 0]
        severity = LogisticRegression(C=self.c, max_iter=MAX_ITER).fit(
            x[positive], [examples[k].high for k in positive]
        )
        self.w = [[float(v) for v in row] for row in classes.coef_] + [
            [float(v) for v in severity.coef_[0]]
        ]
        self.b = [float(v) for v in classes.intercept_] + [float(severity.intercept_[0])]

    def risks(self, texts: Sequence[str]) -> list[float]:
        """Probability of any distress signal, from the unquantised weights."""
        out = []
        for text in texts:
            x = feature_vector(normalise_for_distress(text), self.idf)
            logits = [
                self.b[h] + sum(self.w[h][i] * v for i, v in x.items()) for h in range(len(CLASSES))
            ]
            top = max(logits)
            exps = [math.exp(z - top) for z in logits]
            out.append(1.0 - exps[0] / sum(exps))
        return out

    def quantised(self, header: dict[str, object]) -> DistressModel:
        scales = [max(1e-9, max(abs(v) for v in row)) / 127 for row in self.w]
        weights = array("b")
        for row, scale in zip(self.w, scales, strict=True):
            weights.extend(max(-127, min(127, round(v / scale))) for v in row)
        full = {**header, "dim": self.dim, "scales": scales, "biases": self.b}
        return DistressModel(full, weights, self.idf)


def choose_threshold(examples: Sequence[Example]) -> tuple[float, float, float]:
    """k-fold out-of-fold risks; the lowest threshold with FPR <= TARGET_FPR, and its recall."""
    risks: list[tuple[float, bool]] = []
    for fold in range(FOLDS):
        train = [e for i, e in enumerate(examples) if i % FOLDS != fold]
        test = [e for i, e in enumerate(examples) if i % FOLDS == fold]
        trainer = Trainer()
        trainer.fit(train)
        risks += zip(
            trainer.risks([e.text for e in test]), [e.label != 0 for e in test], strict=True
        )
        print(f"  fold {fold + 1}/{FOLDS} done", file=sys.stderr)
    negatives = sorted((r for r, positive in risks if not positive), reverse=True)
    allowed = int(TARGET_FPR * len(negatives))
    threshold = min(0.99, max(0.05, negatives[allowed] + 1e-6))
    positives = [r for r, positive in risks if positive]
    recall = sum(r >= threshold for r in positives) / len(positives)
    fpr = sum(r >= threshold for r in negatives) / len(negatives)
    return threshold, recall, fpr


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.distress", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only verify the corpus digest")
    args = parser.parse_args(argv)
    digest = corpus_digest()
    if args.check:
        shipped = DistressModel.from_bytes(MODEL_PATH.read_bytes()).header["corpus_sha256"]
        if shipped != digest:
            print("safety/distress_model.bin is stale: run python -m training.distress")
            return 1
        return 0
    examples = load_corpus()
    # The folds take every k-th example, so shuffle once (deterministically) to mix the files.
    random.Random(SEED).shuffle(examples)
    print(f"corpus: {len(examples)} examples, {sum(e.label != 0 for e in examples)} positive")
    threshold, recall, fpr = choose_threshold(examples)
    print(f"cross-validated: threshold {threshold:.3f}, recall {recall:.3f}, FPR {fpr:.3f}")
    trainer = Trainer()
    trainer.fit(examples)
    header = {
        "corpus_sha256": digest,
        "examples": len(examples),
        "threshold": threshold,
        "cv_recall": round(recall, 4),
        "cv_fpr": round(fpr, 4),
        "c": C,
    }
    MODEL_PATH.write_bytes(trainer.quantised(header).to_bytes())
    print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
