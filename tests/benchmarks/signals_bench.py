"""What the distress check costs per message: the rules, the classifier, and both together.

    .venv/bin/python -m tests.benchmarks.signals_bench

Every chat message goes through detect_distress before the model is called, so its cost is added to
every reply. Prints the time to load the shipped classifier, the memory its weights take, and
microseconds per message over the labelled phrases (short chat messages) and over 4,096-character
messages (Telegram's maximum). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable

from safety import detect_distress, normalise_for_distress
from safety.model import shipped_model
from tests.phrases import all_distress_texts


def _per_call_us(fn: Callable[[str], object], texts: list[str], rounds: int = 5) -> float:
    runs = []
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            fn(text)
        runs.append((time.perf_counter() - started) / len(texts) * 1e6)
    return statistics.median(runs)


def main() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    model = shipped_model()
    load_ms = (time.perf_counter() - started) * 1000
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"classifier load: {load_ms:.0f} ms, peak RSS +{grown:.1f} MiB")
    detect_distress("warm up the rules")

    short = all_distress_texts()
    long = [(text + " ") * (4096 // (len(text) + 1)) for text in short[:50]]
    for name, texts in (("labelled phrases", short), ("4,096-char messages", long)):
        norms = [normalise_for_distress(t) for t in texts]
        rules_and_model = _per_call_us(detect_distress, texts)
        model_only = _per_call_us(model.predict, norms)
        print(
            f"{name:<22} detect_distress {rules_and_model:8.0f} µs/msg   "
            f"classifier alone {model_only:8.0f} µs/msg   ({len(texts)} messages)"
        )


if __name__ == "__main__":
    main()
