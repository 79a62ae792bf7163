"""Token counting that never downloads anything.

With `llm.tokenizer_file` (a local tiktoken BPE file such as o200k_base.tiktoken) and the optional
`tiktoken` package (`pip install amigo[tokenizer]`) counts are exact. Without either, or if the file
cannot be read, a conservative estimate is used: it over-counts ordinary
text (about 1.5x for English prose) so that the budget is never exceeded, and it never raises.
"""

from __future__ import annotations

import base64
import logging
import math
from pathlib import Path
from typing import Any

from handlers.ports import TokenCounter

log = logging.getLogger("amigo.tokens")

# Chat formats wrap each message in a few tokens (role markers, separators).
PER_MESSAGE_TOKENS = 4

_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PATTERN = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""


class EstimateCounter:
    """Conservative per-character weights; every non-ASCII character costs its UTF-8 bytes."""

    exact = False

    def count(self, text: str) -> int:
        weight = 0.0
        for ch in text:
            if ch.isascii():
                if ch.isalpha():
                    weight += 0.4
                elif ch.isdigit():
                    weight += 0.5
                elif ch.isspace():
                    weight += 0.25
                else:
                    weight += 1.0
            else:
                weight += len(ch.encode("utf-8"))
        return math.ceil(weight * 1.1) + 1 if text else 0

    def per_message(self) -> int:
        return PER_MESSAGE_TOKENS


class TiktokenCounter:
    """Exact counts with a BPE file read from local disk."""

    exact = True

    def __init__(self, encoding: Any) -> None:
        self._encoding = encoding

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))

    def per_message(self) -> int:
        return PER_MESSAGE_TOKENS


def load_bpe_file(path: Path) -> Any:
    """Build a tiktoken Encoding from a local `.tiktoken` file (base64 token, rank per line)."""
    import tiktoken

    ranks: dict[bytes, int] = {}
    for line in path.read_bytes().splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    pattern = _CL100K_PATTERN if "cl100k" in path.name else _O200K_PATTERN
    return tiktoken.Encoding(
        name=path.stem, pat_str=pattern, mergeable_ranks=ranks, special_tokens={}
    )


def make_counter(tokenizer_file: str) -> TokenCounter:
    """An exact counter when the file loads, otherwise the estimate (logged, never fatal)."""
    if not tokenizer_file:
        return EstimateCounter()
    try:
        return TiktokenCounter(load_bpe_file(Path(tokenizer_file)))
    except ImportError:
        log.warning("tokens.tiktoken_missing", extra={"install": "amigo[tokenizer]"})
        return EstimateCounter()
    except Exception as exc:  # a missing package, file or a malformed line: degrade, don't die
        log.warning("tokens.fallback_to_estimate", extra={"error": type(exc).__name__})
        return EstimateCounter()
