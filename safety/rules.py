"""Reading the rule files (safety/data/*.toml) and expanding their <NAME> macros.

The phrase tables are data, not code, so a phrase can be reviewed and changed without reading
Python, and there is one templating scheme: `<NAME>` names a macro from the file's `[macros]` or
from the shared macros.toml, and macros may use macros. An unknown name, a macro that uses itself
or a stray `<` is a `RuleError` naming it, never a literal that silently matches nothing. Files are
read on first use (never at import) and cached; this module only reads and expands, the detectors
fold and compile (safety/normalise.py).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal, NamedTuple, cast, get_args

Category = Literal["suicide", "self_harm", "harm_to_others"]
Severity = Literal["high", "medium"]
Context = Literal["full", "neg", "none"]  # subject + negation check, negation only, none

SHARED = "macros"  # safety/data/macros.toml: macros every rule file may use
FILES = ("macros", "distress", "context", "minor", "ai_question")
_MACRO = re.compile(r"<([A-Z][A-Z0-9_]*)>")
_RULE_FIELDS = frozenset({"category", "severity", "pattern", "context", "veto_before"})


class RuleError(ValueError):
    """A rule file that cannot be used: a broken install or a bad edit, caught when loading."""


class Rule(NamedTuple):
    """One distress rule with its pattern and veto expanded (not yet folded nor compiled)."""

    category: Category
    severity: Severity
    pattern: str
    context: Context = "full"
    veto_before: str | None = None  # a pattern on the three tokens before the match


@functools.cache
def document(name: str) -> dict[str, Any]:
    """One rule file (`name` without .toml), read from the installed package once."""
    if name not in FILES:
        raise RuleError(f"no rule file {name!r}")
    path = resources.files("safety").joinpath("data").joinpath(f"{name}.toml")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RuleError(f"safety/data/{name}.toml: {error}") from error


def joined(value: object, where: str) -> str:
    """A pattern as written: one string, or a list of strings joined with nothing between them."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "".join(value)
    raise RuleError(f"{where}: a pattern is a string or a non-empty list of strings")


def _section(name: str, key: str) -> dict[str, Any]:
    table = document(name).get(key)
    if not isinstance(table, dict):
        raise RuleError(f"safety/data/{name}.toml: no [{key}] table")
    return table


def _own_macros(name: str) -> dict[str, str]:
    table = document(name).get("macros", {})
    out = {}
    for key, value in table.items():
        if not _MACRO.fullmatch(f"<{key}>"):
            raise RuleError(f"safety/data/{name}.toml: macro name {key!r} is not like <NAME>")
        out[key] = joined(value, f"safety/data/{name}.toml [macros] {key}")
    return out


@functools.cache
def macros(name: str) -> Mapping[str, str]:
    """The macros a rule file may use: the shared ones (macros.toml) and its own [macros]."""
    shared = _own_macros(SHARED)
    if name == SHARED:
        return shared
    own = _own_macros(name)
    if clash := sorted(shared.keys() & own.keys()):
        raise RuleError(f"safety/data/{name}.toml redefines shared macro(s) {', '.join(clash)}")
    return {**shared, **own}


def expand(pattern: str, table: Mapping[str, str], where: str = "pattern") -> str:
    """`pattern` with every <NAME> replaced by that macro's body, itself expanded first."""

    def body(name: str, using: tuple[str, ...]) -> str:
        if name not in table:
            raise RuleError(f"{where}: unknown macro <{name}>")
        if name in using:
            raise RuleError(f"{where}: macro <{name}> uses itself: {' -> '.join([*using, name])}")
        return _MACRO.sub(lambda m: body(m.group(1), (*using, name)), table[name])

    out = _MACRO.sub(lambda m: body(m.group(1), ()), pattern)
    if "<" in out.replace("(?<", ""):
        raise RuleError(f"{where}: a '<' that is neither a <NAME> macro nor a lookbehind")
    return out


def pattern(name: str, section: str, key: str) -> str:
    """One expanded pattern: `key` of `[section]` in safety/data/<name>.toml."""
    where = f"safety/data/{name}.toml [{section}] {key}"
    return expand(joined(_section(name, section).get(key), where), macros(name), where)


def pattern_list(name: str, section: str, key: str) -> tuple[str, ...]:
    """A list of expanded patterns (each a string or a list of pieces)."""
    where = f"safety/data/{name}.toml [{section}] {key}"
    items = _section(name, section).get(key)
    if not isinstance(items, list) or not items:
        raise RuleError(f"{where}: expected a list of patterns")
    return tuple(
        expand(joined(item, f"{where}[{i}]"), macros(name), f"{where}[{i}]")
        for i, item in enumerate(items)
    )


def words(name: str, section: str, key: str) -> tuple[str, ...]:
    """A word list: one string of whitespace-separated words, or a list of phrases."""
    value = _section(name, section).get(key)
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RuleError(f"safety/data/{name}.toml [{section}] {key}: expected words")


def numbers(name: str, section: str) -> dict[str, int]:
    """A table of words to whole numbers ("fifteen" = 15)."""
    table = _section(name, section)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in table.values()):
        raise RuleError(f"safety/data/{name}.toml [{section}]: values must be whole numbers")
    return dict(table)


def _checked(value: object, allowed: tuple[object, ...], where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise RuleError(f"{where}: {value!r} is not one of {', '.join(map(str, allowed))}")
    return value


def distress_rules(script: Literal["latin", "devanagari"]) -> tuple[Rule, ...]:
    """The [[latin]] or [[devanagari]] rules of distress.toml, expanded and checked."""
    table = macros("distress")
    rows = document("distress").get(script)
    if not isinstance(rows, list) or not rows:
        raise RuleError(f"safety/data/distress.toml: no [[{script}]] rules")
    out = []
    for number, row in enumerate(rows, 1):
        where = f"safety/data/distress.toml [[{script}]] #{number}"
        if unknown := sorted(set(row) - _RULE_FIELDS):
            raise RuleError(f"{where}: unknown field(s) {', '.join(unknown)}")
        veto = row.get("veto_before")
        out.append(
            Rule(
                cast(Category, _checked(row.get("category"), get_args(Category), where)),
                cast(Severity, _checked(row.get("severity"), get_args(Severity), where)),
                expand(joined(row.get("pattern"), where), table, where),
                cast(Context, _checked(row.get("context", "full"), get_args(Context), where)),
                None if veto is None else expand(joined(veto, where), table, where),
            )
        )
    return tuple(out)
