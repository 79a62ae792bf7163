"""A possible minor: the user says something that suggests they are under 18.

The companion is for adults; a hint is recorded for a person to review, never acted on alone, so
the detector counts only first-person statements ("I'm 15", "main 11th mein padhti hu", "my class
10 exams") and treats weak hints (my school, homework, parents took my phone) as a signal only
when two different kinds appear together. The phrases are data: safety/data/minor.toml.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from safety import rules
from safety.normalise import fold_word, normalise, whole_tokens

_FILE = "minor"


class _Rules(NamedTuple):
    age: tuple[re.Pattern[str], ...]
    school: tuple[re.Pattern[str], ...]
    flat: re.Pattern[str]
    board: re.Pattern[str]
    third_party: re.Pattern[str]
    weak: tuple[re.Pattern[str], ...]
    numbers: dict[str, int]


@functools.cache
def _rules() -> _Rules:
    """Compiled on first use, not at import."""

    def each(key: str) -> tuple[re.Pattern[str], ...]:
        return tuple(whole_tokens(p) for p in rules.pattern_list(_FILE, "rules", key))

    flat = "|".join(f"(?:{p})" for p in rules.pattern_list(_FILE, "rules", "flat"))
    return _Rules(
        age=each("age"),
        school=each("school"),
        flat=whole_tokens(flat),
        board=whole_tokens(rules.pattern(_FILE, "rules", "board")),
        third_party=whole_tokens(rules.pattern(_FILE, "rules", "third_party")),
        weak=each("weak"),
        numbers={fold_word(k): v for k, v in rules.numbers(_FILE, "numbers").items()},
    )


def load() -> None:
    """Read and compile the rules now."""
    _rules()


def _number(token: str, numbers: dict[str, int]) -> int | None:
    if token.isdecimal():
        return int(token)  # also Devanagari digits
    return numbers.get(token)


def detect_minor_signal(text: str) -> bool:
    """True when the user says something that suggests they are under 18: review, not a verdict.

    Counts only first-person statements ("I'm 15", "main 11th mein padhti hu", "my class 10
    exams"); board exams count unless the message is about someone else; weak hints (my school,
    homework, parents took my phone) count only when two different kinds appear together.
    """
    found = _rules()
    norm = normalise(text)
    for regex in found.age:
        for match in regex.finditer(norm):
            value = _number(match.group(1), found.numbers)
            if value is not None and 8 <= value <= 17:
                return True
    for regex in found.school:
        for match in regex.finditer(norm):
            if 1 <= int(match.group(1)) <= 12:
                return True
    if found.flat.search(norm):
        return True
    if found.board.search(norm) and not found.third_party.search(norm):
        return True
    return sum(1 for regex in found.weak if regex.search(norm)) >= 2
