"""Train the distress classifier shipped as handlers/distress_model.bin.

    python -m training.distress          # train, cross-validate, write the model
    python -m training.distress --check  # fail if the model was not trained on today's corpus

The corpus (training/distress/corpus/*.jsonl) was written for training only; the evaluation phrases
in tests/signal_phrases.py are never read here, so the test numbers stay an honest measure. Training
is pure Python and deterministic (fixed seed, fixed order), so the same corpus gives the same file.
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

from handlers.distress_model import CLASSES, HEADS, MODEL_FILE, DistressModel, features
from handlers.signals import normalise_for_distress

CORPUS = Path(__file__).parent / "distress" / "corpus"
MODEL_PATH = Path(__file__).parent.parent / "handlers" / MODEL_FILE
DIM = 1 << 18
EPOCHS = 10
RATE = 1.0
TARGET_FPR = 0.02  # the threshold is the lowest whose cross-validated false-positive rate is below
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


class Trainer:
    """Multinomial logistic regression by averaged SGD over sparse hashed features.

    Features are present/absent, scaled to unit length. The weights kept are the average over all
    updates (Polyak averaging), which in cross-validation generalised better than the last ones.
    """

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self.w = [[0.0] * dim for _ in range(HEADS)]
        self.b = [0.0] * HEADS
        self._u = [[0.0] * dim for _ in range(HEADS)]  # sum of step * update, for the average
        self._ub = [0.0] * HEADS
        self._steps = 1

    def _x(self, norm: str) -> dict[int, float]:
        ids = set(features(norm, self.dim))
        scale = 1.0 / math.sqrt(len(ids)) if ids else 0.0
        return dict.fromkeys(ids, scale)

    def fit(self, examples: Sequence[Example], epochs: int = EPOCHS) -> None:
        rows = [(self._x(normalise_for_distress(e.text)), e) for e in examples]
        order = list(range(len(rows)))
        rng = random.Random(SEED)
        for _ in range(epochs):
            rng.shuffle(order)
            for k in order:
                x, e = rows[k]
                self._step(x, e)
        for head in range(HEADS):  # average = last weights - sum(step * update) / steps
            row, u = self.w[head], self._u[head]
            for i, total in enumerate(u):
                if total:
                    row[i] -= total / self._steps
            self.b[head] -= self._ub[head] / self._steps

    def _step(self, x: dict[int, float], e: Example) -> None:
        logits = [self.b[h] + sum(self.w[h][i] * v for i, v in x.items()) for h in range(HEADS)]
        classes = logits[: len(CLASSES)]
        top = max(classes)
        exps = [math.exp(z - top) for z in classes]
        total = sum(exps)
        grads = [exps[h] / total - (1.0 if h == e.label else 0.0) for h in range(len(CLASSES))]
        if e.label != 0:  # severity is learnt from the positives only
            grads.append(1.0 / (1.0 + math.exp(-logits[-1])) - (1.0 if e.high else 0.0))
        steps = self._steps
        for h, g in enumerate(grads):
            row, u = self.w[h], self._u[h]
            for i, v in x.items():
                delta = RATE * g * v
                row[i] -= delta
                u[i] -= steps * delta
            self.b[h] -= RATE * g
            self._ub[h] -= steps * RATE * g
        self._steps += 1

    def risk(self, text: str) -> float:
        x = self._x(normalise_for_distress(text))
        logits = [
            self.b[h] + sum(self.w[h][i] * v for i, v in x.items()) for h in range(len(CLASSES))
        ]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        return 1.0 - exps[0] / sum(exps)

    def quantised(self, header: dict[str, object]) -> DistressModel:
        scales = [max(1e-9, max(abs(v) for v in row)) / 127 for row in self.w]
        weights = array("b")
        for row, scale in zip(self.w, scales, strict=True):
            weights.extend(max(-127, min(127, round(v / scale))) for v in row)
        full = {**header, "dim": self.dim, "scales": scales, "biases": self.b}
        return DistressModel(full, weights)


def choose_threshold(examples: Sequence[Example]) -> tuple[float, float, float]:
    """k-fold out-of-fold risks; the lowest threshold with FPR <= TARGET_FPR, and its recall."""
    risks: list[tuple[float, bool]] = []
    for fold in range(FOLDS):
        train = [e for i, e in enumerate(examples) if i % FOLDS != fold]
        test = [e for i, e in enumerate(examples) if i % FOLDS == fold]
        trainer = Trainer()
        trainer.fit(train)
        risks += [(trainer.risk(e.text), e.label != 0) for e in test]
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
            print("handlers/distress_model.bin is stale: run python -m training.distress")
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
        "epochs": EPOCHS,
    }
    MODEL_PATH.write_bytes(trainer.quantised(header).to_bytes())
    print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
