"""SQLite's SQL, as the query mixins write it, translated for PostgreSQL; once per statement text.

Only what the mixins use and PostgreSQL spells otherwise: `?`, `?NNN` and `:name` placeholders
become `$n`; `keys.` names the keys schema; `INSERT OR IGNORE` becomes `ON CONFLICT DO NOTHING`;
two-argument scalar max/min become GREATEST/LEAST; `INDEXED BY` (a SQLite planner hint) goes;
`CROSS JOIN t ON` (SQLite's join-order hint) becomes `JOIN t ON`; `x'..'` becomes a bytea literal.
String literals and quoted identifiers are never touched. Anything rarer is written portably in
the mixin itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

_LITERAL = re.compile(r"""[xX]'([0-9a-fA-F]*)'|'(?:[^']|'')*'|"(?:[^"]|"")*\"""")
_SENTINEL = re.compile(r"\x00(\d+)\x00")
_PLACEHOLDER = re.compile(r"\?(\d+)?|(?<![:\w]):([A-Za-z_]\w*)")
_KEYS = re.compile(r"(?<![\w.\"])keys\.")
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_OR_REPLACE = re.compile(r"\bINSERT\s+OR\s+REPLACE\b", re.IGNORECASE)
_RETURNING = re.compile(r"\sRETURNING\s", re.IGNORECASE)
_INDEXED = re.compile(r"\s+(?:INDEXED\s+BY\s+\w+|NOT\s+INDEXED)\b", re.IGNORECASE)
_CROSS_ON = re.compile(r"\bCROSS\s+JOIN(\s+[\w.]+(?:\s+(?!ON\b)\w+)?\s+ON)\b", re.IGNORECASE)
_MAX_MIN = re.compile(r"\b(max|min)\s*\(", re.IGNORECASE)
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]*")


class Translated(NamedTuple):
    sql: str
    names: tuple[str, ...] | None  # `:name` placeholders in $n order; None for positional ones


def check_schema_name(name: str) -> str:
    """The keys schema goes into SQL text, so it must be a plain lower-case identifier."""
    if not _SCHEMA_NAME.fullmatch(name):
        raise ValueError(f"keys_schema must be a lower-case identifier, not {name!r}")
    return name


@lru_cache(maxsize=4096)
def translate(sql: str, keys_schema: str = "amigo_keys") -> Translated:
    literals: list[str] = []

    def mask(match: re.Match[str]) -> str:
        blob = match.group(1)
        literals.append(f"'\\x{blob}'::bytea" if blob is not None else match.group(0))
        return f"\x00{len(literals) - 1}\x00"

    code = _LITERAL.sub(mask, sql)
    if _OR_REPLACE.search(code):
        raise ValueError("INSERT OR REPLACE has no PostgreSQL translation: use ON CONFLICT")
    code, names = _placeholders(code)
    code = _KEYS.sub(f"{check_schema_name(keys_schema)}.", code)
    code = _INDEXED.sub("", code)
    code = _CROSS_ON.sub(r"JOIN\1", code)
    code = _scalar_max_min(code)
    if _OR_IGNORE.match(code):
        code = _OR_IGNORE.sub("INSERT INTO", code, count=1)
        returning = _RETURNING.search(code)
        at = returning.start() if returning else len(code.rstrip().rstrip(";").rstrip())
        code = f"{code[:at]} ON CONFLICT DO NOTHING{code[at:]}"
    return Translated(_SENTINEL.sub(lambda m: literals[int(m.group(1))], code), names)


def arguments(translated: Translated, params: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
    """The parameters in $n order."""
    if translated.names is None:
        if isinstance(params, Mapping):
            raise TypeError("named parameters for a statement with positional placeholders")
        return list(params)
    if not isinstance(params, Mapping):
        raise TypeError("positional parameters for a statement with :name placeholders")
    return [params[name] for name in translated.names]


def _placeholders(code: str) -> tuple[str, tuple[str, ...] | None]:
    """`?` takes the number after the largest so far (as in SQLite), `?NNN` that number, and
    each distinct `:name` the next number in order of first appearance."""
    last = 0
    names: dict[str, int] = {}
    positional = False

    def number(match: re.Match[str]) -> str:
        nonlocal last, positional
        if match.group(2) is not None:
            name = match.group(2)
            if name not in names:
                names[name] = len(names) + 1
            return f"${names[name]}"
        positional = True
        n = int(match.group(1)) if match.group(1) else last + 1
        last = max(last, n)
        return f"${n}"

    code = _PLACEHOLDER.sub(number, code)
    if names and positional:
        raise ValueError("a statement mixes :name and ? placeholders")
    return code, (tuple(names) if names else None)


def _scalar_max_min(code: str) -> str:
    """max(a, b) → GREATEST(a, b), min(a, b) → LEAST(a, b); max(x) stays an aggregate."""
    replace: list[tuple[int, int, str]] = []
    for match in _MAX_MIN.finditer(code):
        depth, commas = 0, 0
        for ch in code[match.end() - 1 :]:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            elif ch == "," and depth == 1:
                commas += 1
        if commas:
            word = "GREATEST" if match.group(1).lower() == "max" else "LEAST"
            replace.append((match.start(1), match.end(1), word))
    for start, end, word in reversed(replace):
        code = code[:start] + word + code[end:]
    return code


def rowcount(status: str) -> int:
    """Rows a statement changed, from asyncpg's status string ('INSERT 0 1', 'UPDATE 3')."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
