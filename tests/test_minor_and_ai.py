"""The under-18 signal (safety/minor.py) and the sincere "are you an AI?" (safety/ai_question.py).

The phrases are data: tests/data/minor_phrases.jsonl and tests/data/ai_question_phrases.jsonl.
"""

from __future__ import annotations

import pytest

from safety import asks_if_ai, detect_minor_signal
from tests.phrases import ai_question, minor

MINOR_POSITIVES, MINOR_NEGATIVES = minor(True), minor(False)
AI_POSITIVES, AI_NEGATIVES = ai_question(True), ai_question(False)


def test_the_labelled_data_is_big_enough() -> None:
    for items in (MINOR_POSITIVES, MINOR_NEGATIVES, AI_POSITIVES, AI_NEGATIVES):
        assert len(items) >= 15


@pytest.mark.parametrize("text", MINOR_POSITIVES)
def test_minor_signals(text: str) -> None:
    assert detect_minor_signal(text)


@pytest.mark.parametrize("text", MINOR_NEGATIVES)
def test_not_minor_signals(text: str) -> None:
    assert not detect_minor_signal(text)


@pytest.mark.parametrize("text", AI_POSITIVES)
def test_sincere_questions_whether_the_companion_is_an_ai(text: str) -> None:
    assert asks_if_ai(text)


@pytest.mark.parametrize("text", AI_NEGATIVES)
def test_statements_about_ai_are_not_questions_to_the_companion(text: str) -> None:
    assert not asks_if_ai(text)
