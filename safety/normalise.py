"""One canonical spelling of a message, and the same folding applied to the rule patterns.

People type "I'M GOING TO", "im gonna", "dieeee", "k1ll mys3lf", zero-width joiners, emoji, and
Hindi in several spellings (ज़िंदगी/जिन्दगी/जिंदगी). Rules are written once, in ordinary spelling;
the text and the patterns both pass through the folds here, so they meet in the middle. Everything
is compiled on first use, not at import.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

# Invisible characters people (and some keyboards) put inside words; removed before anything else.
_INVISIBLE = dict.fromkeys(
    [
        0x00AD,
        0x034F,
        0x061C,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        0x180E,
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),
        *range(0xFE00, 0xFE10),
        0xFEFF,
    ]
)
# Spelling folds applied to text AND patterns: apostrophes go ("I'm" -> "im"); Devanagari nukta,
# chandrabindu and anusvara go (ज़िंदगी/जिन्दगी/जिंदगी agree); long i/u fold to short (हूँ/हु).
_FOLD = {
    **dict.fromkeys(map(ord, "'’‘`´ʼʹ′"), None),
    0x093C: None,  # nukta
    0x0901: None,  # chandrabindu
    0x0902: None,  # anusvara
    0x0940: 0x093F,  # ी -> ि
    0x0942: 0x0941,  # ू -> ु
    0x0908: 0x0907,  # ई -> इ
    0x090A: 0x0909,  # ऊ -> उ
}
_LEET = str.maketrans("013457", "oieast")


class _Regexes(NamedTuple):
    nasal_cluster: re.Pattern[str]
    squeeze: re.Pattern[str]
    ellipsis: re.Pattern[str]
    sentence_end: re.Pattern[str]
    question: re.Pattern[str]
    comma: re.Pattern[str]
    non_word: re.Pattern[str]
    leet_token: re.Pattern[str]
    devanagari: re.Pattern[str]


@functools.cache
def _regexes() -> _Regexes:
    return _Regexes(
        nasal_cluster=re.compile("[ङञणनम]्(?=[क-ह])"),  # half nasal before a consonant == anusvara
        squeeze=re.compile(r"([^\W\d_])\1+"),
        ellipsis=re.compile(r"\.{2,}"),
        sentence_end=re.compile(r"[.!;\n\r।॥]+"),
        question=re.compile(r"\?+"),
        comma=re.compile(r"[,،、，]+"),
        non_word=re.compile(r"[^\w\u0900-\u097f.?,]|_"),
        leet_token=re.compile(r"\b[a-z]+\d[a-z\d]*\b"),
        devanagari=re.compile("[\u0900-\u097f]"),
    )


def fold(text: str) -> str:
    """Apostrophes dropped, Devanagari nasals and long vowels folded."""
    return _regexes().nasal_cluster.sub("", text.translate(_FOLD))


def fold_word(word: str) -> str:
    """A word as it appears in normalised text: NFKC, folded, repeated letters squeezed."""
    return _regexes().squeeze.sub(r"\1", fold(unicodedata.normalize("NFKC", word)))


def tokens(words: tuple[str, ...]) -> frozenset[str]:
    """Words (from a rule file's word list), folded like the text."""
    return frozenset(fold_word(w) for w in words)


def normalise(text: str, *, leet: bool = False, drop: frozenset[str] = frozenset()) -> str:
    """One canonical spelling of a message: ' tok tok . tok ? ' (padded, single spaces).

    `leet` reads "k1ll mys3lf" as "kill myself" (only in tokens that start with a letter, so "9th"
    and "15yo" survive); `drop` removes words that carry no meaning for the caller.
    """
    rx = _regexes()
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).casefold()
    text = fold(text)
    text = rx.ellipsis.sub(" ", text)  # "i just... want to die" is one thought
    text = rx.question.sub(" ? ", rx.sentence_end.sub(" . ", text))
    text = rx.comma.sub(" , ", text)  # a clause end for the negation check, not for patterns
    text = rx.non_word.sub(" ", text)
    if leet:
        text = rx.leet_token.sub(lambda m: m.group().translate(_LEET), text)
    text = rx.squeeze.sub(r"\1", text)
    words = text.split()
    if drop:
        words = [w for w in words if w not in drop]
    return " " + " ".join(words) + " "


def has_devanagari(text: str) -> bool:
    return _regexes().devanagari.search(text) is not None


def prepare(pattern: str) -> str:
    """Fold a hand-written pattern like the text: squeeze doubled literal letters, fold Devanagari."""
    pattern = fold(unicodedata.normalize("NFKC", pattern))
    out: list[str] = []
    escaped = False
    previous = ""
    for char in pattern:
        if escaped:
            out.append(char)
            escaped, previous = False, ""
        elif char == "\\":
            out.append(char)
            escaped, previous = True, ""
        elif char.isalpha() and char == previous:
            continue
        else:
            out.append(char)
            previous = char if char.isalpha() else ""
    return "".join(out)


def folded(pattern: str) -> re.Pattern[str]:
    """A pattern compiled over normalised text as written (anchors are the pattern's own)."""
    return re.compile(prepare(pattern))


def whole_tokens(pattern: str) -> re.Pattern[str]:
    """A pattern that matches whole tokens only (normalised tokens are single-space separated)."""
    return re.compile("(?<= )(?:" + prepare(pattern) + ")(?= )")
