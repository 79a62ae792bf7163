"""The rule files (safety/data/*.toml) load, and their one templating scheme is checked.

A pattern names a macro as <NAME>; a misspelt name must fail loudly at load time, naming itself,
rather than stay in the regex as a literal that matches nothing (which would silently turn a rule
off). The files are package data, so an install without them is caught here too.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import safety
from safety import rules
from safety.rules import RuleError, expand

ROOT = Path(__file__).parent.parent
MACRO = re.compile(r"<([A-Z][A-Z0-9_]*)>")


def strings(value: Any) -> Iterator[str]:
    """Every string in a TOML document, at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def test_every_rule_file_loads_and_compiles() -> None:
    safety.load()
    assert len(rules.distress_rules("latin")) >= 100
    assert len(rules.distress_rules("devanagari")) >= 30
    assert {r.category for r in rules.distress_rules("latin")} == {
        "suicide",
        "self_harm",
        "harm_to_others",
    }


@pytest.mark.parametrize("name", rules.FILES)
def test_every_macro_a_file_names_is_defined(name: str) -> None:
    table = rules.macros(name)
    for text in strings(rules.document(name)):
        for used in MACRO.findall(text):
            assert used in table, f"safety/data/{name}.toml uses <{used}>, defined nowhere"
    for macro, body in table.items():
        assert "<" not in expand(body, table, macro).replace("(?<", "")


@pytest.mark.parametrize("name", rules.FILES)
def test_no_python_template_is_left_in_the_data(name: str) -> None:
    """One scheme only: an f-string hole such as {_SH_VERB} would be a literal brace here."""
    for text in strings(rules.document(name)):
        assert not re.search(r"\{[A-Za-z_]", text), text


def test_an_unknown_macro_is_an_error_that_names_it() -> None:
    with pytest.raises(RuleError, match="unknown macro <NOPE>"):
        expand("i want <NOPE> now", rules.macros("distress"))
    with pytest.raises(RuleError, match="unknown macro <MISSING>"):
        expand("<OUTER>", {"OUTER": "a <MISSING> b"})


def test_macros_use_macros_at_any_depth_and_a_loop_is_an_error() -> None:
    chain = {f"M{i}": f"<M{i + 1}>{i}" for i in range(10)} | {"M10": "end"}
    assert expand("<M0>", chain) == "end9876543210"
    with pytest.raises(RuleError, match="uses itself: A -> B -> A"):
        expand("<A>", {"A": "x<B>", "B": "<A>y"})


def test_lookbehinds_pass_and_any_other_angle_bracket_is_an_error() -> None:
    assert expand("(?<= )a(?<!b)", {}) == "(?<= )a(?<!b)"
    for broken in ("<lower>", "a < b", "<W"):
        with pytest.raises(RuleError):
            expand(broken, {"W": "w"})


def test_a_file_may_not_redefine_a_shared_macro(monkeypatch: pytest.MonkeyPatch) -> None:
    real = rules.document
    monkeypatch.setattr(
        rules,
        "document",
        lambda name: {"macros": {"W": "x"}} if name == "minor" else real(name),
    )
    rules.macros.cache_clear()
    try:
        with pytest.raises(RuleError, match="redefines shared macro"):
            rules.macros("minor")
    finally:
        rules.macros.cache_clear()


def test_the_rule_files_and_weights_ship_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["setuptools"]["package-data"]["safety"]
    data = [p for p in (ROOT / "safety").rglob("*") if p.is_file() and p.suffix != ".py"]
    data = [p for p in data if "__pycache__" not in p.parts]
    assert {p.name for p in data} >= {f"{name}.toml" for name in rules.FILES}
    for path in data:
        relative = path.relative_to(ROOT / "safety").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in shipped), relative
