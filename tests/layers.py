"""The import rules of the code base, checked over `ast` (no import runs): no cycles, and layers.

Every `import` counts, also one inside a function or under `if TYPE_CHECKING:`: a cycle hidden in a
function is still a cycle a reader has to untangle. `python -m tests.layers` prints what is wrong;
tests/test_layers.py runs the same check in the suite (so in `make test` and CI).

The layers, lowest first. A package may import those listed for it (and itself), nothing above:

    core      the clock; imports nothing of ours
    safety    detectors for distress, under-18 signals, "are you an AI?"; their rules and weights
    storage   the Repository contract and its backends; knows nothing of Telegram
    handlers  transport-neutral logic; storage only through its contract (storage.base, .models)
    jobs      scheduled work, through storage; never bot/ nor handlers/
    bot       the composition root and the Telegram adapter: may import everything
    training  offline model training: safety only
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each package and the first-party packages it may import besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "safety": frozenset({"core"}),
    "storage": frozenset({"core"}),
    "handlers": frozenset({"core", "safety", "storage"}),
    "jobs": frozenset({"core", "safety", "storage"}),
    "bot": frozenset({"core", "safety", "storage", "handlers", "jobs"}),
    "training": frozenset({"core", "safety"}),
}
# Third-party packages a layer must never import: only bot/ talks to Telegram and to the model.
TRANSPORTS = frozenset(
    {"telegram", "aiogram", "openai", "aiohttp", "prometheus_client", "redis", "asyncpg"}
)
NEVER: dict[str, frozenset[str]] = {
    name: TRANSPORTS for name in ("core", "safety", "storage", "handlers", "jobs", "training")
}
NEVER["storage"] = TRANSPORTS - {"asyncpg"}  # the PostgreSQL driver belongs to storage/
# Where a layer may reach only part of another: handlers see storage's contract, not a backend.
ONLY: dict[tuple[str, str], frozenset[str]] = {
    ("handlers", "storage"): frozenset({"storage", "storage.base", "storage.models"}),
}
# Checked for cycles too, without layer rules.
UNLAYERED = ("tests",)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "handlers.admin"
    target: str  # the imported module, resolved to a file of ours where it names one
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of the given top-level packages under `root`, by dotted name."""
    found: dict[str, Path] = {}
    for package in packages:
        base = root / package
        if base.is_dir():
            for path in sorted(base.rglob("*.py")):
                found[module_name(path, root)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str:
    """The longest prefix of `name` that is one of our modules (else `name` itself)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return name


def imports(known: dict[str, Path]) -> Iterator[Import]:
    """Every import statement of every known module, resolved to modules where they are ours."""
    for source, path in known.items():
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(source, _resolve(alias.name, known), node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: climb from this module's package
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in node.names:  # `from bot import maintenance` imports a module
                    full = f"{base}.{alias.name}"
                    target = full if full in known else _resolve(base, known)
                    yield Import(source, target, node.lineno)


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted, largest first."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.source != edge.target:
            graph.setdefault(edge.source, set()).add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found, key=lambda g: (-len(g), g))


def layer_violations(edges: Iterable[Import], known: dict[str, Path], root: Path) -> list[str]:
    """One line per import that breaks a rule above: 'handlers/admin.py:12 imports bot.app (...)'."""
    problems = []
    for edge in edges:
        layer, top = edge.source.split(".")[0], edge.target.split(".")[0]
        if layer not in ALLOWED or top == layer:
            continue
        where = f"{known[edge.source].relative_to(root).as_posix()}:{edge.line}"
        if top in NEVER.get(layer, frozenset()):
            problems.append(f"{where} imports {edge.target}: {layer}/ never imports {top}")
        elif top in ALLOWED and top not in ALLOWED[layer]:
            problems.append(f"{where} imports {edge.target}: {layer}/ may not import {top}/")
        elif (only := ONLY.get((layer, top))) is not None and edge.target not in only:
            allowed = ", ".join(sorted(only - {top}))
            problems.append(
                f"{where} imports {edge.target}: {layer}/ sees {top}/ only as {allowed}"
            )
    return problems


def check(root: Path = ROOT) -> list[str]:
    """Everything wrong with the imports under `root`, one line each; empty when all is well."""
    known = modules(root, [*ALLOWED, *UNLAYERED])
    edges = list(dict.fromkeys(imports(known)))  # `from x import a, b` is one problem, not two
    problems = [f"import cycle: {' -> '.join([*group, group[0]])}" for group in cycles(edges)]
    return problems + layer_violations(edges, known, root)


def main() -> int:
    problems = check()
    for line in problems:
        print(line)
    print(f"import check: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
