"""The admin command table is complete and consistent, and the operator modules do not import each
other (a cycle would tie the broadcasts to the whole of admin again). Fast: no bot is started."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from handlers.admin import ADMIN_COMMANDS, ADMIN_TABLE
from handlers.staff import ALL

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"


def test_every_command_has_known_roles_a_usage_and_a_handler() -> None:
    assert ADMIN_TABLE, "the table is empty"
    for command in ADMIN_TABLE:
        assert command.roles, command.name
        assert set(command.roles) <= set(ALL), command.name
        assert command.usage.split()[0] == f"/{command.name}", command.name
        assert inspect.iscoroutinefunction(command.run), command.name


def test_no_two_commands_share_a_name_and_the_index_is_the_table() -> None:
    names = [command.name for command in ADMIN_TABLE]
    assert len(names) == len(set(names))
    assert list(ADMIN_COMMANDS) == names
    assert all(ADMIN_COMMANDS[c.name] is c for c in ADMIN_TABLE)


def imported(path: Path) -> set[str]:
    """Every module `path` imports, also inside functions and under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # a relative import in handlers/ ("from .admin import x") names a handlers module
            module = (
                "handlers" + ("." + node.module if node.module else "")
                if node.level
                else node.module or ""
            )
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_admin_and_broadcasts_do_not_import_each_other() -> None:
    """admin imports broadcasts and the shared modules; none of those imports admin back."""
    assert "handlers.broadcasts" in imported(HANDLERS / "admin.py")  # the check looks at real code
    assert "handlers.admin" not in imported(HANDLERS / "broadcasts.py")
    for shared in ("staff.py", "admin_grievances.py"):
        assert "handlers.admin" not in imported(HANDLERS / shared), shared
        assert "handlers.broadcasts" not in imported(HANDLERS / shared), shared
