"""A sincere "are you an AI?": the conduct rules require a plain answer to that question.

The router makes sure the reply says so even if the model drifts, so this detector must tell a
question to the companion ("are you a bot?", "tum insaan ho ya bot?", "क्या तुम इंसान हो") from talk
about AI in general ("AI is the future"). The phrases are data: safety/data/ai_question.toml.
"""

from __future__ import annotations

import functools
import re

from safety import rules
from safety.normalise import normalise, whole_tokens


@functools.cache
def _rule() -> re.Pattern[str]:
    """All the questions as one alternation, compiled on first use, not at import."""
    questions = rules.pattern_list("ai_question", "rules", "questions")
    return whole_tokens("|".join(f"(?:{p})" for p in questions))


def load() -> None:
    """Read and compile the rule now."""
    _rule()


def asks_if_ai(text: str) -> bool:
    """True for a sincere question whether the companion is an AI, a bot or a real person.

    The conduct rules require a plain answer to that question, so the router can make sure the
    reply says so even if the model drifts. Statements about AI in general do not count.
    """
    return _rule().search(normalise(text)) is not None
