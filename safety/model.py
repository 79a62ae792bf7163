"""A small linear distress classifier that ships its own weights: the net behind the rules.

The rules (safety/data/distress.toml) are precise but only catch phrasing close to what they were
written against. This model generalises a little further: a logistic regression over hashed word
and character n-grams of the normalised text (character n-grams survive Hinglish spelling drift and
Devanagari variants), each weighted by its inverse document frequency so that rare, telling
n-grams count for more than ones every message has. It was trained by `python -m training.distress`
on the corpus in training/distress/corpus/, which is separate from the evaluation phrases in
tests/data/. The weights are package data (`safety/distress_model.bin`, int8 weights and uint8
idf, under 1 MiB): nothing is downloaded, ever, and the text never leaves the process. Loaded on
first use (or by `safety.load()`), not at import.

Five heads share one feature space: four class logits (none, suicide, self-harm, harm to others)
and one severity logit (high vs medium), trained on the positives only.
"""

from __future__ import annotations

import functools
import json
import math
import struct
import zlib
from array import array
from dataclasses import dataclass
from importlib import resources
from itertools import pairwise
from typing import Any

MAGIC = b"AMIGODM2"
CLASSES = ("none", "suicide", "self_harm", "harm_to_others")
HEADS = len(CLASSES) + 1  # the last head is severity: > 0 means "high"
MODEL_FILE = "distress_model.bin"


def features(norm: str, dim: int) -> list[int]:
    """Hashed feature ids of a normalised message (' tok tok . tok '), duplicates kept.

    Word unigrams and bigrams carry meaning; character 3-5-grams inside padded words carry
    spelling variants ("marna", "mrna", "marnaa" share most of theirs).
    """
    words = [w for w in norm.split() if w not in {".", "?", ","}]
    names: list[str] = [f"w {w}" for w in words]
    names += [f"b {a} {b}" for a, b in pairwise(words)]
    for word in words:
        padded = f"<{word}>"
        for n in (3, 4, 5):
            names += [f"c {padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    mask = dim - 1
    return [zlib.crc32(name.encode()) & mask for name in names]


@dataclass(frozen=True)
class Verdict:
    """What the model thinks of one message: class probabilities and severity."""

    probabilities: tuple[float, ...]  # in CLASSES order
    high: bool

    @property
    def risk(self) -> float:
        """Probability that the message carries any distress signal."""
        return 1.0 - self.probabilities[0]

    @property
    def category(self) -> str:
        best = max(range(1, len(CLASSES)), key=lambda i: self.probabilities[i])
        return CLASSES[best]


def feature_vector(norm: str, idf: array[int]) -> dict[int, float]:
    """Sparse tf-idf vector of a message: presence times idf, scaled to unit length.

    Training and inference both call this, so the model sees at run time exactly what it learnt on.
    """
    weights = {i: float(idf[i]) for i in set(features(norm, len(idf)))}
    length = math.sqrt(sum(v * v for v in weights.values()))
    return {i: v / length for i, v in weights.items()} if length else {}


class DistressModel:
    """Dense int8 weights, one row of `dim` per head, a per-head scale and bias, and the idf row."""

    def __init__(self, header: dict[str, Any], weights: array[int], idf: array[int]) -> None:
        self.header = header
        self.dim: int = header["dim"]
        self.threshold: float = header["threshold"]
        self.scales: list[float] = header["scales"]
        self.biases: list[float] = header["biases"]
        self.weights = weights
        self.idf = idf
        if len(weights) != HEADS * self.dim or len(idf) != self.dim:
            raise ValueError("distress model: weight table has the wrong size")

    def logits(self, norm: str) -> list[float]:
        x = feature_vector(norm, self.idf)
        out = []
        w = self.weights
        for head in range(HEADS):
            base = head * self.dim
            total = sum(w[base + i] * v for i, v in x.items())
            out.append(total * self.scales[head] + self.biases[head])
        return out

    def predict(self, norm: str) -> Verdict:
        logits = self.logits(norm)
        classes = logits[: len(CLASSES)]
        top = max(classes)
        exps = [math.exp(x - top) for x in classes]
        total = sum(exps)
        return Verdict(tuple(e / total for e in exps), logits[-1] > 0)

    def flags(self, verdict: Verdict) -> bool:
        return verdict.risk >= self.threshold

    # --- the file format: MAGIC, header length, JSON header, zlib(int8 weights + uint8 idf) -------

    def to_bytes(self) -> bytes:
        header = json.dumps(self.header, sort_keys=True).encode()
        tables = self.weights.tobytes() + self.idf.tobytes()
        return MAGIC + struct.pack(">I", len(header)) + header + zlib.compress(tables, 9)

    @classmethod
    def from_bytes(cls, blob: bytes) -> DistressModel:
        if not blob.startswith(MAGIC):
            raise ValueError("distress model: not a model file")
        (size,) = struct.unpack(">I", blob[len(MAGIC) : len(MAGIC) + 4])
        start = len(MAGIC) + 4
        header = json.loads(blob[start : start + size])
        tables = zlib.decompress(blob[start + size :])
        split = HEADS * header["dim"]
        weights, idf = array("b"), array("B")
        weights.frombytes(tables[:split])
        idf.frombytes(tables[split:])
        return cls(header, weights, idf)


@functools.cache
def shipped_model() -> DistressModel:
    """The packaged model. A missing file is a broken install: it fails loudly, at start-up."""
    return DistressModel.from_bytes(resources.files("safety").joinpath(MODEL_FILE).read_bytes())
