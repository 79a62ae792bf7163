"""Safety detectors run on every user message before the model sees it.

`detect_distress` (suicide, self-harm, harm to others), `detect_minor_signal` (the user may be
under 18) and `asks_if_ai` (a sincere "are you a bot?"). A package of its own because two layers
use it: handlers/ on each message, and jobs/ to leave risky conversations out of the training
export; it imports only the standard library. The phrase tables are data (safety/data/*.toml,
with one <NAME> macro scheme) and the classifier's weights are package data (distress_model.bin).
Nothing is read or compiled at import: `load()` does it all, once, so the composition root can
call it at start-up and a broken install fails there rather than on the first message.
"""

from __future__ import annotations

from safety import ai_question, distress, minor
from safety.ai_question import asks_if_ai
from safety.distress import Distress, detect_distress, normalise_for_distress
from safety.minor import detect_minor_signal
from safety.rules import Category, Severity


def load() -> None:
    """Read and compile every rule table and the classifier's weights now (each only once)."""
    distress.load()
    minor.load()
    ai_question.load()


__all__ = [
    "Category",
    "Distress",
    "Severity",
    "asks_if_ai",
    "detect_distress",
    "detect_minor_signal",
    "load",
    "normalise_for_distress",
]
