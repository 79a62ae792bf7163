"""The shipped distress classifier (safety/model.py) and how it was trained.

Its quality is measured with the rules in tests/test_distress.py; here: it ships with the package,
it was trained on today's corpus, training never saw an evaluation phrase, and training is
reproducible.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from safety import normalise_for_distress
from safety.model import MODEL_FILE, DistressModel, features, shipped_model
from tests.phrases import all_distress_texts
from training.distress import CORPUS, Trainer, corpus_digest, load_corpus

ROOT = Path(__file__).parent.parent


def test_the_model_ships_inside_the_safety_package_and_is_small() -> None:
    path = ROOT / "safety" / MODEL_FILE
    assert path.stat().st_size < 2 * 1024 * 1024
    model = shipped_model()
    assert 0.0 < model.threshold < 1.0
    assert model.header["examples"] >= 2000


def test_the_model_was_trained_on_the_corpus_as_it_is_now() -> None:
    """Editing the corpus without retraining fails here: run `python -m training.distress`."""
    assert shipped_model().header["corpus_sha256"] == corpus_digest()
    done = subprocess.run(
        [sys.executable, "-m", "training.distress", "--check"], cwd=ROOT, capture_output=True
    )
    assert done.returncode == 0, done.stdout


def test_no_evaluation_phrase_is_in_the_training_corpus() -> None:
    """The test numbers are honest only if training never saw the phrases they are measured on."""
    corpus = {normalise_for_distress(e.text) for e in load_corpus()}
    leaked = [t for t in all_distress_texts() if normalise_for_distress(t) in corpus]
    assert leaked == []


def test_the_corpus_is_labelled_consistently_in_all_three_languages() -> None:
    examples = load_corpus()
    assert len({e.text for e in examples}) == len(examples), "a corpus line is repeated"
    for lang in ("en", "hi", "hinglish"):
        mine = [e for e in examples if e.lang == lang]
        assert {e.label for e in mine} == {0, 1, 2, 3}, lang
        assert sum(e.label == 0 for e in mine) >= 250, lang
    for path in CORPUS.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert set(row) == {"text", "lang", "label", "severity"}, path.name


def test_training_is_deterministic_and_the_file_round_trips() -> None:
    sample = load_corpus()[::15]

    def train() -> bytes:
        trainer = Trainer(dim=1 << 12)
        trainer.fit(sample)
        return trainer.quantised({"threshold": 0.5}).to_bytes()

    first = train()
    assert first == train()
    model = DistressModel.from_bytes(first)
    assert model.to_bytes() == first
    with pytest.raises(ValueError):
        DistressModel.from_bytes(b"not a model")


def test_features_depend_only_on_the_normalised_text() -> None:
    norm = normalise_for_distress("Main  ab JEENA nahi chahta!!")
    assert features(norm, 1 << 18) == features(
        normalise_for_distress("main ab jeena nahi chahta"), 1 << 18
    )
    assert features(" ", 1 << 18) == []
    assert shipped_model().predict(" ").risk < shipped_model().threshold
