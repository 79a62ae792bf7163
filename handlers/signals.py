"""PLACEHOLDER until the detectors land (being written now); same API, detects nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Distress:
    category: Literal["suicide", "self_harm", "harm_to_others"]
    severity: Literal["high", "medium"]


def detect_distress(text: str) -> Distress | None:
    return None


def detect_minor_signal(text: str) -> bool:
    return False


def asks_if_ai(text: str) -> bool:
    return False
