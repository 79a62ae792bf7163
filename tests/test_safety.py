"""The safety package as a whole: any input is safe and fast, and nothing loads at import.

Every chat message goes through all three detectors before the model sees it, so an exception or a
quadratic pattern would reach every user; `safety.load()` must do all the reading and compiling so
a broken install fails at start-up (bot/app.py calls it), and importing must do none of it.
"""

from __future__ import annotations

import subprocess
import sys
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safety import Distress, asks_if_ai, detect_distress, detect_minor_signal

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_WORDS = (
    "i im not going to want wanna kill myself die suicide end it all pills rope tonight usko "
    "mar dunga marna chahta hoon hu khud ko khatam kar lunga jaan se nahi मैं मरना चाहता हूँ "
    "आत्महत्या कर लूंगा उसे मार दूंगा are you a bot human real kya tum insaan ho 15 class 9th "
    "years old saal ka . , ? ! 😭 \u200b"
)
VOCABULARY = _WORDS.split()


@PROPERTY
@given(st.text(max_size=4096))
def test_arbitrary_unicode_never_raises(text: str) -> None:
    assert detect_distress(text) is None or isinstance(detect_distress(text), Distress)
    assert isinstance(detect_minor_signal(text), bool)
    assert isinstance(asks_if_ai(text), bool)


@PROPERTY
@given(st.lists(st.sampled_from(VOCABULARY), max_size=700).map(" ".join))
def test_trigger_words_in_any_order_never_raise(text: str) -> None:
    text = text[:4096]
    result = detect_distress(text)
    assert result is None or result.category in ("suicide", "self_harm", "harm_to_others")
    assert isinstance(detect_minor_signal(text), bool)
    assert isinstance(asks_if_ai(text), bool)


def test_long_adversarial_messages_stay_fast() -> None:
    """A generous bound that still catches a quadratic pattern (those take seconds here)."""
    detect_distress("warm up")
    detect_minor_signal("warm up")
    asks_if_ai("warm up")
    inputs = [
        ("i want to " * 500)[:4096],
        ("im not going to really just " * 200)[:4096],
        ("usko apne boss ko mar " * 300)[:4096],
        ("मैं उसे जान से मार " * 300)[:4096],
        ("are you a real " * 400)[:4096],
        ("im 15 im in class " * 300)[:4096],
        ". " * 2048,
        "😭" * 4096,
        "a" * 4096,
    ]
    started = time.perf_counter()
    for text in inputs:
        detect_distress(text)
        detect_minor_signal(text)
        asks_if_ai(text)
    assert time.perf_counter() - started < 2.0


# Every cached loader of the package: the rule files, the compiled tables, the weights, the folds.
CACHES = (
    "safety.rules.document",
    "safety.rules.macros",
    "safety.normalise._regexes",
    "safety.distress._context",
    "safety.distress._rules",
    "safety.minor._rules",
    "safety.ai_question._rule",
    "safety.model.shipped_model",
)
_SIZES = (
    "import importlib, safety; "
    "print(*(getattr(importlib.import_module(c.rpartition('.')[0]), c.rpartition('.')[2])"
    ".cache_info().currsize for c in {caches}))"
)


def _cache_sizes(then: str = "") -> list[str]:
    code = _SIZES.format(caches=CACHES)
    if then:
        code = code.replace("import importlib, safety; ", f"import importlib, safety; {then}; ")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    return out.stdout.split()


def test_importing_the_package_reads_and_compiles_nothing() -> None:
    """Rule tables and the classifier load on first use, so importing safety stays cheap."""
    assert _cache_sizes() == ["0"] * len(CACHES)


def test_load_reads_and_compiles_everything_once() -> None:
    """What bot/app.py calls at start-up: after it, no message has anything left to load."""
    sizes = _cache_sizes("safety.load()")
    assert "0" not in sizes, dict(zip(CACHES, sizes, strict=True))
