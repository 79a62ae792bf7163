"""Labelled phrases for the safety detectors, kept as data in tests/data/ (JSON Lines).

Written as people actually type to a companion app: lower case, missing apostrophes, Hinglish
spelling drift, emoji. Data rather than code so that writers of new sets, reviewers and the
training corpus check all read the same plain lines:

- distress_phrases.jsonl: one phrase a line, {"set", "text", "lang": en|hi|hinglish, "label":
  none|suicide|self_harm|harm_to_others, "severity": high|medium|null}; label "none" is a negative
  (an idiom, hyperbole, news, games, cooking... that must not fire). `SETS` says where each set
  came from, in the order they were written.
- distress_held_out_v5.jsonl: the same fields without "set", exactly as its writer delivered it.
- minor_phrases.jsonl: {"text", "minor": true|false}; ai_question_phrases.jsonl: {"text",
  "asks_if_ai": true|false}.

None of the distress phrases is in the classifier's training corpus; tests/test_distress_model.py
checks.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

from safety import Category, Severity

Language = Literal["en", "hi", "hinglish"]
DATA = Path(__file__).parent / "data"

SETS: dict[str, str] = {
    "core": "written before any detector code; the rules were tuned against them.",
    "spent_held_out_v1": (
        "the first held-out set, written after the detector was first frozen and measured once, "
        "before any change: recall 20/36 = 0.556, false positives 0/24 (category and severity "
        "right on all 20 it caught). The misses were systematic (particles inside phrases, "
        "subjunctive wishes, instrument between object and verb, euphemisms), so the set was "
        "spent: folded into tuning, and a new held-out set (v2) was written after the next freeze."
    ),
    "probe": "more tuning probes (round 3): constructions not covered anywhere above.",
    "spent_held_out_v2": (
        "the second held-out set, written after the detector was frozen the second time and "
        "measured once, before any change: recall 19/36 = 0.528 (en 5/12, hi 7/12, hinglish "
        "7/12), false positives 0/24 (category and severity right on all 19 it caught); whole "
        "labelled set then 261/278 = 0.939, FPR 0/212. The misses were systematic (feeling/desire "
        "forms, first-person methods such as a car into a wall or every pill, beating a partner "
        'or child, intensifiers inside Hinglish phrases, multi-word objects before "ko", "नहीं '
        'रहूंगी तो", instrument between "khud ko" and the verb), so the set was spent: folded into '
        "tuning (fifth round of rules), and a new held-out set (v3) was written after the next "
        "freeze."
    ),
    "round5": (
        "tricky negatives written together with the fifth-round rules to keep them honest: each "
        'one resembles a new rule ("feel like dying my hair", "drive my car to the Wall Street '
        'office", "mann karta hai biryani khane ka") and must stay silent.'
    ),
    "held_out_v3": (
        "written after the fifth-round freeze; the rules were never tuned on it. Measured once, "
        "right after it was written: recall 7/36 = 0.194 (en 3/12, hi 2/12, hinglish 2/12), false "
        "positives 0/24, category and severity right on all 7; whole labelled set 285/314 = "
        "0.908. It is no longer fully blind: its misses were seen before the second round of "
        "classifier training data was asked for, and some of their themes were in that request."
    ),
    "held_out_v4": (
        "written on 2026-11-28 by someone who saw neither the rules, the classifier's training "
        "corpus (training/distress/corpus/) nor these phrases, and measured once after the first "
        "classifier was frozen (68/90, FPR 4/60). Then spent: its misses set the themes of the "
        "third round of training data, and its numbers chose the second learner (tf-idf, C, "
        "threshold target) and three context vetoes in the rules."
    ),
    "held_out_v5": (
        "(distress_held_out_v5.jsonl) written on 2026-11-28 by someone who saw neither the rules, "
        "the corpus nor any phrase here, and measured once after the second classifier and the "
        "vetoes were frozen: 86/90, FPR 0/60. Its numbers are the honest estimate on unseen text. "
        'One of its lines, "काश मैं पैदा ही न होती", was already in the tuning data word for word; '
        "it is kept there only, so the file holds 89 positives (85 caught)."
    ),
    "everyday": (
        "ordinary messages with no risk at all, written 2026-11-28 by someone who saw neither the "
        "rules nor the training corpus. Not tricky on purpose: this is most of what a companion "
        "hears, so a false alarm here is what users would meet most often."
    ),
}
TUNING = ("core", "spent_held_out_v1", "probe", "spent_held_out_v2", "round5")
HELD_OUT = ("held_out_v3", "held_out_v4", "held_out_v5")


class Positive(NamedTuple):
    """A message that should raise a distress signal, with the category and severity it deserves."""

    text: str
    lang: Language
    category: Category
    severity: Severity


class Negative(NamedTuple):
    """A message that must not raise a distress signal (idiom, hyperbole, news, games, cooking...)."""

    text: str
    lang: Language


def _rows(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@functools.cache
def _distress() -> tuple[tuple[str, Positive | Negative], ...]:
    """(set, phrase) for every labelled distress phrase, in file order."""
    rows = _rows("distress_phrases.jsonl")
    rows += [{**row, "set": "held_out_v5"} for row in _rows("distress_held_out_v5.jsonl")]
    out: list[tuple[str, Positive | Negative]] = []
    for row in rows:
        if row["set"] not in SETS or row["lang"] not in ("en", "hi", "hinglish"):
            raise ValueError(f"unknown set or language in {row}")
        lang = cast(Language, row["lang"])
        if row["label"] == "none":
            out.append((row["set"], Negative(row["text"], lang)))
        else:
            category, severity = cast(Category, row["label"]), cast(Severity, row["severity"])
            out.append((row["set"], Positive(row["text"], lang, category, severity)))
    return tuple(out)


def positives(*sets: str, lang: Language | None = None) -> list[Positive]:
    """The positives of the named sets, set by set in the order given, each in file order."""
    return [
        p
        for name in sets
        for s, p in _distress()
        if s == name and isinstance(p, Positive) and lang in (None, p.lang)
    ]


def negatives(*sets: str, lang: Language | None = None) -> list[Negative]:
    """The negatives of the named sets, set by set in the order given, each in file order."""
    return [
        n
        for name in sets
        for s, n in _distress()
        if s == name and isinstance(n, Negative) and lang in (None, n.lang)
    ]


def minor(expected: bool) -> list[str]:
    """Phrases that do (True) or do not (False) suggest the writer is under 18."""
    return [row["text"] for row in _rows("minor_phrases.jsonl") if row["minor"] is expected]


def ai_question(expected: bool) -> list[str]:
    """Phrases that are (True) or are not (False) a sincere "are you an AI?"."""
    return [
        row["text"] for row in _rows("ai_question_phrases.jsonl") if row["asks_if_ai"] is expected
    ]


def all_distress_texts() -> list[str]:
    """Every labelled distress phrase, positive or negative: what training must never see."""
    every = [*TUNING, *HELD_OUT, "everyday"]
    return [p.text for p in positives(*every)] + [n.text for n in negatives(*every)]
